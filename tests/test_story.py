"""Same story, not same topic: the marks two reports of one event share (issue 35)."""

from collections import Counter

import pytest

from detector.story import (
    StoryProfile,
    common_word_test,
    figure_overlap,
    mark_name_test,
    rare_name_test,
    sentence_figures,
    shared_words,
    source_lowercase_words,
    source_names,
    story_marks,
    story_words,
    template_lines,
    word_cosine,
    wording_overlap,
)

WIRE = [
    "Canadian Finance Minister Kwame Odhiambo said the tax reform would cost 2.44 billion dlrs.",
    'Odhiambo told reporters: "This is the most important reform of the tax system in a generation."',
]
SAME_EVENT = [
    "Ottawa unveiled its tax reform on Thursday, and Odhiambo put the cost at 2.44 billion dlrs.",
    'He called it "the most important reform of the tax system" in decades.',
]
SAME_TOPIC = [
    "The U.S. Treasury said on Thursday that tax reform in America would cost 2.5 billion dlrs in 1987.",
    "Reagan said the reform would help families.",
]


def test_one_event_shares_rare_names_figures_and_quotations():
    marks = story_marks(SAME_EVENT, WIRE)
    assert "odhiambo" in marks.names
    assert marks.numbers == ("2.44",)
    assert marks.quotations == 1
    assert marks.count >= 3


def test_a_shared_topic_with_common_names_and_round_figures_is_no_mark():
    marks = story_marks(SAME_TOPIC, WIRE)
    assert marks.count == 0, marks


def test_possessives_fold_into_the_name():
    assert story_marks(["The plan is Odhiambo's own."], ["The plan came from Minister Odhiambo today."]).names == ("odhiambo",)


def test_a_profile_is_computed_once_and_compared_with_many():
    profile = StoryProfile.of(SAME_EVENT)
    assert profile.shared(StoryProfile.of(WIRE)) == story_marks(SAME_EVENT, WIRE)
    assert profile.shared(StoryProfile.of([])).count == 0


def test_a_name_is_rare_when_few_indexed_sources_carry_it():
    """Issue 35: with the MiniLM vocabulary alone, "Texaco" or "Brazil" never counted as a mark."""
    counts = {"texaco": 3, "reagan": 400}
    rare = rare_name_test(lambda name: counts.get(name, 0), sources=2000, max_share=0.005)
    assert rare("texaco") and not rare("reagan")
    assert StoryProfile.of(["Shares of Texaco rose, Reagan said."]).shared(StoryProfile.of(["Officials of Texaco and Reagan met."]), rare).names == ("texaco",)


def test_an_index_too_small_to_tell_falls_back_on_the_vocabulary():
    rare = rare_name_test(lambda name: 1, sources=50, max_share=0.005)
    assert rare("odhiambo") and not rare("canada")
    assert rare_name_test()("odhiambo") and not rare_name_test()("canada")


def test_source_names_drop_short_words_and_fold_possessives():
    assert source_names(["The plan is Odhiambo's own, said Mr Ito of Nippon Steel."]) == {"odhiambo", "ito", "nippon", "steel"}


def test_a_capitalised_word_the_index_writes_lower_case_is_a_common_word_issue_35():
    """Absent articles came out `related` on "Cocoa", "Stores" or "Interbank Offered Rates" shared
    with an indexed source of the topic: words of a title, not names of one event."""
    lowercase = {"cocoa": 40, "stores": 12, "ward": 3, "texaco": 1}.get
    capitalised = {"cocoa": 9, "stores": 300, "ward": 60, "texaco": 80}.get
    common = common_word_test(lambda w: lowercase(w, 0), lambda w: capitalised(w, 0), min_sources=3, min_share=0.1)
    assert common("cocoa")
    assert not common("stores")  # written lower-case in only 4% of the sources carrying it
    assert not common("ward")  # 3 of 63: a name that is also a word
    assert not common("texaco") and not common("odhiambo")


def test_a_mark_is_a_rare_name_that_is_no_common_word():
    """`mark_name_test` is what `Detector` and the same-story audit benchmark both count marks with."""
    lowercase, capitalised = {"cocoa": 40, "texaco": 1}, {"cocoa": 5, "texaco": 5, "reagan": 900}

    class Counts:
        def __len__(self):
            return 2000

        def name_frequency(self, name):
            return capitalised.get(name, 0)

        def lowercase_frequency(self, word):
            return lowercase.get(word, 0)

    mark = mark_name_test(Counts(), max_name_share=0.005, min_common_sources=3, min_common_share=0.1)
    assert mark("texaco") and mark("odhiambo")
    assert not mark("cocoa")  # rare as a name, but a common word
    assert not mark("reagan")  # in too many sources


def test_lower_case_words_are_read_mid_sentence_only_with_possessives_folded():
    words = source_lowercase_words(["Cocoa prices rose.", "The cocoa board's chief and Texaco's staff met."])
    assert {"prices", "rose", "cocoa", "board", "chief", "staff"} <= words
    assert "texaco" not in words and "the" not in words


FED_WEEK = [
    "Discount window borrowings averaged 393 mln dlrs a day in the two weeks to Wednesday, the Federal Reserve said.",
    "Economist Kwame Odhiambo of Kariuki Securities said the borrowings showed the Fed had firmed its grip on credit.",
    "Net free reserves fell and the Fed funds rate averaged 6.45 pct in the statement period.",
]
FED_SAME_WEEK = [
    "The Federal Reserve's figures showed net borrowings at the discount window of 393 mln dlrs in the statement period.",
    "Kwame Odhiambo, an economist at Kariuki Securities, said banks borrowed heavily as reserves fell.",
]
FED_OTHER_DEVELOPMENT = [
    "Kwame Odhiambo of Kariuki Securities expects the Treasury to sell 9 billion dlrs of notes at next week's refunding.",
    "Dealers said demand from Japanese investors for the long bond looked thin after the dollar's slide.",
]
BEAT = [FED_WEEK, FED_SAME_WEEK, FED_OTHER_DEVELOPMENT,
        ["The Federal Reserve said bank lending rose in March.", "Economists said credit demand stayed firm."],
        ["The dollar fell against the yen as Treasury bonds slid.", "Dealers said investors sold notes."]]


def test_story_words_are_content_words_keyed_as_names_are():
    words = story_words(["The Fed's borrowings at the discount window rose, and borrowings fell again in 1987."])
    assert words["borrowings"] == 2 and words["fed"] == 1
    assert "the" not in words and "and" not in words and "1987" not in words


def test_one_event_shares_its_words_one_beat_shares_names_only_issue_35():
    """Issue 35: an absent article sharing two rare names with a report of another development on
    the same beat was `related`; by a blind audit three in four `related` calls were such pairs."""
    from detector.decision import DecisionModel

    frequency = Counter(word for text in BEAT for word in story_words(text))
    wire = StoryProfile.of(FED_WEEK)
    same, other = StoryProfile.of(FED_SAME_WEEK), StoryProfile.of(FED_OTHER_DEVELOPMENT)
    assert {"kariuki", "odhiambo"} <= set(other.shared(wire, rare=lambda name: True).names)  # marks enough
    floor = DecisionModel.load().verdict.min_story_word_similarity
    weigh = {"frequency": frequency.__getitem__, "sources": len(BEAT)}
    assert word_cosine(same.word_weights(**weigh), wire.word_weights(**weigh)) >= floor
    assert word_cosine(other.word_weights(**weigh), wire.word_weights(**weigh)) < floor


def test_word_similarity_is_a_cosine_that_a_tiny_index_still_weighs():
    wire = StoryProfile.of(FED_WEEK)
    unweighed = wire.word_weights(lambda word: 0, 0)
    assert word_cosine(unweighed, unweighed) == pytest.approx(1.0)
    assert word_cosine(unweighed, StoryProfile.of(["Cocoa prices slid."]).word_weights(lambda word: 0, 0)) == 0.0
    assert word_cosine(StoryProfile.of([]).word_weights(lambda word: 1, 2), wire.word_weights(lambda word: 1, 2)) == 0.0


def test_the_shared_words_that_weigh_most_come_first_issue_35():
    """A `related` report listed names and figures but not the event's words its word similarity rests on."""
    frequency = Counter(word for text in BEAT for word in story_words(text))
    weigh = {"frequency": frequency.__getitem__, "sources": len(BEAT)}
    wire, same = StoryProfile.of(FED_WEEK).word_weights(**weigh), StoryProfile.of(FED_SAME_WEEK).word_weights(**weigh)
    words = shared_words(same, wire)
    assert words == shared_words(wire, same) and len(words) <= 8 and set(words) <= set(wire) & set(same)
    assert {"borrowings", "discount"} <= set(words) and "said" not in words  # every text of the beat says "said"
    products = [same[word] * wire[word] for word in words]
    assert products == sorted(products, reverse=True)
    assert shared_words(same, wire, limit=2) == words[:2] and shared_words(same, {}) == []


def test_figures_are_whole_and_their_overlap_pools_the_pairs_that_give_them():
    """A paraphrase keeps its source's figures; two earnings tables give others (issue 35, `tests/test_templates.py`)."""
    assert sentence_figures("Net 1,685,000 vs 9-3/4 pct in 1986/87, up 2.5") == {"1685000", "9-3/4", "1986/87", "2.5"}
    # a copy that writes thousands with spaces keeps its figures (it lost two pairs to the template check)
    assert sentence_figures("damaged 111 350 hectares in 10 provinces, 14\u00a0030 of palay") == {"111350", "10", "14030"}
    assert sentence_figures("from 1,685,000 to 1 685 000.5 in 1986 250") == {"1685000", "1685000.5", "1986", "250"}
    assert sentence_figures("to 2 000. Up 1 234 567, a 30 000-tonne cargo") == {"2000", "1234567", "30000"}
    assert figure_overlap([]) == (0, 1.0)
    assert figure_overlap([("Revs 29.3 mln", "Revs 41.7 mln"), ("No figure here.", "Sales 12 mln")]) == (1, 0.0)
    assert figure_overlap([("Up 2.5 pct to 390", "Rose 2.5 pct to 390"), ("Shr 38 cts", "Shr 22 cts")]) == (2, 0.5)


def test_wording_overlap_is_high_for_a_template_and_lower_for_a_rewording():
    """Another issue of one template keeps the wording; a paraphrase rewords (issue 35, `tests/test_templates.py`)."""
    template = ("The notes have an 8-1/4 pct coupon and were priced at 99.931 to yield 62.5 basis points more than Treasuries.",
                "The notes have a 9-1/4 pct coupon and were priced at 99.80 to yield 105 basis points more than Treasuries.")
    reworded = ("The notes have an 8-1/4 pct coupon and were priced at 99.931 to yield 62.5 basis points more than Treasuries.",
                "Sold at 99.931, the 8-1/4 pct securities return 62.5 basis points above government debt.")
    assert wording_overlap(*template) == 1.0
    assert wording_overlap(*reworded) < 0.5
    assert wording_overlap("", "12 pct") == 0.0
    kept = ("Revs rose to 29.3 mln dlrs from 24.1 mln dlrs.", "Revenues were 29.3 mln dlrs, up from 24.1 mln dlrs.")
    assert template_lines([template, reworded, kept, ("No figures here.", "No figures here.")], 0.2, 0.5) == 1
