"""Pair relation: how a suspect sentence relates to the source sentence it was aligned with.

The two sentences are aligned word by word on a comparison key (``word_key`` plus British/American
spelling, hyphenation and number-word folding, so that "destabilising" matches "destabilizing" and
"Washingtons" matches "Washington's"). Short "replace" blocks of that alignment are the
substitutions ("admit" -> "confess", "military" -> "armed forces"); filler insertions ("and" ->
"and also") are spinner evidence too. `pair_features` reads the evidence off that alignment:

* what was kept: the share of words kept in order both ways, and of the source's skeleton
  (function words, names, numbers);
* what was swapped: the share of the source's content words replaced one for one or by a short
  phrase, how much of the change such swaps explain (a rewrite adds, drops and reorders instead),
  and how many of the swaps a thesaurus lists;
* what the classifier read: the sentence's spun probability and the word head's probability on the
  swapped-in words (it flags wrong-sense and tortured words whatever dictionary produced them),
  also weighed against what was kept: a copy-editor's one-word swap reads fluently, a spinner's
  context-free swap does not, and nothing else tells the two apart;
* the sentence similarity.

A `detector.decision.DecisionModel` turns those numbers into copy / spun / paraphrase / unrelated,
so that a spinner whose dictionary the project never saw is still called spun: thesaurus
membership is one feature among these, never a gate. `SpinEvidence` says why, in words.

Example:
    >>> class Table:  # any object with are_neighbours(a, b), such as detector.thesaurus.SynonymTable
    ...     pairs = [("military", "armed forces"), ("admit", "confess"), ("members", "participants")]
    ...     def are_neighbours(self, a, b):
    ...         return (a, b) in self.pairs or (b, a) in self.pairs
    >>> pair = compare_pair(
    ...     "Moscow said the U.S.-led NATO military alliance should not admit new members.",
    ...     "Moscow said the US-led NATO armed forces alliance should not confess new participants.",
    ...     similarity=0.9, synonyms=Table())
    >>> pair.relation, pair.substitutions
    ('spun', [('military', 'armed forces'), ('admit', 'confess'), ('members', 'participants')])
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Protocol

import numpy as np
from lemminflect import getAllLemmas

from detector.decision import DecisionModel
from detector.errors import InputError
from detector.text import normalise, word_key, words

__all__ = [
    "CLASSIFIER_FEATURES",
    "FILLERS",
    "FUNCTION_WORDS",
    "PAIR_FEATURES",
    "RELATIONS",
    "NeighbourTable",
    "PairResult",
    "SpinEvidence",
    "compare_pair",
    "match_key",
    "pair_features",
]

RELATIONS = ("copy", "spun", "paraphrase", "unrelated")
PAIR_FEATURES = (
    "kept", "skeleton_kept", "swap_share", "swaps", "swap_explained", "thesaurus_share", "fillers",
    "word_max", "word_mean", "word_flagged", "sentence_probability", "similarity",
    "classifier_max", "kept_x_classifier", "swaps_x_classifier",
)  # fmt: skip
CLASSIFIER_FEATURES = (  # absent without a classifier
    "word_max", "word_mean", "word_flagged", "sentence_probability", "classifier_max", "kept_x_classifier", "swaps_x_classifier",
)  # fmt: skip
MAX_SUBSTITUTION_WORDS = 4  # a longer replaced stretch is a rewrite (unless it swaps word for word)

# Closed-class English words: the part of the skeleton a spinner keeps (it swaps content words).
FUNCTION_WORDS = frozenset(
    """a about above across after against ago all along also although am among an and another any are
    around as at be because been before being below beside besides between both but by can could did do
    does doing down during each either else even ever every few for from further had has have having he
    her here hers herself him himself his how however i if in inside into is it its itself just least
    less many may me might more most much must my myself neither no nor not of off on once one only onto
    or other others otherwise our ours ourselves out over own per rather same several shall she should
    since so some such than that the their theirs them themselves then there these they this those
    though through throughout thus till to too toward towards under unless until up upon us very via was
    we were what whatever when whenever where whereas wherever whether which while who whom whose why
    will with within without would yet you your yours yourself yourselves""".split()
)

# Words that spinners insert or swap in without a thesaurus ("and" -> "and also", "has actually been").
FILLERS = frozenset("also actually additionally likewise really just indeed truly basically simply certainly".split())

# Connective swaps that spinners make from their phrase lists rather than from a thesaurus.
_CONNECTIVE_SWAPS = frozenset(
    [
        ("and", "as well as"),
        ("and", "along with"),
        ("and", "together with"),
        ("and", "plus"),
        ("also", "additionally"),
        ("also", "likewise"),
        ("also", "furthermore"),
        ("but", "however"),
        ("but", "yet"),
        ("because", "since"),
        ("so", "therefore"),
    ]
)

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_SPELLING_WORDS = {
    "kyiv": "kiev", "kyivs": "kievs", "programme": "program", "programmes": "programs",
    "judgement": "judgment", "ageing": "aging", "grey": "gray", "tyre": "tire", "tyres": "tires",
    "aluminium": "aluminum", "cheque": "check", "cheques": "checks", "draught": "draft",
    "mould": "mold", "sceptical": "skeptical", "sceptic": "skeptic", "plough": "plow",
    "foreswear": "forswear", "whilst": "while", "amongst": "among", "towards": "toward",
}  # fmt: skip
_DIGIT_RE = re.compile(r"\d")
_SPELLING_RULES = [
    (re.compile(r"^([a-z]{3,})our(s|ed|ing|ite|ites|able|ably|ful|hood|hoods|less|er|ers)?$"), r"\1or\2"),
    (re.compile(r"^([a-z]{3,})is(e|es|ed|ing|ation|ations|er|ers)$"), r"\1iz\2"),
    (re.compile(r"^([a-z]{2,})ys(e|es|ed|ing)$"), r"\1yz\2"),
    (re.compile(r"^([a-z]{2,}[tb])re(s|d)?$"), r"\1er\2"),
    (re.compile(r"^([a-z]{2,}[aeiou])ll(ed|ing|er|ers)$"), r"\1l\2"),
    (re.compile(r"^(def|off|lic|pret)ence(s)?$"), r"\1ense\2"),
    (re.compile(r"^(catal|dial|anal|monol|prol|epil)ogue(s)?$"), r"\1og\2"),
]


class NeighbourTable(Protocol):
    """What `compare_pair` needs from a thesaurus (``detector.thesaurus.SynonymTable`` has it)."""

    def are_neighbours(self, a: str, b: str) -> bool: ...


@dataclass
class SpinEvidence:
    """Why a pair was called what it was: the swaps by kind, and how much of the skeleton was kept."""

    flagged_words: list[tuple[str, float]] = field(default_factory=list)  # swapped-in words the word head flags
    thesaurus_swaps: list[tuple[str, str]] = field(default_factory=list)  # swaps a thesaurus lists
    unlisted_swaps: list[tuple[str, str]] = field(default_factory=list)  # swaps no thesaurus of ours lists
    fillers: list[tuple[str, str]] = field(default_factory=list)  # "and" -> "as well as", "has also"
    skeleton_kept: float = 0.0  # share of the source's function words, names and numbers kept in order
    content_swapped: float = 0.0  # share of the source's content words swapped one for one or as short phrases
    sentence_probability: float | None = None  # the classifier's spun probability of the suspect sentence
    relation_probability: float = 0.0  # the decision model's probability of the relation it chose

    def reasons(self) -> list[str]:
        """The evidence in short sentences, strongest first (for Markdown and HTML reports)."""
        lines = []
        if self.flagged_words:
            words_ = ", ".join(f"{word} ({p:.2f})" for word, p in self.flagged_words)
            lines.append(f"word head flags {words_}")
        if self.thesaurus_swaps:
            lines.append("thesaurus neighbours: " + ", ".join(f"{a} \u2192 {b}" for a, b in self.thesaurus_swaps))
        if self.unlisted_swaps:
            lines.append("swaps in no thesaurus of ours: " + ", ".join(f"{a} \u2192 {b}" for a, b in self.unlisted_swaps))
        if self.fillers:
            lines.append("fillers: " + ", ".join(f"{a} \u2192 {b}" for a, b in self.fillers))
        lines.append(f"skeleton kept {self.skeleton_kept:.0%}, content words swapped {self.content_swapped:.0%}")
        if self.sentence_probability is not None:
            lines.append(f"sentence spun probability {self.sentence_probability:.2f}")
        return lines


@dataclass
class PairResult:
    """How a suspect sentence relates to its source sentence, with the evidence behind the call."""

    relation: str  # "copy" | "spun" | "paraphrase" | "unrelated"
    similarity: float  # the sentence similarity that was passed in (combined dense + lexical)
    substitutions: list[tuple[str, str]]  # (source words, suspect words), e.g. ("admit", "confess")
    thesaurus_substitutions: int  # how many of them are thesaurus neighbours
    lexical_overlap: float  # share of source words kept, in order
    suspect_overlap: float = 0.0  # share of suspect words that are kept source words, in order
    skeleton_overlap: float = 0.0  # share of source function words, names and numbers kept, in order
    substitution_rate: float = 0.0  # share of source words inside a substitution
    thesaurus_share: float = 0.0  # thesaurus_substitutions / len(substitutions), 0 when none
    filler_substitutions: int = 0  # spinner fillers and connective swaps ("and" -> "as well as")
    spin_strength: float = 0.0  # (content words swapped, by any dictionary, + fillers) / content words
    spun_probability: float | None = None  # the classifier's probability, when one was given
    thesaurus_flags: list[bool] = field(default_factory=list)  # per substitution: thesaurus neighbour?
    features: dict[str, float] = field(default_factory=dict)  # what the decision model read (`PAIR_FEATURES`)
    probabilities: dict[str, float] = field(default_factory=dict)  # the decision model's, per relation
    evidence: SpinEvidence = field(default_factory=SpinEvidence)
    decision_version: str | None = None  # the `DecisionModel` version that made the call

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (substitutions as two-item lists)."""
        data = asdict(self)
        data["substitutions"] = [list(pair) for pair in self.substitutions]
        return data


@lru_cache(maxsize=1 << 16)
def match_key(word: str) -> str:
    """Key under which two words count as the same word: `word_key` with hyphens dropped, British
    spellings folded to American ones and number words to digits.

    >>> match_key("destabilising") == match_key("destabilizing"), match_key("build-up") == match_key("buildup")
    (True, True)
    >>> match_key("eight"), match_key("Neighbouring"), match_key("centre")
    ('8', 'neighboring', 'center')
    """
    key = word_key(word).replace("-", "")
    if key in _NUMBER_WORDS:
        return _NUMBER_WORDS[key]
    if key in _SPELLING_WORDS:
        return _SPELLING_WORDS[key]
    for pattern, replacement in _SPELLING_RULES:
        key, n = pattern.subn(replacement, key)
        if n:
            break
    return key


@dataclass
class _Words:
    surface: list[str]
    keys: list[str]
    kinds: list[str]  # "function" | "name" | "number" | "content"

    @classmethod
    def of(cls, sentence: str) -> _Words:
        surface = words(normalise(sentence))
        return cls(surface, [match_key(w) for w in surface], [_kind(w, i) for i, w in enumerate(surface)])


def _kind(word: str, position: int) -> str:
    lower = word.lower()
    if lower in FUNCTION_WORDS:
        return "function"
    if lower in _NUMBER_WORDS or _DIGIT_RE.search(word):
        return "number"
    if word[0].isupper() and (position > 0 or word.isupper()):
        return "name"
    return "content"


@dataclass
class _Substitution:
    source: tuple[int, int]  # source word span
    target: tuple[int, int]  # suspect word span
    source_text: str
    suspect_text: str
    thesaurus: bool
    filler: bool


def compare_pair(
    source: str,
    suspect: str,
    similarity: float,
    synonyms: NeighbourTable,
    spun_probability: float | None = None,
    *,
    word_scores: Sequence[tuple[str, float]] | None = None,
    word_threshold: float = 0.5,
    decisions: DecisionModel | None = None,
) -> PairResult:
    """Relation of ``suspect`` to ``source`` (``similarity``: their combined sentence similarity, 0..1).

    ``spun_probability`` and ``word_scores`` (the classifier's, one ``(word, probability)`` per word
    of ``suspect``) are the classifier's evidence; ``word_threshold`` is the probability from which
    the word head calls a word swapped. ``decisions`` is the `DecisionModel` that weighs the evidence
    (default: the shipped model's); without a classifier it reads the source comparison alone.
    """
    if not 0.0 <= similarity <= 1.0 + 1e-6:
        raise InputError(f"similarity must lie in [0, 1], got {similarity!r}")
    if spun_probability is not None and not 0.0 <= spun_probability <= 1.0:
        raise InputError(f"spun_probability must lie in [0, 1] or be None, got {spun_probability!r}")
    decisions = decisions if decisions is not None else _default_decisions()
    src, sus, kept, substitutions, probabilities, features = _read(
        source, suspect, similarity, synonyms, spun_probability, word_scores, word_threshold
    )
    with_classifier = spun_probability is not None and word_scores is not None
    if not src.keys or not sus.keys:
        relation, ranked = "unrelated", {}
    else:
        relation, ranked = decisions.relation(features, with_classifier=with_classifier)
    n_thesaurus = sum(s.thesaurus for s in substitutions)
    swaps = [s for s in substitutions if not s.filler]
    evidence = SpinEvidence(
        flagged_words=[
            (sus.surface[j], round(float(probabilities[j]), 3))
            for s in swaps
            for j in range(*s.target)
            if probabilities is not None and probabilities[j] >= word_threshold
        ],
        thesaurus_swaps=[(s.source_text, s.suspect_text) for s in swaps if s.thesaurus],
        unlisted_swaps=[(s.source_text, s.suspect_text) for s in swaps if not s.thesaurus],
        fillers=[(s.source_text, s.suspect_text) for s in substitutions if s.filler],
        skeleton_kept=round(features["skeleton_kept"], 4),
        content_swapped=round(features["swap_share"], 4),
        sentence_probability=spun_probability,
        relation_probability=ranked.get(relation, 1.0),
    )
    lexical, suspect_overlap = _overlaps(src, sus, kept)
    return PairResult(
        relation=relation,
        similarity=float(similarity),
        substitutions=[(s.source_text, s.suspect_text) for s in substitutions],
        thesaurus_substitutions=n_thesaurus,
        lexical_overlap=lexical,
        suspect_overlap=suspect_overlap,
        skeleton_overlap=features["skeleton_kept"],
        substitution_rate=sum(s.source[1] - s.source[0] for s in swaps) / len(src.keys) if src.keys else 0.0,
        thesaurus_share=n_thesaurus / len(substitutions) if substitutions else 0.0,
        filler_substitutions=sum(s.filler for s in substitutions),
        spin_strength=min(1.0, features["swap_share"] + features["fillers"] / max(1, _content_count(src))),
        spun_probability=spun_probability,
        thesaurus_flags=[s.thesaurus for s in substitutions],
        features=features,
        probabilities=ranked,
        evidence=evidence,
        decision_version=decisions.version,
    )


@lru_cache(maxsize=1)
def _default_decisions() -> DecisionModel:
    return DecisionModel.load()


def pair_features(
    source: str,
    suspect: str,
    similarity: float,
    synonyms: NeighbourTable,
    spun_probability: float | None = None,
    word_scores: Sequence[tuple[str, float]] | None = None,
    word_threshold: float = 0.5,
) -> dict[str, float]:
    """The evidence `compare_pair` weighs, as named numbers (`PAIR_FEATURES`): what training fits on."""
    return _read(source, suspect, similarity, synonyms, spun_probability, word_scores, word_threshold)[-1]


def _read(source, suspect, similarity, synonyms, spun_probability, word_scores, word_threshold):
    """Both sentences' words, the kept positions, the substitutions, the word head's probability per
    suspect word and the features: everything a pair's relation and evidence are read from."""
    src, sus = _Words.of(source), _Words.of(suspect)
    kept, substitutions = _align(src, sus, synonyms, MAX_SUBSTITUTION_WORDS)
    probabilities = _word_probabilities(sus, word_scores)
    features = _features(src, sus, kept, substitutions, similarity, spun_probability, probabilities, word_threshold)
    return src, sus, kept, substitutions, probabilities, features


def _content_count(words_: _Words) -> int:
    return sum(kind == "content" for kind in words_.kinds)


def _overlaps(src: _Words, sus: _Words, kept: set[int]) -> tuple[float, float]:
    """Share of source words kept in order, and share of suspect words that are kept source words."""
    return (len(kept) / len(src.keys) if src.keys else 0.0, len(kept) / len(sus.keys) if sus.keys else 0.0)


def _word_probabilities(sus: _Words, word_scores: Sequence[tuple[str, float]] | None) -> np.ndarray | None:
    """The word head's probability per suspect word, matched by position (or by word when the
    classifier cut the sentence into other words)."""
    if word_scores is None:
        return None
    if len(word_scores) == len(sus.surface):
        return np.array([float(p) for _, p in word_scores])
    by_word: dict[str, float] = {}
    for word, p in word_scores:
        by_word[match_key(word)] = max(by_word.get(match_key(word), 0.0), float(p))
    return np.array([by_word.get(key, 0.0) for key in sus.keys])


def _features(
    src: _Words,
    sus: _Words,
    kept: set[int],
    substitutions: list[_Substitution],
    similarity: float,
    spun_probability: float | None,
    probabilities: np.ndarray | None,
    word_threshold: float,
) -> dict[str, float]:
    """`PAIR_FEATURES` of one aligned pair (see the module docstring)."""
    lexical, suspect_overlap = _overlaps(src, sus, kept)
    skeleton = [i for i, kind in enumerate(src.kinds) if kind != "content"]
    content = [i for i, kind in enumerate(src.kinds) if kind == "content"]
    swaps = [s for s in substitutions if not s.filler]
    swapped = {i for s in swaps for i in range(*s.source)}
    listed = {i for s in swaps if s.thesaurus for i in range(*s.source)}
    changed = max(len(src.keys), len(sus.keys)) - len(kept)
    swapped_in = [probabilities[j] for s in swaps for j in range(*s.target)] if probabilities is not None else []
    flagged = [
        max(probabilities[j] for j in range(*s.target)) >= word_threshold for s in swaps if s.target[1] > s.target[0]
    ] if probabilities is not None else []
    n_content = max(len(content), 1)
    sentence = float(spun_probability) if spun_probability is not None else 0.0
    strongest = max(sentence, float(max(swapped_in, default=0.0)))  # an editor's swap reads fluently, a spinner's not
    kept_share = min(lexical, suspect_overlap)
    return {
        "kept": kept_share,
        "skeleton_kept": sum(i in kept for i in skeleton) / len(skeleton) if skeleton else lexical,
        "swap_share": min(1.0, sum(i in swapped for i in content) / n_content),
        "swaps": math.log1p(len(swaps)),
        "swap_explained": min(1.0, max(len(swapped), sum(s.target[1] - s.target[0] for s in swaps)) / changed) if changed else 1.0,
        "thesaurus_share": sum(i in listed for i in content) / n_content,
        "fillers": float(sum(s.filler for s in substitutions)),
        "word_max": float(max(swapped_in, default=0.0)),
        "word_mean": float(np.mean(swapped_in)) if len(swapped_in) else 0.0,
        "word_flagged": sum(flagged) / len(flagged) if flagged else 0.0,
        "sentence_probability": sentence,
        "similarity": float(similarity),
        "classifier_max": strongest,
        "kept_x_classifier": kept_share * strongest,
        "swaps_x_classifier": math.log1p(len(swaps)) * strongest,
    }


def _align(src: _Words, sus: _Words, synonyms: NeighbourTable, max_words: int) -> tuple[set[int], list[_Substitution]]:
    """Source word positions kept in order, and the substitutions between the two sentences."""
    kept: set[int] = set()
    substitutions: list[_Substitution] = []
    matcher = SequenceMatcher(None, src.keys, sus.keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and _same_word(src, sus, i1, i2, j1, j2)):
            kept.update(range(i1, i2))
        elif op == "replace" and (max(i2 - i1, j2 - j1) <= max_words or i2 - i1 == j2 - j1 <= 2 * max_words):
            same, swaps = _block_substitutions(src, sus, i1, i2, j1, j2, synonyms)
            kept.update(same)
            substitutions.extend(swaps)
        elif op == "insert" and i1 > 0 and i1 - 1 in kept and all(k in FILLERS for k in sus.keys[j1:j2]):
            before = src.surface[i1 - 1]
            padded = " ".join([before, *sus.surface[j1:j2]])
            substitutions.append(_Substitution((i1 - 1, i1), (j1 - 1, j2), before, padded, thesaurus=False, filler=True))
    return kept, substitutions


def _same_word(src: _Words, sus: _Words, i1: int, i2: int, j1: int, j2: int) -> bool:
    """A replace block that is no substitution: "build up" vs "buildup", "hailing" vs "hail"
    (one lemma), "Russian" vs "Russias" (one name, other ending)."""
    if "".join(src.keys[i1:i2]) == "".join(sus.keys[j1:j2]):
        return True
    if i2 - i1 != 1 or j2 - j1 != 1:
        return False
    a, b = src.keys[i1], sus.keys[j1]
    if src.kinds[i1] == "name" and sus.surface[j1][0].isupper():
        return len(_common_prefix(a, b)) >= 6
    return bool(_lemmas(a) & _lemmas(b))


def _common_prefix(a: str, b: str) -> str:
    return a[: next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))]


@lru_cache(maxsize=65536)
def _lemmas(word: str) -> frozenset[str]:
    return frozenset(lemma for lemmas in getAllLemmas(word).values() for lemma in lemmas) | {word}


def _block_substitutions(
    src: _Words, sus: _Words, i1: int, i2: int, j1: int, j2: int, synonyms: NeighbourTable
) -> tuple[list[int], list[_Substitution]]:
    """One replace block as (source positions that are the same word, substitutions): the whole
    phrase, or word by word when the block has equal lengths and the phrase is no thesaurus pair."""
    whole = _substitution(src, sus, i1, i2, j1, j2, synonyms)
    if whole.thesaurus or whole.filler or i2 - i1 != j2 - j1 or i2 - i1 == 1:
        return [], [whole]
    same, swaps = [], []
    for i, j in zip(range(i1, i2), range(j1, j2)):
        if _same_word(src, sus, i, i + 1, j, j + 1):
            same.append(i)
        else:
            swaps.append(_substitution(src, sus, i, i + 1, j, j + 1, synonyms))
    return same, swaps


def _substitution(
    src: _Words, sus: _Words, i1: int, i2: int, j1: int, j2: int, synonyms: NeighbourTable
) -> _Substitution:
    source_text = " ".join(src.surface[i1:i2])
    suspect_text = " ".join(sus.surface[j1:j2])
    a, b = source_text.lower(), suspect_text.lower()
    filler = (a, b) in _CONNECTIVE_SWAPS or (b.startswith(a + " ") and all(w in FILLERS for w in b[len(a) :].split()))
    return _Substitution((i1, i2), (j1, j2), source_text, suspect_text, not filler and synonyms.are_neighbours(a, b), filler)
