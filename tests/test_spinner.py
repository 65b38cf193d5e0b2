"""Spinner: label alignment, inflection, untouched names and numbers, rate, determinism, sources."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.errors import InputError
from detector.text import tokenize
from training.spinner import Spinner, SpunSentence
from training.thesauri import Thesaurus, load_thesaurus

PAIRS = [
    ("admit", "confess", "mythes", "verb"),
    ("admit", "let in", "wordnet", "verb"),
    ("member", "participant", "mythes", "noun"),
    ("member", "fellow member", "wordnet", "noun"),
    ("relationship", "connection", "ppdb", None),
    ("military", "armed forces", "wordnet", "noun"),
    ("role", "function", "mythes", "noun"),
    ("security", "safety", "mythes", "noun"),
    ("vow", "swear", "mythes", "verb"),
    ("backing", "support", "wordnet", "noun"),
    ("strategy", "scheme", "mythes", "noun"),
    ("document", "file", "mythes", "noun"),
    ("impose", "enforce", "wordnet", "verb"),
    ("devastating", "ruinous", "mythes", "adj"),
    ("country", "nation", "wordnet", "noun"),
    ("big", "large", "wordnet", "adj"),
    ("call on", "appeal to", "mythes", "verb"),
    ("quick", "fast", "ppdb", None),
    ("troop", "soldier", "mythes", "noun"),
    ("demand", "need", "mythes", "noun"),
    ("last", "cobbler's last", "wordnet", "noun"),
    ("investment", "investment funds", "ppdb", None),
    ("sovereign immunity", "immunity", "wordnet", "noun"),
]
VOCABULARY = [
    "the", "a", "and", "also", "NATO", "Putin", "members", "admit", "admitted", "relationship", "military",
    "role", "security", "have", "vowed", "backing", "strategy", "documents", "impose", "devastating",
    "countries", "bigger", "called", "on", "quick", "100,000", "3.5", "U.S.", "troops", "demands",
    "China's", "pro-Western", ",", ".", '"', "(", ")", "-", "of", "in", "Moscow", "has",
]  # fmt: skip


@pytest.fixture(scope="module")
def small_thesaurus() -> Thesaurus:
    thesaurus = Thesaurus()
    for term, synonym, source, pos in PAIRS:
        thesaurus.add(term, synonym, source, pos)
    return thesaurus


def word_count(text: str) -> int:
    return sum(token.is_word for token in tokenize(text))


def labelled_words(spun: SpunSentence) -> list[str]:
    words = [t.text for t in tokenize(spun.text) if t.is_word]
    return [w for w, label in zip(words, spun.labels) if label]


def test_seed_swaps_keep_inflection(small_thesaurus):
    spinner = Spinner(small_thesaurus, rate=1.0, seed=0, fillers=False)
    spun = spinner.spin("The alliance should not admit new members.")
    assert spun.text == "The alliance should not confess new participants." or "let in" in spun.text
    assert "participants" in spun.text or "fellow members" in spun.text  # a plural stays plural
    assert spun.labels == [int(w in labelled_words(spun)) for w in (t.text for t in tokenize(spun.text) if t.is_word)]
    assert len(spun.swaps) == 2 and spun.rate == 1.0


def test_past_participle_after_auxiliary(small_thesaurus):
    spun = Spinner(small_thesaurus, rate=1.0, seed=0, fillers=False).spin("They have vowed to impose sanctions.")
    assert "have sworn" in spun.text and "enforce" in spun.text
    assert labelled_words(spun) == ["sworn", "enforce"]


def test_names_numbers_and_acronyms_untouched(small_thesaurus):
    spinner = Spinner(small_thesaurus, rate=1.0, seed=1, fillers=False)
    sentence = "Putin sent 100,000 troops as NATO said it had a role in security."
    spun = spinner.spin(sentence)
    for kept in ("Putin", "100,000", "NATO"):
        assert kept in spun.text
    assert "safety" in spun.text and "soldiers" in spun.text


def test_quoted_speech_is_spun_like_the_rest(small_thesaurus):
    """Both spun seeds rewrite their quotes; a spinner that left quotes alone taught the model that
    quoted sentences are clean (seed 002's quoted sentences scored 0.00-0.36)."""
    spinner = Spinner(small_thesaurus, rate=1.0, seed=1, fillers=False)
    spun = spinner.spin('"The alliance should not admit new members," he said.')
    assert "participants" in spun.text or "fellow members" in spun.text
    assert spun.text.startswith('"The alliance')


def test_opening_connectors_are_rewritten(small_thesaurus):
    spinner = Spinner(small_thesaurus, rate=1.0, seed=0)
    spun = spinner.spin('"But, as we know from history, a common threat unites countries," Babich said.')
    assert not spun.text.startswith('"But')
    opening = spun.swaps[0]
    assert opening[0] == "But" and spun.text.startswith('"' + opening[1] + ",")
    assert labelled_words(spun)[: len(opening[1].split())] == opening[1].split()


def test_phrases_swap_both_ways(small_thesaurus):
    spinner = Spinner(small_thesaurus, rate=1.0, seed=0, fillers=False)
    assert spinner.spin("the military alliance").text == "the armed forces alliance"
    spun = spinner.spin("they called on the alliance")
    assert spun.text == "they appealed to the alliance"
    assert labelled_words(spun) == ["appealed", "to"]


def test_fillers_are_labelled(small_thesaurus):
    spinner = Spinner(small_thesaurus, rate=1.0, seed=3)
    spun = spinner.spin("Russia and China also said they have agreed.")
    assert ("and", "as well as") in spun.swaps or ("and", "and also") in spun.swaps
    labelled = labelled_words(spun)
    assert "and" not in labelled or "as well as" in spun.text.replace("As", "as")
    assert any(w in labelled for w in ("additionally", "likewise", "addition", "furthermore"))


def test_same_seed_same_output_and_rate_zero_is_identity(small_thesaurus):
    sentences = ["The members admit a big role in security and strategy."] * 5
    first = [Spinner(small_thesaurus, rate=0.5, seed=7).spin(s) for s in sentences]
    again = [Spinner(small_thesaurus, rate=0.5, seed=7).spin(s) for s in sentences]
    assert first == again
    unchanged = Spinner(small_thesaurus, rate=0.0, seed=7).spin(sentences[0])
    assert unchanged.text == sentences[0] and not any(unchanged.labels)


def test_rate_is_roughly_respected(small_thesaurus):
    sentence = "The members admit a role in security, strategy, backing and the relationship of countries."
    for rate in (0.2, 0.6):
        spinner = Spinner(small_thesaurus, rate=rate, seed=11, fillers=False)
        swapped = sum(len(spinner.spin(sentence).swaps) for _ in range(200))
        assert abs(swapped / (200 * 8) - rate) < 0.06


def test_rate_range_and_article(small_thesaurus, seed_texts):
    spinner = Spinner(small_thesaurus, rate=(0.05, 0.6), seed=2)
    spun = spinner.spin_article(seed_texts["004"])
    assert len({s.rate for s in spun}) == 1 and 0.05 <= spun[0].rate <= 0.6
    assert all(len(s.labels) == word_count(s.text) for s in spun)
    assert any(s.swaps for s in spun)


def test_source_restriction(small_thesaurus):
    spinner = Spinner(small_thesaurus, rate=1.0, seed=0, sources=["ppdb"], fillers=False)
    spun = spinner.spin("A quick relationship with the members.")
    assert spun.text == "A fast connection with the members."


def test_bad_parameters_are_named(small_thesaurus):
    with pytest.raises(InputError, match="rate=1.5"):
        Spinner(small_thesaurus, rate=1.5)
    with pytest.raises(InputError, match="sources="):
        Spinner(small_thesaurus, sources=["roget"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=25), st.integers(0, 10_000), st.floats(0, 1))
def test_one_label_per_word_token(small_thesaurus, words, seed, rate):
    sentence = " ".join(words)
    spun = Spinner(small_thesaurus, rate=rate, seed=seed).spin(sentence)
    assert len(spun.labels) == word_count(spun.text)
    assert set(spun.labels) <= {0, 1}
    assert bool(spun.swaps) == (spun.text != sentence)
    assert sum(spun.labels) == 0 or spun.swaps


def test_words_a_phrase_swap_carries_over_are_not_labelled(small_thesaurus):
    """ "last" -> "cobbler's last" wrote "cobbler's" only; labelling "last" too put 3% of the positive
    word labels of the held-out news on words equal to the source's."""
    spinner = Spinner(small_thesaurus, rate=1.0, seed=0, fillers=False)
    spun = spinner.spin("They kept the investment until last year.")
    assert "investment funds" in spun.text and "cobbler's last" in spun.text
    assert "investment" not in labelled_words(spun) and "last" not in labelled_words(spun)
    assert "funds" in labelled_words(spun) and any(w.startswith("cobbler") for w in labelled_words(spun))
    shortened = spinner.spin("The state claimed sovereign immunity.")
    assert shortened.text == "The state claimed immunity." and shortened.swaps == [("sovereign immunity", "immunity")]
    assert sum(shortened.labels) == 0


def test_real_wordnet_spins_seed_sentence(shared_dir):
    thesaurus = load_thesaurus(shared_dir, sources=("wordnet",))  # cached in build/thesaurus after the first run
    spinner = Spinner(thesaurus, rate=0.6, seed=0)
    sentence = "Beijing agreed with Moscow that the NATO military alliance should not admit new members."
    spun = [spinner.spin(sentence) for _ in range(20)]
    assert all(len(s.labels) == word_count(s.text) for s in spun)
    assert sum(bool(s.swaps) for s in spun) >= 15
    assert all("Beijing" in s.text and "NATO" in s.text for s in spun)


def test_connectives_rewritten_like_paraphrasing_tools(small_thesaurus):
    spinner = Spinner(small_thesaurus, rate=1.0, seed=2)
    spun = spinner.spin("It will attack if the talks fail because the alliance grew.")
    originals = [original for original, _ in spun.swaps]
    assert "if" in originals and "because" in originals
    for original, replacement in spun.swaps:
        if original in ("if", "because"):
            assert all(word in labelled_words(spun) for word in replacement.split())
