"""Batch scoring (issue 4): formats, bad records, resume after a kill, workers, the command line;
a job bound to its inputs, so that a resume with another index, model or option is refused (issue 39).

A fake detector (verdict read off the text) keeps these tests independent of model speed; one test
runs the real `Detector` on a tiny random model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from detector.batch import (
    RESULT_COLUMNS,
    BatchOptions,
    Engine,
    ProgressReporter,
    plan_records,
    read_batch_errors,
    read_batch_output,
    run_batch,
)
from detector.cli.batch import batch_command
from detector.errors import InputError

TESTS = Path(__file__).resolve().parent


@dataclass
class FakeSentence:
    text: str
    relation: str
    is_boilerplate: bool = False


@dataclass
class FakeReport:
    verdict: str
    spin_score: float
    source_id: str | None
    source_similarity: float
    coverage: float
    sentences: list[FakeSentence] = field(default_factory=list)
    article_id: str | None = None

    def to_dict(self) -> dict:
        """The real report's shape, so that Parquet's nested columns take it."""
        from detector.report import ArticleReport, SentenceFinding

        sentences = [SentenceFinding(s.text, None, s.relation, is_boilerplate=s.is_boilerplate) for s in self.sentences]
        return ArticleReport(self.verdict, self.spin_score, self.source_id, self.source_similarity, self.coverage,
                             sentences=sentences, article_id=self.article_id).to_dict()


class FakeDetector:
    """Verdict from the text ("confess": spun, "verbatim": copy, else original); "BOOM" makes it fail."""

    def __init__(self, delay: float = 0.0, interrupt_after: int | None = None):
        self.delay = delay
        self.interrupt_after = interrupt_after
        self.calls: list[int] = []
        self.seen = 0

    def analyze_many(self, texts, index=None, batch_size=None, exclude_ids=(), exclude_quotations=False):
        texts = list(texts)
        self.calls.append(len(texts))
        for text in texts:
            if self.interrupt_after is not None and self.seen >= self.interrupt_after:
                raise KeyboardInterrupt
            if "BOOM" in text:
                raise ValueError("cannot read this article")
            time.sleep(self.delay)
            self.seen += 1
            yield fake_report(text, index)


def fake_report(text: str, index) -> FakeReport:
    verdict = "spun" if "confess" in text else "copy" if "verbatim" in text else "original"
    relation = {"spun": "spun", "copy": "copy", "original": "unmatched"}[verdict]
    sentences = [FakeSentence(s.strip(), relation) for s in text.split(".") if s.strip()]
    sentences.append(FakeSentence("ALSO READ: more", "unmatched", is_boilerplate=True))
    return FakeReport(verdict, 0.8 if verdict == "spun" else 0.1, None if verdict == "original" else "src-1",
                      0.9 if index is not None else 0.0, 1.0 if verdict != "original" else 0.0, sentences)


def make_fake_detector(delay: float = 0.0) -> FakeDetector:
    """A picklable detector factory for worker processes."""
    return FakeDetector(delay=delay)


def tiny_detector(model_dir: str, synonym_pairs=(("admit", "confess"),)):
    """A picklable factory: the real `Detector` on a tiny random encoder, no classifier."""
    from detector.thesaurus import SynonymTable

    from detector.api import Detector
    from detector.encoder import SentenceEncoder

    return Detector(encoder=SentenceEncoder.load(model_dir), synonyms=SynonymTable.from_pairs(list(synonym_pairs)))


class SlowDetector:
    """Wraps a detector and sleeps per article, so that a subprocess can be killed mid-run."""

    def __init__(self, detector, delay: float = 0.0):
        self.detector = detector
        self.delay = delay

    def analyze_many(self, texts, index=None, batch_size=None, exclude_ids=(), exclude_quotations=False):
        for report in self.detector.analyze_many(texts, index=index, batch_size=batch_size, exclude_ids=exclude_ids,
                                                 exclude_quotations=exclude_quotations):
            time.sleep(self.delay)
            yield report


def seed_articles(seed_texts: dict[str, str], count: int) -> list[dict]:
    """`count` articles cut from the seeds: windows of six sentences, so verdicts vary."""
    from detector.text import split_sentences

    sentences = {key: [s.text for s in split_sentences(text)] for key, text in sorted(seed_texts.items())}
    keys = sorted(sentences)
    records = []
    for n in range(count):
        pool = sentences[keys[n % len(keys)]]
        start = (n // len(keys)) * 2 % max(1, len(pool) - 6)
        records.append({"id": f"s{n}", "text": " ".join(pool[start : start + 6])})
    return records


def wait_for_parts(process: subprocess.Popen, out: Path, parts: int, seconds: float = 300.0) -> None:
    """Wait until `parts` chunks are committed in `out` (or the process ends, or time runs out)."""
    deadline = time.monotonic() + seconds
    while len(list(out.glob("part-*"))) < parts and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)


def article(number: int) -> str:
    kind = ("The alliance should not confess new participants. It said so.", "A verbatim copy. Word for word.",
            "An original story. Nothing like it.")[number % 3]
    return f"Story {number}. {kind}"


def write_jsonl(path: Path, records: list[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def articles_jsonl(tmp_path) -> Path:
    return write_jsonl(tmp_path / "articles.jsonl", [{"id": f"a{n}", "text": article(n)} for n in range(40)])


def rows_by_id(path) -> dict[str, dict]:
    rows = list(read_batch_output(path))
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "an id appears more than once"
    return {row["id"]: row for row in rows}


def verdicts(path) -> dict[str, str]:
    return {key: row["verdict"] for key, row in rows_by_id(path).items()}


def test_jsonl_rows_hold_every_column_and_the_summary_counts_verdicts(tmp_path, articles_jsonl):
    detector = FakeDetector()
    summary = run_batch(articles_jsonl, tmp_path / "out", detector=detector, batch_size=8, progress=False)
    rows = rows_by_id(tmp_path / "out")
    assert set(rows) == {f"a{n}" for n in range(40)}
    assert list(rows["a0"]) == [*RESULT_COLUMNS, "schema_version"]
    assert rows["a0"]["verdict"] == "spun" and rows["a0"]["spun_sentences"] == 3 and rows["a0"]["sentences"] == 3
    assert rows["a1"]["copied_sentences"] == 3 and rows["a1"]["source_id"] == "src-1"
    assert summary.articles == summary.scored == 40 and summary.errors == 0 and summary.resumed == 0
    assert summary.verdicts == {"copy": 13, "original": 13, "spun": 14}
    assert detector.calls == [8] * 5
    saved = json.loads((tmp_path / "out" / "_summary.json").read_text())
    assert saved["verdicts"] == summary.verdicts


def test_parquet_in_and_out_with_named_columns_and_details(tmp_path):
    table = pa.table({"url": [f"u{n}" for n in range(10)], "body": [article(n) for n in range(10)], "lang": ["en"] * 10})
    pq.write_table(table, tmp_path / "crawl.parquet")
    summary = run_batch(tmp_path / "crawl.parquet", tmp_path / "scores.parquet", detector=FakeDetector(),
                        id_field="url", text_field="body", details=True, chunk_size=4, progress=False)
    parts = sorted(p.name for p in (tmp_path / "scores.parquet").glob("part-*"))
    assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    results = pq.read_table(tmp_path / "scores.parquet").to_pylist()  # underscore files are skipped
    assert sorted(r["id"] for r in results) == sorted(f"u{n}" for n in range(10)) and summary.articles == 10
    report = next(r for r in results if r["id"] == "u0")["report"]
    assert report["verdict"] == "spun" and report["article_id"] == "u0"


def test_folder_of_text_files_uses_file_names_as_ids(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    for n in range(3):
        (folder / f"page-{n}.txt").write_text(article(n), encoding="utf-8")
    run_batch(folder, tmp_path / "out", detector=FakeDetector(), progress=False)
    assert {k: r["verdict"] for k, r in rows_by_id(tmp_path / "out").items()} == {
        "page-0": "spun", "page-1": "copy", "page-2": "original"}


def test_bad_records_go_to_the_errors_file_and_the_run_goes_on(tmp_path):
    """Issue 4: empty, undecodable, oversized, missing-column, duplicate and failing records."""
    path = write_jsonl(tmp_path / "bad.jsonl", [
        {"id": "ok1", "text": article(0)},
        {"id": "empty", "text": "   "},
        "{not json",
        {"id": "no-text"},
        {"id": "huge", "text": "word " * 200},
        {"id": "ok1", "text": article(1)},
        {"id": "boom", "text": "This one goes BOOM."},
        {"id": "ok2", "text": article(2)},
    ])
    with path.open("ab") as handle:
        handle.write(b'{"id": "latin", "text": "caf\xe9"}\n')
    summary = run_batch(path, tmp_path / "out", detector=FakeDetector(), max_chars=500, batch_size=4, progress=False)
    assert set(rows_by_id(tmp_path / "out")) == {"ok1", "ok2"}
    errors = {(e["record"], e["stage"]): e["reason"] for e in read_batch_errors(tmp_path / "out")}
    assert "empty text" in errors[("empty", "read")]
    assert "not valid JSON" in errors[(f"{path}:3", "read")]
    assert "missing text field 'text'" in errors[("no-text", "read")]
    assert "exceeds max_chars=500" in errors[("huge", "read")]
    assert "duplicate id 'ok1'" in errors[("ok1", "duplicate")]
    assert "cannot read this article" in errors[("boom", "score")]
    assert "undecodable bytes" in errors[(f"{path}:9", "read")]
    assert summary.errors == 7 and summary.duplicates == 1 and summary.articles == 2


def test_rerun_after_an_interrupt_finishes_the_job_exactly_once(tmp_path, articles_jsonl):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch(articles_jsonl, out, detector=FakeDetector(interrupt_after=25), batch_size=5, chunk_size=10, progress=False)
    first = rows_by_id(out)
    assert 0 < len(first) < 40
    detector = FakeDetector()
    summary = run_batch(articles_jsonl, out, detector=detector, batch_size=5, chunk_size=10, progress=False)
    assert sum(detector.calls) == 40 - len(first)
    assert summary.resumed == len(first) and summary.scored == 40 - len(first) and summary.articles == 40
    run_batch(articles_jsonl, tmp_path / "whole", detector=FakeDetector(), progress=False)
    assert verdicts(out) == verdicts(tmp_path / "whole")
    again = run_batch(articles_jsonl, out, detector=FakeDetector(), batch_size=5, progress=False)
    assert again.scored == 0 and again.articles == 40


def test_bad_records_are_written_once_across_reruns(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": ""}, {"id": "a", "text": article(0)},
                                               {"id": "a", "text": article(1)}, {"id": "b", "text": "BOOM"}])
    run_batch(path, tmp_path / "out", detector=FakeDetector(), progress=False)
    summary = run_batch(path, tmp_path / "out", detector=FakeDetector(), progress=False)
    assert len(list(read_batch_errors(tmp_path / "out"))) == 3 and summary.errors == 3 and summary.scored == 0


KILLED_RUN = """
import sys
sys.path.insert(0, {tests!r})
from test_batch import FakeDetector
from detector.batch import run_batch
run_batch({input!r}, {output!r}, detector=FakeDetector(delay=0.01), batch_size=4, chunk_size=8, progress=False)
"""


def test_kill_9_mid_run_then_rerun_gives_each_id_once_with_the_same_verdicts(tmp_path):
    """Issue 4, done criterion 1 on a small sample: SIGKILL, rerun, compare with an uninterrupted run."""
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": f"a{n}", "text": article(n)} for n in range(200)])
    out = tmp_path / "out"
    script = KILLED_RUN.format(tests=str(TESTS), input=str(path), output=str(out))
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while len(list(out.glob("part-*"))) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < len(list(read_batch_output(out))) < 200
    run_batch(path, out, detector=FakeDetector(), batch_size=4, progress=False)
    run_batch(path, tmp_path / "whole", detector=FakeDetector(), progress=False)
    assert sorted(rows_by_id(out)) == sorted(f"a{n}" for n in range(200))
    assert verdicts(out) == verdicts(tmp_path / "whole")


TINY_KILLED_RUN = """
import sys
sys.path.insert(0, {tests!r})
from test_batch import SlowDetector, tiny_detector
from detector.batch import run_batch
detector = SlowDetector(tiny_detector({model!r}), delay=0.05)
run_batch({input!r}, {output!r}, index={index!r}, detector=detector, batch_size=2, chunk_size=2, progress=False)
"""


def test_kill_9_with_the_real_detector_on_a_tiny_model(tmp_path, tiny_bert_dir, seed_texts):
    """Issue 4, done criterion 1: the real relation-only `Detector` (tiny model) against an index folder."""
    pytest.importorskip("faiss")
    from detector.index import SourceIndex

    detector = tiny_detector(str(tiny_bert_dir))
    SourceIndex.build([{"id": f"src-{k}", "text": seed_texts[k]} for k in ("003", "004")],
                      encoder=detector.encoder).save(tmp_path / "index")
    records = seed_articles(seed_texts, 24)
    path = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out"
    script = TINY_KILLED_RUN.format(tests=str(TESTS), model=str(tiny_bert_dir), input=str(path), output=str(out),
                                    index=str(tmp_path / "index"))
    process = subprocess.Popen([sys.executable, "-c", script])
    wait_for_parts(process, out, 2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < len(list(read_batch_output(out))) < 24
    summary = run_batch(path, out, index=tmp_path / "index", detector=SlowDetector(detector), batch_size=2, progress=False)
    run_batch(path, tmp_path / "whole", index=tmp_path / "index", detector=detector, progress=False)
    assert summary.resumed > 0 and summary.articles == 24
    assert sorted(rows_by_id(out)) == sorted(r["id"] for r in records)
    assert verdicts(out) == verdicts(tmp_path / "whole")
    assert len(set(verdicts(out).values())) > 1, "the sample should hold more than one verdict"


CTRL_C_RUN = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal, even when started from a background job
sys.path.insert(0, {tests!r})
from test_batch import FakeDetector
from detector.cli.batch import batch_command
batch_command.main({arguments!r}, prog_name="spin-detect batch", obj={{"detector": FakeDetector(delay=0.02)}})
"""


def test_ctrl_c_stops_the_command_cleanly_and_the_same_command_resumes(tmp_path, articles_jsonl):
    """Issue 4: SIGINT (Ctrl-C) keeps the committed rows, exits 130 and says how to resume."""
    out = tmp_path / "out"
    arguments = [str(articles_jsonl), "--out", str(out), "--batch-size", "2", "--chunk-size", "4", "--no-progress"]
    script = CTRL_C_RUN.format(tests=str(TESTS), arguments=arguments)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_parts(process, out, 2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "run the same command again to resume" in stderr
    done = len(list(read_batch_output(out)))
    assert 0 < done < 40
    result = CliRunner().invoke(batch_command, arguments, obj={"detector": FakeDetector()})
    assert result.exit_code == 0, result.output
    assert re.search(rf"done by earlier runs +{done}\b", result.output)
    run_batch(articles_jsonl, tmp_path / "whole", detector=FakeDetector(), progress=False)
    assert verdicts(out) == verdicts(tmp_path / "whole")


def test_ids_never_become_file_names(tmp_path):
    """Issue 4: ids that look like paths stay values in the rows; nothing is written outside the output."""
    hostile = ["../escape", "/etc/passwd", "a/../../b", "..", "con", "x\\..\\y", "part-00007.jsonl", "_manifest.json"]
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": key, "text": article(n)} for n, key in enumerate(hostile)])
    before = sorted(p.name for p in tmp_path.iterdir())
    for output in ("out", "out.parquet"):
        run_batch(path, tmp_path / output, detector=FakeDetector(), details=True, chunk_size=3, progress=False)
        assert set(rows_by_id(tmp_path / output)) == set(hostile)
        names = sorted(p.name for p in (tmp_path / output).iterdir())
        suffix = Path(output).suffix.lstrip(".") or "jsonl"
        assert names == [".lock", "_manifest.json", "_summary.json"] + [f"part-0000{n}.{suffix}" for n in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before + ["out", "out.parquet"])


class DetectorSettings:
    """A plain object argument of a detector factory (its repr holds a memory address)."""


def make_fake_detector_with(settings: DetectorSettings, delay: float = 0.0) -> FakeDetector:
    return FakeDetector(delay=delay)


def test_a_factory_with_object_arguments_resumes(tmp_path, articles_jsonl):
    """A factory's object arguments are described by type, not by memory address, so a rerun resumes."""
    run_batch(articles_jsonl, tmp_path / "out", detector=partial(make_fake_detector_with, DetectorSettings(), delay=0.0),
              progress=False)
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["model"]["factory"] == "test_batch.make_fake_detector_with(<DetectorSettings>, delay=0.0)"
    again = run_batch(articles_jsonl, tmp_path / "out",
                      detector=partial(make_fake_detector_with, DetectorSettings(), delay=0.0), progress=False)
    assert again.scored == 0 and again.articles == 40


def test_a_rerun_with_other_options_is_refused_unless_overwrite(tmp_path, articles_jsonl):
    run_batch(articles_jsonl, tmp_path / "out", detector=FakeDetector(), progress=False)
    with pytest.raises(InputError, match=r"other inputs \(options.details False → True\).*--overwrite"):
        run_batch(articles_jsonl, tmp_path / "out", detector=FakeDetector(), details=True, progress=False)
    summary = run_batch(articles_jsonl, tmp_path / "out", detector=FakeDetector(), details=True, overwrite=True, progress=False)
    assert summary.scored == 40 and all("report" in row for row in read_batch_output(tmp_path / "out"))


def test_output_folder_safety(tmp_path, articles_jsonl):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.docx").write_text("mine")
    with pytest.raises(InputError, match=r"holds files a batch job did not write \(\['thesis.docx'\]\)"):
        run_batch(articles_jsonl, tmp_path / "notes", detector=FakeDetector(), progress=False)
    (tmp_path / "file.jsonl").write_text("")
    with pytest.raises(InputError, match="is a file: give a folder path"):
        run_batch(articles_jsonl, tmp_path / "file.jsonl", detector=FakeDetector(), progress=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".part-00000.jsonl.99.tmp").write_text('{"id": "half')
    run_batch(articles_jsonl, out, detector=FakeDetector(), progress=False)
    assert not list(out.glob(".*.tmp")) and len(rows_by_id(out)) == 40


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_holds_it(tmp_path, articles_jsonl):
    from detector.batch import BatchOutput

    manifest = {"input": "x", "options": {"output_format": "jsonl", "details": False}}
    first = BatchOutput(tmp_path / "out", manifest)
    try:
        with pytest.raises(InputError, match="another batch run is writing to"):
            BatchOutput(tmp_path / "out", manifest)
    finally:
        first.close()


def test_two_worker_processes_give_the_same_rows_as_one(tmp_path, articles_jsonl):
    one = run_batch(articles_jsonl, tmp_path / "one", detector=FakeDetector(), progress=False)
    two = run_batch(articles_jsonl, tmp_path / "two", detector=partial(make_fake_detector, 0.0), workers=2,
                    batch_size=4, progress=False)
    assert two.workers == 2 and one.verdicts == two.verdicts
    assert rows_by_id(tmp_path / "one") == rows_by_id(tmp_path / "two")


def test_workers_need_paths_not_loaded_objects(tmp_path, articles_jsonl):
    with pytest.raises(InputError, match="workers=2 needs every worker to load its own detector"):
        run_batch(articles_jsonl, tmp_path / "out", detector=FakeDetector(), workers=2, progress=False)


class InProcessEngine(Engine):
    """The smallest engine: each unit scored in this process by a scorer loaded as a worker would."""

    name = "in-process"

    def run(self, work, sink) -> int:
        scorer = work.spec().load()
        for unit in work.plan.units(sink.skip):
            sink.add(scorer.score(unit))
        return 1


def test_a_new_engine_is_one_class(tmp_path):
    """Issue 36: the job (output folder, plan, resume, summary) is the same whatever engine scores."""
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": f"a{n}", "text": article(n)} for n in range(12)]
                       + [{"id": "a1", "text": article(2)}, {"id": "blank", "text": ""}, {"id": "boom", "text": "BOOM."}])
    factory = partial(make_fake_detector, 0.0)
    mine = run_batch(path, tmp_path / "mine", detector=factory, engine=InProcessEngine(), batch_size=4, progress=False)
    local = run_batch(path, tmp_path / "local", detector=factory, batch_size=4, progress=False)
    assert (mine.engine, mine.workers) == ("in-process", 1)
    assert rows_by_id(tmp_path / "mine") == rows_by_id(tmp_path / "local")
    assert list(read_batch_errors(tmp_path / "mine")) == list(read_batch_errors(tmp_path / "local"))
    assert (tmp_path / "mine" / "_manifest.json").read_text() == (tmp_path / "local" / "_manifest.json").read_text()
    assert run_batch(path, tmp_path / "mine", detector=factory, batch_size=4, progress=False).scored == 0


def test_planning_skips_done_ids_and_numbers_duplicates(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": i, "text": "Some text."} for i in ("a", "b", "a", "c", "a")])
    planned = list(plan_records(path, BatchOptions(), done_ids={"b"}, finished_errors={("duplicate", "a", 2)}))
    assert [(p.id if hasattr(p, "text") else (p.stage, p.occurrence)) for p in planned] == ["a", "c", ("duplicate", 3)]
    assert [p.position for p in planned] == [0, 3, 4]


def test_progress_log_lines_give_rate_and_eta(caplog):
    reporter = ProgressReporter("log", total=100, initial=20, log_seconds=0.0, logger="detector.batch")
    with caplog.at_level("INFO", logger="detector.batch"):
        reporter.update(10)
    assert "30/100 articles" in caplog.text and "articles/s" in caplog.text and "ETA" in caplog.text


def test_command_line_writes_rows_and_prints_the_summary(tmp_path, articles_jsonl):
    out = tmp_path / "cli.parquet"
    result = CliRunner().invoke(batch_command, [str(articles_jsonl), "--out", str(out), "--no-progress"],
                                obj={"detector": FakeDetector()})
    assert result.exit_code == 0, result.output
    assert "verdict spun" in result.output and re.search(r"articles in output +40", result.output)
    assert len(rows_by_id(out)) == 40 and next(out.glob("part-*")).suffix == ".parquet"


def test_real_detector_on_a_tiny_model(tmp_path, tiny_bert_dir, seed_texts):
    """Integration: the real `Detector` (tiny random encoder, no classifier) against a real index."""
    pytest.importorskip("faiss")
    try:
        from detector.index import SourceIndex

        detector = tiny_detector(str(tiny_bert_dir))
    except ImportError as exc:
        pytest.skip(f"a detector module has not landed yet: {exc}")
    encoder = detector.encoder
    index = SourceIndex.build([{"id": "src-003", "text": seed_texts["003"]}], encoder=encoder)
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": key, "text": text} for key, text in seed_texts.items()])
    summary = run_batch(path, tmp_path / "out", index=index, detector=detector, progress=False)
    rows = rows_by_id(tmp_path / "out")
    assert summary.articles == 5 and set(rows) == set(seed_texts)
    expected = {key: detector.analyze(text, index=index).verdict for key, text in seed_texts.items()}
    assert {key: row["verdict"] for key, row in rows.items()} == expected


def test_precision_reaches_the_workers_and_the_manifest(tmp_path):
    from detector.batch import DetectorLoader, job_manifest, worker_spec

    options = BatchOptions(precision="bf16")
    spec = worker_spec(None, None, tmp_path / "model", options)
    assert spec.detector_factory == DetectorLoader(str((tmp_path / "model").absolute()), "bf16")
    assert job_manifest(tmp_path / "in.jsonl", None, None, None, options)["options"]["precision"] == "bf16"


def test_fast_precision_is_recorded_as_what_it_meant_so_another_cpu_cannot_resume(tmp_path, monkeypatch, seed_texts):
    import detector.precision

    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": seed_texts["003"]}])
    monkeypatch.setattr(detector.precision, "has_bf16_matrix_units", lambda: True)
    run_batch(path, tmp_path / "out", detector=FakeDetector(), progress=False)
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["options"]["precision"] == "bf16"
    monkeypatch.setattr(detector.precision, "has_bf16_matrix_units", lambda: False)
    with pytest.raises(InputError, match="options.precision 'bf16' → 'int8'"):
        run_batch(path, tmp_path / "out", detector=FakeDetector(), progress=False)


# ------------------------------------------------------------------ issue 39: a job is bound to its inputs
def twelve_articles(tmp_path) -> Path:
    return write_jsonl(tmp_path / "in.jsonl", [{"id": f"a{n}", "text": article(n)} for n in range(12)])


def interrupt(path: Path, out: Path, **options) -> int:
    """A run stopped by Ctrl-C after 7 of 12 articles (by default); returns the rows it committed."""
    options.setdefault("detector", FakeDetector(interrupt_after=7))
    with pytest.raises(KeyboardInterrupt):
        run_batch(path, out, chunk_size=2, progress=False, **options)
    done = len(list(read_batch_output(out)))
    assert 0 < done < 12
    return done


@pytest.fixture
def loaded_models(monkeypatch) -> list:
    """`Detector.load(model folder)` in the batch job answers with a fake detector (the first one from
    this list, else a plain `FakeDetector`), so that the job still records and checks the real folder."""
    from detector.batch import DetectorLoader

    queue: list = []
    monkeypatch.setattr(DetectorLoader, "__call__", lambda self: queue.pop(0) if queue else FakeDetector())
    return queue


@pytest.fixture
def tiny_model(tmp_path, tiny_parts) -> Path:
    """A trained-classifier folder of the tiny random model (threshold 0.5)."""
    tiny_parts["scorer"].save(tmp_path / "model")
    return tmp_path / "model"


@pytest.fixture
def tiny_index(tmp_path, tiny_parts) -> Path:
    pytest.importorskip("faiss")
    from detector.index import SourceIndex

    SourceIndex.build([{"id": "src-1", "text": "The ministers met in Brussels. They agreed a plan."}],
                      encoder=tiny_parts["encoder"]).save(tmp_path / "index")
    return tmp_path / "index"


def resave_model(folder: Path, threshold: float | None = None, head_shift: float = 0.0) -> None:
    """Load the model folder, change its calibrated threshold or its sentence head's weights, save it over."""
    import dataclasses

    import torch

    from detector.classifier import SpinScorer

    scorer = SpinScorer.load(folder)
    if threshold is not None:
        scorer.calibration = dataclasses.replace(scorer.calibration, threshold=threshold)
    with torch.no_grad():
        scorer.model.sentence_head[-1].bias.add_(head_shift)
    scorer.save(folder)


def test_a_resume_after_an_append_to_the_index_is_refused(tmp_path, tiny_index, tiny_parts):
    """Issue 39: interrupt, append a source to the index, rerun: refused, naming the change and --overwrite."""
    from detector.index import SourceIndex

    path, out = twelve_articles(tmp_path), tmp_path / "out"
    interrupt(path, out, index=tiny_index, batch_size=2)
    index = SourceIndex.load(tiny_index, encoder=tiny_parts["encoder"])
    index.add([{"id": "src-2", "text": "A second wire story. It came later."}])
    index.save(tiny_index)
    with pytest.raises(InputError, match=r"index\.documents 1 → 2; index\.fingerprint sha256:[0-9a-f]{12}… → "
                                         r"sha256:[0-9a-f]{12}….*start over with --overwrite") as refused:
        run_batch(path, out, index=tiny_index, detector=FakeDetector(), batch_size=2, progress=False)
    assert "\n" not in str(refused.value)
    summary = run_batch(path, out, index=tiny_index, detector=FakeDetector(), batch_size=2, overwrite=True, progress=False)
    assert summary.resumed == 0 and summary.scored == 12


def test_a_resume_with_the_same_index_and_model_folders_goes_on(tmp_path, tiny_index, tiny_model, loaded_models):
    """Issue 39: nothing changed, so the rerun scores the rest, even after a save of the index was cut
    between its two renames (the fingerprint is taken from the folder as loading recovers it)."""
    path, out = twelve_articles(tmp_path), tmp_path / "out"
    loaded_models.append(FakeDetector(interrupt_after=7))
    done = interrupt(path, out, detector=None, model=tiny_model, index=tiny_index, batch_size=2)
    tiny_index.rename(tiny_index.parent / f".{tiny_index.name}.old-0000dead")  # a save killed between renames
    summary = run_batch(path, out, model=tiny_model, index=tiny_index, batch_size=2, chunk_size=2, progress=False)
    assert summary.resumed == done and summary.scored == 12 - done and summary.articles == 12
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["index"]["path"] == str(tiny_index.absolute()) and manifest["index"]["documents"] == 1
    assert manifest["model"]["path"] == str(tiny_model.absolute()) and manifest["model"]["classifier"] is True
    assert manifest["options"]["batch_size"] == 2 and manifest["manifest_version"] == 5


def test_a_resume_with_another_threshold_or_head_weights_is_refused(tmp_path, tiny_model, loaded_models):
    """Issue 39: a model folder resaved with another calibrated threshold, or other head weights, is
    another model; the folder put back as it was resumes."""
    import shutil

    path, out = twelve_articles(tmp_path), tmp_path / "out"
    shutil.copytree(tiny_model, tmp_path / "model-as-it-was")
    loaded_models.append(FakeDetector(interrupt_after=7))
    interrupt(path, out, detector=None, model=tiny_model, batch_size=2)
    for change in ({"threshold": 0.7}, {"head_shift": 0.25}):
        resave_model(tiny_model, **change)
        changed = r"model\.fingerprint sha256:[0-9a-f]{12}… → sha256:[0-9a-f]{12}….*--overwrite"
        with pytest.raises(InputError, match=changed):
            run_batch(path, out, model=tiny_model, batch_size=2, progress=False)
        shutil.rmtree(tiny_model)
        shutil.copytree(tmp_path / "model-as-it-was", tiny_model)
    summary = run_batch(path, out, model=tiny_model, batch_size=2, progress=False)
    assert summary.articles == 12 and summary.resumed > 0


def test_a_resume_with_another_batch_size_is_refused(tmp_path):
    """Issue 39: at int8 the batch moves verdicts, so --batch-size is part of the job."""
    path, out = twelve_articles(tmp_path), tmp_path / "out"
    done = interrupt(path, out, batch_size=3)
    with pytest.raises(InputError, match=r"\(options\.batch_size 3 → 8\): resuming would mix.*--overwrite"):
        run_batch(path, out, detector=FakeDetector(), batch_size=8, progress=False)
    detector = FakeDetector()
    summary = run_batch(path, out, detector=detector, batch_size=3, progress=False)
    assert summary.resumed == done and sum(detector.calls) == 12 - done and set(detector.calls) <= {3}


def test_a_resume_at_another_precision_is_refused(tmp_path):
    """Issue 39: the precision (resolved: "fast" is recorded as what it meant) is part of the job."""
    path, out = twelve_articles(tmp_path), tmp_path / "out"
    interrupt(path, out, precision="fp32", batch_size=2)
    with pytest.raises(InputError, match=r"\(options\.precision 'fp32' → 'int8'\).*--overwrite"):
        run_batch(path, out, detector=FakeDetector(), precision="int8", batch_size=2, progress=False)
    assert run_batch(path, out, detector=FakeDetector(), precision="fp32", batch_size=2, progress=False).articles == 12


def test_a_loaded_detector_with_another_threshold_is_refused(tmp_path, tiny_parts):
    """Issue 39, Python API: a loaded `Detector` is recorded by its threshold, calibration, head weights
    and decisions, so a rerun with another one is refused although no folder names it."""
    from detector.api import Detector
    from detector.classifier import Calibration, SpinScorer

    scorer = tiny_parts["scorer"]

    def detector(threshold: float) -> Detector:
        changed = SpinScorer(scorer.model, scorer.tokenizer, Calibration(threshold=threshold))
        return Detector(encoder=tiny_parts["encoder"], synonyms=tiny_parts["synonyms"], scorer=changed)

    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "The ministers met. They agreed."}])
    out = tmp_path / "out"
    run_batch(path, out, detector=detector(0.5), progress=False)
    assert run_batch(path, out, detector=detector(0.5), progress=False).resumed == 1
    with pytest.raises(InputError, match=r"model\.threshold 0\.5 → 0\.9; model\.fingerprint sha256:"):
        run_batch(path, out, detector=detector(0.9), progress=False)


def test_model_fingerprint_of_a_folder_without_manifest_follows_its_files(tmp_path, tiny_model):
    """A model folder from before model manifests: each file that changes a score is hashed instead."""
    from detector.batch import model_record

    (tiny_model / "manifest.json").unlink(missing_ok=True)
    before = model_record(model=tiny_model)
    assert {"model.safetensors", "config.json", "calibration.json", "shipped decisions.json"} <= set(before["files"])
    (tiny_model / "README.md").write_text("a model card changes no score")
    assert model_record(model=tiny_model) == before
    calibration = json.loads((tiny_model / "calibration.json").read_text())
    (tiny_model / "calibration.json").write_text(json.dumps({**calibration, "threshold": 0.6}))
    after = model_record(model=tiny_model)
    assert after["fingerprint"] != before["fingerprint"]
    assert [name for name in after["files"] if after["files"][name] != before["files"][name]] == ["calibration.json"]


def test_model_fingerprint_of_a_sealed_folder_is_its_manifest(tmp_path, tiny_model):
    from detector.batch import model_record

    if not (tiny_model / "manifest.json").is_file():
        pytest.skip("SpinScorer.save writes no manifest.json in this checkout")
    record = model_record(model=tiny_model)
    digest = hashlib.sha256((tiny_model / "manifest.json").read_bytes()).hexdigest()
    assert record["files"]["manifest.json"] == f"sha256:{digest}"


def test_a_missing_named_model_folder_is_refused_before_anything_is_written(tmp_path):
    from detector.errors import ModelFormatError

    with pytest.raises(ModelFormatError, match="does not exist"):
        run_batch(twelve_articles(tmp_path), tmp_path / "out", model=tmp_path / "no-such-model", progress=False)
    assert not (tmp_path / "out").exists()


def test_a_loaded_index_is_fingerprinted_by_its_content(tiny_parts):
    pytest.importorskip("faiss")
    from detector.batch import index_record
    from detector.index import SourceIndex

    def built(*texts):
        return SourceIndex.build([{"id": f"s{n}", "text": t} for n, t in enumerate(texts)], encoder=tiny_parts["encoder"])

    one = index_record(built("Ministers met. They agreed."))
    assert one == index_record(built("Ministers met. They agreed.")) and one["path"] is None
    assert index_record(built("Ministers met. They disagreed."))["fingerprint"] != one["fingerprint"]
    assert index_record(built("Ministers met. They agreed.", "More news."))["documents"] == 2


def test_a_worker_refuses_an_index_that_changed_after_the_job_checked_it(tiny_index):
    """Between the job's check and a worker's load (a Ray actor restarting, say) the index may change."""
    from detector.batch import WorkerSpec

    spec = WorkerSpec(FakeDetector, str(tiny_index), BatchOptions(), index_fingerprint="sha256:" + "0" * 64)
    with pytest.raises(InputError, match=r"source index .* changed after this batch job checked it \(sha256:0{12}… → "):
        spec.load_index(None)


def test_an_older_or_unreadable_job_manifest_is_refused_with_what_to_do(tmp_path, articles_jsonl):
    """Issue 39: rows of a version-1 job (index and model by path only) cannot be checked: refused, not resumed."""
    out = tmp_path / "out"
    run_batch(articles_jsonl, out, detector=FakeDetector(), progress=False)
    manifest = json.loads((out / "_manifest.json").read_text())
    (out / "_manifest.json").write_text(json.dumps({**manifest, "manifest_version": 1, "model": "in-memory FakeDetector"}))
    with pytest.raises(InputError, match=r"older spin-detector \(.*batch manifest version 1\).*--overwrite"):
        run_batch(articles_jsonl, out, detector=FakeDetector(), progress=False)
    (out / "_manifest.json").write_text('{"manifest_version": 2, "inpu')
    with pytest.raises(InputError, match=r"_manifest.json' is not readable JSON.*--overwrite"):
        run_batch(articles_jsonl, out, detector=FakeDetector(), progress=False)
    assert run_batch(articles_jsonl, out, detector=FakeDetector(), overwrite=True, progress=False).scored == 40


def test_a_folder_with_no_committed_rows_takes_the_new_manifest(tmp_path, articles_jsonl):
    """Nothing committed, nothing to mix: a run that stopped before its first chunk does not bind the folder."""
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch(articles_jsonl, out, detector=FakeDetector(interrupt_after=0), progress=False)
    assert (out / "_manifest.json").is_file() and not list(out.glob("part-*"))
    assert run_batch(articles_jsonl, out, detector=FakeDetector(), batch_size=4, progress=False).scored == 40


def test_the_command_refuses_a_resume_with_another_batch_size(tmp_path, articles_jsonl):
    """Issue 39 at the command line: exit 1, one line naming the change and --overwrite."""
    from detector.cli import main

    out = tmp_path / "out"
    arguments = ["batch", str(articles_jsonl), "--out", str(out), "--no-progress", "--batch-size"]
    first = CliRunner().invoke(main, [*arguments, "4"], obj={"detector": FakeDetector()})
    assert first.exit_code == 0, first.output
    refused = CliRunner().invoke(main, [*arguments, "8"], obj={"detector": FakeDetector()})
    assert refused.exit_code == 1
    assert re.search(r"Error: .*\(options\.batch_size 4 → 8\).*start over with --overwrite", refused.output)


def test_full_precision_is_a_deprecated_spelling_of_precision_fp32(tmp_path, articles_jsonl):
    """Issue 36: --full-precision shared --precision's variable, one option under two names."""
    from detector.cli import main

    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(articles_jsonl), "--out", str(out), "--no-progress", "--full-precision"],
                                obj={"detector": FakeDetector()})
    assert result.exit_code == 0, result.output
    assert "--full-precision is deprecated: use --precision fp32" in result.output
    assert json.loads((out / "_manifest.json").read_text())["options"]["precision"] == "fp32"


# ------------------------------------------------------------------ issues 37 and 35: manifest versions 4 and 5
def as_version(out: Path, version: int) -> None:
    """Rewrite the folder's manifest as an older spin-detector wrote it: version 3 had no
    `exclude_quotations` (issue 37), version 4 wrote reports of schema 2.0 (issue 35)."""
    manifest = json.loads((out / "_manifest.json").read_text())
    if version == 3:
        del manifest["options"]["exclude_quotations"]
    (out / "_manifest.json").write_text(json.dumps({**manifest, "manifest_version": version}))


def test_a_version_3_job_resumes_with_quotations_left_in(tmp_path):
    path, out = twelve_articles(tmp_path), tmp_path / "out"
    done = interrupt(path, out, batch_size=2)
    as_version(out, 3)
    with pytest.raises(InputError, match=r"options\.exclude_quotations False → True.*--overwrite"):
        run_batch(path, out, detector=FakeDetector(), batch_size=2, exclude_quotations=True, progress=False)
    summary = run_batch(path, out, detector=FakeDetector(), batch_size=2, progress=False)
    assert summary.resumed == done and summary.articles == 12


def test_a_version_4_job_resumes_without_details(tmp_path):
    path, out = twelve_articles(tmp_path), tmp_path / "out"
    done = interrupt(path, out, batch_size=2)
    as_version(out, 4)
    summary = run_batch(path, out, detector=FakeDetector(), batch_size=2, progress=False)
    assert summary.resumed == done and summary.articles == 12


@pytest.mark.parametrize(("version", "why"), [
    (3, "whose reports are JSON strings"),  # nested objects since version 4
    (4, r"whose reports are of schema 2\.0"),  # its Parquet `story` struct lacks `word_similarity` and `words`
])
def test_an_older_job_with_details_is_refused_since_its_reports_differ(tmp_path, version, why):
    path, out = twelve_articles(tmp_path), tmp_path / "out.parquet"
    interrupt(path, out, batch_size=2, details=True)
    as_version(out, version)
    with pytest.raises(InputError, match=rf"--details rows of spin-detector .*version {version}\), {why}.*--overwrite"):
        run_batch(path, out, detector=FakeDetector(), batch_size=2, details=True, progress=False)
    assert run_batch(path, out, detector=FakeDetector(), batch_size=2, details=True, overwrite=True, progress=False).articles == 12
