"""Same story, not same topic: the marks that two independent reports of one event share.

Two outlets covering the same event name the same uncommon people, firms and places, give the same
figures, and repeat the same quotations; two articles that only share a topic share common names
("U.S.", "Japan", "Reagan") and topic words. `story_marks` lists what a suspect shares with a
source of that first kind: rare names (capitalised mid-sentence), numbers other than small counts
and bare years, and quotations (a quoted stretch sharing four words in a row). Two reports of one
event also share its specific words ("discount window", "borrowings", "statement period"), which
`StoryProfile.word_weights` weighs by how few indexed sources carry each (`word_cosine`, TF-IDF). The
article verdict calls an article `related` only when a candidate source shares enough marks with it
and enough of its words.

What makes a name rare is the corpus's own word: `rare_name_test` calls a name rare when few of the
indexed sources carry it ("Reagan" is in every other 1987 wire story). An index too small to tell
falls back on the whole words of the bundled MiniLM vocabulary, the offline stand-in for a
frequency list that `detector.fingerprint` uses too.

Example:
    >>> marks = story_marks(["Shares of Kuwaiti Petroleum rose 12.5 pct, said analyst Al-Sabah."],
    ...                     ["On Monday, Kuwaiti Petroleum gained 12.5 pct, analyst Al-Sabah's office said."])
    >>> marks.names, marks.numbers, marks.count
    (('al-sabah', 'kuwaiti'), ('12.5',), 3)
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from detector.fingerprint import document_lowercase_words, document_names, document_word_counts, load_common_words
from detector.relation import FUNCTION_WORDS
from detector.text import tokenize, word_key

__all__ = [
    "StoryMarks", "StoryProfile", "common_word_test", "figure_overlap", "mark_name_test", "rare_name_test",
    "sentence_figures", "shared_words", "source_lowercase_words", "source_names", "story_marks",
    "story_words", "template_lines", "word_cosine", "wording_overlap",
]

_QUOTE_RE = re.compile(r'"([^"]{10,}?)"')
_POSSESSIVE_RE = re.compile(r"'s?\b")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_FIGURE_RE = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?(?!\d|[.,/-]\d)|\d+(?:[.,/-]\d+)*")
_THOUSANDS_RE = re.compile(r"[, \u00a0\u202f]")
_YEAR_RE = re.compile(r"^(19|20)\d\d$")
QUOTE_WORDS = 4  # words in a row a quotation must share
MIN_NUMBER_DIGITS = 3  # significant digits of a telling figure
MIN_NAME_CHARS = 3  # shorter capitalised words ("Mr", "St") name nothing


@dataclass(frozen=True)
class StoryMarks:
    """What a suspect shares with a source that a report of another event would not."""

    names: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    quotations: int = 0

    @property
    def count(self) -> int:
        """All shared marks together."""
        return len(self.names) + len(self.numbers) + self.quotations


@dataclass(frozen=True)
class StoryProfile:
    """The names, telling figures and quotation word runs of one text, to compare with others."""

    names: frozenset[str]
    numbers: frozenset[str]
    quotations: tuple[frozenset[tuple[str, ...]], ...]  # per quotation, its runs of `QUOTE_WORDS` words
    words: Mapping[str, int] = field(default_factory=dict)  # content words (`story_words`), with counts

    @classmethod
    def of(cls, sentences: Sequence[str]) -> StoryProfile:
        """The profile of a text given as its sentences."""
        return cls(
            source_names(sentences),
            frozenset(_numbers(sentences)),
            tuple(frozenset(_grams(quote)) for quote in _quotes(sentences)),
            story_words(sentences),
        )

    def word_weights(self, frequency: Callable[[str], int], sources: int) -> dict[str, float]:
        """Unit-length TF-IDF weights of the content words, each weighed by how few of the ``sources``
        indexed sources carry it (``frequency(word)``): (1 + ln count) x (ln((1 + sources) / (1 +
        carriers)) + 1), smoothed so that a tiny index still weighs. `word_cosine` compares two."""
        weights = {word: (1 + math.log(count)) * (math.log((1 + sources) / (1 + min(sources, frequency(word)))) + 1)
                   for word, count in self.words.items()}
        norm = math.sqrt(sum(weight * weight for weight in weights.values()))
        return {word: weight / norm for word, weight in weights.items()} if norm else {}

    def shared(self, source: StoryProfile, rare: Callable[[str], bool] | None = None) -> StoryMarks:
        """What this text shares with ``source``; ``rare`` tells a rare name (default: one outside
        the MiniLM vocabulary, see `rare_name_test`)."""
        rare = rare or rare_name_test()
        source_grams = frozenset().union(*source.quotations)
        return StoryMarks(
            tuple(sorted(n for n in self.names & source.names if rare(n))),
            tuple(sorted(self.numbers & source.numbers)),
            sum(bool(grams & source_grams) for grams in self.quotations),
        )


def story_marks(suspect_sentences: Sequence[str], source_sentences: Sequence[str]) -> StoryMarks:
    """The rare names, telling numbers and quotations that ``suspect_sentences`` share with ``source_sentences``."""
    return StoryProfile.of(suspect_sentences).shared(StoryProfile.of(source_sentences))


def source_names(sentences: Sequence[str]) -> frozenset[str]:
    """Keys of the names in a text (`document_names`, the possessive folded in: "Volcker's" is
    "Volcker"), rare or not; `SourceIndex` counts them per source."""
    found = document_names(_POSSESSIVE_RE.sub("", sentence) for sentence in sentences)
    return frozenset(name for name in found if len(name) >= MIN_NAME_CHARS)


def story_words(sentences: Sequence[str]) -> Counter:
    """The content words of a text with their counts: keys as `source_names` and
    `source_lowercase_words` give them (case and possessive folded), function words and numbers left out."""
    counts = document_word_counts(_POSSESSIVE_RE.sub("", sentence) for sentence in sentences)
    return Counter({key: n for key, n in counts.items() if len(key) >= 2 and key.isalpha() and key not in FUNCTION_WORDS})


def word_cosine(weights: Mapping[str, float], other: Mapping[str, float]) -> float:
    """Cosine of two texts' unit-length word weights (`StoryProfile.word_weights`): how much of one
    event's specific words they share."""
    return sum(weight * other.get(word, 0.0) for word, weight in weights.items())


def shared_words(weights: Mapping[str, float], other: Mapping[str, float], limit: int = 8) -> list[str]:
    """The words that weigh most in `word_cosine` of two texts (largest product of their weights
    first, at most ``limit``): the event's words a reader can check ("borrowings", "discount")."""
    products = {word: weight * other[word] for word, weight in weights.items() if word in other}
    return sorted(products, key=lambda word: (-products[word], word))[:limit]


def sentence_figures(sentence: str) -> frozenset[str]:
    """Every figure a sentence gives, thousands separators dropped, commas or spaces ("1,685,000" and
    "1 685 000" are "1685000"), fractions, ranges and years kept whole ("9-3/4", "1986/87")."""
    return frozenset(_THOUSANDS_RE.sub("", figure) for figure in _FIGURE_RE.findall(sentence))


def figure_overlap(pairs: Iterable[tuple[str, str]]) -> tuple[int, float]:
    """How many sentence pairs give figures on both sides, and the share of their figures the two
    sides share: the shared ones over all, summed over those pairs (1.0 when none gives any).

    A paraphrase keeps its source's figures; another issue of one template (two companies'
    earnings tables, two bond issues, two months of one statistic) repeats the wording with others.
    """
    given = shared = everything = 0
    for source, suspect in pairs:
        ours, theirs = sentence_figures(source), sentence_figures(suspect)
        if ours and theirs:
            given, shared, everything = given + 1, shared + len(ours & theirs), everything + len(ours | theirs)
    return given, shared / everything if everything else 1.0


def wording_overlap(source: str, suspect: str) -> float:
    """The share of two sentences' content words (`story_words`) they share: high for another issue of
    one template ("The notes have an 8-1/4 pct coupon ..." against "... a 9-1/4 pct coupon ..."), lower
    for a paraphrase, which rewords the sentence and keeps its figures."""
    ours, theirs = story_words([source]).keys(), story_words([suspect]).keys()
    every = len(ours | theirs)
    return len(ours & theirs) / every if every else 0.0


def template_lines(pairs: Iterable[tuple[str, str]], max_figure_overlap: float, min_wording: float) -> int:
    """How many sentence pairs keep the wording (`wording_overlap` from ``min_wording``) and give other
    figures (figures on both sides, under ``max_figure_overlap`` of them shared): lines of another issue
    of one template, such as a bond issue's "The notes have an 8-1/4 pct coupon ..." against "a 9-1/4 pct"."""
    lines = 0
    for pair in pairs:
        with_figures, shared = figure_overlap([pair])
        lines += bool(with_figures and shared < max_figure_overlap and wording_overlap(*pair) >= min_wording)
    return lines


def source_lowercase_words(sentences: Sequence[str]) -> frozenset[str]:
    """Keys of the words a text writes lower-case mid-sentence (`SourceIndex` counts them per source,
    beside the names), keyed as `source_names` keys names."""
    return document_lowercase_words(_POSSESSIVE_RE.sub("", sentence) for sentence in sentences)


def common_word_test(
    lowercase_frequency: Callable[[str], int], frequency: Callable[[str], int], min_sources: int = 3, min_share: float = 0.1
) -> Callable[[str], bool]:
    """Whether a capitalised word is a common word, not a name: at least ``min_sources`` indexed
    sources, and ``min_share`` of those that carry it either way, write it lower-case mid-sentence
    ("Cocoa", "Associates", "Interbank Offered Rates"); `lowercase_frequency(word)` and
    `frequency(word)` count the sources writing it lower-case and capitalised."""

    def common(word: str) -> bool:
        lower = lowercase_frequency(word)
        return lower >= max(1, min_sources) and lower >= min_share * (lower + frequency(word))

    return common


def rare_name_test(
    frequency: Callable[[str], int] | None = None, sources: int = 0, max_share: float = 0.005
) -> Callable[[str], bool]:
    """Whether a name is rare: carried by at most ``max_share`` of ``sources`` indexed sources
    (``frequency(name)`` of them). With no counts, or too few sources for that share to allow even
    one, a name is rare when it is not a whole word of the MiniLM vocabulary."""
    if frequency is None or sources * max_share < 1:
        common = load_common_words()
        return lambda name: name not in common
    limit = sources * max_share
    return lambda name: frequency(name) <= limit


def mark_name_test(index, max_name_share: float, min_common_sources: int, min_common_share: float) -> Callable[[str], bool]:
    """Whether a name counts as a same-story mark against ``index`` (a `SourceIndex`): rare among its
    sources (`rare_name_test`) and not a common word capitalised in a title (`common_word_test`)."""
    rare = rare_name_test(index.name_frequency, len(index), max_name_share)
    common = common_word_test(index.lowercase_frequency, index.name_frequency, min_common_sources, min_common_share)
    return lambda name: rare(name) and not common(name)


def _numbers(sentences: Sequence[str]) -> set[str]:
    """Figures that identify an event: three significant digits or more ("2.44", "16.25", "1,234"),
    so not a small count, a round figure ("2.5", "500", "110,000") nor a bare year."""
    found = set()
    for sentence in sentences:
        for figure in _NUMBER_RE.findall(sentence):
            key = figure.replace(",", "")
            if len(key.replace(".", "").strip("0")) >= MIN_NUMBER_DIGITS and not _YEAR_RE.match(key):
                found.add(key)
    return found


def _quotes(sentences: Sequence[str]) -> list[list[str]]:
    return [[word_key(t.text) for t in tokenize(q) if t.is_word] for s in sentences for q in _QUOTE_RE.findall(s)]


def _grams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + QUOTE_WORDS]) for i in range(len(words) - QUOTE_WORDS + 1)}
