"""Same story, not same topic: the marks two reports of one event share (issue 35)."""

from detector.story import StoryProfile, story_marks

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
