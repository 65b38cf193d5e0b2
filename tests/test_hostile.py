"""Hostile text (issue 6): whatever arrives, no exception escapes and every field keeps its type and range.

Property tests (hypothesis) draw arbitrary Unicode mixed with the tricks spam uses: control
characters, right-to-left and mixed scripts, zero-width characters, homoglyphs, emoji, HTML markup,
very long "words". They run the text stage, `score_sentences`, `compare` and `analyze` on tiny random
models; a few fixed cases cover the size limits and evasion.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.api import Detector
from detector.errors import InputError
from detector.report import VERDICTS
from detector.text import normalise, normalise_with_findings, split_sentences, tokenize

RELATIONS = {"copy", "spun", "paraphrase", "unrelated"}
FINDING_RELATIONS = RELATIONS | {"unmatched"}
WIRE = (
    "Russia won China's backing in its standoff with the West over Ukraine on Friday. "
    "Beijing agreed with Moscow that the NATO alliance should not admit new members. "
    "The demand came after a meeting between Vladimir Putin and Xi Jinping in Beijing."
)
SPUN = "Beijing agreed with Moscow that the NATO alliance should not confess new participants."
SOURCE = "Beijing agreed with Moscow that the NATO alliance should not admit new members."

FRAGMENTS = [
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad", "\u2060", "\U000e0041",  # zero-width, soft hyphen, tag
    "\u202e", "\u202d", "\u200f", "\u2067",  # bidi overrides and marks
    "\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\r\n", "\t", "\x0c",  # control characters
    "Mоscоw", "Ρutin", "НАТО", "ΝΑΤΟ",  # Cyrillic/Greek look-alikes
    "مرحبا بالعالم", "שלום", "Привет", "你好世界", "こんにちは", "안녕하세요", "नमस्ते",  # other scripts
    "😀", "👍🏽", "👨‍👩‍👧", "🏳️‍🌈", "❤️", "1️⃣",  # emoji, ZWJ sequences, variation selectors
    "<script>alert(1)</script>", "\" onmouseover=\"x", "<b>bold</b>", "&amp;", "<!--", "]]>",  # markup
    "U.S.", "Mr.", "...", "?!", "\"", "'", "(", "—", "–", "…",  # punctuation that segmentation reads
    "ﬁnance", "Ｆｕｌｌｗｉｄｔｈ", "𝐁𝐨𝐥𝐝", "e\u0301", "\ud7ff", "\U0010fffd",  # compatibility forms, edges
    "x" * 3000,  # a very long word
    " ", "\n", "\n\n", ". ",
    "NATO should not admit new members.", "Russia won China's backing.",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=12
).map("".join)
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def det(tiny_parts):
    return Detector(**tiny_parts)


@pytest.fixture(scope="module")
def index(tiny_parts):
    from detector.index import SourceIndex

    return SourceIndex.build([{"id": "wire", "text": WIRE}], encoder=tiny_parts["encoder"])


def assert_probability(value):
    assert isinstance(value, float) and 0.0 <= value <= 1.0, value


def assert_sound_report(report):
    assert report.verdict in VERDICTS
    assert_probability(report.spin_score)
    assert_probability(report.coverage)
    assert_probability(report.source_similarity)
    assert report.source_id is None or isinstance(report.source_id, str)
    assert all(isinstance(doc_id, str) and 0.0 <= score <= 1.0 for doc_id, score in report.candidates)
    assert report.language is None or isinstance(report.language, str)
    assert all(isinstance(v, int) and v >= 0 for v in (*report.evasion.values(), *report.truncation.values()))
    for finding in report.sentences:
        assert isinstance(finding.text, str) and finding.text.strip()
        assert finding.relation in FINDING_RELATIONS
        assert finding.spun_probability is None or 0.0 <= finding.spun_probability <= 1.0
        assert all(isinstance(w, str) and 0.0 <= p <= 1.0 for w, p in finding.word_scores)
        assert all(isinstance(a, str) and isinstance(b, str) for a, b in finding.substitutions)
    json.loads(report.to_json())
    assert report.to_html().startswith("<!DOCTYPE html>") and isinstance(report.to_markdown(), str)


# --- the text stage ---------------------------------------------------------------------------------


@FAST
@given(hostile_text)
def test_normalise_is_idempotent_and_drops_hidden_characters(text):
    once, findings = normalise_with_findings(text)
    assert normalise(once) == once
    assert findings.total >= 0
    assert not any(c in once for c in "\u200b\u200d\ufeff\u00ad\x00\x07\x1b\r")


@FAST
@given(hostile_text)
def test_segments_are_nonempty_and_point_into_the_normalised_text(text):
    normalised = normalise(text)
    for segment in split_sentences(text):
        assert segment.text.strip() and normalised[segment.start : segment.end] == segment.text


@FAST
@given(hostile_text)
def test_tokens_point_into_the_sentence(text):
    for token in tokenize(text):
        assert token.text and text[token.start : token.end] == token.text


def test_a_100000_character_word_is_one_token_and_one_segment():
    word = "a" * 100_000
    assert [t.text for t in tokenize(word)] == [word]
    assert [s.text for s in split_sentences(word)] == [word]


# --- the detector -----------------------------------------------------------------------------------


@FAST
@given(hostile_text)
def test_analyze_survives_anything_against_an_index(det, index, text):
    assert_sound_report(det.analyze(text, index=index))


@FAST
@given(hostile_text)
def test_analyze_survives_anything_without_an_index(det, text):
    assert_sound_report(det.analyze(text))


@FAST
@given(hostile_text, hostile_text)
def test_compare_survives_anything(det, source, suspect):
    pair = det.compare(source, suspect)
    assert pair.relation in RELATIONS
    assert_probability(pair.similarity)
    assert all(isinstance(a, str) and isinstance(b, str) for a, b in pair.substitutions)


@FAST
@given(st.lists(hostile_text, max_size=4))
def test_score_sentences_survives_anything(det, sentences):
    scores = det.score_sentences(sentences)
    assert [s.text for s in scores] == sentences
    for score in scores:
        assert_probability(score.spun_probability)
        assert score.is_spun == (score.spun_probability >= det.scorer.threshold)
        assert all(0.0 <= p <= 1.0 for _, p in score.word_scores)


@pytest.mark.parametrize("text", ["", " ", "\n\t\r\n", "\u200b\ufeff\u2060", "\x00\x01\x7f"])
def test_empty_and_invisible_input_gives_an_empty_report(det, index, text):
    report = det.analyze(text, index=index)
    assert_sound_report(report)
    assert report.verdict == "original" and report.spin_score == 0.0


def test_a_100000_character_word_is_cut_and_flagged(det, index):
    text = f"{WIRE} {'x' * 100_000}. {SPUN}"
    report = det.analyze(text, index=index)
    assert_sound_report(report)
    assert report.truncation == {"sentences_shortened": 1}
    assert max(len(s.text) for s in report.sentences) <= det.max_sentence_chars
    assert any("cut to that length" in note for note in report.notes)
    pair = det.compare("y" * 100_000, "y" * 100_000)
    assert pair.relation in RELATIONS
    assert len(det.score_sentences(["z" * 100_000])[0].word_scores) == 1


def test_one_huge_unpunctuated_sentence_is_cut_before_alignment(det, index):
    text = (SOURCE[:-1] + " ") * 2_000  # 160,000 characters, no sentence end
    report = det.analyze(text, index=index)
    assert_sound_report(report)
    assert len(report.sentences) == 1 and len(report.sentences[0].text) <= det.max_sentence_chars


def test_a_10_mb_article_is_refused_by_default_with_the_way_out(det):
    with pytest.raises(InputError, match=r"over the limit of 200,000.*on_oversize='truncate'"):
        det.analyze("word " * 2_100_000)


def test_a_10_mb_article_is_truncated_and_flagged_on_request(tiny_parts, index):
    truncating = Detector(**tiny_parts, max_chars=5_000, on_oversize="truncate")
    article = (WIRE + "\n") * 40_000  # about 10 MB
    report = truncating.analyze(article, index=index)
    assert_sound_report(report)
    assert 0 < report.truncation["article_chars_dropped"] <= len(article) - 4_500
    assert sum(len(s.text) for s in report.sentences) <= 5_000
    assert report.source_id == "wire" and any("article cut to its first 5,000 characters" in n for n in report.notes)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"on_oversize": "explode"}, "on_oversize='explode' is unknown: use one of reject, truncate"),
        ({"max_chars": 0}, "max_chars=0 must be a positive"),
        ({"max_sentence_chars": -5}, "max_sentence_chars=-5 must be a positive"),
    ],
)
def test_bad_limits_are_refused_with_the_options(tiny_parts, options, message):
    with pytest.raises(InputError, match=message):
        Detector(**tiny_parts, **options)


# --- evasion ----------------------------------------------------------------------------------------


def test_zero_width_and_homoglyphs_do_not_change_the_relation_and_are_reported(det, index):
    hidden = "Beij\u200bing agreed with Mоscow that the NATO alli\u200dance should not con\u2060fess new partiсipants."
    assert hidden != SPUN and normalise(hidden) == SPUN
    plain, tricked = det.compare(SOURCE, SPUN), det.compare(SOURCE, hidden)
    assert (tricked.relation, tricked.substitutions) == (plain.relation, plain.substitutions) == (
        "spun", [("admit", "confess"), ("members", "participants")]
    )
    article = WIRE.replace(SOURCE, SPUN)
    clean, evasive = det.analyze(article, index=index), det.analyze(article.replace(SPUN, hidden), index=index)
    assert [s.relation for s in evasive.sentences] == [s.relation for s in clean.sentences]
    assert [s.text for s in evasive.sentences] == [s.text for s in clean.sentences]
    assert evasive.verdict == clean.verdict
    assert evasive.evasion_found and not clean.evasion_found
    assert evasive.evasion["zero_width"] == 3 and evasive.evasion["homoglyphs"] == 2
    assert any(note.startswith("evasion: hidden characters") for note in evasive.notes)
    assert "evasion: hidden characters" in evasive.to_markdown() and "zero-width 3" in evasive.to_html()


def test_emoji_are_not_mistaken_for_evasion(det):
    report = det.analyze("The crowd cheered ❤️ 👍🏽 as the team won the final on Sunday.")
    assert not report.evasion_found and "❤️" in report.sentences[0].text


# --- determinism and threads ------------------------------------------------------------------------


def test_same_input_same_output_across_runs_and_threads(det, index):
    texts = [WIRE, WIRE.replace(SOURCE, SPUN), "Mоscow\u200b said nothing.", ""]
    sequential = [det.analyze(t, index=index).to_dict() for t in texts]
    assert [det.analyze(t, index=index).to_dict() for t in texts] == sequential
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda t: det.analyze(t, index=index).to_dict(), texts * 3))
    assert threaded == sequential * 3
