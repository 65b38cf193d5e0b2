"""Batch scoring: many articles in, one row per article out; resumable, parallel, bounded memory.

`run_batch` streams the input (a folder of .txt, a glob, JSON lines or Parquet), scores the articles
with `Detector.analyze_many` in units of `batch_size` articles, in this process or in worker
processes that each load their own detector, and writes the rows into an output folder:

```
out/                       (or out.parquet/: the format follows --format or the folder's suffix)
  _manifest.json           the job's inputs (index and model fingerprints) and options: a rerun with
                           other ones is refused, saying what changed (overwrite=True starts over)
  part-00000.jsonl         committed chunks of result rows (id, verdict, spin_score, ...)
  _errors-00000.jsonl      committed chunks of bad records (record, stage, reason)
  _summary.json            written when a run finishes
```

Every chunk is written under a temporary name and renamed into place, so a kill at any moment
leaves only whole rows. A rerun of the same job reads the committed chunks back, skips what is done
and scores the rest: every input id ends up exactly once in the output, and every bad record
(unreadable, empty, oversized, a duplicate id, or one the detector fails on) exactly once in the
errors. The rows of one output folder all come from the same inputs: a rerun whose index, model,
precision, batch size or other options differ from the manifest's is refused (`job_manifest`,
`index_record`, `model_record`). Ids never become file names. Names beginning with "_" or "." are
skipped by Parquet dataset readers, so ``pandas.read_parquet("out.parquet")`` reads the results alone.

Example:
    >>> from detector.batch import run_batch                                      # doctest: +SKIP
    >>> summary = run_batch("crawl/*.jsonl", "scores.parquet", index="build/index")  # doctest: +SKIP
    >>> summary.verdicts                                                           # doctest: +SKIP
    {'copy': 812, 'original': 90311, 'spun': 1204, ...}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import re
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from detector.documents import read_documents
from detector.errors import InputError, ModelFormatError, SpinDetectorError
from detector.precision import resolve_precision

__all__ = [
    "BatchSummary",
    "BatchOptions",
    "BatchOutput",
    "DetectorLoader",
    "WorkerSpec",
    "ArticleScorer",
    "WorkItem",
    "BadRecord",
    "ProgressReporter",
    "RESULT_COLUMNS",
    "OUTPUT_FORMATS",
    "DEFAULT_MAX_CHARS",
    "UnitResult",
    "cores",
    "default_workers",
    "job_manifest",
    "index_record",
    "model_record",
    "MANIFEST_VERSION",
    "progress_mode",
    "resolve_format",
    "start_progress",
    "worker_spec",
    "is_detector_factory",
    "plan_records",
    "count_records",
    "result_row",
    "run_batch",
    "read_batch_output",
    "read_batch_errors",
]

log = logging.getLogger(__name__)

OUTPUT_FORMATS = ("jsonl", "parquet")
DEFAULT_MAX_CHARS = 200_000  # the detector's own limit (`detector.api.DEFAULT_MAX_CHARS`)
RESULT_COLUMNS = (
    "id",
    "verdict",
    "spin_score",
    "source_id",
    "source_similarity",
    "coverage",
    "sentences",
    "spun_sentences",
    "copied_sentences",
    "paraphrased_sentences",
)
MANIFEST_VERSION = 2  # 2 (issue 39): fingerprints of the index and model, and the batch size; 1 had paths only
_MANIFEST = "_manifest.json"
_SUMMARY = "_summary.json"
_LOCK = ".lock"
_PARTS = "part"
_ERRORS = "_errors"
_OUR_FILE = re.compile(r"^(part-\d{5,}\.(jsonl|parquet)|_errors-\d{5,}\.jsonl|_manifest\.json|_summary\.json|\.lock|\..+\.tmp)$")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def default_workers() -> int:
    """Worker processes when none are asked for: one process whose torch uses every core.

    benchmarks/batch_throughput.py times this against one process per core with one thread each
    ("faster_workers" in benchmarks/results/batch_throughput.json); on 2 cores the one process was
    faster (it loads one detector and index, not two, and torch's batched matrix work uses both cores).
    """
    return 1


# ---------------------------------------------------------------------------------------- options
@dataclass(frozen=True)
class BatchOptions:
    """The options that shape the output, recorded in the manifest: a rerun must repeat them."""

    id_field: str = "id"
    text_field: str = "text"
    output_format: str = "jsonl"
    details: bool = False
    max_chars: int = DEFAULT_MAX_CHARS
    exclude_self: bool = True
    precision: str = "int8"  # of the classifier and encoder (`Detector.load(precision=...)`), resolved: no "fast"
    batch_size: int = 32  # articles scored together: at int8 it can move a verdict (activations are scaled per batch)

    def __post_init__(self):
        if self.output_format not in OUTPUT_FORMATS:
            raise InputError(f"output format {self.output_format!r} is not one of {list(OUTPUT_FORMATS)}")
        if self.max_chars < 1:
            raise InputError(f"max_chars={self.max_chars} must be a positive number of characters")
        if not isinstance(self.batch_size, int) or isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise InputError(f"batch_size={self.batch_size!r} must be a positive number of articles")


@dataclass
class BatchSummary:
    """What a batch run did; counts are over the whole output folder unless said otherwise.

    `articles`: result rows in the output; `scored`: rows this run added; `resumed`: rows and errors
    an earlier run had committed; `errors`: bad records in the errors chunks, of which `duplicates`
    are repeated ids; `verdicts`: result rows per verdict; `articles_per_second`: this run's rate.
    """

    output: str
    engine: str
    workers: int
    articles: int = 0
    scored: int = 0
    resumed: int = 0
    errors: int = 0
    duplicates: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    wall_seconds: float = 0.0
    articles_per_second: float = 0.0

    def to_dict(self) -> dict:
        """Plain JSON-ready data."""
        return asdict(self)


# ------------------------------------------------------------------------------- planned records
class WorkItem(NamedTuple):
    """One article to score: its place in the input stream, its id and its text."""

    position: int
    id: str
    text: str


class BadRecord(NamedTuple):
    """A record that goes to the errors file instead of the results.

    `record` is the article id, or where the record sits ("file.jsonl:12") when it has no usable id;
    `stage` is "read", "duplicate" or "score"; `occurrence` numbers repeats of the same (stage,
    record) in the input, so that each bad record is written exactly once across reruns.
    """

    position: int
    record: str
    stage: str
    reason: str
    occurrence: int = 1

    @property
    def key(self) -> tuple[str, str, int]:
        return self.stage, self.record, self.occurrence

    def to_row(self) -> dict:
        return self._asdict()


def plan_records(
    input: str | Path,
    options: BatchOptions,
    done_ids: frozenset[str] | set[str] = frozenset(),
    finished_errors: frozenset | set = frozenset(),
) -> Iterator[WorkItem | BadRecord]:
    """Stream the input as work items and bad records, skipping what an earlier run finished.

    The first occurrence of an id is scored; later ones are reported as "duplicate". Memory grows
    only with the number of distinct ids (one dict entry each), never with the texts. The input is
    read by its absolute path, so that records are named alike by every engine and working folder.
    """
    pending: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    read_errors: Counter = Counter()
    position = 0
    documents = read_documents(
        _absolute(input), options.id_field, options.text_field,
        errors=lambda where, reason: pending.append((where, reason)), max_chars=options.max_chars,
    )
    for doc in _with_sentinel(documents):
        for where, reason in pending:
            read_errors[where] += 1
            bad = BadRecord(position, str(where), "read", reason, read_errors[where])
            position += 1
            if bad.key not in finished_errors:
                yield bad
        pending.clear()
        if doc is None:
            return
        count = seen[doc.id] = seen.get(doc.id, 0) + 1
        if count > 1:
            reason = f"duplicate id {doc.id!r} (occurrence {count}): only the first is scored"
            bad = BadRecord(position, doc.id, "duplicate", reason, count)
            if bad.key not in finished_errors:
                yield bad
        elif doc.id not in done_ids:
            yield WorkItem(position, doc.id, doc.text)
        position += 1


def _with_sentinel(documents: Iterable) -> Iterator:
    """The documents, then None (so that errors reported after the last document are flushed)."""
    yield from documents
    yield None


def count_records(input: str | Path, options: BatchOptions) -> int:
    """How many records (good and bad) the input holds: one cheap read, for progress and ETA."""
    bad = 0

    def on_error(where: str, reason: str) -> None:
        nonlocal bad
        bad += 1

    documents = read_documents(input, options.id_field, options.text_field, errors=on_error, max_chars=options.max_chars)
    good = sum(1 for _ in documents)
    return good + bad


# ---------------------------------------------------------------------------------------- scoring
def result_row(doc_id: str, report, details: bool = False) -> dict:
    """One output row for an `ArticleReport`; with `details`, the full report as JSON in "report"."""
    counts = Counter(s.relation for s in report.sentences if not getattr(s, "is_boilerplate", False))
    row = {
        "id": doc_id,
        "verdict": report.verdict,
        "spin_score": float(report.spin_score),
        "source_id": report.source_id,
        "source_similarity": float(report.source_similarity),
        "coverage": float(report.coverage),
        "sentences": sum(counts.values()),
        "spun_sentences": counts["spun"],
        "copied_sentences": counts["copy"],
        "paraphrased_sentences": counts["paraphrase"],
    }
    if details:
        report.article_id = doc_id
        row["report"] = report.to_json()
    return row


class UnitResult(NamedTuple):
    """The rows and bad records of one scored unit of articles."""

    rows: list[dict]
    errors: list[BadRecord]


class ArticleScorer:
    """Scores units of work items with one detector and index; a failing article becomes a BadRecord."""

    def __init__(self, detector, index, options: BatchOptions):
        self.detector = detector
        self.index = index
        self.options = options

    def score(self, items: list[WorkItem]) -> UnitResult:
        """Rows for `items` in order, batched across articles; on failure, articles one at a time."""
        try:
            reports = self._analyze(items)
        except Exception:
            return self._score_one_by_one(items)
        return UnitResult([result_row(i.id, r, self.options.details) for i, r in zip(items, reports, strict=True)], [])

    def _analyze(self, items: list[WorkItem]) -> list:
        exclusions = [(item.id,) for item in items] if self.options.exclude_self else ()
        reports = list(self.detector.analyze_many([item.text for item in items], index=self.index, exclude_ids=exclusions))
        if len(reports) != len(items):
            raise RuntimeError(f"the detector returned {len(reports)} reports for {len(items)} articles")
        return reports

    def _score_one_by_one(self, items: list[WorkItem]) -> UnitResult:
        result = UnitResult([], [])
        for item in items:
            try:
                result.rows.append(result_row(item.id, self._analyze([item])[0], self.options.details))
            except Exception as exc:
                reason = f"the detector failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
                result.errors.append(BadRecord(item.position, item.id, "score", reason))
        return result


@dataclass(frozen=True)
class DetectorLoader:
    """Loads the detector in a worker process or Ray actor: `Detector.load(model, precision=...)` (picklable)."""

    model: str | None = None
    precision: str = "int8"

    def __call__(self):
        from detector.api import Detector

        return Detector.load(self.model, precision=self.precision)


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build its own `ArticleScorer` (picklable, nothing loaded yet).

    `detector_factory` is called once per worker (`DetectorLoader` by default); `index` is a source
    index folder or None; `threads` caps torch's intra-op threads in the worker. `index_fingerprint`
    and `model_fingerprint` are the job manifest's: a folder that no longer matches them once loaded
    (changed after the job checked it, say before a Ray actor restarted) is refused, never scored.
    """

    detector_factory: Callable[[], Any]
    index: str | None
    options: BatchOptions
    threads: int | None = None
    index_fingerprint: str | None = None
    model_fingerprint: str | None = None

    def load(self) -> ArticleScorer:
        if self.threads:
            os.environ["OMP_NUM_THREADS"] = str(self.threads)
        detector = self.detector_factory()
        if isinstance(self.detector_factory, DetectorLoader):
            found = model_record(self.detector_factory)
            _check_unchanged("model", found["path"], self.model_fingerprint, found["fingerprint"])
        if self.threads and "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(self.threads)
        return ArticleScorer(detector, self.load_index(detector), self.options)

    def load_index(self, detector):
        """The source index from its folder (sharing the detector's encoder), or None."""
        if self.index is None:
            return None
        from detector.index import SourceIndex

        index = SourceIndex.load(self.index, encoder=getattr(detector, "encoder", None))
        _check_unchanged("source index", self.index, self.index_fingerprint, index_record(self.index)["fingerprint"])
        return index


def _check_unchanged(what: str, path, expected: str | None, found: str | None) -> None:
    if expected is not None and found != expected:
        raise InputError(
            f"the {what} {str(path)!r} changed after this batch job checked it ({_shown(expected)} → {_shown(found)}): "
            "nothing was scored with it; run the job again to check it again"
        )


_WORKER_SCORER: ArticleScorer | None = None
_WORKER_ERROR: SpinDetectorError | None = None


def _start_worker(spec: WorkerSpec) -> None:
    """Process-pool initializer: Ctrl-C is the parent's to handle; load the detector once.

    Our own errors (a changed index, a broken model folder) are raised again with the first unit, so
    that the parent reports their message rather than a broken process pool.
    """
    import signal

    global _WORKER_SCORER, _WORKER_ERROR
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _WORKER_SCORER = spec.load()
    except SpinDetectorError as exc:
        _WORKER_ERROR = exc


def _score_in_worker(items: list[WorkItem]) -> UnitResult:
    if _WORKER_ERROR is not None:
        raise _WORKER_ERROR
    return _WORKER_SCORER.score(items)


# ---------------------------------------------------------------------------------- output folder
class BatchOutput:
    """The output folder of one job: manifest, lock, committed chunks and what they already hold.

    Opening it takes an exclusive lock (a second run on the same folder is refused), removes
    temporary files a killed run left, checks the manifest against this job's when chunks are
    committed (a folder without any takes this job's manifest: there is nothing to mix with), and
    reads back the ids, verdicts and bad records of the committed chunks so that the job can resume.
    """

    def __init__(self, path: str | Path, manifest: dict, *, overwrite: bool = False,
                 chunk_size: int = 500, commit_seconds: float = 30.0):
        if chunk_size < 1:
            raise InputError(f"chunk_size={chunk_size} must be a positive number of rows")
        self.path = Path(path)
        self.manifest = manifest
        self.output_format = manifest["options"]["output_format"]
        self.chunk_size = chunk_size
        self.commit_seconds = commit_seconds
        self._lock = self._open(overwrite)
        self.done_ids: set[str] = set()
        self.finished_errors: set[tuple[str, str, int]] = set()
        self.verdicts: Counter = Counter()
        self.error_stages: Counter = Counter()
        self._next = {_PARTS: 0, _ERRORS: 0}
        self._read_back()
        self.resumed = sum(self.verdicts.values()) + sum(self.error_stages.values())
        self.rows_written = 0
        self._rows: list[dict] = []
        self._errors: list[dict] = []
        self._last_commit = time.monotonic()

    # opening -------------------------------------------------------------------------------
    def _open(self, overwrite: bool):
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"output {str(self.path)!r} is a file: give a folder path (it is created if missing)")
        self.path.mkdir(parents=True, exist_ok=True)
        foreign = sorted(p.name for p in self.path.iterdir() if not _OUR_FILE.match(p.name))
        if foreign:
            raise InputError(
                f"output folder {str(self.path)!r} holds files a batch job did not write ({foreign[:3]}): "
                "give a new or empty folder"
            )
        lock = _exclusive_lock(self.path / _LOCK)
        try:
            self._prepare(overwrite)
        except BaseException:
            lock.close()
            raise
        return lock

    def _prepare(self, overwrite: bool) -> None:
        """Clear what a killed run left half-written (or everything, with `overwrite`); check or write the manifest."""
        for stale in self.path.glob(".*.tmp"):
            stale.unlink()
        manifest_path = self.path / _MANIFEST
        if overwrite:
            for old in self.path.iterdir():
                if old.name != _LOCK:
                    old.unlink()
        committed = any(self.path.glob("part-*")) or any(self.path.glob(f"{_ERRORS}-*"))
        if committed and not manifest_path.exists():
            raise InputError(f"output folder {str(self.path)!r} has chunks but no {_MANIFEST}: {_START_OVER}")
        if committed:
            self._check_manifest(_read_job_manifest(manifest_path))
        else:
            _write_atomic(manifest_path, json.dumps(self.manifest, indent=2).encode("utf-8"))

    def _check_manifest(self, previous: dict) -> None:
        """Refuse to add rows to those of a job with other inputs or options (or of another manifest version)."""
        where = f"output folder {str(self.path)!r}"
        version = previous.get("manifest_version")
        if version != MANIFEST_VERSION:
            raise InputError(_version_refusal(where, version, previous.get("spin_detector")))
        changes = _changes(previous, self.manifest)
        if changes:
            raise InputError(
                f"{where} holds rows of a job with other inputs ({'; '.join(changes)}): resuming would mix rows "
                f"scored two ways; rerun with the same inputs to resume, or {_START_OVER}"
            )

    # resume --------------------------------------------------------------------------------
    def _read_back(self) -> None:
        for number, part in self._chunks(_PARTS):
            for row in _read_rows(part, columns=["id", "verdict"]):
                self.done_ids.add(row["id"])
                self.verdicts[row["verdict"]] += 1
            self._next[_PARTS] = number + 1
        for number, chunk in self._chunks(_ERRORS):
            for row in _read_rows(chunk):
                bad = BadRecord(**{name: row[name] for name in BadRecord._fields})
                self.finished_errors.add(bad.key)
                self.error_stages[bad.stage] += 1
                if bad.stage == "score":
                    self.done_ids.add(bad.record)
            self._next[_ERRORS] = number + 1

    def _chunks(self, prefix: str) -> list[tuple[int, Path]]:
        suffix = "jsonl" if prefix == _ERRORS else self.output_format
        pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)\.{suffix}$")
        found = [(int(m.group(1)), p) for p in self.path.iterdir() if (m := pattern.match(p.name))]
        return sorted(found)

    # writing -------------------------------------------------------------------------------
    def add(self, result: UnitResult) -> None:
        """Buffer a unit's rows and bad records; commit a chunk when enough rows or time have passed."""
        self._rows.extend(result.rows)
        self._errors.extend(bad.to_row() for bad in result.errors)
        for row in result.rows:
            self.verdicts[row["verdict"]] += 1
        for bad in result.errors:
            self.error_stages[bad.stage] += 1
        full = len(self._rows) >= self.chunk_size or len(self._errors) >= self.chunk_size
        if full or time.monotonic() - self._last_commit >= self.commit_seconds:
            self.commit()

    def commit(self) -> None:
        """Write the buffered bad records, then the rows `chunk_size` at a time, as numbered chunks (atomic renames)."""
        if self._errors:
            self._write_chunk(_ERRORS, "jsonl", self._errors)
            self._errors = []
        for start in range(0, len(self._rows), self.chunk_size):
            self._write_chunk(_PARTS, self.output_format, self._rows[start : start + self.chunk_size])
        self.rows_written += len(self._rows)
        self._rows = []
        self._last_commit = time.monotonic()

    def _write_chunk(self, prefix: str, output_format: str, rows: list[dict]) -> None:
        name = f"{prefix}-{self._next[prefix]:05d}.{output_format}"
        if output_format == "jsonl":
            data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
        else:
            data = _parquet_bytes(rows, details=self.manifest["options"]["details"])
        _write_atomic(self.path / name, data)
        self._next[prefix] += 1

    def finish(self, summary: BatchSummary) -> None:
        """Commit what is buffered and write `_summary.json`."""
        self.commit()
        _write_atomic(self.path / _SUMMARY, json.dumps(summary.to_dict(), indent=2).encode("utf-8"))

    def close(self) -> None:
        """Release the lock (buffered rows are committed first: they are whole)."""
        with contextlib.suppress(OSError):
            self.commit()
        self._lock.close()

    def summary(self, engine: str, workers: int, wall_seconds: float) -> BatchSummary:
        return BatchSummary(
            output=str(self.path),
            engine=engine,
            workers=workers,
            articles=sum(self.verdicts.values()),
            scored=self.rows_written + len(self._rows),
            resumed=self.resumed,
            errors=sum(self.error_stages.values()),
            duplicates=self.error_stages["duplicate"],
            verdicts=dict(sorted(self.verdicts.items())),
            wall_seconds=round(wall_seconds, 3),
            articles_per_second=round((self.rows_written + len(self._rows)) / wall_seconds, 3) if wall_seconds > 0 else 0.0,
        )


_START_OVER = "start over with --overwrite (run_batch(..., overwrite=True)) or in a new output folder"
_MISSING = object()
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def _read_job_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{str(path)!r} is not readable JSON ({exc}): the job's inputs are unknown; {_START_OVER}"
        ) from None
    if not isinstance(manifest, dict):
        raise InputError(f"{str(path)!r} holds a {type(manifest).__name__}, not a batch job manifest: {_START_OVER}")
    return manifest


def _version_refusal(where: str, version, library) -> str:
    """Why the rows of a job with another manifest version cannot be resumed, and what to do."""
    if isinstance(version, int) and not isinstance(version, bool) and version < MANIFEST_VERSION:
        return (
            f"{where} holds rows of a job from an older spin-detector ({library}, batch manifest version {version}), "
            f"which recorded the index and model by path only: whether they changed since cannot be told; {_START_OVER}"
        )
    return (
        f"{where} holds rows of a job with batch manifest version {version!r} (spin-detector {library}); this "
        f"version reads {MANIFEST_VERSION}: finish the job with the spin-detector that started it, or {_START_OVER}"
    )


def _changes(before, now, name: str = "") -> list[str]:
    """"name before → after" for every value that differs, nested records named with dots ("index.fingerprint").

    Two records of different kinds (a folder, a loaded object, a factory) are one change, named by what they are.
    """
    if not name or (isinstance(before, dict) and isinstance(now, dict) and before.keys() == now.keys()):
        keys = dict.fromkeys([*now, *before])
        return [change for key in keys
                for change in _changes(before.get(key, _MISSING), now.get(key, _MISSING), f"{name}.{key}" if name else key)]
    return [] if before == now else [f"{name} {_shown(before)} → {_shown(now)}"]


def _shown(value) -> str:
    """A recorded value for a message: hashes cut to 12 digits, an index or model record by what it is."""
    if value is _MISSING:
        return "(not recorded)"
    if isinstance(value, str) and _HASH.match(value):
        return value[:19] + "…"
    if isinstance(value, dict) and value.get("path"):
        return f"the folder {value['path']!r}"
    if isinstance(value, dict) and ("loaded" in value or "factory" in value):
        return f"a loaded {value['loaded']}" if "loaded" in value else f"the factory {value['factory']}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_shown(item)}" for key, item in value.items()) + "}"
    return repr(value)


def _exclusive_lock(path: Path):
    """An open lock file holding an exclusive advisory lock (released when the process dies)."""
    handle = path.open("a")
    try:
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:
        pass
    except OSError:
        handle.close()
        raise InputError(f"another batch run is writing to {str(path.parent)!r}: wait for it, or choose another output") from None
    return handle


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a hidden temporary sibling, flush it to disk, then rename it over `path`."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _parquet_schema(details: bool):
    import pyarrow as pa

    fields = [
        ("id", pa.string()), ("verdict", pa.string()), ("spin_score", pa.float64()), ("source_id", pa.string()),
        ("source_similarity", pa.float64()), ("coverage", pa.float64()), ("sentences", pa.int64()),
        ("spun_sentences", pa.int64()), ("copied_sentences", pa.int64()), ("paraphrased_sentences", pa.int64()),
    ]
    return pa.schema(fields + ([("report", pa.string())] if details else []))


def _parquet_bytes(rows: list[dict], details: bool) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows, schema=_parquet_schema(details)), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _read_rows(path: Path, columns: list[str] | None = None) -> Iterator[dict]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.read_table(path, columns=columns).to_pylist()
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                yield json.loads(line)
            except ValueError:
                raise InputError(f"{path}:{number} is not a whole JSON row: delete {path.name} to redo its rows") from None


def read_batch_output(path: str | Path) -> Iterator[dict]:
    """The result rows of a batch output folder, chunk by chunk (committed chunks only)."""
    folder = Path(path)
    parts = sorted(p for p in folder.glob("part-*") if p.suffix in (".jsonl", ".parquet"))
    for part in parts:
        yield from _read_rows(part)


def read_batch_errors(path: str | Path) -> Iterator[dict]:
    """The bad records of a batch output folder: position, record, stage, reason, occurrence."""
    for chunk in sorted(Path(path).glob(f"{_ERRORS}-*.jsonl")):
        yield from _read_rows(chunk)


# --------------------------------------------------------------------------------------- progress
class ProgressReporter:
    """A tqdm bar (articles/s, ETA) on a terminal, plain log lines every `log_seconds` elsewhere."""

    def __init__(self, mode: str, total: int | None, initial: int = 0, log_seconds: float = 30.0):
        self.mode = mode
        self.total = total
        self.done = initial
        self.scored = 0
        self.log_seconds = log_seconds
        self._start = self._last_log = time.monotonic()
        self._bar = None
        if mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, unit="article", dynamic_ncols=True, smoothing=0.1)

    def update(self, articles: int) -> None:
        self.done += articles
        self.scored += articles
        if self._bar is not None:
            self._bar.update(articles)
        elif self.mode == "log" and time.monotonic() - self._last_log >= self.log_seconds:
            self._last_log = time.monotonic()
            log.info(self.line())

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        rate = self.scored / elapsed if elapsed > 0 else 0.0
        of_total = f"/{self.total}" if self.total is not None else ""
        line = f"{self.done}{of_total} articles, {rate:.1f} articles/s"
        if self.total is not None and rate > 0:
            line += f", ETA {_duration(max(self.total - self.done, 0) / rate)}"
        return line

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "log":
            log.info(self.line())


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def progress_mode(progress: bool | None) -> str:
    """"bar" on a terminal, "log" elsewhere, "off" when progress is False."""
    if progress is False:
        return "off"
    return "bar" if progress or sys.stderr.isatty() else "log"


# ------------------------------------------------------------------------------------ the run
def run_batch(
    input: str | Path,
    output: str | Path,
    index=None,
    detector=None,
    *,
    model: str | Path | None = None,
    id_field: str = "id",
    text_field: str = "text",
    output_format: str | None = None,
    details: bool = False,
    max_chars: int = DEFAULT_MAX_CHARS,
    exclude_self: bool = True,
    precision: str = "fast",
    workers: int | None = None,
    threads: int | None = None,
    batch_size: int = 32,
    chunk_size: int = 500,
    commit_seconds: float = 30.0,
    overwrite: bool = False,
    progress: bool | None = None,
    engine: str = "local",
    **engine_options,
) -> BatchSummary:
    """Score every article of `input` into the output folder `output`; resumes a killed run.

    Args:
        input: a .txt file, a folder of .txt, a glob, JSON lines or Parquet (`read_documents`).
        output: the output folder (created); its suffix .parquet / .jsonl picks the format unless
            `output_format` is given (default JSON lines).
        index: a source index folder, a loaded `SourceIndex` (this process only), or None.
        detector: a loaded `Detector` (this process only), a picklable callable returning one
            (called once per worker), or None to load `model` (default: the shipped model).
        id_field, text_field: the id and text columns of JSON lines / Parquet input.
        details: add the full report as JSON in a "report" column.
        max_chars: longer articles go to the errors file; exclude_self: an indexed source whose id
            equals the article's is never its candidate.
        precision: of the model loaded when `detector` is not given (`Detector.load`): "fast" (bf16
            on CPUs with AMX, else int8 with the model's int8 calibration), "bf16", "int8" or "fp32".
            The manifest records what "fast" meant, so a resume on another kind of CPU is refused.
        workers: processes scoring in parallel (default `default_workers()`); threads: torch
            intra-op threads per worker (default: the cores shared out between the workers).
        batch_size: articles per `analyze_many` call (recorded: at int8 it can move a verdict);
            chunk_size / commit_seconds: a chunk is committed every `chunk_size` rows or
            `commit_seconds`, whichever comes first.
        overwrite: delete the earlier output of another job in `output` and start over. Without it, a
            rerun whose index, model or options differ from those the committed rows were scored
            with is refused with `InputError` naming each change (`job_manifest`).
        progress: a bar on a terminal, log lines elsewhere (None); False for silence.
        engine: "local", or "ray" (`detector.ray_engine.run_batch_ray`, `engine_options` go there).
    """
    if engine == "ray":
        from detector.ray_engine import run_batch_ray

        return run_batch_ray(
            input, output, index=index, detector=detector, model=model, id_field=id_field, text_field=text_field,
            output_format=output_format, details=details, max_chars=max_chars, exclude_self=exclude_self,
            precision=precision, batch_size=batch_size, chunk_size=chunk_size, commit_seconds=commit_seconds, overwrite=overwrite,
            progress=progress, **engine_options,
        )
    if engine != "local" or engine_options:
        raise InputError(f"engine={engine!r} with options {sorted(engine_options)}: use engine 'local' (no options) or 'ray'")
    options = BatchOptions(
        id_field, text_field, resolve_format(output, output_format), details, max_chars, exclude_self,
        resolve_precision(precision), batch_size,
    )
    workers = _checked_workers(workers, index, detector)
    start = time.monotonic()
    job = BatchOutput(output, job_manifest(input, index, detector, model, options), overwrite=overwrite,
                      chunk_size=chunk_size, commit_seconds=commit_seconds)
    try:
        reporter = start_progress(progress, input, options, job)
        items = plan_records(input, options, job.done_ids, job.finished_errors)
        if workers == 1:
            _score_here(items, _scorer_here(index, detector, model, options, threads, job.manifest), job, reporter,
                        options.batch_size)
        else:
            spec = worker_spec(index, detector, model, options, threads or max(1, cores() // workers), job.manifest)
            _score_in_pool(items, spec, workers, job, reporter, options.batch_size)
        reporter.close()
        summary = job.summary("local", workers, time.monotonic() - start)
        job.finish(summary)
        return summary
    finally:
        job.close()


def resolve_format(output: str | Path, output_format: str | None) -> str:
    """The output format: as given, else from the output folder's suffix, else JSON lines."""
    if output_format is not None:
        if output_format not in OUTPUT_FORMATS:
            raise InputError(f"output format {output_format!r} is not one of {list(OUTPUT_FORMATS)}")
        return output_format
    return _SUFFIX_FORMATS.get(Path(output).suffix.lower(), "jsonl")


def job_manifest(input, index, detector, model, options: BatchOptions) -> dict:
    """What defines a job's output: the input, the index's and the model's fingerprints, the options.

    A rerun must match it to add rows to those already committed (`BatchOutput`).
    """
    from detector import __version__

    return {
        "manifest_version": MANIFEST_VERSION,
        "spin_detector": __version__,
        "input": str(Path(input).absolute()),
        "index": index_record(index),
        "model": model_record(detector, model),
        "options": asdict(options),
    }


# ---------------------------------------------------------------------------- input fingerprints
_MODEL_MANIFEST = "manifest.json"  # `detector.model_manifest.MANIFEST_FILE`: size and sha256 of every scored file
_UNSCORED_MODEL_FILES = ("README.md", "training.json")  # the model card and training record change no score
_DETECTOR_SETTINGS = ("batch_size", "articles_per_batch", "candidates", "rerank", "max_chars", "on_oversize",
                      "max_sentence_chars", "check_language", "related_min_score")


def index_record(index) -> dict | None:
    """The job's record of its index: path, documents and fingerprint ("sha256:..."), or None.

    A folder's fingerprint is the sha256 of its manifest.json, which holds the sha256 of every file,
    the settings and the counts, and against which `SourceIndex.load` checks the files: any append,
    rebuild or damage changes it. A folder that a killed save left half-swapped is put back by
    loading it first. A loaded index (no folder, no manifest) is fingerprinted by its content: its
    settings, encoder, counts, and the id and text of every source, in order.
    """
    if index is None:
        return None
    if isinstance(index, (str, Path)):
        return _index_folder_record(Path(index).absolute())
    return {"path": None, "documents": len(index), "fingerprint": _loaded_index_fingerprint(index)}


def _index_folder_record(folder: Path) -> dict:
    from detector.index import MANIFEST, SourceIndex

    if not (folder / MANIFEST).is_file():
        SourceIndex.load(folder)  # recovers a save killed between its renames, or says what is wrong
    data = (folder / MANIFEST).read_bytes()
    return {"path": str(folder), "documents": _documents_of(data), "fingerprint": _sha256(data)}


def _documents_of(index_manifest: bytes) -> int | None:
    """The document count an index manifest records (shown when an index changed), or None."""
    try:
        return json.loads(index_manifest)["counts"]["documents"]
    except (ValueError, KeyError, TypeError):
        return None


def _loaded_index_fingerprint(index) -> str:
    digest = hashlib.sha256(_ADDRESS.sub("", repr(index)).encode("utf-8"))  # counts and encoder of a SourceIndex
    digest.update(repr(getattr(index, "settings", None)).encode("utf-8"))
    for doc_id in getattr(index, "ids", ()):
        digest.update(json.dumps([doc_id, index.source(doc_id).document.text]).encode("utf-8"))
    return f"sha256:{digest.hexdigest()}"


def model_record(detector=None, model: str | Path | None = None) -> dict:
    """The job's record of its model, with a fingerprint that changes with anything that moves a score.

    - no `detector` (or a `DetectorLoader`): the folder `Detector.load(model)` reads (`model`,
      $SPIN_DETECTOR_MODEL, else the shipped one): the sha256 of its manifest.json, or of each of
      its files when it has none (a folder from before model manifests); and of the shipped
      decisions.json when the folder has none of its own, since `Detector.load` then takes those;
    - a loaded `Detector`: its classifier's threshold, calibration and head weights, its decisions,
      encoder and settings (the folder its weights came from is not known);
    - a detector factory: its name and arguments only (what it loads is its caller's to keep).
    """
    if isinstance(detector, DetectorLoader):
        return model_record(None, detector.model)
    if detector is None:
        return _model_folder_record(model)
    if is_detector_factory(detector):
        return {"factory": _describe_factory(detector), "fingerprint": None}
    return _loaded_detector_record(detector)


def _model_folder_record(model) -> dict:
    from detector.api import MODEL_ENV
    from detector.decision import DECISIONS_FILE, DEFAULT_MODEL_PATH

    named = model or os.environ.get(MODEL_ENV) or None
    folder = Path(named or DEFAULT_MODEL_PATH).absolute()
    if named is not None and not folder.is_dir():
        raise ModelFormatError(f"model folder {str(folder)!r} does not exist: give a trained classifier folder")
    classifier = named is not None or (folder / "config.json").is_file()  # as `Detector.load` decides
    files = _scored_files(folder) if classifier else {}
    if not classifier or not (folder / DECISIONS_FILE).is_file():
        shipped = Path(DEFAULT_MODEL_PATH) / DECISIONS_FILE
        files[f"shipped {DECISIONS_FILE}"] = _file_sha256(shipped) if shipped.is_file() else None
    fingerprint = _sha256(json.dumps(files, sort_keys=True).encode("utf-8"))
    return {"path": str(folder), "classifier": classifier, "fingerprint": fingerprint, "files": files}


def _scored_files(folder: Path) -> dict[str, str]:
    """File name -> sha256 of what a score depends on: the folder's manifest.json (itself the sha256 of
    every such file, checked when the model loads), else each file but the model card and dot files."""
    if (folder / _MODEL_MANIFEST).is_file():
        return {_MODEL_MANIFEST: _file_sha256(folder / _MODEL_MANIFEST)}
    names = sorted(path.name for path in folder.iterdir()
                   if path.is_file() and not path.name.startswith(".") and path.name not in _UNSCORED_MODEL_FILES)
    return {name: _file_sha256(folder / name) for name in names}


def _loaded_detector_record(detector) -> dict:
    scorer, decisions = getattr(detector, "scorer", None), getattr(detector, "decisions", None)
    encoder = getattr(detector, "encoder", None)
    parts = {
        "type": type(detector).__qualname__,
        "settings": {name: getattr(detector, name, None) for name in _DETECTOR_SETTINGS},
        "encoder": [getattr(encoder, "name", None), getattr(encoder, "dim", None), getattr(encoder, "precision", None)],
        "classifier": _scorer_parts(scorer),
        "decisions": decisions.to_dict() if hasattr(decisions, "to_dict") else None,
    }
    return {
        "path": None,
        "loaded": type(detector).__qualname__,
        "threshold": float(scorer.threshold) if scorer is not None else None,
        "decision_version": getattr(decisions, "version", None),
        "fingerprint": _sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")),
    }


def _scorer_parts(scorer) -> dict | None:
    """A classifier by its precision, calibration (threshold included) and head weights."""
    if scorer is None:
        return None
    calibration = getattr(scorer, "calibration", None)
    return {
        "precision": getattr(scorer, "precision", None),
        "calibration": calibration.to_dict() if hasattr(calibration, "to_dict") else repr(calibration),
        "heads": _head_weights_sha256(getattr(scorer, "model", None)),
    }


def _head_weights_sha256(model) -> str | None:
    """The sha256 of a classifier's weights outside its encoder (the word and sentence heads, fp32)."""
    if not hasattr(model, "state_dict"):
        return None
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        if not name.startswith("encoder.") and hasattr(tensor, "detach"):
            digest.update(name.encode("utf-8"))
            digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


def _sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def _describe_factory(factory) -> str:
    """A detector factory as "module.function(arguments)", the same in every process.

    Arguments are described by value when they are plain data and by type otherwise, so that an
    object's memory address (which differs from run to run) never makes a rerun look like another job.
    """
    function = getattr(factory, "func", factory)
    arguments = [_describe_value(a) for a in getattr(factory, "args", ())]
    arguments += [f"{key}={_describe_value(value)}" for key, value in sorted((getattr(factory, "keywords", None) or {}).items())]
    if function is factory and not hasattr(function, "__qualname__"):
        return f"{type(factory).__module__}.{_ADDRESS.sub('', repr(factory))}"
    return f"{function.__module__}.{function.__qualname__}({', '.join(arguments)})"


def _describe_value(value) -> str:
    if isinstance(value, (str, int, float, bool, Path)) or value is None:
        return repr(value)
    if isinstance(value, (tuple, list)):
        return f"[{', '.join(_describe_value(v) for v in value)}]"
    return f"<{type(value).__qualname__}>"


def start_progress(progress: bool | None, input, options: BatchOptions, job: BatchOutput) -> ProgressReporter:
    """A reporter whose total comes from one cheap counting read of the input (skipped when off)."""
    mode = progress_mode(progress)
    total = count_records(input, options) if mode != "off" else None
    return ProgressReporter(mode, total, initial=job.resumed)


def _checked_workers(workers: int | None, index, detector) -> int:
    in_memory = [name for name, thing in (("index", index), ("detector", detector))
                 if thing is not None and not isinstance(thing, (str, Path)) and not is_detector_factory(thing)]
    if workers is None:
        return 1 if in_memory else default_workers()
    if not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers={workers!r} must be a positive integer")
    if workers > 1 and in_memory:
        raise InputError(
            f"workers={workers} needs every worker to load its own {' and '.join(in_memory)}: pass the index "
            "as a folder path and the model as a path (or detector as a picklable factory), or use workers=1"
        )
    return workers


def is_detector_factory(thing) -> bool:
    """True for a callable that builds a detector (a function, a partial), False for a loaded detector."""
    return callable(thing) and not hasattr(thing, "analyze_many")


def worker_spec(index, detector, model, options: BatchOptions, threads: int | None = None,
                manifest: dict | None = None) -> WorkerSpec:
    """What each worker loads: `detector` if it is a factory, else `DetectorLoader(model)`; the index folder.

    Paths are made absolute, since a worker (a Ray actor above all) may start in another folder. The
    job `manifest`'s fingerprints go along, so that a worker refuses a folder that changed since.
    """
    factory = detector if detector is not None and is_detector_factory(detector) else DetectorLoader(_absolute(model), options.precision)
    folder = _absolute(index) if isinstance(index, (str, Path)) else None
    index_fingerprint = ((manifest or {}).get("index") or {}).get("fingerprint") if folder else None
    model_fingerprint = ((manifest or {}).get("model") or {}).get("fingerprint")
    return WorkerSpec(factory, folder, options, threads, index_fingerprint, model_fingerprint)


def _absolute(path: str | Path | None) -> str | None:
    return str(Path(path).absolute()) if path else None


def cores() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _scorer_here(index, detector, model, options: BatchOptions, threads: int | None,
                 manifest: dict | None = None) -> ArticleScorer:
    """The scorer of a one-process run: the objects given, or loaded here as a worker would."""
    loaded = detector is not None and not is_detector_factory(detector)
    spec = worker_spec(index, None if loaded else detector, model, options, threads, manifest)
    scorer = ArticleScorer(detector, spec.load_index(detector), options) if loaded else spec.load()
    if index is not None and not isinstance(index, (str, Path)):
        scorer.index = index
    return scorer


def _units(items: Iterable[WorkItem | BadRecord], batch_size: int, job: BatchOutput) -> Iterator[list[WorkItem]]:
    """Work items grouped `batch_size` at a time (checked by `BatchOptions`); bad records go straight to the output."""
    unit: list[WorkItem] = []
    for item in items:
        if isinstance(item, BadRecord):
            job.add(UnitResult([], [item]))
            continue
        unit.append(item)
        if len(unit) == batch_size:
            yield unit
            unit = []
    if unit:
        yield unit


def _score_here(items, scorer: ArticleScorer, job: BatchOutput, reporter: ProgressReporter, batch_size: int) -> None:
    for unit in _units(items, batch_size, job):
        job.add(scorer.score(unit))
        reporter.update(len(unit))


def _score_in_pool(items, spec: WorkerSpec, workers: int, job: BatchOutput, reporter: ProgressReporter,
                   batch_size: int) -> None:
    """Units scored by `workers` spawned processes, a bounded number in flight, results in order."""
    context = multiprocessing.get_context("spawn")
    pending: deque[tuple[int, Future]] = deque()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(spec,)) as pool:
        try:
            for unit in _units(items, batch_size, job):
                pending.append((len(unit), pool.submit(_score_in_worker, unit)))
                while len(pending) > 2 * workers or (pending and pending[0][1].done()):
                    _collect(pending.popleft(), job, reporter)
            while pending:
                _collect(pending.popleft(), job, reporter)
        except BaseException:
            for _, future in pending:
                future.cancel()
            raise


def _collect(entry: tuple[int, Future], job: BatchOutput, reporter: ProgressReporter) -> None:
    size, future = entry
    job.add(future.result())
    reporter.update(size)
