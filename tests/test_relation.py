"""Pair relation: copy / spun / paraphrase / unrelated with substitutions, calibrated on the seeds."""

import doctest
from statistics import mean

import pytest

import detector.relation
from detector.align import align_sentences
from detector.errors import InputError
from detector.relation import RELATIONS, PairResult, compare_pair, match_key
from detector.text import split_sentences, words

# Thesaurus pairs (base forms, as a thesaurus lists them) behind the swaps in seeds 000 and 002,
# and behind the editor's rewording between the clean copies 003 and 004.
SEED_PAIRS = [
    ("abandon", "leave"), ("accuse", "blame"), ("accuse", "charge"), ("admit", "concede"), ("admit", "confess"),
    ("agree", "concur"), ("agreement", "arrangement"), ("alliance", "union"), ("amass", "accumulate"),
    ("amass", "hoard"), ("announce", "declare"), ("announce", "reveal"), ("approach", "method"),
    ("approach", "methodology"), ("approach", "strategy"), ("attack", "assault"), ("backing", "support"),
    ("badly", "severely"), ("between", "among"), ("bolster", "shore up"), ("border", "boundary"),
    ("border", "line"), ("bullying", "intimidation"), ("claim", "declare"), ("close", "near"),
    ("combat", "battle"), ("comment", "remark"), ("comprise", "include"), ("concerned", "worried"),
    ("conflict", "clash"), ("confrontation", "showdown"), ("confrontation", "standoff"),
    ("counterpart", "partner"), ("counterpart", "equivalent"), ("country", "nation"), ("defence", "protection"),
    ("defense", "guard"), ("demand", "need"), ("demand", "request"), ("demonstrate", "show"),
    ("demonstration", "display"), ("deny", "reject"), ("display", "screen"), ("document", "paper"),
    ("document", "record"), ("document", "file"), ("document", "report"), ("echo", "repeat"), ("era", "period"),
    ("evidence", "proof"), ("evident", "obvious"), ("exercise", "workout"), ("expand", "broaden"),
    ("expand", "grow"), ("expansion", "extension"), ("expansion", "growth"), ("fabricate", "produce"),
    ("fabrication", "manufacture"), ("fake", "phony"), ("fighter", "boxer"), ("fight", "combat"),
    ("following", "next"), ("further", "additional"), ("global", "international"), ("global", "worldwide"),
    ("hail", "welcome"), ("hit", "strike"), ("ideological", "philosophical"), ("impact", "consequence"),
    ("impact", "effect"), ("information", "info"), ("intensive", "concentrated"), ("intensive", "extensive"),
    ("invasion", "intrusion"), ("lengthy", "long"), ("mediator", "moderator"), ("meeting", "conference"),
    ("meeting", "gathering"), ("member", "individual"), ("member", "participant"), ("military", "armed forces"),
    ("missile", "projectile"), ("negative", "adverse"), ("negative", "unfavorable"), ("negotiation", "dealing"),
    ("negotiation", "arrangement"), ("nonsense", "absurd"), ("showdown", "face-off"), ("other", "different"),
    ("party", "celebration"), ("part", "component"), ("peace", "harmony"), ("positive", "favorable"),
    ("potential", "expected"), ("preparation", "anticipation"), ("problem", "issue"), ("provide", "supply"),
    ("recent", "current"), ("region", "area"), ("region", "locale"), ("relationship", "connection"),
    ("relations", "relationship"), ("relationship", "partnership"), ("renounce", "forswear"),
    ("repeatedly", "consistently"), ("resolve", "settle"), ("respect", "regard"), ("role", "function"),
    ("role", "job"), ("say", "claim"), ("say", "state"), ("sanction", "permission"), ("security", "safety"),
    ("should", "ought"), ("situation", "circumstance"), ("solve", "resolve"), ("spokesman", "representative"),
    ("stability", "steadiness"), ("stop", "quit"), ("support", "assistance"), ("tension", "stress"),
    ("threaten", "endanger"), ("troops", "soldiers"), ("visit", "see"), ("want", "desire"),
    ("strategy", "method"), ("strategy", "methodology"), ("leader", "pioneer"), ("latest", "most up to date"),
    ("visit", "check out"), ("diplomatic", "polite"), ("join", "sign up with"), ("massive", "substantial"),
    ("military", "armed forces"), ("seriously", "genuinely"), ("destabilizing", "weakening"),
    ("agreed", "concurred"), ("said", "claimed"), ("said", "stated"), ("called", "said"),
]  # fmt: skip


class PairTable:
    """The `are_neighbours` part of a SynonymTable over explicit pairs, with a crude inflection
    fold (plural -s, -ed, -ing) so that the pairs can be listed in base forms."""

    def __init__(self, pairs):
        self.pairs = {frozenset(p) for p in pairs}

    def are_neighbours(self, a: str, b: str) -> bool:
        return any(frozenset((x, y)) in self.pairs for x in _forms(a) for y in _forms(b) if x != y)


def _forms(phrase: str) -> set[str]:
    head, _, last = phrase.rpartition(" ")
    stems = {last}
    for suffix, repl in (("ies", "y"), ("s", ""), ("ed", ""), ("ed", "e"), ("d", ""), ("ing", ""), ("ing", "e"), ("ck", "ke")):
        if last.endswith(suffix):
            stems.add(last[: -len(suffix)] + repl)
    stems |= {"strike" for s in stems if s == "struck"}
    return {f"{head} {s}".strip() for s in stems}


def synonym_table(pairs):
    """The real SynonymTable when it is there (it owns inflection), else the explicit-pair stand-in."""
    try:
        from detector.thesaurus import SynonymTable
    except ImportError:
        return PairTable(pairs)
    return SynonymTable.from_pairs(pairs)


@pytest.fixture(scope="module")
def table():
    return synonym_table(SEED_PAIRS)


def body(text: str) -> list[str]:
    return [s.text for s in split_sentences(text) if not s.is_boilerplate and not s.is_heading]


def seed_pairs(seed_texts, suspect: str, source: str, table) -> list[PairResult]:
    suspect_sentences, source_sentences = body(seed_texts[suspect]), body(seed_texts[source])
    alignments = align_sentences(suspect_sentences, None, source_sentences, None, min_similarity=0.3)
    return [
        compare_pair(source_sentences[a.source_index], suspect_sentences[a.suspect_index], a.similarity, table)
        for a in alignments
    ]


def reading(suspect: str, flagged=(), probability: float = 0.05) -> dict:
    """Classifier evidence as the detector passes it: the sentence probability and one score per word
    (0.9 for the ``flagged`` words, 0.02 for the rest)."""
    return {"spun_probability": probability, "word_scores": [(w, 0.9 if w in flagged else 0.02) for w in words(suspect)]}


def share(results: list[PairResult], relation: str) -> float:
    return sum(r.relation == relation for r in results) / len(results)


def test_doctests():
    assert doctest.testmod(detector.relation).failed == 0


# --- the seed sentences named in the brief --------------------------------------------------------


def test_moderate_spin_from_seed_000(table):
    source = "as Beijing agreed with Moscow that the U.S.-led NATO military alliance should not admit new members"
    suspect = "as Beijing agreed with Moscow that the U.S.-led NATO armed forces alliance should not confess new participants"
    pair = compare_pair(source, suspect, 0.85, table)
    assert pair.relation == "spun"
    assert pair.substitutions == [("military", "armed forces"), ("admit", "confess"), ("members", "participants")]
    assert pair.thesaurus_substitutions == 3 and pair.thesaurus_share == 1.0
    assert pair.skeleton_overlap == 1.0
    assert pair.lexical_overlap == pytest.approx(13 / 16)


def test_full_seed_000_sentence_against_004(table):
    source = (
        "Russia won Chinas backing in its showdown with the West over Ukraine on Friday, as Beijing agreed "
        "with Moscow that the US-led NATO military alliance should not admit new members."
    )
    suspect = (
        "Russia won China\u2019s backing in its face-off with the West over Ukraine on Friday, as Beijing agreed "
        "with Moscow that the U.S.-led NATO armed forces alliance should not confess new participants."
    )
    pair = compare_pair(source, suspect, 0.9, table)
    assert pair.relation == "spun"
    assert pair.substitutions == [
        ("showdown", "face-off"), ("military", "armed forces"), ("admit", "confess"), ("members", "participants"),
    ]  # fmt: skip
    assert pair.thesaurus_substitutions == 4


def test_heavy_spin_from_seed_002(table):
    source = (
        "Russia won China's backing in its confrontation with the West over Ukraine on Friday, as Beijing "
        "agreed with Moscow that the US-led NATO military alliance should not admit new members."
    )
    suspect = (
        "Russia won China's moving in its standoff with the West over Ukraine as Beijing concurred with "
        "Moscow the US-drove NATO military union ought not concede new individuals."
    )
    pair = compare_pair(source, suspect, 0.72, table, **reading(suspect, {"moving", "concurred", "individuals"}, 0.95))
    assert pair.relation == "spun"
    for swap in [("confrontation", "standoff"), ("agreed", "concurred"), ("admit", "concede"), ("members", "individuals")]:
        assert swap in pair.substitutions
    assert pair.thesaurus_substitutions >= 6
    assert pair.spin_strength > 0.4


def test_light_human_rewrite_is_not_spun(table):
    source = "In a lengthy strategy document, Moscow and Beijing denounced what they called Washington's destabilizing role in global security."
    suspect = "In a long strategy document, Moscow and Beijing hit out at what they said was Washingtons destabilising role in global security."
    pair = compare_pair(source, suspect, 0.78, table, **reading(suspect))
    assert pair.relation == "paraphrase"
    assert ("lengthy", "long") in pair.substitutions
    assert not any("destabili" in a or "Washington" in a for a, _ in pair.substitutions)
    assert pair.thesaurus_substitutions == 1
    assert not pair.evidence.flagged_words


def test_the_same_sentence_spun_is_spun(table):
    source = "In a long strategy document, Moscow and Beijing hit out at what they said was Washingtons destabilising role in global security."
    suspect = "In a long method file, Moscow and Beijing struck out at what they claimed was Washington\u2019s destabilizing function in international safety."
    pair = compare_pair(source, suspect, 0.71, table)
    assert pair.relation == "spun"
    assert pair.substitutions == [
        ("strategy", "method"), ("document", "file"), ("hit", "struck"), ("said", "claimed"),
        ("role", "function"), ("global", "international"), ("security", "safety"),
    ]  # fmt: skip
    assert pair.thesaurus_substitutions == 7
    assert pair.spin_strength > 0.5


def test_fillers_and_connective_swaps(table):
    source = "The call echoes demands from Russia that have been at the centre of weeks of intensive negotiations between Moscow and the West."
    suspect = "The telephone call echoes demands from Russia that have been at the centre of weeks of extensive arrangements between Moscow as well as the West."
    pair = compare_pair(source, suspect, 0.89, table)
    assert ("and", "as well as") in pair.substitutions
    assert ("intensive", "extensive") in pair.substitutions
    assert pair.filler_substitutions == 1
    pair = compare_pair("Kyiv and Moscow have vowed to talk.", "Kyiv and also Moscow have actually vowed to talk.", 0.9, table)
    assert pair.substitutions == [("and", "and also"), ("have", "have actually")]
    assert pair.filler_substitutions == 2 and pair.thesaurus_substitutions == 0


# --- what is not a substitution -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "suspect"),
    [
        ("Washington's destabilizing role in global security.", "Washingtons destabilising role in global security"),
        ("Russia and neighboring Belarus held exercises at the center.", "Russia and neighbouring Belarus held exercises at the centre."),
        ("The AUKUS defense alliance, the US-led bloc.", "The AUKUS defence alliance, the U.S.-led bloc."),
        ("Nearly eight years of fighting between Kiev and Moscow.", "Nearly 8 years of fighting between Kyiv and Moscow."),
        ("A massive military build-up near the border.", "A massive military buildup near the border."),
        ("\u201cIt\u2019s not about NATO,\u201d he said.", "IT'S NOT ABOUT NATO, HE SAID"),
    ],
)
def test_spelling_case_and_punctuation_are_copies(source, suspect, table):
    pair = compare_pair(source, suspect, 0.95, table)
    assert pair.relation == "copy"
    assert pair.substitutions == []
    assert pair.lexical_overlap == pytest.approx(1.0)


def test_inflection_and_name_forms_are_not_substitutions(table):
    pair = compare_pair(
        "Putin hailing the two countries' dignified relations, Russian officials said.",
        "Putin hail the two countries dignified relations, Russias officials said.",
        0.9,
        table,
    )
    assert pair.substitutions == []
    assert pair.relation == "copy"


def test_trivial_edit_is_a_copy(table):
    source = '"Russia lost this round of the diplomatic battle over Ukraine," Foreign Minister Dmytro Kuleba said on Friday.'
    suspect = "Russia has lost this round of the diplomatic battle over Ukraine, Foreign Minister Dmytro Kuleba said on Friday."
    assert compare_pair(source, suspect, 0.95, table, **reading(suspect)).relation == "copy"
    suspect = "The ministers said the talks would resume in Geneva next week."
    assert compare_pair("The ministers said that the talks would resume in Geneva next week.", suspect, 0.97, table, **reading(suspect)).relation == "copy"
    one_swap = compare_pair("Russia lost this confrontation.", "Russia lost this showdown.", 0.9, table, **reading("Russia lost this showdown.", {"showdown"}, 0.8))
    assert one_swap.relation == "spun"  # a flagged swap is never a trivial edit


def test_one_changed_word_of_a_short_line_is_no_copy(table):
    fixture = compare_pair("Arsenal v Wolverhampton", "Arsenal v Stoke", 0.74, table)
    assert fixture.relation == "paraphrase"  # a third of the line changed: BBC fixture lists are not copies


def test_equal_length_block_is_split_word_by_word(table):
    pair = compare_pair("Russia and China also said they were worried.", "Russia and China likewise stated they were worried.", 0.9, table)
    assert pair.substitutions == [("also", "likewise"), ("said", "stated")]
    assert pair.thesaurus_flags == [False, True]
    assert pair.filler_substitutions == 1


def test_phrase_pairs_are_checked_whole(table):
    pair = compare_pair(
        "German Chancellor Olaf Scholz was the latest European leader to announce a visit.",
        "German Chancellor Olaf Scholz was the most up to date European leader to reveal a check out.",
        0.86,
        table,
    )
    assert ("latest", "most up to date") in pair.substitutions
    assert ("visit", "check out") in pair.substitutions
    assert pair.thesaurus_substitutions == 3


# --- seed articles as a whole ---------------------------------------------------------------------


def test_translation_001_is_never_spun_or_copy(seed_texts):
    everything = type("Everything", (), {"are_neighbours": lambda self, a, b: True})()  # worst case
    for source in ("003", "004"):
        results = seed_pairs(seed_texts, "001", source, everything)
        assert results
        assert {r.relation for r in results} <= {"paraphrase", "unrelated"}


# --- the classifier, errors, output ---------------------------------------------------------------


def test_classifier_support_tells_a_spinner_from_an_editor(table):
    """One-for-one thesaurus swaps are what a copy-editor makes too (seed 003 against 004): the pair
    is spun only when the classifier reads something wrong in the swapped words or the sentence."""
    source = "In a lengthy strategy document, Moscow and Beijing denounced what they called Washington's role."
    suspect = "In a long strategy document, Moscow and Beijing hit out at what they said was Washington's role."
    assert compare_pair(source, suspect, 0.8, table, **reading(suspect)).relation == "paraphrase"
    flagged = compare_pair(source, suspect, 0.8, table, **reading(suspect, {"long"}, 0.9))
    assert flagged.relation == "spun" and flagged.evidence.flagged_words == [("long", 0.9)]


def test_light_spin_of_a_near_copy_is_spun_when_the_classifier_flags_it(table):
    """A copy but for one thesaurus swap was `copy` whatever the classifier said (light spins were missed)."""
    source = "The demand for NATO to stop expanding came after a meeting between President Vladimir Putin and Chinese leader Xi Jinping in Beijing on Friday."
    suspect = "The demand for NATO to stop expanding came after a gathering between President Vladimir Putin and Chinese leader Xi Jinping in Beijing on Friday."
    assert compare_pair(source, suspect, 0.97, table, **reading(suspect, probability=0.1)).relation != "spun"
    flagged = compare_pair(source, suspect, 0.97, table, **reading(suspect, {"gathering"}, 0.9))
    assert flagged.relation == "spun" and flagged.substitutions == [("meeting", "gathering")]


def test_swaps_no_table_lists_are_spun_when_the_classifier_flags_them():
    """Issue 35: a pair could be spun only when our own table listed its swaps."""
    from detector.thesaurus import SynonymTable

    source = "Canada's sweeping tax reform package, announced today, is an important step."
    suspect = "Canada's catholic tax deterge bindle, announced today, is an bloated step."
    pair = compare_pair(source, suspect, 0.7, SynonymTable.from_pairs([]), **reading(suspect, {"catholic", "bindle"}, 0.92))
    assert pair.relation == "spun" and pair.thesaurus_substitutions == 0
    assert pair.evidence.unlisted_swaps == [("sweeping", "catholic"), ("reform", "deterge"), ("package", "bindle"), ("important", "bloated")]


def test_the_decisions_are_data(table):
    import dataclasses

    from detector.decision import DecisionModel

    source, suspect = "NATO should not admit new members.", "NATO should not confess new participants."
    evidence = reading(suspect, {"confess"}, 0.6)
    shipped = DecisionModel.load()
    assert compare_pair(source, suspect, 0.8, table, **evidence).relation == "spun"
    cautious = dataclasses.replace(shipped, spun_min_support=1.0)
    pair = compare_pair(source, suspect, 0.8, table, **{**evidence, "word_scores": [(w, 0.0) for w in words(suspect)]}, decisions=cautious)
    assert pair.relation != "spun" and pair.decision_version == shipped.version


def test_unrelated_and_empty(table):
    pair = compare_pair("NATO should not admit new members.", "The weather in Lisbon was sunny all week.", 0.1, table)
    assert pair.relation == "unrelated"
    assert compare_pair("", "Something.", 0.0, table).relation == "unrelated"
    assert compare_pair("...", "!!!", 0.0, table).relation == "unrelated"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"similarity": 1.5}, r"similarity must lie in \[0, 1\], got 1.5"),
        ({"similarity": 0.5, "spun_probability": -0.1}, r"spun_probability must lie in \[0, 1\] or be None, got -0.1"),
    ],
)
def test_bad_numbers_are_named(kwargs, message, table):
    with pytest.raises(InputError, match=message):
        compare_pair("a b", "a c", synonyms=table, **kwargs)


def test_result_fields_and_dict(table):
    pair = compare_pair("NATO should not admit new members.", "NATO should not confess new participants.", 0.8, table)
    assert pair.relation in RELATIONS
    data = pair.to_dict()
    assert data["substitutions"] == [["admit", "confess"], ["members", "participants"]]
    assert data["thesaurus_substitutions"] == 2
    assert 0.0 <= data["substitution_rate"] <= 1.0 and 0.0 <= data["spin_strength"] <= 1.0
    assert set(data) >= {"relation", "similarity", "substitutions", "lexical_overlap", "skeleton_overlap"}


def test_match_key():
    assert match_key("Destabilising") == match_key("destabilizing")
    assert match_key("Washington\u2019s") == match_key("Washingtons")
    assert match_key("defence") == match_key("defense")
    assert match_key("travelled") == match_key("traveled")
    assert match_key("Kyiv") == match_key("Kiev")
    assert match_key("four") != match_key("for")
