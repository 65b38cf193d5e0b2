"""Issue 37: quoted speech left out of the verdict and the spin score on request (`exclude_quotations`)."""

import json
import re
import zlib
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from detector.api import Detector
from detector.cli import main
from detector.errors import InputError
from detector.report import ArticleReport, SentenceFinding, count_relations, decide_verdict, render_html, spin_score
from detector.text import quoted_sentences, split_sentences, word_key, words

QUOTES = (
    '"We will not allow the alliance to move further east." '
    '"Our security guarantees must be written down and signed." '
    '"The West has ignored our concerns for thirty years."'
)
SOURCE = (
    "The Russian foreign minister spoke to reporters in Moscow on Friday after talks with his Chinese counterpart. "
    f"{QUOTES} "
    "Officials in Brussels declined to comment on the remarks before the summit next week."
)
OTHER_OUTLET = (
    "Farmers in the south of the country are bracing for a third dry summer in a row. "
    f"{QUOTES} "
    "Ticket prices for the national rail network will rise by four percent from March."
)


def flags(text: str) -> list[bool]:
    return quoted_sentences(text, split_sentences(text))


@pytest.mark.parametrize("marks", ['"{}"', "\u201c{}\u201d", "\u00ab{}\u00bb"])
def test_a_sentence_inside_straight_or_curly_quotation_marks_is_quoted(marks):
    text = "The minister spoke on Friday. " + marks.format("We will not back down from our demands.") + " Talks go on."
    assert flags(text) == [False, True, False]


def test_a_quotation_over_two_sentences_marks_both():
    text = 'He spoke at length. "We will not back down. Our demands are clear and simple." Talks resumed later.'
    assert flags(text) == [False, True, True, False]


def test_a_sentence_with_a_short_quoted_phrase_is_not_quoted():
    text = 'The minister called the sanctions "an act of war" in a long speech to the parliament on Friday.'
    assert flags(text) == [False]


def test_an_attributed_quotation_is_quoted_when_most_of_its_words_are_inside_the_marks():
    text = '"We will not allow the alliance to move further east under any circumstances," he said.'
    assert flags(text) == [True]


def test_a_paragraph_break_closes_an_unclosed_quotation():
    text = '"We will not back down from our demands.\nThe talks resumed in Geneva on Monday morning.'
    assert flags(text) == [True, False]


def quoted_finding(relation: str = "copy") -> SentenceFinding:
    return SentenceFinding(text="We will not back down from our demands.", spun_probability=0.9, relation=relation,
                           similarity=1.0, is_quotation=True)


def test_quoted_findings_are_left_out_of_verdict_score_and_counts_like_boilerplate():
    prose = SentenceFinding(text="Farmers fear a third dry summer in a row.", spun_probability=0.1, relation="unmatched")
    findings = [prose, quoted_finding(), quoted_finding()]
    assert decide_verdict(findings, source_given=True, has_candidate=False) == "original"
    assert spin_score(findings, verdict="original") == 0.1
    assert count_relations(findings) == {"quotation": 2, "unmatched": 1}


def test_a_quoted_sentence_is_shown_greyed_as_quotation_in_html():
    html = render_html([ArticleReport(verdict="original", spin_score=0.0, sentences=[quoted_finding()])])
    assert '<tr class="quotation"><td>quotation</td>' in html and "tr.quotation{color:#999}" in html.replace(",", "")


class WordsEncoder:
    """Bag-of-words sentence vectors: two sentences are alike as far as they share words (the tiny random
    encoder finds any two sentences alike, so unrelated prose would align as paraphrase)."""

    dim = 512
    name = "bag-of-words"

    def encode(self, sentences, batch_size=64):
        vectors = np.zeros((len(sentences), self.dim), dtype=np.float32)
        for row, sentence in enumerate(sentences):
            for word in words(sentence):
                vectors[row, zlib.crc32(word_key(word).encode()) % self.dim] += 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


@pytest.fixture(scope="module")
def det(tiny_parts):
    return Detector(encoder=WordsEncoder(), synonyms=tiny_parts["synonyms"], scorer=tiny_parts["scorer"])


@pytest.fixture(scope="module")
def index(det):
    from detector.index import SourceIndex

    return SourceIndex.build([{"id": "wire", "text": SOURCE}], encoder=det.encoder)


def test_issue_37_outlets_sharing_only_quotations_are_not_copies_when_quotations_are_excluded(det, index):
    report = det.analyze(OTHER_OUTLET, index, exclude_quotations=True)
    assert report.verdict in ("related", "original")
    assert [f.is_quotation for f in report.sentences] == [False, True, True, True, False]
    assert report.relation_counts["quotation"] == 3 and not report.spun_sentences
    assert any(note.startswith("quotations excluded: 3 sentence(s)") for note in report.notes)


def test_without_the_option_shared_quotations_count_as_copied_text(det, index):
    report = det.analyze(OTHER_OUTLET, index)
    assert report.verdict == "copy"
    assert not any(f.is_quotation for f in report.sentences) and "quotation" not in report.relation_counts
    assert report.to_dict() == det.analyze(OTHER_OUTLET, index, exclude_quotations=False).to_dict()


def test_an_article_of_quotations_only_has_nothing_to_compare(det, index):
    report = det.analyze(QUOTES, index, exclude_quotations=True)
    assert report.verdict == "original" and "every sentence is boilerplate or quoted speech: nothing to compare" in report.notes


def test_exclude_quotations_must_be_a_bool(det):
    with pytest.raises(InputError, match="exclude_quotations='yes' must be True or False"):
        det.analyze(OTHER_OUTLET, exclude_quotations="yes")


def test_analyze_command_excludes_quotations_on_request(det, index, tmp_path):
    index.save(tmp_path / "index")
    article = tmp_path / "outlet.txt"
    article.write_text(OTHER_OUTLET, encoding="utf-8")
    runner = CliRunner()
    args = ["analyze", str(article), "--index", str(tmp_path / "index")]
    plain = json.loads(runner.invoke(main, args, obj={"detector": det}, catch_exceptions=False).output)
    excluded = json.loads(runner.invoke(main, [*args, "--exclude-quotations"], obj={"detector": det}, catch_exceptions=False).output)
    assert plain["verdict"] == "copy" and excluded["verdict"] in ("related", "original")
    assert [s["is_quotation"] for s in excluded["sentences"]] == [False, True, True, True, False]


@pytest.mark.shipped
def test_issue_37_seed_verdicts_hold_with_quotations_excluded(seed_texts):
    from detector.index import SourceIndex

    shipped = Detector.load()
    seeds_index = SourceIndex.build(
        [{"id": key, "text": seed_texts[key]} for key in ("003", "004")], encoder=shipped.encoder
    )
    verdicts = {key: shipped.analyze(seed_texts[key], seeds_index, exclude_quotations=True).verdict for key in ("000", "001", "002")}
    assert verdicts == {"000": "spun", "001": "related", "002": "spun"}


# --- batch (issue 37 item 4 for `spin-detect batch`) ---------------------------------------------

def outlets(tmp_path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "outlet", "text": OTHER_OUTLET}) + "\n", encoding="utf-8")
    return path


def test_batch_excludes_quotations_on_request_like_the_api(det, index, tmp_path):
    from detector.batch import read_batch_output, run_batch

    articles = outlets(tmp_path)
    run_batch(articles, tmp_path / "plain", index=index, detector=det, details=True, progress=False)
    run_batch(articles, tmp_path / "excluded", index=index, detector=det, details=True, exclude_quotations=True, progress=False)
    (plain,), (excluded,) = read_batch_output(tmp_path / "plain"), read_batch_output(tmp_path / "excluded")
    assert plain["verdict"] == "copy" and excluded["verdict"] in ("related", "original")
    assert excluded["report"] == {**det.analyze(OTHER_OUTLET, index, exclude_quotations=True).to_dict(), "article_id": "outlet"}
    assert excluded["sentences"] == 2 and excluded["copied_sentences"] <= 2 and plain["sentences"] == 5


def test_batch_command_takes_exclude_quotations_and_a_resume_must_repeat_it(det, index, tmp_path):
    index.save(tmp_path / "index")
    arguments = ["batch", str(outlets(tmp_path)), "--out", str(tmp_path / "out"), "--index", str(tmp_path / "index"),
                 "--no-progress"]
    first = CliRunner().invoke(main, [*arguments, "--exclude-quotations"], obj={"detector": det})
    assert first.exit_code == 0 and "verdict copy" not in first.output
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["options"]["exclude_quotations"] is True
    refused = CliRunner().invoke(main, arguments, obj={"detector": det})
    assert refused.exit_code == 1 and "options.exclude_quotations True → False" in refused.output
    again = CliRunner().invoke(main, [*arguments, "--exclude-quotations"], obj={"detector": det})
    assert again.exit_code == 0 and re.search(r"done by earlier runs\s+1\n", again.output)


def test_every_engine_worker_scores_with_the_jobs_quotation_setting(tmp_path):
    """The local pool and the Ray actors build their scorer from `Work.spec`, which carries the options."""
    from detector.batch import BatchOptions, Plan, Work

    options = BatchOptions(exclude_quotations=True)
    spec = Work(Plan(outlets(tmp_path), options, set(), set()), detector=partial(ReportsQuotationSetting)).spec()
    scorer = spec.load()
    assert scorer.options.exclude_quotations is True
    assert scorer.score([]).rows == [] and scorer.detector.seen == [True]  # asked, though for no articles


class ReportsQuotationSetting:
    """A detector factory's product that records the `exclude_quotations` each call asked for."""

    def __init__(self):
        self.seen: list[bool] = []

    def analyze_many(self, texts, index=None, exclude_ids=(), exclude_quotations=False):
        self.seen.append(exclude_quotations)
        return iter([])


def test_exclude_quotations_of_a_batch_must_be_a_bool():
    from detector.batch import BatchOptions

    with pytest.raises(InputError, match="exclude_quotations='yes' must be True or False"):
        BatchOptions(exclude_quotations="yes")
