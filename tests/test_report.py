"""Article reports: verdict rules, spin score, and JSON / Markdown / HTML rendering (issue 2)."""

import dataclasses
import json

import pytest

from detector.relation import SpinEvidence
from detector.report import (
    ArticleReport,
    SentenceFinding,
    SourceContribution,
    count_relations,
    decide_verdict,
    render_html,
    spin_score,
)
from detector.schema import validate_report

SPUN = SentenceFinding(
    text="The alliance should not confess new participants.",
    spun_probability=0.9,
    relation="spun",
    source_sentence="The alliance should not admit new members.",
    substitutions=[("admit", "confess"), ("members", "participants")],
    similarity=0.8,
    thesaurus_substitutions=2,
    spin_strength=0.4,
)
COPY = SentenceFinding(text="Putin met Xi in Beijing.", spun_probability=0.1, relation="copy",
                       source_sentence="Putin met Xi in Beijing.", similarity=0.99)
PARA = SentenceFinding(text="In Beijing, Xi received Putin.", spun_probability=0.2, relation="paraphrase",
                       source_sentence="Putin met Xi in Beijing.", similarity=0.7)
LONE = SentenceFinding(text="Stoltenberg hit back.", spun_probability=0.1, relation="unmatched")
BOILER = SentenceFinding(text="ALSO READ: more news", spun_probability=0.9, relation="unmatched", is_boilerplate=True)


def verdict(findings, **options):
    return decide_verdict(findings, source_given=True, has_candidate=True, **options)


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([COPY, COPY, COPY, LONE], "copy"),
        ([SPUN, SPUN, COPY, COPY], "spun"),
        ([PARA, PARA, PARA, COPY], "paraphrased"),
        ([COPY, LONE, LONE, LONE, LONE, LONE, LONE], "related"),
        ([SPUN, COPY, COPY, COPY, COPY], "copy"),
    ],
)
def test_verdict_rules(findings, expected):
    assert verdict(findings) == expected


def test_no_aligned_sentence_is_related_only_with_a_close_candidate():
    """A same-story candidate with nothing aligned was `original` (issue 5's related suspects)."""
    assert verdict([LONE, LONE]) == "related"
    assert decide_verdict([LONE, LONE], source_given=True, has_candidate=False) == "original"


def test_boilerplate_is_left_out_of_the_verdict():
    assert verdict([COPY, COPY] + [BOILER] * 10) == "copy"


LONG = "Prime Minister Mark Carney said the federal budget would cut the deficit by half within four years."
LONG_COPY = dataclasses.replace(COPY, text=LONG, source_sentence=LONG)
LONG_SPUN = dataclasses.replace(SPUN, text=LONG.replace("cut", "slash"), source_sentence=LONG)


def test_two_lifted_sentences_of_ten_words_are_reuse_whatever_the_share():
    """Issue 35: a blog post lifting a paragraph was `related` (few of its sentences align)."""
    assert verdict([LONG_COPY, LONG_COPY] + [LONE] * 14) == "copy"
    assert verdict([LONG_SPUN, LONG_SPUN, LONG_COPY] + [LONE] * 14) == "spun"
    assert verdict([LONG_SPUN, LONG_COPY] + [LONE] * 14) == "copy"  # one spun sentence is no spinning
    assert decide_verdict([LONG_COPY, LONG_COPY] + [LONE] * 14, source_given=True, has_candidate=False) == "copy"
    assert verdict([LONG_COPY] + [LONE] * 14) == "related"  # one sentence is no reuse
    assert verdict([COPY, COPY] + [LONE] * 14) == "related"  # nor are two short lines


def test_a_follow_up_story_reusing_short_lines_is_related():
    """BBC follow-ups sharing a third of their (short) sentences with an earlier story were `copy`/`paraphrased`."""
    assert verdict([COPY] * 5 + [PARA] * 4 + [LONE] * 7) == "related"
    assert verdict([COPY] * 2 + [PARA] * 6 + [LONE] * 7) == "related"
    assert verdict([COPY] * 6 + [LONE] * 4) == "copy"  # a partial copy: most of the article copied
    assert verdict([PARA] * 3 + [LONE] * 2) == "paraphrased"


def test_a_copy_with_two_spun_sentences_in_twelve_is_spun():
    """Issue 35: light tortured-phrase spins touch a quarter of a paper's sentences; with one of them
    missed, 2 spun in 12 fell under the share of a fifth and came out `copy`."""
    assert verdict([SPUN, SPUN] + [COPY] * 10) == "spun"
    assert verdict([SPUN, SPUN, PARA] + [COPY] * 9) == "spun"  # the spinner made most of the changes
    assert verdict([SPUN] + [COPY] * 11) == "copy"  # one spun sentence is no spinning
    assert verdict([SPUN, SPUN] + [COPY] * 20) == "copy"  # under a tenth


def test_a_rewrite_with_a_few_spun_looking_sentences_is_not_spun():
    """Seed 003, a newspaper's rewrite of the wire, aligns to 004 as 3 copies, 22 paraphrases and 4
    sentences the pair model calls spun: a share of 14%, but most changes are paraphrase."""
    assert verdict([COPY] * 3 + [PARA] * 22 + [SPUN] * 4) == "paraphrased"


def test_rules_come_from_the_decision_model():
    from detector.decision import VerdictRules

    assert verdict([SPUN, COPY, COPY, COPY]) == "copy"
    assert verdict([SPUN, COPY, COPY, COPY], rules=VerdictRules(min_spun_sentences=1)) == "spun"
    strict = VerdictRules(min_spun_share=0.5, min_light_spun_share=0.5)
    assert verdict([SPUN, SPUN, COPY, COPY, COPY, COPY], rules=strict) == "copy"


def test_aligned_copies_outweigh_a_low_retrieval_score():
    assert decide_verdict([COPY, COPY], source_given=True, has_candidate=False) == "copy"


def test_without_source_the_classifier_flags_decide():
    assert decide_verdict([SPUN, LONE], source_given=False, has_candidate=False) == "spun"
    assert decide_verdict([LONE, LONE, LONE, SPUN], source_given=False, has_candidate=False) == "original"
    assert decide_verdict([], source_given=False, has_candidate=False) == "original"


def test_spin_score_grows_with_spin_strength():
    heavy = SentenceFinding(text="a b c d", spun_probability=None, relation="spun", spin_strength=0.6)
    light = SentenceFinding(text="a b c d", spun_probability=None, relation="spun", spin_strength=0.2)
    assert 0 < spin_score([light, COPY], verdict="spun") < spin_score([heavy, COPY], verdict="spun") <= 1


def test_spin_score_combines_the_classifier_and_falls_back_to_it():
    with_classifier = spin_score([SPUN, COPY], verdict="spun")
    no_classifier = spin_score([SentenceFinding(**{**vars(SPUN), "spun_probability": None}), COPY], verdict="spun")
    assert with_classifier != no_classifier
    assert spin_score([COPY, LONE], verdict="related") == pytest.approx((0.1 + 0.1) / 2)
    assert spin_score([LONE], verdict="original") == pytest.approx(0.1)
    assert spin_score([], verdict="original") == 0.0


def report_with(findings, **fields) -> ArticleReport:
    return ArticleReport(
        verdict="spun", spin_score=0.5, source_id="004", source_similarity=0.8, coverage=0.75,
        candidates=[("004", 0.9), ("003", 0.7)], sentences=findings, source_given=True,
        relation_counts=count_relations(findings), **fields,
    )


def test_to_dict_is_json_ready_and_round_trips():
    report = report_with([SPUN, COPY, BOILER], evasion={"zero_width": 2, "homoglyphs": 0})
    data = json.loads(report.to_json())
    assert data["verdict"] == "spun"
    assert data["candidates"] == [["004", 0.9], ["003", 0.7]]
    assert data["sentences"][0]["substitutions"] == [["admit", "confess"], ["members", "participants"]]
    assert data["relation_counts"] == {"boilerplate": 1, "copy": 1, "spun": 1}
    assert data["evasion"]["zero_width"] == 2


def test_markdown_lists_spun_sentences_with_their_swaps():
    text = report_with([SPUN, COPY], notes=["no trained classifier loaded"], evasion={"zero_width": 3}).to_markdown()
    assert "**Verdict: spun**" in text
    assert "admit → confess" in text and "members → participants" in text
    assert "`004`" in text and "zero_width 3" in text and "no trained classifier" in text
    assert "Putin met Xi" not in text  # copies are not in the spun table


def test_markdown_escapes_table_pipes():
    piped = SentenceFinding(**{**vars(SPUN), "text": "a | b confess"})
    assert "a \\| b confess" in report_with([piped]).to_markdown()


def test_html_highlights_swaps_and_escapes_all_article_text():
    evil = SentenceFinding(
        **{**vars(SPUN), "text": '<script>alert("x")</script> should not confess new participants',
           "source_sentence": "<b onmouseover='x'>should not admit new members</b>"}
    )
    page = report_with([evil], notes=["<i>note</i>"], article_id='"><img src=x>').to_html()
    assert "<script>" not in page and "<b onmouseover" not in page and "<img" not in page and "<i>note" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert '<mark class="sub">confess</mark>' in page and '<mark class="src">admit</mark>' in page
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page


def test_html_page_holds_several_reports():
    page = render_html([report_with([SPUN], article_id="a"), report_with([COPY], article_id="b")])
    assert page.count("<section>") == 2


def loose(position, source_id="wire"):
    """A loose paraphrase (similarity under `min_paraphrase_similarity`) of the source's sentence ``position``."""
    return dataclasses.replace(PARA, similarity=0.52, source_id=source_id, source_position=position)


def test_a_loose_rewrite_in_the_source_order_is_paraphrased():
    """Issue 35: ParaSCI pseudo-articles, rewritten sentence by sentence at similarity ~0.55, came out `original`."""
    assert verdict([loose(0), loose(1), loose(2), loose(4), LONE]) == "paraphrased"
    assert verdict([loose(4), loose(0), loose(2), loose(1), LONE]) == "related"  # aligned, but not following the source
    assert verdict([loose(0), loose(1), loose(2), LONE, LONE]) == "related"  # too little of the article
    assert verdict([loose(0), loose(1), loose(2, "other"), loose(3, "other")]) == "related"  # two sources, neither followed


FLAGGED = SentenceFinding(
    text="The alliance should not confess new participants.",
    spun_probability=0.9,
    relation="spun",
    word_scores=[("The", 0.01), ("alliance", 0.1), ("confess", 0.95), ("participants", 0.6)],
    evidence=SpinEvidence(flagged_words=[("confess", 0.95), ("participants", 0.6)], sentence_probability=0.9,
                          relation_probability=0.9),
)


def alone(findings) -> ArticleReport:
    """A report judged by the classifier alone, as `Detector` makes it with no index."""
    return ArticleReport(verdict="spun", spin_score=0.9, sentences=findings, classifier_used=True,
                         relation_counts=count_relations(findings))


def test_markdown_with_no_index_lists_the_words_the_word_head_flags():
    """Issue 37: with no source the substitution cells were empty."""
    text = alone([FLAGGED]).to_markdown()
    assert "| # | spun p | sentence | flagged words | why |" in text and "source sentence" not in text
    assert "| confess 0.95, participants 0.60 |" in text
    assert "sentence spun probability 0.90 at or over the classifier threshold" in text
    assert "word head flags confess (0.95), participants (0.60)" in text


def test_html_with_no_index_marks_the_words_the_word_head_flags():
    """Issue 37: with no source the page held no `<mark>` at all."""
    page = alone([FLAGGED, LONE]).to_html()
    assert '<mark class="flag">confess</mark> new <mark class="flag">participants</mark>' in page
    assert "<th>source sentence</th>" not in page
    assert "<li>word head flags confess (0.95), participants (0.60)</li>" in page


def test_a_spun_sentence_with_no_evidence_still_says_the_classifier_flags_it():
    bare = dataclasses.replace(FLAGGED, evidence=None)
    text = alone([bare]).to_markdown()
    assert "|  | the classifier flags the sentence |" in text


def test_html_lists_every_candidate_with_its_score_and_coverage():
    """Issue 37: the page listed contributing sources only, and no retrieval score."""
    report = report_with([SPUN], sources=[SourceContribution(id="004", coverage=0.75, relation_counts={"spun": 1})])
    page = report.to_html()
    assert '<td><code>004</code></td><td class="num">0.90</td><td class="num">75%</td><td>spun 1</td>' in page
    assert '<td><code>003</code></td><td class="num">0.70</td><td class="num">–</td><td>–</td>' in page


def test_html_with_a_source_marks_swaps_and_keeps_the_source_column():
    page = report_with([SPUN]).to_html()
    assert "<th>source sentence</th>" in page and '<mark class="flag">' not in page
    assert '<mark class="sub">confess</mark>' in page


def test_a_no_index_report_validates_against_the_schema():
    """The why of a no-index sentence travels in the existing `evidence` field (issue 37)."""
    data = json.loads(alone([FLAGGED, LONE]).to_json())
    validate_report(data)
    assert data["sentences"][0]["evidence"]["flagged_words"] == [["confess", 0.95], ["participants", 0.6]]


def test_detector_with_no_index_gives_flagged_words_and_the_thresholds(tiny_bert_dir):
    """Issue 37: `Detector` fills the evidence of sentences the classifier flags, and notes both thresholds."""
    from transformers import AutoTokenizer

    from detector.api import Detector
    from detector.classifier import Calibration, SpinClassifier, SpinScorer
    from detector.encoder import SentenceEncoder
    from detector.thesaurus import SynonymTable

    scorer = SpinScorer(SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir),
                        Calibration(threshold=0.0, word_threshold=0.0))
    encoder, synonyms = SentenceEncoder.load(tiny_bert_dir), SynonymTable.from_pairs([])
    detector = Detector(encoder=encoder, synonyms=synonyms, scorer=scorer)
    report = detector.analyze("The alliance should not confess new participants. Putin met Xi in Beijing.")
    assert "classifier threshold 0.00: a sentence is spun at that spun probability or over; " \
           "the word head flags words at 0.00 or over" in report.notes
    for finding in report.spun_sentences:
        assert finding.evidence.flagged_words == finding.word_scores
        assert finding.evidence.sentence_probability == finding.spun_probability
    assert report.spun_sentences and "<mark class=\"flag\">" in report.to_html()


STORY = {"source_id": "wire-7", "names": ["kariuki", "odhiambo"], "numbers": ["393"], "quotations": 0,
         "topic_similarity": 0.81, "word_similarity": 0.42, "words": ["borrowings", "discount"]}


def test_a_related_report_says_which_source_tells_the_story_and_what_it_shares():
    """Issue 35: a `related` verdict's Markdown and HTML named no same-story source and no shared mark."""
    report = dataclasses.replace(report_with([LONE, LONE], story=STORY), verdict="related")
    assert ("- Same story: `wire-7` shares names kariuki, odhiambo; figures 393; words borrowings, discount "
            "(word similarity 0.42, topic similarity 0.81)") in report.to_markdown()
    assert ('<p class="meta">Same story: <code>wire-7</code> shares names kariuki, odhiambo; figures 393; words borrowings, '
            "discount (word similarity 0.42, topic similarity 0.81)</p>") in report.to_html()
    validate_report(json.loads(report.to_json()))


def test_a_story_candidate_short_of_related_is_shown_as_such():
    quoted = {**STORY, "names": [], "numbers": [], "quotations": 2, "words": []}
    text = dataclasses.replace(report_with([LONE, LONE], story=quoted), verdict="original").to_markdown()
    assert "- Nearest same-story candidate, too little shared for related: `wire-7` shares 2 quotations (" in text
    assert "shares no marks" in dataclasses.replace(report_with([LONE], story={**quoted, "quotations": 0}), verdict="original").to_markdown()


def test_the_story_line_keeps_its_order_whatever_is_missing():
    """Quotations were inserted at a fixed place, so with no names they came after the words."""
    unnamed = {**STORY, "names": [], "quotations": 1}
    text = dataclasses.replace(report_with([LONE, LONE], story=unnamed), verdict="related").to_markdown()
    assert "shares figures 393; 1 quotation; words borrowings, discount (" in text
