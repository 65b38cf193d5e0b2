"""A synthetic article spinner: context-free thesaurus swaps, with every change recorded per word.

Bulk spinners (Spin Rewriter, WordAI and the like) walk through a text and replace words and short
phrases by any thesaurus neighbour, whatever the sense ("admit new members" -> "confess new
participants", "role" -> "function", "security" -> "safety", "military" -> "armed forces"), keep the
inflection and the capitals, leave names and numbers alone, spin quoted speech like the rest, pad
the text with fillers ("and" -> "as well as" / "and also", "have vowed" -> "have actually sworn")
and rewrite connectives the way paraphrasing tools do ("if" -> "on the off chance that", an opening
"But" -> "Be that as it may", "between" -> "among"). `Spinner` does
the same from a `training.thesauri.Thesaurus`, with a seeded random generator, and labels each word
token of the output (as cut by `detector.text.tokenize`) 1 when the spinner wrote it: a word that
a phrase swap carried over from the words it replaced ("last" in "last" -> "cobbler's last") keeps 0.

Example:
    >>> from training.thesauri import Thesaurus
    >>> th = Thesaurus()
    >>> th.add("member", "participant", "mythes", "noun")
    >>> th.add("admit", "confess", "mythes", "verb")
    >>> spun = Spinner(th, rate=1.0, seed=0, fillers=False).spin("NATO should not admit new members.")
    >>> spun.text, spun.labels
    ('NATO should not confess new participants.', [0, 0, 0, 1, 0, 1])
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import lemminflect

from detector.errors import InputError
from detector.text import Token, split_sentences, tokenize
from training.thesauri import FAMILY_SOURCES, MAX_PHRASE_WORDS, Synonym, Thesaurus

__all__ = ["STOP_WORDS", "SpunSentence", "Spinner", "lemma_readings", "usable_swap"]

STOP_WORDS = frozenset(
    """a about above across actually additionally after again against ago all almost along already also although
    always am among an and another any anyone anything are around as at away be became because become been before
    being below between both but by can cannot could did do does doing done down during each either else enough
    etc even ever every few for from further had has have having he her here hers herself him himself his how
    however i if in into is it its itself just least less many may me might mine more most mr mrs ms much must my
    myself neither never no nobody none nor not nothing now of off often on once one only onto or other others
    otherwise our ours ourselves out over own per perhaps quite rather same several shall she should since so
    some somebody someone something such than that the their theirs them themselves then there these they this
    those though through thus to together too toward towards under unless until up upon us very via was we were
    what whatever when whenever where whether which while who whoever whom whose why will with within without would
    yes yet you your yours yourself yourselves
    zero two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen
    eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion
    trillion first second third fourth fifth sixth seventh eighth ninth tenth half dozen""".split()
)

_AUXILIARIES = frozenset("have has had having be been being is are was were get gets got gotten".split())
_FILLER_ADVERBS = ("actually", "really", "in fact")
_FUNCTION_SWAPS = {  # the function-word rewrites of paraphrasing tools ("if" -> "on the off chance that")
    "also": ("additionally", "likewise", "in addition", "furthermore"),
    "if": ("assuming", "in the event that", "on the off chance that", "provided that"),
    "because": ("since", "on the grounds that", "considering that"),
    "although": ("despite the fact that", "albeit", "even though"),
    "despite": ("in spite of", "regardless of", "notwithstanding"),
    "very": ("exceptionally", "extremely", "incredibly", "truly"),
    "many": ("numerous", "various", "a lot of"),
    "some": ("a few", "certain", "a couple of"),
    "about": ("around", "approximately", "regarding", "concerning"),
    "between": ("among", "amid"),
    "before": ("prior to", "preceding"),
    "after": ("following", "subsequent to"),
    "but": ("yet", "however", "nonetheless"),
    "however": ("nonetheless", "be that as it may", "in any case"),
    "often": ("frequently", "regularly", "commonly"),
    "almost": ("practically", "nearly", "just about"),
}
_AND_SWAPS = ("as well as", "and also")
_OPENING_SWAPS = {  # sentence connectors as paraphrasing tools rewrite them ("But, as we know" -> "Be that as it may, ...")
    "But": ("Be that as it may", "Yet", "Nevertheless", "However"),
    "However": ("In any case", "Be that as it may", "Nonetheless", "All things considered"),
    "Also": ("Additionally", "Likewise", "Furthermore", "In addition"),
}
_UPOS_POS = {"NOUN": "noun", "VERB": "verb", "ADJ": "adj", "ADV": "adv"}
_TAGS = {
    "NOUN": ("NN", "NNS"),
    "VERB": ("VB", "VBZ", "VBG", "VBD", "VBN"),
    "ADJ": ("JJ", "JJR", "JJS"),
    "ADV": ("RB", "RBR", "RBS"),
}
_BASE_TAGS = frozenset({"NN", "VB", "JJ", "RB"})
_TERM_RE = re.compile(r"^[a-z]+(?:[ '-][a-z]+)*$")
_UNTAGGED_SOURCES = frozenset({"ppdb", "embedding"})  # sources without parts of speech, so no inflection check
_SPINNER_RELATIONS = ("synonym", "broader")  # a spinner swaps to synonyms and generic terms, never to narrower ones
_CACHE_LIMIT = 200_000


@dataclass
class SpunSentence:
    """A spun sentence: ``labels`` holds one 0/1 per word token of ``tokenize(text)`` (1 = written by the spinner)."""

    text: str
    labels: list[int]
    swaps: list[tuple[str, str]]  # (original words, spun words); ("", "actually") for an insertion
    rate: float  # the swap rate the sentence was spun at


@dataclass(frozen=True)
class _Unit:
    """A span of one or more word tokens that may be swapped as a whole."""

    first: int  # token indices, inclusive
    last: int
    key: str  # lower-case text looked up in the thesaurus
    upos: str | None = None  # set when ``key`` is a lemma and the swap must be re-inflected
    tag: str | None = None
    after_auxiliary: bool = False  # "have vowed": a past form is a participle ("sworn", not "swore")


@dataclass(frozen=True)
class _Edit:
    first: int  # token indices replaced (inclusive); last = first - 1 for an insertion before ``first``
    last: int
    text: str
    changed: tuple[tuple[int, int], ...]  # character spans of ``text`` written by the spinner


class Spinner:
    """Context-free synonym spinner over a `Thesaurus`.

    Parameters: ``rate`` is the share of eligible content words (and phrases) swapped, from light
    (0.05) to heavy (0.6), or a ``(low, high)`` range drawn from per call of `spin` / `spin_article`;
    ``seed`` seeds the random generator; ``sources`` restricts swaps to synonyms listed by those
    sources of `FAMILY_SOURCES` (leave-one-thesaurus-out, or one substitution family of
    `training.families`); ``fillers`` turns the filler and connective rewrites on or off.
    """

    def __init__(
        self,
        thesaurus: Thesaurus,
        *,
        rate: float | tuple[float, float] = 0.3,
        seed: int | None = 0,
        sources: Sequence[str] | None = None,
        fillers: bool = True,
    ) -> None:
        self.thesaurus = thesaurus
        self.rate = _check_rate(rate)
        self.seed = seed
        self.sources = tuple(sources) if sources is not None else None
        if self.sources is not None and (not self.sources or set(self.sources) - set(FAMILY_SOURCES)):
            raise InputError(f"sources={sources!r}: give a non-empty subset of {FAMILY_SOURCES}")
        self.fillers = fillers
        self._rng = random.Random(seed)
        self._candidate_cache: dict[tuple, tuple[str, ...]] = {}

    def spin(self, sentence: str, *, rate: float | None = None) -> SpunSentence:
        """Spin one sentence at ``rate`` (default: the spinner's rate, drawn from its range)."""
        rate = self._draw_rate() if rate is None else _check_rate(rate)
        tokens = tokenize(sentence)
        frozen = self._frozen_tokens(tokens)
        edits = self._filler_edits(tokens, frozen, rate) if self.fillers else []
        busy = {i for edit in edits for i in range(edit.first, edit.last + 1)}
        edits += self._swap_edits(tokens, frozen | busy, rate)
        return _apply(sentence, tokens, edits, rate)

    def spin_article(self, text: str, *, rate: float | None = None) -> list[SpunSentence]:
        """Spin every sentence of an article at one rate; boilerplate segments stay as they are."""
        rate = self._draw_rate() if rate is None else _check_rate(rate)
        spun = []
        for segment in split_sentences(text):
            if segment.is_boilerplate:
                spun.append(SpunSentence(segment.text, [0] * sum(t.is_word for t in tokenize(segment.text)), [], rate))
            else:
                spun.append(self.spin(segment.text, rate=rate))
        return spun

    def _draw_rate(self) -> float:
        low, high = self.rate if isinstance(self.rate, tuple) else (self.rate, self.rate)
        return low if low == high else self._rng.uniform(low, high)

    # --- what may change -------------------------------------------------------------------------

    @staticmethod
    def _frozen_tokens(tokens: list[Token]) -> set[int]:
        """Tokens never swapped: punctuation, names and acronyms, numbers, possessives. Quoted speech
        is spun like the rest, as bulk spinners do (both spun seeds rewrite their quotes)."""
        frozen = set()
        opening = _first_word(tokens)
        for i, token in enumerate(tokens):
            text = token.text
            if not token.is_word or not text.isascii() or "'" in text:
                frozen.add(i)
            elif any(c.isdigit() for c in text) or (not text.islower() and not (i == opening and _is_adverb(text))):
                frozen.add(i)
        return frozen

    def _swap_edits(self, tokens: list[Token], frozen: set[int], rate: float) -> list[_Edit]:
        units = self._units(tokens, frozen)
        wanted = int(rate * len(units) + self._rng.random())
        edits: list[_Edit] = []
        for unit in self._rng.sample(units, len(units)):
            if len(edits) >= wanted:
                break
            neighbours = {tokens[j].text.lower() for j in (unit.first - 1, unit.last + 1) if 0 <= j < len(tokens)}
            options = [c for c in self._candidates(unit) if not neighbours & set(c.split())]
            if options:
                choice = _match_case(tokens[unit.first].text, self._rng.choice(options))
                replaced = {token.text.lower() for token in tokens[unit.first : unit.last + 1]}
                edits.append(_Edit(unit.first, unit.last, choice, _new_words(choice, replaced)))
        return edits

    def _units(self, tokens: list[Token], frozen: set[int]) -> list[_Unit]:
        """Phrases (longest first) and single content words that the thesaurus knows, left to right."""
        units = []
        i = 0
        while i < len(tokens):
            unit = self._phrase_unit(tokens, frozen, i) or self._word_unit(tokens, frozen, i)
            if unit:
                units.append(unit)
                i = unit.last + 1
            else:
                i += 1
        return units

    def _phrase_unit(self, tokens: list[Token], frozen: set[int], i: int) -> _Unit | None:
        for n in range(min(MAX_PHRASE_WORDS, len(tokens) - i), 1, -1):
            span = tokens[i : i + n]
            if any(j in frozen for j in range(i, i + n)) or any(b.start != a.end + 1 for a, b in zip(span, span[1:])):
                continue
            words = [t.text.lower() for t in span]
            if all(w in STOP_WORDS for w in words):
                continue
            for key, upos, tag in _phrase_readings(words, _after_auxiliary(tokens, i)):
                if key in self.thesaurus:
                    return _Unit(i, i + n - 1, key, upos, tag)
        return None

    def _word_unit(self, tokens: list[Token], frozen: set[int], i: int) -> _Unit | None:
        word = tokens[i].text.lower()
        if i in frozen or word in STOP_WORDS or len(word) < 3:
            return None
        if word in self.thesaurus or any(
            lemma in self.thesaurus for lemmas in lemma_readings(word).values() for lemma in lemmas
        ):
            return _Unit(i, i, word, after_auxiliary=_after_auxiliary(tokens, i))
        return None

    # --- what it may change into -----------------------------------------------------------------

    def _candidates(self, unit: _Unit) -> tuple[str, ...]:
        key = (unit.key, unit.upos, unit.tag, unit.after_auxiliary)
        if key not in self._candidate_cache:
            if len(self._candidate_cache) >= _CACHE_LIMIT:
                self._candidate_cache.clear()
            if unit.first == unit.last and unit.upos is None:
                found = self._word_candidates(unit.key, unit.after_auxiliary)
            else:
                found = self._phrase_candidates(unit)
            self._candidate_cache[key] = found
        return self._candidate_cache[key]

    def _synonyms(self, term: str, pos: str | None = None) -> list[Synonym]:
        return self.thesaurus.synonyms(term, self.sources, pos=pos, relations=_SPINNER_RELATIONS)

    def _word_candidates(self, word: str, after_auxiliary: bool) -> tuple[str, ...]:
        """Every thesaurus neighbour of ``word`` and of its lemmas, re-inflected like ``word``."""
        readings = lemma_readings(word)
        own = {word} | {lemma for lemmas in readings.values() for lemma in lemmas}
        is_inflected = bool(readings) and not any(word in lemmas for lemmas in readings.values())
        found = {
            syn.text: syn.sources for syn in self._synonyms(word) if not (is_inflected and _is_base_form(syn.text))
        }
        for upos, lemmas in readings.items():
            for lemma in lemmas if upos in _TAGS else ():
                tag = _guess_tag(word, lemma, upos, after_auxiliary)
                if tag is None or tag in _BASE_TAGS:
                    continue
                for syn in self._synonyms(lemma, _UPOS_POS[upos]):
                    surface = _inflect(syn.text, upos, tag)
                    if surface:
                        found.setdefault(surface, syn.sources)
        return tuple(text for text, sources in found.items() if usable_swap(text, sources, own))

    def _phrase_candidates(self, unit: _Unit) -> tuple[str, ...]:
        phrase = unit.key
        if unit.upos is None:
            found = {syn.text: syn.sources for syn in self._synonyms(phrase)}
        else:
            found = {}
            for syn in self._synonyms(phrase, _UPOS_POS[unit.upos]):
                surface = syn.text if unit.tag in _BASE_TAGS else _inflect(syn.text, unit.upos, unit.tag)
                if surface:
                    found.setdefault(surface, syn.sources)
        return tuple(text for text, sources in found.items() if usable_swap(text, sources, {phrase}))

    # --- fillers ---------------------------------------------------------------------------------

    def _filler_edits(self, tokens: list[Token], frozen: set[int], rate: float) -> list[_Edit]:
        """ "and" -> "as well as" / "and also", "if" -> "on the off chance that", "also" -> "additionally",
        "have vowed" -> "have actually vowed", an opening "But" -> "Be that as it may"."""
        edits = []
        opening = _first_word(tokens)
        for i, token in enumerate(tokens):
            word = token.text.lower()
            if i == opening and token.text in _OPENING_SWAPS and self._rng.random() < rate:
                choice = self._rng.choice(_OPENING_SWAPS[token.text])
                edits.append(_Edit(i, i, choice, ((0, len(choice)),)))
                continue
            if i == opening or i in frozen or self._rng.random() >= rate:
                continue
            nxt = tokens[i + 1].text.lower() if i + 1 < len(tokens) else ""
            if word == "and" and token.text == word and nxt not in ("also", "as", ""):
                choice = self._rng.choice(_AND_SWAPS)
                edits.append(_Edit(i, i, choice, _new_words(choice, {word})))
            elif token.text in _FUNCTION_SWAPS:
                choice = self._rng.choice(_FUNCTION_SWAPS[token.text])
                edits.append(_Edit(i, i, choice, ((0, len(choice)),)))
            elif (
                word in _AUXILIARIES
                and i + 1 < len(tokens)
                and i + 1 not in frozen
                and nxt.endswith(("ed", "en", "ing"))
            ):
                if self._rng.random() < 0.5:
                    choice = self._rng.choice(_FILLER_ADVERBS)
                    edits.append(_Edit(i + 1, i, choice, ((0, len(choice)),)))
        return edits


def _check_rate(rate: float | tuple[float, float]) -> float | tuple[float, float]:
    low, high = rate if isinstance(rate, tuple) else (rate, rate)
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and 0.0 <= low <= high <= 1.0):
        raise InputError(f"rate={rate!r}: give a share between 0 and 1 (light 0.05, heavy 0.6) or a (low, high) range")
    return (float(low), float(high)) if isinstance(rate, tuple) else float(rate)


def _first_word(tokens: list[Token]) -> int | None:
    """Index of the sentence's first word token (after any opening quote or bracket)."""
    return next((i for i, token in enumerate(tokens) if token.is_word), None)


def _is_adverb(text: str) -> bool:
    """A capitalised word that is an ordinary adverb ("Unfortunately"), not a name."""
    return text[1:].islower() and set(lemma_readings(text.lower())) == {"ADV"}


def _after_auxiliary(tokens: list[Token], i: int) -> bool:
    """An auxiliary just before, or before one "-ly" adverb ("have repeatedly denied")."""
    before = [t.text.lower() for t in tokens[max(0, i - 2) : i]]
    return bool(before) and (
        before[-1] in _AUXILIARIES or (len(before) == 2 and before[0] in _AUXILIARIES and before[1].endswith("ly"))
    )


def _phrase_readings(words: list[str], after_auxiliary: bool) -> list[tuple[str, str | None, str | None]]:
    """The phrase as written, then with its first word as a verb lemma ("called on" -> "call on")
    and with its last word as a noun lemma ("security measure" for "security measures")."""
    readings: list[tuple[str, str | None, str | None]] = [(" ".join(words), None, None)]
    for lemma in lemma_readings(words[0]).get("VERB", ()):
        tag = _guess_tag(words[0], lemma, "VERB", after_auxiliary)
        if tag and lemma != words[0]:
            readings.append((" ".join([lemma, *words[1:]]), "VERB", tag))
    for lemma in lemma_readings(words[-1]).get("NOUN", ()):
        if lemma != words[-1]:
            readings.append((" ".join([*words[:-1], lemma]), "NOUN", "NNS"))
    return readings


def _guess_tag(word: str, lemma: str, upos: str, after_auxiliary: bool) -> str | None:
    """The Penn tag that turns ``lemma`` into ``word`` (past participle over past tense after an auxiliary)."""
    tags = [tag for tag in _TAGS[upos] if word in _inflection(lemma, tag)]
    if word == lemma and _TAGS[upos][0] in tags:
        return _TAGS[upos][0]
    if "VBD" in tags and "VBN" in tags:
        return "VBN" if after_auxiliary else "VBD"
    return tags[0] if tags else None


def _inflect(text: str, upos: str, tag: str) -> str | None:
    """``text`` (a base form) inflected for ``tag``: a verb phrase on its first word, a noun phrase on its last."""
    words = text.split(" ")
    if len(words) > 1 and upos not in ("NOUN", "VERB"):
        return None
    at = 0 if upos == "VERB" else len(words) - 1
    lemmas = lemma_readings(words[at]).get(upos)
    if lemmas and words[at] not in lemmas:
        return None  # already inflected ("troops"): inflecting again would give garbage
    forms = _inflection(words[at], tag, inflect_oov=upos in ("NOUN", "VERB"))
    if not forms:
        return None
    words[at] = forms[0]
    return " ".join(words)


@lru_cache(maxsize=1 << 18)
def lemma_readings(word: str) -> dict[str, tuple[str, ...]]:
    """lemminflect's lemmas of ``word`` by universal part of speech (cached: the lookup deep-copies)."""
    return lemminflect.getAllLemmas(word)


@lru_cache(maxsize=1 << 18)
def _inflection(lemma: str, tag: str, inflect_oov: bool = True) -> tuple[str, ...]:
    return lemminflect.getInflection(lemma, tag, inflect_oov=inflect_oov)


def _is_base_form(text: str) -> bool:
    """True when the (last) word of ``text`` is a lemma: "soldier" is, "troops" is not."""
    last = text.rsplit(" ", 1)[-1]
    readings = lemma_readings(last)
    return not readings or any(last in lemmas for lemmas in readings.values())


def usable_swap(text: str, sources: tuple[str, ...], own: set[str]) -> bool:
    """A real word form, not a function word, not the same word in another inflection or spelling."""
    if not _TERM_RE.match(text) or text in own:
        return False
    if " " in text:
        return True
    if text in STOP_WORDS or len(text) < 3 or any(_same_stem(text, word) for word in own):
        return False
    lemmas = {lemma for lemmas in lemma_readings(text).values() for lemma in lemmas}
    if lemmas & own:
        return False
    return bool(lemmas) or not set(sources) <= _UNTAGGED_SOURCES  # untagged-only single words must be known English forms


def _same_stem(a: str, b: str) -> bool:
    """ "neighboring" / "neighbouring", "agreed" / "agreement": a spelling or derivation, not a synonym."""
    common = len(os.path.commonprefix([a, b]))
    return common >= 4 and common >= 0.6 * min(len(a), len(b))


def _new_words(replacement: str, replaced: set[str]) -> tuple[tuple[int, int], ...]:
    """Character spans of the replacement's words that the replaced words did not hold: an unchanged
    word is no substitution ("investment" -> "investment funds" labels "funds" only)."""
    return tuple(
        (token.start, token.end) for token in tokenize(replacement) if token.is_word and token.text.lower() not in replaced
    )


def _match_case(original: str, replacement: str) -> str:
    return replacement[0].upper() + replacement[1:] if original[:1].isupper() else replacement


def _apply(sentence: str, tokens: list[Token], edits: list[_Edit], rate: float) -> SpunSentence:
    """Rebuild the sentence with the edits and label the word tokens of the result."""
    pieces: list[str] = []
    changed: list[tuple[int, int]] = []
    swaps = []
    position = 0
    length = 0
    for edit in sorted(edits, key=lambda e: (e.first, e.last)):
        insertion = edit.last < edit.first
        start = tokens[edit.first].start
        end = start if insertion else tokens[edit.last].end
        text = edit.text + " " if insertion else edit.text
        pieces.append(sentence[position:start])
        length += start - position
        changed.extend((length + a, length + b) for a, b in edit.changed)
        pieces.append(text)
        length += len(text)
        position = end
        swaps.append(("" if insertion else sentence[start:end], edit.text))
    pieces.append(sentence[position:])
    text = "".join(pieces)
    labels = [int(any(a < t.end and t.start < b for a, b in changed)) for t in tokenize(text) if t.is_word]
    return SpunSentence(text, labels, swaps, rate)
