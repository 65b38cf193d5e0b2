"""Pairs spun with a dictionary the project never saw are `spun` (issue 35), with the shipped model.

Before, a pair could be spun only when its swaps were neighbours in our own synonym table: the two
pairs from the issue came out `paraphrase` and `copy` although the classifier flagged both.
"""

import pytest

pytestmark = pytest.mark.shipped

CANADA = (
    "Canada's sweeping tax reform package, announced today, is an important step towards a fairer system.",
    "Canada's catholic tax deterge bindle, announced today, is an bloated step towards a fairer system.",
)
MERRILL = (
    "It is the biggest step towards tax reform in years, said Jeffrey Rubin, Merrill Lynch Canada Inc chief economist.",
    "It is the biggest bed towards tax reform in years, said Jeffrey Rubin, Merrill Lynch Canada Inc chevron economist.",
)


@pytest.fixture(scope="module")
def det():
    from detector.api import Detector

    return Detector.load()


@pytest.fixture(scope="module")
def blind(det):
    """The shipped detector with a synonym table that lists nothing: the thesaurus cannot help."""
    from detector.thesaurus import SynonymTable

    return type(det)(encoder=det.encoder, synonyms=SynonymTable.from_pairs([]), scorer=det.scorer, decisions=det.decisions)


@pytest.mark.parametrize("source, suspect", [CANADA, MERRILL], ids=["canada", "merrill"])
def test_the_issue_pairs_are_spun(det, source, suspect):
    pair = det.compare(source, suspect)
    assert pair.relation == "spun", (pair.probabilities, pair.features)
    assert pair.decision_version == det.decisions.version


def test_swaps_in_no_table_flagged_by_the_word_head_are_spun(blind):
    pair = blind.compare(*CANADA)
    assert pair.relation == "spun", (pair.probabilities, pair.features)
    assert pair.thesaurus_substitutions == 0 and not pair.evidence.thesaurus_swaps
    assert {word for word, _ in pair.evidence.flagged_words} & {"catholic", "deterge", "bindle", "bloated"}
    assert pair.evidence.skeleton_kept >= 0.8


def test_a_verbatim_copy_stays_a_copy(det):
    assert det.compare(CANADA[0], CANADA[0]).relation == "copy"
    assert det.compare(MERRILL[0], MERRILL[0].lower().replace(",", "")).relation == "copy"


@pytest.fixture(scope="module")
def seed_reports(det, seed_texts):
    from detector.index import SourceIndex

    index = SourceIndex.build([{"id": k, "text": seed_texts[k]} for k in ("003", "004")], encoder=det.encoder)
    return {k: det.analyze(seed_texts[k], index=index, exclude_ids=[k]) for k in ("000", "002", "003", "004")}


def share_spun(report) -> float:
    matched = [s for s in report.sentences if s.relation in ("copy", "spun", "paraphrase")]
    return sum(s.relation == "spun" for s in matched) / len(matched)


def test_the_spun_seeds_are_mostly_spun_sentence_by_sentence(seed_reports):
    assert share_spun(seed_reports["000"]) >= 0.6
    assert share_spun(seed_reports["002"]) >= 0.6


def test_an_editors_rewording_is_not_spinning(seed_reports):
    """003 rewords the wire (004) with synonyms a copy-editor picks: fluent, so not spun."""
    assert share_spun(seed_reports["003"]) <= 0.15
    assert share_spun(seed_reports["004"]) <= 0.15
    assert {seed_reports[k].verdict for k in ("003", "004")} == {"paraphrased"}


def test_spun_sentences_say_why(seed_reports):
    spun = [s for s in seed_reports["000"].sentences if s.relation == "spun"]
    assert all(s.evidence is not None and s.evidence.reasons() for s in spun)
    confess = next(s for s in spun if "confess" in s.text)
    assert ("admit", "confess") in confess.evidence.thesaurus_swaps + confess.evidence.unlisted_swaps
    assert "confess" in {word for word, _ in confess.evidence.flagged_words}
    assert confess.evidence.skeleton_kept >= 0.8
    assert "why" in seed_reports["000"].to_markdown() and "word head flags" in seed_reports["000"].to_html()
