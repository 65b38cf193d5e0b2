"""Acceptance on the five seed articles with the real MiniLM encoder and synonym table (issue 2).

With no trained classifier yet these pass from the source comparison alone (LABELS.md's reading).
"""

import json

import pytest
from click.testing import CliRunner

from detector.cli import main

pytestmark = pytest.mark.shipped

SEED_IDS = {
    "000": "000_8e55c9855134dfb5", "001": "001_24777a2ba7ef8ce0", "002": "002_423d7ab7b168cfb8",
    "003": "003_1942315409801798", "004": "004_efa578a6a8d258fa",
}


@pytest.fixture(scope="module")
def det():
    from detector.api import Detector

    return Detector.load()


@pytest.fixture(scope="module")
def indexes(det, seed_texts):
    from detector.index import SourceIndex

    def build(*keys):
        return SourceIndex.build([{"id": SEED_IDS[k], "text": seed_texts[k]} for k in keys], encoder=det.encoder)

    return {"both": build("003", "004"), "003": build("003"), "004": build("004")}


@pytest.fixture(scope="module")
def reports(det, seed_texts, indexes):
    both = dict(zip(("000", "001", "002"), det.analyze_many([seed_texts[k] for k in ("000", "001", "002")], index=indexes["both"])))
    both["003"] = det.analyze(seed_texts["003"], index=indexes["004"])
    both["004"] = det.analyze(seed_texts["004"], index=indexes["003"])
    return both


def test_moderate_spin_000_is_spun_with_its_swaps(reports):
    report = reports["000"]
    assert report.verdict == "spun"
    assert report.source_id in (SEED_IDS["003"], SEED_IDS["004"])
    swaps = {pair for finding in report.sentences for pair in finding.substitutions}
    assert ("admit", "confess") in swaps and ("members", "participants") in swaps


def test_heavy_spin_002_is_spun_harder_than_000(reports):
    assert reports["002"].verdict == "spun"
    assert reports["002"].spin_score > reports["000"].spin_score


def test_translation_001_is_related_not_spun(reports):
    assert reports["001"].verdict == "related"


@pytest.mark.parametrize("key", ["003", "004"])
def test_clean_sources_against_each_other_are_copy_or_paraphrase(reports, key):
    assert reports[key].verdict in ("copy", "paraphrased")


def test_reports_render(reports):
    markdown = reports["000"].to_markdown()
    assert "admit → confess" in markdown and "**Verdict: spun**" in markdown
    assert '<mark class="sub">confess</mark>' in reports["000"].to_html()


def test_without_trained_classifier_reports_say_so(det, reports):
    if det.scorer is None:
        assert any("no trained classifier" in note for note in reports["000"].notes)


def test_make_seeds_commands(det, shared_dir, tmp_path):
    """The two commands of `make seeds`: 003 is excluded from its own candidates."""
    seeds = shared_dir / "seeds"
    runner = CliRunner()
    obj = {"detector": det, "encoder": det.encoder}
    built = runner.invoke(main, obj=obj, args=["index", "build", str(seeds / "003_1942315409801798.txt"),
                                 str(seeds / "004_efa578a6a8d258fa.txt"), "--out", str(tmp_path / "idx"), "--no-progress"])
    assert built.exit_code == 0, built.output
    files = sorted(str(p) for p in seeds.glob("0*.txt"))
    result = runner.invoke(main, ["analyze", *files, "--index", str(tmp_path / "idx"), "--format", "json"], obj=obj)
    assert result.exit_code == 0, result.output
    verdicts = {r["article_id"][:3]: r for r in json.loads(result.output)}
    assert verdicts["000"]["verdict"] == "spun" and verdicts["002"]["verdict"] == "spun"
    assert verdicts["003"]["source_id"] == SEED_IDS["004"] and verdicts["004"]["source_id"] == SEED_IDS["003"]
    assert verdicts["003"]["verdict"] in ("copy", "paraphrased")


@pytest.mark.parametrize("text", ["", "   \n  ", "\x00\x01\x02 \ufffd\ufffd", "A" * 300])
def test_odd_text_never_raises(det, indexes, text):
    report = det.analyze(text, index=indexes["both"])
    assert report.verdict in ("original", "related")


def test_five_megabyte_article_is_refused_cleanly(det, indexes, seed_texts):
    from detector.errors import InputError

    with pytest.raises(InputError, match="over the limit"):
        det.analyze(seed_texts["000"] * 1000, index=indexes["both"])
