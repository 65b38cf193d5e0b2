"""Issue 37: JSON Schemas of the article report and the batch row, `schema_version`, `spin-detect schema`.

Reports come from the real `Detector` on the tiny random model (with and without a classifier and an
index, empty, cut to size, in a language it does not read); batch rows from `run_batch` with a fake
detector that returns real `ArticleReport`s, and with the tiny detector, with and without --details.
"""

from __future__ import annotations

import dataclasses
import doctest
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import detector.cli.schema
import detector.schema
from detector.api import Detector
from detector.batch import RESULT_COLUMNS, parquet_schema, read_batch_output, row_from_parquet, run_batch
from detector.batch.files import chunk_bytes
from detector.cli.analyze import analyze
from detector.cli.schema import schema
from detector.errors import InputError
from detector.relation import SpinEvidence
from detector.report import ArticleReport, SentenceFinding, SourceContribution
from detector.schema import (
    SCHEMA_NAMES,
    SCHEMA_VERSION,
    batch_row_schema,
    load_schema,
    report_schema,
    validate_batch_row,
    validate_report,
)


@pytest.fixture(scope="module")
def det(tiny_parts):
    return Detector(**tiny_parts)


@pytest.fixture(scope="module")
def bare(tiny_parts):
    return Detector(encoder=tiny_parts["encoder"], synonyms=tiny_parts["synonyms"])


@pytest.fixture(scope="module")
def sources(seed_texts):
    return [{"id": f"src-{key}", "text": seed_texts[key]} for key in ("003", "004")]


@pytest.fixture(scope="module")
def index(tiny_parts, sources):
    from detector.index import SourceIndex

    return SourceIndex.build(sources, encoder=tiny_parts["encoder"])


@pytest.fixture(scope="module")
def index_dir(index, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "index"
    index.save(path)
    return path


def full_report() -> ArticleReport:
    """A report with every optional part filled: evidence, sources, story, truncation, evasion, an excluded quotation."""
    evidence = SpinEvidence(flagged_words=[("confess", 0.9)], thesaurus_swaps=[("admit", "confess")],
                            unlisted_swaps=[("members", "participants")], fillers=[("and", "as well as")],
                            skeleton_kept=0.8, content_swapped=0.5, sentence_probability=0.7, relation_probability=0.9)
    spun = SentenceFinding(text="NATO should not confess new participants.", spun_probability=0.7, relation="spun",
                           source_sentence="NATO should not admit new members.",
                           substitutions=[("admit", "confess"), ("members", "participants")],
                           word_scores=[("NATO", 0.1), ("confess", 0.9)], similarity=0.8, thesaurus_substitutions=1,
                           spin_strength=0.5, source_id="src-1", evidence=evidence, source_position=0)
    boilerplate = SentenceFinding(text="ALSO READ: more", spun_probability=None, relation="unmatched", is_boilerplate=True)
    quotation = SentenceFinding(text='"We will not back down."', spun_probability=0.2, relation="unmatched", is_quotation=True)
    return ArticleReport(
        verdict="spun", spin_score=0.6, source_id="src-1", source_similarity=0.8, coverage=1.0,
        candidates=[("src-1", 0.8), ("src-2", 0.3)], sentences=[spun, boilerplate, quotation], source_given=True,
        classifier_used=True, notes=["a note"], evasion={"zero_width": 1, "homoglyphs": 0, "control_characters": 0},
        relation_counts={"boilerplate": 1, "quotation": 1, "spun": 1}, article_id="a1", language="en",
        truncation={"article_chars_dropped": 10, "sentences_shortened": 1},
        sources=[SourceContribution("src-1", 1.0, {"spun": 1}, 0.8)],
        story={"source_id": "src-2", "names": ["Putin"], "numbers": ["100,000"], "quotations": 1, "topic_similarity": 0.7,
               "word_similarity": 0.41, "words": ["troops", "sanctions"]},
        decision_version="decisions-1",
    )


def as_json(report: ArticleReport) -> dict:
    return json.loads(report.to_json())


# --- the schemas themselves --------------------------------------------------------------------

@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_each_schema_is_valid_draft_2020_12_with_an_id_and_the_version_required(name):
    from jsonschema import Draft202012Validator

    loaded = load_schema(name)
    Draft202012Validator.check_schema(loaded)
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert loaded["$id"] == f"urn:spin-detector:schema:{name}:{SCHEMA_VERSION}"
    assert loaded["properties"]["schema_version"] == {**loaded["properties"]["schema_version"], "const": SCHEMA_VERSION}
    assert "schema_version" in loaded["required"]


@pytest.mark.parametrize(("definition", "dataclass"), [
    (None, ArticleReport), ("sentenceFinding", SentenceFinding), ("spinEvidence", SpinEvidence),
    ("sourceContribution", SourceContribution),
])
def test_the_report_schema_lists_every_dataclass_field_and_requires_them(definition, dataclass):
    part = report_schema() if definition is None else report_schema()["$defs"][definition]
    fields = [f.name for f in dataclasses.fields(dataclass)] + (["schema_version"] if definition is None else [])
    assert list(part["properties"]) == fields and part["required"] == fields
    assert part["additionalProperties"] is False


def test_the_batch_row_schema_lists_the_result_columns_the_report_and_the_version():
    loaded = batch_row_schema()
    assert list(loaded["properties"]) == [*RESULT_COLUMNS, "report", "schema_version"]
    assert loaded["required"] == [*RESULT_COLUMNS, "schema_version"]
    assert loaded["properties"]["report"]["$ref"] == report_schema()["$id"]


def test_load_schema_returns_a_fresh_copy_each_time():
    report_schema()["title"] = "changed"
    assert report_schema()["title"] == "spin-detector article report"


def test_an_unknown_schema_name_lists_the_known_ones():
    with pytest.raises(InputError, match="no schema called 'row': choose one of report, batch-row"):
        load_schema("row")


# --- reports -----------------------------------------------------------------------------------

def test_analyze_json_of_every_seed_validates_without_and_with_an_index(det, seed_texts, shared_dir, index_dir):
    files = sorted(str(p) for p in (shared_dir / "seeds").glob("0*.txt"))
    for extra in ([], ["--index", str(index_dir)]):
        result = CliRunner().invoke(analyze, [*files, *extra], obj={"detector": det})
        assert result.exit_code == 0, result.output
        reports = json.loads(result.output)
        assert len(reports) == len(seed_texts)
        for report in reports:
            validate_report(report)
    assert any(report["sources"] for report in reports), "no report with an index has a contributing source"


def test_a_report_from_a_detector_without_a_classifier_validates(bare, seed_texts, index):
    for report in (bare.analyze(seed_texts["000"]), bare.analyze(seed_texts["000"], index=index)):
        assert report.sentences and all(s.spun_probability is None for s in report.sentences)
        validate_report(as_json(report))


@pytest.mark.parametrize("text", ["", "   \n", "\u200b"])
def test_a_report_of_an_empty_text_validates(det, index, text):
    report = det.analyze(text, index=index)
    assert report.sentences == []
    validate_report(as_json(report))


def test_a_truncated_article_validates(tiny_parts, seed_texts):
    small = Detector(**tiny_parts, max_chars=2000, max_sentence_chars=60, on_oversize="truncate")
    report = small.analyze(seed_texts["000"])
    assert set(report.truncation) == {"article_chars_dropped", "sentences_shortened"}
    validate_report(as_json(report))


def test_a_report_of_a_language_the_detector_does_not_read_validates(det):
    report = det.analyze("Россия заручилась поддержкой Китая. Пекин согласился с Москвой. Встреча прошла в пятницу.")
    assert not report.language_supported
    validate_report(as_json(report))


def test_a_report_with_every_part_filled_validates_as_json_and_as_to_dict_with_its_tuples():
    report = full_report()
    validate_report(as_json(report))
    validate_report(report.to_dict())  # evidence pairs stay tuples in to_dict()


@pytest.mark.parametrize(("path", "value", "where"), [
    (("verdict",), "maybe", r"\$\.verdict: 'maybe' is not one of"),
    (("sentences", 0, "relation"), "bogus", r"\$\.sentences\[0\]\.relation"),
    (("sentences", 0, "spun_probability"), 1.5, r"\$\.sentences\[0\]\.spun_probability"),
    (("sentences", 0, "evidence", "thesaurus_swaps", 0), ["admit"], r"\$\.sentences\[0\]\.evidence\.thesaurus_swaps\[0\]"),
    (("candidates", 1), ["src-2"], r"\$\.candidates\[1\]"),
    (("sources", 0, "relation_counts", "guessed"), 1, r"\$\.sources\[0\]\.relation_counts"),
    (("story", "names"), None, r"\$\.story\.names: None is not of type 'array'"),
    (("schema_version",), "1.0", r"\$\.schema_version: '2\.1' was expected"),
])
def test_a_broken_report_fails_with_the_json_path_of_the_problem(path, value, where):
    data = as_json(full_report())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InputError, match=r"report does not match schema 2\.1 at " + where):
        validate_report(data)


def test_a_report_without_its_version_or_with_an_unknown_key_fails_at_the_root():
    data = as_json(full_report())
    with pytest.raises(InputError, match=r"at \$: Additional properties are not allowed \('extra' was unexpected\)"):
        validate_report({**data, "extra": 1})
    del data["schema_version"]
    with pytest.raises(InputError, match=r"at \$: 'schema_version' is a required property"):
        validate_report(data)


def test_a_long_problem_is_cut_to_one_readable_line():
    data = as_json(full_report())
    data["sentences"][0] = ["not an object", "x" * 1000]
    with pytest.raises(InputError, match=r"at \$\.sentences\[0\]: .{1,300} \(`spin-detect schema report`") as caught:
        validate_report(data)
    assert "\n" not in str(caught.value)


# --- batch rows --------------------------------------------------------------------------------

class ReportingDetector:
    """A fake detector that returns real `ArticleReport`s, verdict read off the text ("confess": spun)."""

    def analyze_many(self, texts, index=None, batch_size=None, exclude_ids=(), exclude_quotations=False):
        for text in texts:
            report = full_report() if "confess" in text else ArticleReport(verdict="original", spin_score=0.1)
            report.sentences.append(SentenceFinding(text=text, spun_probability=None, relation="unmatched"))
            yield report


def jsonl_rows(folder: Path) -> list[dict]:
    return [json.loads(line) for part in sorted(folder.glob("part-*.jsonl")) for line in part.read_text().splitlines()]


def parquet_rows(folder: Path) -> list[dict]:
    """The rows as pyarrow reads them (nested columns), in their JSON form."""
    return [row_from_parquet(row) for row in pq.read_table(folder).to_pylist()]


def write_articles(path: Path, texts: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps({"id": key, "text": text}) + "\n" for key, text in texts.items()), encoding="utf-8")
    return path


ARTICLES = {"a": "They should not confess it.", "b": "Plain news."}


@pytest.mark.parametrize("details", [False, True])
@pytest.mark.parametrize(("output", "read"), [("out.jsonl", jsonl_rows), ("out.parquet", parquet_rows)])
def test_batch_rows_validate_in_json_lines_and_parquet_with_and_without_details(tmp_path, details, output, read):
    articles = write_articles(tmp_path / "in.jsonl", ARTICLES)
    run_batch(articles, tmp_path / output, detector=ReportingDetector(), details=details, progress=False)
    rows = read(tmp_path / output)
    assert [row["id"] for row in rows] == ["a", "b"] and ("report" in rows[0]) is details
    for row in rows:
        validate_batch_row(row)


def test_the_report_is_a_nested_object_in_json_lines_and_the_same_object_read_back_from_parquet(tmp_path):
    articles = write_articles(tmp_path / "in.jsonl", ARTICLES)
    for output in ("out.jsonl", "out.parquet"):
        run_batch(articles, tmp_path / output, detector=ReportingDetector(), details=True, progress=False)
    from_jsonl, from_parquet = jsonl_rows(tmp_path / "out.jsonl"), parquet_rows(tmp_path / "out.parquet")
    expected = {**as_json(full_report()), "article_id": "a"}
    expected["sentences"].append(as_json(ArticleReport("original", 0.0, sentences=[
        SentenceFinding(text=ARTICLES["a"], spun_probability=None, relation="unmatched")]))["sentences"][0])
    assert from_jsonl[0]["report"] == expected
    assert from_parquet == from_jsonl == list(read_batch_output(tmp_path / "out.parquet"))


def test_parquet_details_are_nested_columns_of_pairs_maps_and_structs(tmp_path):
    articles = write_articles(tmp_path / "in.jsonl", ARTICLES)
    run_batch(articles, tmp_path / "out.parquet", detector=ReportingDetector(), details=True, progress=False)
    report = pq.read_schema(next((tmp_path / "out.parquet").glob("part-*"))).field("report").type
    pair = pa.struct([("text", pa.string()), ("score", pa.float64())])
    sentence = report.field("sentences").type.value_type
    assert report.field("candidates").type == pa.list_(pair) and sentence.field("word_scores").type == pa.list_(pair)
    assert sentence.field("evidence").type.field("flagged_words").type == pa.list_(pair)
    assert sentence.field("substitutions").type == pa.list_(pa.list_(pa.string()))
    assert report.field("relation_counts").type == pa.map_(pa.string(), pa.int64()) == report.field("evasion").type
    assert report.field("story").type.field("names").type == pa.list_(pa.string())
    assert report.field("truncation").type == pa.struct([("article_chars_dropped", pa.int64()), ("sentences_shortened", pa.int64())])
    raw = pq.read_table(tmp_path / "out.parquet").to_pylist()[0]["report"]
    assert raw["candidates"][0] == {"text": "src-1", "score": 0.8} and raw["sentences"][0]["spin_strength"] == 0.5


def test_every_parquet_chunk_has_the_same_columns_whatever_its_reports_hold_and_after_a_resume(tmp_path):
    """Full and empty reports, a chunk per row, a resumed run: one schema, `parquet_schema(details=True)`."""
    articles = write_articles(tmp_path / "in.jsonl", {"a": "Plain news.", "b": "They should not confess it."})
    out = tmp_path / "out.parquet"
    run_batch(articles, out, detector=ReportingDetector(), details=True, chunk_size=1, progress=False)
    write_articles(articles, {"a": "Plain news.", "b": "They should not confess it.", "c": "More plain news."})
    assert run_batch(articles, out, detector=ReportingDetector(), details=True, chunk_size=1, progress=False).resumed == 2
    schemas = [pq.read_schema(part).remove_metadata() for part in sorted(out.glob("part-*"))]
    assert len(schemas) == 3 and all(found == parquet_schema(details=True) for found in schemas)
    empty = pq.read_table(pa.BufferReader(chunk_bytes([], "parquet", details=True)))
    assert empty.num_rows == 0 and empty.schema.remove_metadata() == parquet_schema(details=True)


@pytest.mark.parametrize("output", ["out.jsonl", "out.parquet"])
def test_batch_rows_of_the_tiny_detector_with_details_validate(tmp_path, det, index, seed_texts, output):
    articles = write_articles(tmp_path / "in.jsonl", seed_texts)
    run_batch(articles, tmp_path / output, index=index, detector=det, details=True, progress=False)
    rows = jsonl_rows(tmp_path / output) if output.endswith("jsonl") else parquet_rows(tmp_path / output)
    assert len(rows) == len(seed_texts)
    for row in rows:
        validate_batch_row(row)
        assert isinstance(row["report"], dict) and row["report"]["article_id"] == row["id"]


def batch_row(**changes) -> dict:
    row = {"id": "a", "verdict": "spun", "spin_score": 0.6, "source_id": "src-1", "source_similarity": 0.8,
           "coverage": 1.0, "sentences": 1, "spun_sentences": 1, "copied_sentences": 0, "paraphrased_sentences": 0,
           "report": as_json(full_report()), "schema_version": SCHEMA_VERSION}
    return {**row, **changes}


@pytest.mark.parametrize(("changes", "where"), [
    ({"sentences": -1}, r"batch row does not match schema 2\.1 at \$\.sentences"),
    ({"source_id": 3}, r"at \$\.source_id: 3 is not of type 'string', 'null'"),
    ({"schema_version": "0.9"}, r"at \$\.schema_version"),
    ({"report": {**as_json(full_report()), "verdict": "maybe"}},
     r"batch row does not match schema 2\.1 at \$\.report\.verdict"),
    ({"report": {**as_json(full_report()), "candidates": [{"text": "src-1", "score": 0.8}]}},
     r"at \$\.report\.candidates\[0\]: .* is not of type 'array'"),
    ({"report": '{"verdict": "spun"}'}, r"at \$\.report: '\{\"verdict\": \"spun\"\}' is not of type 'object'"),
])
def test_a_broken_batch_row_fails_with_the_json_path_of_the_problem(changes, where):
    validate_batch_row(batch_row())
    with pytest.raises(InputError, match=where):
        validate_batch_row(batch_row(**changes))


# --- the command and the docs ------------------------------------------------------------------

@pytest.mark.parametrize(("arguments", "name"), [([], "report"), (["report"], "report"), (["batch-row"], "batch-row")])
def test_the_schema_command_prints_the_schema(arguments, name):
    result = CliRunner().invoke(schema, arguments)
    assert result.exit_code == 0 and json.loads(result.output) == load_schema(name)


def test_the_schema_command_refuses_an_unknown_name_and_lists_the_known_ones():
    result = CliRunner().invoke(schema, ["row"])
    assert result.exit_code == 2 and "'report', 'batch-row'" in result.output


@pytest.mark.parametrize("module", [detector.schema, detector.cli.schema])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0
