"""Another issue of one template, or another report in the same frames, is not a paraphrase (issue 35),
with the shipped model.

Clean Reuters wire analysed against clean wire came out `paraphrased` for one article in eight:
two companies' earnings tables, two bond issues, two weeks of one statistic align line by line,
and the pairs read as paraphrases though nearly every figure differs. A paraphrase keeps its
source's figures, and its event's words (`benchmarks/wire_verdicts.py`).
"""

import pytest

pytestmark = pytest.mark.shipped

HARLOW = (
    "Harlow Instruments Inc said its fourth quarter results reflected higher sales of test equipment to utilities.\n"
    "Shr profit 38 cts vs loss 12 cts.\nNet profit 1,685,000 dlrs vs loss 540,000 dlrs.\nRevs 29.3 mln dlrs vs 24.1 mln dlrs.\n"
    "Year shr profit 1.21 dlrs vs profit 40 cts.\nYear net profit 5,410,000 dlrs vs profit 1,790,000 dlrs.\n"
    "Year revs 112.6 mln dlrs vs 98.2 mln dlrs."
)
KESTREL = (
    "Kestrel Foods Corp said its fourth quarter results reflected higher sales of frozen dinners to supermarkets.\n"
    "Shr profit 22 cts vs profit 19 cts.\nNet profit 2,310,000 dlrs vs profit 1,975,000 dlrs.\nRevs 41.7 mln dlrs vs 37.5 mln dlrs.\n"
    "Year shr profit 86 cts vs profit 71 cts.\nYear net profit 9,020,000 dlrs vs profit 7,460,000 dlrs.\n"
    "Year revs 160.4 mln dlrs vs 149.9 mln dlrs."
)


ORLAND = (
    "Orland Power Co is raising 120 mln dlrs through an offering of first mortgage bonds due 2017 yielding 9.35 pct, "
    "said lead manager Dillon, Read and Co Inc.\n"
    "The bonds have a 9-1/4 pct coupon and were priced at 99.05 to yield 78 basis points more than comparable Treasury securities.\n"
    "Proceeds will be used to refinance short-term debt and for general corporate purposes, the utility said."
)
BRISCO = (
    "Brisco Gas Corp is raising 85 mln dlrs through an offering of first mortgage bonds due 1999 yielding 8.62 pct, "
    "said sole manager Salomon Brothers Inc.\n"
    "The bonds have an 8-1/2 pct coupon and were priced at 99.20 to yield 105 basis points more than comparable Treasury securities.\n"
    "The proceeds are to refinance short-term borrowings and for general purposes, the gas utility said."
)


@pytest.fixture(scope="module")
def detectors():
    from detector.api import Detector
    from detector.index import SourceIndex

    shipped = Detector.load()
    unchecked = shipped.with_verdict_rules(min_template_pairs=0, min_template_lines=0, min_paraphrase_word_similarity=0)
    index = SourceIndex.build([{"id": "harlow", "text": HARLOW}, {"id": "orland", "text": ORLAND}], encoder=shipped.encoder)
    return shipped, unchecked, index


def test_another_companys_earnings_table_is_not_a_paraphrase(detectors):
    shipped, unchecked, index = detectors
    assert unchecked.analyze(KESTREL, index=index).verdict == "paraphrased"  # the bug: a false accusation
    report = shipped.analyze(KESTREL, index=index)
    assert report.verdict == "original"
    assert report.relation_counts.get("paraphrase", 0) == 0 and report.relation_counts["unrelated"] >= 3
    assert any("another issue of one template" in note for note in report.notes)


HARLOW_REWRITE = (
    "Fourth quarter results at Harlow Instruments Inc reflected stronger test equipment sales to utilities, it said.\n"
    "Profit per share came to 38 cts, against a loss of 12 cts.\nThe company earned 1,685,000 dlrs after losing 540,000 dlrs.\n"
    "Revenues were 29.3 mln dlrs, up from 24.1 mln dlrs.\nFor the year, profit per share was 1.21 dlrs against 40 cts.\n"
    "Annual profit rose to 5,410,000 dlrs from 1,790,000 dlrs.\nAnnual revenues reached 112.6 mln dlrs, against 98.2 mln dlrs."
)
ORLAND_REWRITE = (
    "Lead manager Dillon, Read and Co Inc said Orland Power Co is selling 120 mln dlrs of first mortgage bonds "
    "due 2017 that yield 9.35 pct.\n"
    "Carrying a 9-1/4 pct coupon, the bonds were priced at 99.05, a yield 78 basis points above comparable Treasuries.\n"
    "The utility said it would use the money to refinance short-term debt and for general corporate purposes."
)


@pytest.mark.parametrize("rewrite", [HARLOW_REWRITE, ORLAND_REWRITE], ids=["earnings_table", "two_line_bond_issue"])
def test_a_rewrite_that_keeps_the_figures_stays_a_paraphrase(detectors, rewrite):
    shipped, _, index = detectors
    report = shipped.analyze(rewrite, index=index)
    assert report.verdict == "paraphrased" and not any("template" in note for note in report.notes)


@pytest.mark.parametrize("rules", [{}, {"min_template_pairs": 0}], ids=["shipped", "lines_alone"])
def test_another_bond_issue_in_two_lines_is_not_a_paraphrase(detectors, rules):
    """Two pairs giving figures are too few to pool (decisions `.rules9` called this `paraphrased`), but
    both keep the wording with other figures: another issue of one template."""
    shipped, _, index = detectors
    assert shipped.with_verdict_rules(min_template_lines=0).analyze(BRISCO, index=index).verdict == "paraphrased"  # the bug
    report = shipped.with_verdict_rules(**rules).analyze(BRISCO, index=index)
    assert report.verdict == "original" and report.relation_counts.get("paraphrase", 0) == 0
    assert any("2 keep the source's wording with other figures" in note for note in report.notes)


def test_a_paraphrase_with_two_updated_figure_lines_stays_a_paraphrase(detectors):
    """Two lines of six keep the wording with revised figures (an update): the other four reword and keep
    theirs, so the lines are not half the pairs giving figures, and the article is a paraphrase."""
    from detector.index import SourceIndex

    shipped = detectors[0]
    source = (
        "Vantor Mining Ltd said copper output at its Kalder mine rose to 41,200 tonnes in 1986 from 36,900 tonnes a year earlier.\n"
        "The company said ore grades at Kalder averaged 1.8 pct copper, against 1.6 pct in 1985.\n"
        "Vantor said it expects to spend 62 mln dlrs on a new concentrator that should start up in mid-1988.\n"
        "Cash costs fell to 54 cts a pound from 61 cts, helped by lower fuel prices, the company said.\n"
        "Net profit for the year rose to 18.4 mln dlrs, or 1.12 dlrs a share, from 11.7 mln dlrs, or 71 cts.\n"
        "Sales rose to 212.5 mln dlrs from 188.3 mln dlrs."
    )
    update = (
        "Copper production at the Kalder mine of Vantor Mining Ltd climbed to 41,200 tonnes last year, up from 36,900 tonnes "
        "in 1985, the company said.\n"
        "Average ore grades at the mine improved to 1.8 pct copper from 1.6 pct, according to Vantor.\n"
        "A new concentrator costing 62 mln dlrs is planned, and the company expects it to begin operating in mid-1988.\n"
        "Lower fuel prices helped push cash costs down to 54 cts a pound, compared with 61 cts, Vantor said.\n"
        "Net profit for the year rose to 18.9 mln dlrs, or 1.15 dlrs a share, from 11.6 mln dlrs, or 70 cts.\n"
        "Sales rose to 214.1 mln dlrs from 188.9 mln dlrs."
    )
    report = shipped.analyze(update, index=SourceIndex.build([{"id": "vantor", "text": source}], encoder=shipped.encoder))
    assert report.verdict == "paraphrased" and not any("template" in note for note in report.notes)


CORVANE = (
    "Corvane Transport Inc said it is holding an initial offering of 2.2 mln shares of common stock at 15 dlrs per share.\n"
    "Robinson-Hale Co Inc is the manager of the underwriting group, which has been granted an option to buy up to 330,000 "
    "more shares to cover over-allotments, the company said.\n"
    "Proceeds will be used to reduce debt and to purchase trucks and trailers, the company added."
)
DELMONT = (
    "Delmont Industries Ltd said it is holding a private placement of 2.1 mln shares of common stock at 14 dlrs per share.\n"
    "The issue will be placed by McLeod Young Weir Ltd and Loewen, Ondaatje and Co Ltd.\n"
    "Proceeds will be used to repay debt and for acquisitions, the company added."
)
SHARE_ISSUES = [
    "Halvern Chemical Corp said it sold 1.5 mln shares of common stock to institutional investors at 22 dlrs a share. "
    "Proceeds will be used to repay bank debt, the company said.",
    "Peltram Foods Inc said its board approved a public offering of 3 mln common shares. "
    "The company said proceeds would fund acquisitions and reduce debt.",
    "Ostrava Mining Ltd said it completed a rights issue of 4.2 mln shares at 3.10 dlrs per share. "
    "Proceeds will be used for exploration and to repay debt, it added.",
    "Quillan Savings Bank said it will offer 1.1 mln shares of common stock in its conversion to a stock company. "
    "Proceeds will be added to capital, the bank said.",
]


def share_index(encoder, main_id: str, main_text: str):
    """An index of one report and four other companies' share issues, which weigh the frames' words as wire does."""
    from detector.index import SourceIndex

    others = [{"id": f"issue{n}", "text": text} for n, text in enumerate(SHARE_ISSUES)]
    return SourceIndex.build([{"id": main_id, "text": main_text}, *others], encoder=encoder)


def test_another_companys_share_issue_in_the_same_frames_is_not_a_paraphrase(detectors):
    """Two of three sentences align as paraphrases, but the texts share few of one event's words: another
    company's share issue, written in the wire's frames (decisions `.rules10` called it `paraphrased`)."""
    shipped = detectors[0]
    index = share_index(shipped.encoder, "corvane", CORVANE)
    assert shipped.with_verdict_rules(min_paraphrase_word_similarity=0).analyze(DELMONT, index=index).verdict == "paraphrased"  # the bug
    report = shipped.analyze(DELMONT, index=index)
    assert report.verdict == "original" and report.relation_counts.get("paraphrase", 0) == 0
    assert any("another report in the same sentence frames" in note for note in report.notes)


def test_a_rewrite_of_the_same_share_issue_stays_a_paraphrase(detectors):
    shipped = detectors[0]
    rewrite = (
        "Delmont Industries Ltd plans a private placement of 2.1 mln common shares priced at 14 dlrs each, the company said.\n"
        "McLeod Young Weir Ltd and Loewen, Ondaatje and Co Ltd will place the shares.\n"
        "The company will use the money to repay debt and for acquisitions."
    )
    report = shipped.analyze(rewrite, index=share_index(shipped.encoder, "delmont", DELMONT))
    assert report.verdict == "paraphrased" and not any("same sentence frames" in note for note in report.notes)


DELMONT_STORY = "\n".join([
    DELMONT,
    "Delmont, based in Winnipeg, makes steel castings for railway cars and mining equipment.",
    "Chief executive Harold Brankin said orders from western Canadian railways had recovered since the autumn.",
    "He said the company was studying the purchase of a foundry in Ontario but gave no details.",
    "Delmont earned 3.2 mln dlrs in its last fiscal year on sales of 61 mln dlrs.",
    "Its shares closed at 14-3/4 on the Toronto Stock Exchange, up 1/4.",
    "The company has about 9.6 mln shares outstanding.",
    "Brankin said the castings market remained competitive, with pressure on prices from U.S. producers.",
])


def test_a_rewrite_of_a_long_storys_lead_keeps_its_marks_and_stays_a_paraphrase(detectors):
    """Three sentences retelling the lead of a ten-sentence story share few of its words in all, but
    the issuer's and placers' names: the same event, so the pairs stay paraphrases (without the
    marks the floor alone would drop them)."""
    shipped = detectors[0]
    lead = (
        "Delmont Industries Ltd is raising about 29 mln dlrs by privately selling 2.1 mln common shares at 14 dlrs, it said.\n"
        "McLeod Young Weir and Loewen, Ondaatje are arranging the sale.\n"
        "The money will go to paying down borrowings and buying other companies."
    )
    index = share_index(shipped.encoder, "delmont", DELMONT_STORY)
    assert shipped.with_verdict_rules(min_story_names=99).analyze(lead, index=index).verdict == "original"  # the floor alone
    report = shipped.analyze(lead, index=index)
    assert report.verdict == "paraphrased" and not any("same sentence frames" in note for note in report.notes)
