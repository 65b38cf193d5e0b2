"""`spin-detect` in-process with click's CliRunner and tiny models: output formats, exit codes (issue 2)."""

import json

import pytest
from click.testing import CliRunner

from detector.cli import main
from detector.errors import InputError

SOURCE = (
    "Beijing agreed with Moscow that the NATO alliance should not admit new members. "
    "The demand came after a meeting between Vladimir Putin and Xi Jinping in Beijing. "
    "Western capitals accuse Russia of massing 100,000 troops near the border of Ukraine."
)
COPY = " ".join(reversed([s.strip() + "." for s in SOURCE.split(".") if s.strip()]))


@pytest.fixture(scope="module")
def tiny(tiny_parts):
    from detector.api import Detector

    return {
        "detector": Detector(**tiny_parts),
        "bare": Detector(encoder=tiny_parts["encoder"], synonyms=tiny_parts["synonyms"]),
        "encoder": tiny_parts["encoder"],
    }


@pytest.fixture
def run(tiny):
    def invoke(*args, detector="detector", input=None):
        obj = {"detector": tiny[detector], "encoder": tiny["encoder"]}
        return CliRunner().invoke(main, [str(a) for a in args], obj=obj, input=input)

    return invoke


@pytest.fixture
def files(tmp_path):
    (tmp_path / "wire.txt").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "copy.txt").write_text(COPY, encoding="utf-8")
    return tmp_path


@pytest.fixture
def built(run, files):
    result = run("index", "build", files / "wire.txt", "--out", files / "index", "--no-progress")
    assert result.exit_code == 0, result.output
    return files / "index"


def test_help_explains_every_command_and_option(run):
    top = run("--help")
    assert top.exit_code == 0 and all(name in top.output for name in ("score", "index", "analyze"))
    analyze = run("analyze", "--help").output
    for option in ("--index", "--exclude-self", "--format", "--out", "--model", "own id"):
        assert option in analyze
    build = run("index", "build", "--help").output
    for option in ("--out", "--append", "--id-field", "--text-field"):
        assert option in build


def test_index_build_then_analyze_finds_the_copy(run, files, built):
    result = run("analyze", files / "copy.txt", "--index", built)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["verdict"] == "copy" and report["source_id"] == "wire" and report["article_id"] == "copy"


def test_analyze_excludes_the_article_itself_by_default(run, files, built):
    excluded = json.loads(run("analyze", files / "wire.txt", "--index", built).output)
    kept = json.loads(run("analyze", files / "wire.txt", "--index", built, "--keep-self").output)
    assert excluded["source_id"] is None and excluded["candidates"] == []
    assert kept["source_id"] == "wire" and kept["verdict"] == "copy"


def test_analyze_several_files_in_every_format(run, files, built):
    both = [files / "copy.txt", files / "wire.txt"]
    reports = json.loads(run("analyze", *both, "--index", built).output)
    assert [r["article_id"] for r in reports] == ["copy", "wire"]
    markdown = run("analyze", *both, "--index", built, "--format", "markdown").output
    assert "## copy" in markdown and "## wire" in markdown and "**Verdict: copy**" in markdown
    out = files / "report.html"
    result = run("analyze", *both, "--index", built, "--format", "html", "--out", out)
    assert result.exit_code == 0 and out.read_text().startswith("<!DOCTYPE html>")


def test_index_append_adds_documents(run, files, built):
    (files / "more.txt").write_text("The Bank of England raised rates. Inflation is high.", encoding="utf-8")
    result = run("index", "build", files / "more.txt", "--out", built, "--append", "--no-progress")
    assert result.exit_code == 0 and "2 in all" in result.output


def test_index_build_reads_jsonl_with_named_fields(run, files):
    (files / "docs.jsonl").write_text(json.dumps({"key": "a1", "body": SOURCE}) + "\n", encoding="utf-8")
    result = run("index", "build", files / "docs.jsonl", "--out", files / "j", "--id-field", "key",
                 "--text-field", "body", "--no-progress")
    assert result.exit_code == 0 and "indexed 1 documents" in result.output


def test_index_build_streams_in_chunks_and_refuses_a_late_duplicate(tiny, files):
    from detector.cli.index import build_index
    from detector.index import SourceIndex

    rows = [{"id": f"d{i}", "text": f"Story {i} about the central bank. Rates rose by {i} points."} for i in range(5)]
    (files / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    summary = build_index([files / "docs.jsonl"], files / "s", encoder=tiny["encoder"], chunk_size=2)
    assert summary["documents"] == 5 and SourceIndex.load(files / "s", encoder=tiny["encoder"]).ids == [r["id"] for r in rows]
    (files / "dup.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [*rows[:3], rows[0]]), encoding="utf-8")
    with pytest.raises(InputError, match="d0"):
        build_index([files / "dup.jsonl"], files / "dup-index", encoder=tiny["encoder"], chunk_size=2)
    assert not (files / "dup-index").exists()


def test_score_reads_stdin_and_prints_a_table_or_jsonl(run):
    table = run("score", input="First sentence here.\n\nSecond sentence here.\n")
    assert table.exit_code == 0 and "p(spun)" in table.output and "Second sentence here." in table.output
    lines = run("score", "-", "--format", "jsonl", input="One.\nTwo.\n").output.splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["One.", "Two."]
    assert all(isinstance(json.loads(line)["swapped_words"], list) for line in lines)


def test_score_without_classifier_exits_1_with_one_line(run):
    result = run("score", input="A sentence.\n", detector="bare")
    assert result.exit_code == 1 and "no trained classifier" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty text"),
        ("blank.txt", b"  \n\t \n", "empty text"),
        ("binary.txt", b"\x00\xff\xfe\x81binary", "undecodable bytes"),
        ("article.pdf", b"%PDF-1.4", "unknown document format"),
    ],
)
def test_bad_articles_exit_1_with_a_clear_message(run, files, built, name, content, message):
    (files / name).write_bytes(content)
    result = run("analyze", files / name, "--index", built)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_huge_article_is_refused(run, files, built):
    (files / "huge.txt").write_text("Spun words here. " * 320_000, encoding="utf-8")
    result = run("analyze", files / "huge.txt", "--index", built)
    assert result.exit_code == 1 and "exceeds max_chars" in result.output


def test_truncate_analyzes_a_huge_article_and_says_so(run, files, built):
    """--truncate was ignored: the file reader refused the article before the detector could cut it."""
    (files / "huge.txt").write_text("Spun words here. " * 20_000, encoding="utf-8")
    result = run("analyze", files / "huge.txt", "--index", built, "--truncate", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["truncation"]["article_chars_dropped"] > 0


def test_missing_or_corrupt_index_exits_1(run, files, built):
    missing = run("analyze", files / "copy.txt", "--index", files / "nowhere")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    (built / "manifest.json").write_text("{not json", encoding="utf-8")
    corrupt = run("analyze", files / "copy.txt", "--index", built)
    assert corrupt.exit_code == 1 and "Traceback" not in corrupt.output


def test_missing_file_and_usage_errors(run, files, built):
    assert run("analyze", files / "nope.txt", "--index", built).exit_code == 1
    assert run("analyze", files / "copy.txt", "--format", "pdf").exit_code == 2
    assert run("analyze").exit_code == 2
    assert run("index", "build", files / "wire.txt").exit_code == 2
    assert run("frobnicate").exit_code == 2


@pytest.mark.parametrize("command", ["analyze", "score"])
def test_precision_option_reaches_the_loaded_model(monkeypatch, tiny, files, command):
    from detector.api import Detector

    asked = []

    def load(path=None, **options):
        asked.append(options.get("precision"))
        return tiny["detector"]

    monkeypatch.setattr(Detector, "load", staticmethod(load))
    result = CliRunner().invoke(main, [command, str(files / "copy.txt"), "--precision", "int8"], obj={})
    assert result.exit_code == 0, result.output
    assert asked == ["int8"]


def test_truncate_cuts_an_article_of_any_size(run, files, built):
    """Issue 39: --truncate still refused a 10 MB file (read whole, up to 2,000,000 characters)."""
    (files / "huge.txt").write_text("Spun words here. " * 150_000, encoding="utf-8")  # 2.55 million characters
    result = run("analyze", files / "huge.txt", "--index", built, "--truncate", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert 2_300_000 < report["truncation"]["article_chars_dropped"] < 2_550_000
    assert any("article cut to its first 200,000 characters" in note for note in report["notes"])


def test_a_save_killed_between_its_renames_is_recovered_by_analyze_and_append(run, files, built):
    """Issue 39: `analyze` said "no index folder", and `index build --append` started from empty."""
    built.rename(built.parent / f".{built.name}.old-deadbeef")
    (built.parent / f".{built.name}.tmp-deadbeef").mkdir()  # staging of a save that died with its process
    assert run("analyze", files / "copy.txt", "--index", built).exit_code == 0
    (files / "more.txt").write_text("Shares of Texaco rose on Monday after the deal.", encoding="utf-8")
    built.rename(built.parent / f".{built.name}.old-cafebabe")
    result = run("index", "build", files / "more.txt", "--out", built, "--append", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "2 in all" in result.output
    assert sorted(p.name for p in built.parent.iterdir() if p.name.startswith(".")) == []


def test_append_next_to_a_half_removed_index_is_refused(run, files, built):
    retired = built.parent / f".{built.name}.old-deadbeef"
    built.rename(retired)
    (retired / "manifest.json").unlink()
    (files / "more.txt").write_text("Shares of Texaco rose on Monday after the deal.", encoding="utf-8")
    result = run("index", "build", files / "more.txt", "--out", built, "--append", "--no-progress")
    assert result.exit_code == 1 and "half-removed" in result.output and "Traceback" not in result.output


def test_quantize_is_a_deprecated_spelling_of_precision_int8(monkeypatch, tiny, files):
    """Issue 36: --quantize shared --precision's variable, one option under two names."""
    from detector.api import Detector

    asked = []

    def load(path=None, **options):
        asked.append(options.get("precision"))
        return tiny["detector"]

    monkeypatch.setattr(Detector, "load", staticmethod(load))
    result = CliRunner().invoke(main, ["score", str(files / "copy.txt"), "--quantize"], obj={})
    assert result.exit_code == 0, result.output
    assert asked == ["int8"]
    assert "--quantize is deprecated: use --precision int8" in result.output
    assert "--quantize" not in CliRunner().invoke(main, ["score", "--help"]).output


def test_analyze_progress_goes_to_stderr_and_leaves_the_reports_byte_identical(tiny, files, built):
    """Issue 37: `analyze` over many files showed no progress."""
    arguments = ["analyze", str(files / "copy.txt"), str(files / "wire.txt"), "--index", str(built)]
    runs = {flag: CliRunner().invoke(main, [*arguments, *flag], obj={"detector": tiny["detector"]})
            for flag in ((), ("--progress",), ("--no-progress",))}
    assert all(result.exit_code == 0 for result in runs.values())
    assert len({result.stdout for result in runs.values()}) == 1 and json.loads(runs[()].stdout)[0]["article_id"] == "copy"
    assert "2/2" in runs[("--progress",)].stderr and "article" in runs[("--progress",)].stderr
    assert runs[("--no-progress",)].stderr == ""


def test_analyze_off_a_terminal_logs_a_progress_line_every_30_seconds(tiny, files, built, monkeypatch, caplog):
    """Issue 37: without a terminal the progress is a log line, not a bar."""
    from types import SimpleNamespace

    clock = iter(range(0, 10_000, 31))
    monkeypatch.setattr("detector.progress.time", SimpleNamespace(monotonic=lambda: next(clock)))
    arguments = ["analyze", str(files / "copy.txt"), str(files / "wire.txt"), "--index", str(built)]
    with caplog.at_level("INFO", logger="detector.progress"):
        logged = CliRunner().invoke(main, arguments, obj={"detector": tiny["detector"]})
    quiet = CliRunner().invoke(main, [*arguments, "--no-progress"], obj={"detector": tiny["detector"]})
    assert logged.stdout == quiet.stdout
    assert "2/2 articles" in caplog.text and "articles/s" in caplog.text and "\r" not in caplog.text
