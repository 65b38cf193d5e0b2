"""Pair relation: how a suspect sentence relates to the source sentence it was aligned with.

The two sentences are aligned word by word on a comparison key (``word_key`` plus British/American
spelling, hyphenation and number-word folding, so that "destabilising" matches "destabilizing" and
"Washingtons" matches "Washington's"). Short "replace" blocks of that alignment are the
substitutions ("admit" -> "confess", "military" -> "armed forces"); filler insertions ("and" ->
"and also") count as spinner evidence too. The relation is then read off a handful of numbers, all
kept on `PairResult` so that the article verdict can weigh them:

* copy: nearly every word kept in order, both ways (punctuation, case, spelling, a trivial edit);
* spun: the source skeleton (function words, names, numbers, order) is kept while a real share of
  its content words were swapped for thesaurus neighbours (or spinner fillers); the optional
  classifier probability can stand in for part of the thesaurus evidence;
* paraphrase: semantically close (``similarity``) but rewritten or restructured;
* unrelated: otherwise.

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

import re
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Protocol

from lemminflect import getAllLemmas

from detector.errors import InputError
from detector.text import normalise, word_key, words

__all__ = ["FILLERS", "FUNCTION_WORDS", "RELATIONS", "NeighbourTable", "PairResult", "compare_pair", "match_key"]

RELATIONS = ("copy", "spun", "paraphrase", "unrelated")

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
class PairResult:
    """How a suspect sentence relates to its source sentence, with the numbers behind the call."""

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
    spin_strength: float = 0.0  # (content words swapped for thesaurus neighbours + fillers) / content words
    spun_probability: float | None = None  # the classifier's probability, when one was given
    thesaurus_flags: list[bool] = field(default_factory=list)  # per substitution: thesaurus neighbour?

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
    source_text: str
    suspect_text: str
    thesaurus: bool
    filler: bool


@dataclass(frozen=True)
class _Measures:
    lexical_overlap: float
    suspect_overlap: float
    skeleton_overlap: float
    substitution_rate: float
    spin_strength: float


def compare_pair(
    source: str,
    suspect: str,
    similarity: float,
    synonyms: NeighbourTable,
    spun_probability: float | None = None,
    *,
    copy_min_overlap: float = 0.9,
    copy_max_edits: int = 1,
    copy_min_words_for_edits: int = 6,
    spun_min_skeleton: float = 0.6,
    spun_min_overlap: float = 0.35,
    spun_min_strength: float = 0.2,
    classifier_threshold: float = 0.5,
    spun_min_strength_classifier_spun: float = 0.1,
    classifier_clean_threshold: float = 0.2,
    spun_min_strength_classifier_clean: float = 0.35,
    paraphrase_min_similarity: float = 0.6,
    max_substitution_words: int = 4,
) -> PairResult:
    """Relation of ``suspect`` to ``source`` (``similarity``: their combined sentence similarity, 0..1).

    Thresholds (shares are 0..1):

    * copy: at least ``copy_min_overlap`` of the words kept in order both ways, or at most
      ``copy_max_edits`` words added, dropped or changed in a sentence of at least
      ``copy_min_words_for_edits`` words ("Arsenal v Stoke" is no copy of "Arsenal v Wolves"),
      and none of the changes a thesaurus swap
      (such a near-copy with thesaurus swaps is spun when the classifier flags the sentence: light
      spinning changes only a word or two, and so does a human copy-editor);
    * spun: at least ``spun_min_skeleton`` of the source's function words, names and numbers and
      ``spun_min_overlap`` of all its words kept in order, and at least ``spun_min_strength`` of its
      content words swapped for thesaurus neighbours or spinner fillers (``spin_strength``). When the
      classifier's ``spun_probability`` is given, it moves that bar: down to
      ``spun_min_strength_classifier_spun`` at or above ``classifier_threshold``, up to
      ``spun_min_strength_classifier_clean`` below ``classifier_clean_threshold``;
    * paraphrase: otherwise, ``similarity`` at or above ``paraphrase_min_similarity``; else unrelated;
    * ``max_substitution_words``: a longer replaced stretch is a rewrite, not a substitution.
    """
    if not 0.0 <= similarity <= 1.0 + 1e-6:
        raise InputError(f"similarity must lie in [0, 1], got {similarity!r}")
    if spun_probability is not None and not 0.0 <= spun_probability <= 1.0:
        raise InputError(f"spun_probability must lie in [0, 1] or be None, got {spun_probability!r}")
    src, sus = _Words.of(source), _Words.of(suspect)
    kept, substitutions = _align(src, sus, synonyms, max_substitution_words)
    measures = _measure(src, sus, kept, substitutions)
    n_thesaurus = sum(s.thesaurus for s in substitutions)
    edits = max(len(src.keys), len(sus.keys)) - len(kept)
    min_strength = spun_min_strength
    if spun_probability is not None and spun_probability >= classifier_threshold:
        min_strength = spun_min_strength_classifier_spun
    elif spun_probability is not None and spun_probability < classifier_clean_threshold:
        min_strength = spun_min_strength_classifier_clean

    if not src.keys or not sus.keys:
        relation = "unrelated"
    elif (
        n_thesaurus
        and spun_probability is not None
        and spun_probability >= classifier_threshold
        and min(measures.lexical_overlap, measures.suspect_overlap) >= copy_min_overlap
    ):
        relation = "spun"  # a copy but for thesaurus swaps that the classifier reads as spinning: light spin
    elif min(measures.lexical_overlap, measures.suspect_overlap) >= copy_min_overlap or (
        edits <= copy_max_edits and not n_thesaurus and min(len(src.keys), len(sus.keys)) >= copy_min_words_for_edits
    ):
        relation = "copy"
    elif (
        measures.skeleton_overlap >= spun_min_skeleton
        and measures.lexical_overlap >= spun_min_overlap
        and measures.spin_strength >= min_strength
        and measures.spin_strength > 0
    ):
        relation = "spun"
    elif similarity >= paraphrase_min_similarity:
        relation = "paraphrase"
    else:
        relation = "unrelated"
    return PairResult(
        relation=relation,
        similarity=float(similarity),
        substitutions=[(s.source_text, s.suspect_text) for s in substitutions],
        thesaurus_substitutions=n_thesaurus,
        lexical_overlap=measures.lexical_overlap,
        suspect_overlap=measures.suspect_overlap,
        skeleton_overlap=measures.skeleton_overlap,
        substitution_rate=measures.substitution_rate,
        thesaurus_share=n_thesaurus / len(substitutions) if substitutions else 0.0,
        filler_substitutions=sum(s.filler for s in substitutions),
        spin_strength=measures.spin_strength,
        spun_probability=spun_probability,
        thesaurus_flags=[s.thesaurus for s in substitutions],
    )


def _measure(src: _Words, sus: _Words, kept: set[int], substitutions: list[_Substitution]) -> _Measures:
    """The overlap and substitution shares behind the relation (see `PairResult`)."""
    n_src, n_sus = len(src.keys), len(sus.keys)
    skeleton = [i for i, kind in enumerate(src.kinds) if kind != "content"]
    content = [i for i, kind in enumerate(src.kinds) if kind == "content"]
    substituted = {i for s in substitutions if not s.filler for i in range(*s.source)}
    swapped = {i for s in substitutions if s.thesaurus for i in range(*s.source)}
    fillers = sum(s.filler for s in substitutions)  # a filler swaps no content word: counted as one
    lexical_overlap = len(kept) / n_src if n_src else 0.0
    return _Measures(
        lexical_overlap=lexical_overlap,
        suspect_overlap=len(kept) / n_sus if n_sus else 0.0,
        skeleton_overlap=sum(i in kept for i in skeleton) / len(skeleton) if skeleton else lexical_overlap,
        substitution_rate=len(substituted) / n_src if n_src else 0.0,
        spin_strength=min(1.0, (sum(i in swapped for i in content) + fillers) / max(len(content), 1)),
    )


def _align(src: _Words, sus: _Words, synonyms: NeighbourTable, max_words: int) -> tuple[set[int], list[_Substitution]]:
    """Source word positions kept in order, and the substitutions between the two sentences."""
    kept: set[int] = set()
    substitutions: list[_Substitution] = []
    matcher = SequenceMatcher(None, src.keys, sus.keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and _same_word(src, sus, i1, i2, j1, j2)):
            kept.update(range(i1, i2))
        elif op == "replace" and max(i2 - i1, j2 - j1) <= max_words:
            same, swaps = _block_substitutions(src, sus, i1, i2, j1, j2, synonyms)
            kept.update(same)
            substitutions.extend(swaps)
        elif op == "insert" and i1 > 0 and i1 - 1 in kept and all(k in FILLERS for k in sus.keys[j1:j2]):
            before = src.surface[i1 - 1]
            padded = " ".join([before, *sus.surface[j1:j2]])
            substitutions.append(_Substitution((i1 - 1, i1), before, padded, thesaurus=False, filler=True))
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
    return _Substitution((i1, i2), source_text, suspect_text, not filler and synonyms.are_neighbours(a, b), filler)
