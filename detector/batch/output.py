"""`BatchOutput`: the output folder of one job, its lock and manifest, what earlier runs committed, and new chunks."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections import Counter
from pathlib import Path

from detector.batch.files import (
    ERRORS,
    LOCK,
    MANIFEST,
    OUR_FILE,
    PARTS,
    SUMMARY,
    chunk_bytes,
    exclusive_lock,
    read_rows,
    write_atomic,
)
from detector.batch.manifest import START_OVER, check_resumable, read_job_manifest
from detector.batch.options import BatchSummary
from detector.batch.plan import BadRecord
from detector.batch.scoring import UnitResult
from detector.errors import InputError

__all__ = ["BatchOutput"]


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
        self._next = {PARTS: 0, ERRORS: 0}
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
        foreign = sorted(p.name for p in self.path.iterdir() if not OUR_FILE.match(p.name))
        if foreign:
            raise InputError(
                f"output folder {str(self.path)!r} holds files a batch job did not write ({foreign[:3]}): "
                "give a new or empty folder"
            )
        lock = exclusive_lock(self.path / LOCK)
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
        manifest_path = self.path / MANIFEST
        if overwrite:
            for old in self.path.iterdir():
                if old.name != LOCK:
                    old.unlink()
        committed = any(self.path.glob("part-*")) or any(self.path.glob(f"{ERRORS}-*"))
        if committed and not manifest_path.exists():
            raise InputError(f"output folder {str(self.path)!r} has chunks but no {MANIFEST}: {START_OVER}")
        if committed:
            check_resumable(self.path, read_job_manifest(manifest_path), self.manifest)
        else:
            write_atomic(manifest_path, json.dumps(self.manifest, indent=2).encode("utf-8"))

    # resume --------------------------------------------------------------------------------
    def _read_back(self) -> None:
        for number, part in self._chunks(PARTS):
            for row in read_rows(part, columns=["id", "verdict"]):
                self.done_ids.add(row["id"])
                self.verdicts[row["verdict"]] += 1
            self._next[PARTS] = number + 1
        for number, chunk in self._chunks(ERRORS):
            for row in read_rows(chunk):
                bad = BadRecord(**{name: row[name] for name in BadRecord._fields})
                self.finished_errors.add(bad.key)
                self.error_stages[bad.stage] += 1
                if bad.stage == "score":
                    self.done_ids.add(bad.record)
            self._next[ERRORS] = number + 1

    def _chunks(self, prefix: str) -> list[tuple[int, Path]]:
        suffix = "jsonl" if prefix == ERRORS else self.output_format
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
            self._write_chunk(ERRORS, "jsonl", self._errors)
            self._errors = []
        for start in range(0, len(self._rows), self.chunk_size):
            self._write_chunk(PARTS, self.output_format, self._rows[start : start + self.chunk_size])
        self.rows_written += len(self._rows)
        self._rows = []
        self._last_commit = time.monotonic()

    def _write_chunk(self, prefix: str, output_format: str, rows: list[dict]) -> None:
        name = f"{prefix}-{self._next[prefix]:05d}.{output_format}"
        write_atomic(self.path / name, chunk_bytes(rows, output_format, details=self.manifest["options"]["details"]))
        self._next[prefix] += 1

    def finish(self, summary: BatchSummary) -> None:
        """Commit what is buffered and write `_summary.json`."""
        self.commit()
        write_atomic(self.path / SUMMARY, json.dumps(summary.to_dict(), indent=2).encode("utf-8"))

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
