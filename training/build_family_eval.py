"""Leave-one-family-out evaluation of article verdicts: suspects spun by each substitution family.

A judge of family F (`training.families`: its classifier never saw F, its synonym table lacks F)
is scored on the suspects F spun, next to the family-independent kinds. Everything comes from
held-out data: the test split of the news (`training.build_eval_articles.held_out_news`) and the
test parts of MRPC, STS and ParaSCI. Suspect kinds (truth verdict in brackets)::

    spun_light        per family, about 10-15 % of the content words swapped      (spun)
    spun_heavy        per family, 30-50 %                                         (spun)
    copy              verbatim, shuffled, lost_punctuation_case, boilerplate      (copy)
    rewrite           MRPC paraphrase pseudo-articles: newspaper rewrites         (paraphrased)
    human_paraphrase  STS news and ParaSCI paraphrase pseudo-articles             (paraphrased)
    absent_same_topic an unindexed article of an indexed topic, no names link     (original)
    related           another article on the same story as an indexed one        (related)
    partial_reuse     2-5 sentences of one source, copied or spun, in an unindexed article (copy / spun)
    stitched          3-6 sentences from each of 2-3 sources, each part copied or spun     (copy / spun)

The word families spin news articles, each family the same source articles (light and heavy from
different ones), at a rate searched per article until the measured ``swap_share`` (changed content
words / content words of the source) falls in the band. Tortured phrases are rare in news, so the
"tortured" family spins science pseudo-articles of 8-12 ParaSCI test sentences, most of which hold an
expected phrase of the PPS test half: light gives tortured phrases to a quarter to a third of the
sentences, heavy to every sentence that has one (its ``rate`` is that share of sentences; light and
heavy share their sources, as the test half has too few carriers for two sets).

``pairs.jsonl`` is for FITTING a pair-relation model and comes from training data only: training-split
news sentences (the rule of `training.build_dataset`), ParaSCI training-split sentences (carriers of
tortured phrases) and the training parts of MRPC, STS and ParaSCI. Relations: spun (per family, over
`PAIR_RATES`; tortured at rate 1: a phrase is there or not), copy (verbatim, lost case, lost punctuation,
one function word dropped), paraphrase (near copies kept) and
unrelated (half of them the most similar of 50 random sentences by TF-IDF cosine).

Output: ``<out>/{sources,suspects,pairs}.jsonl`` and ``<out>/card.json``::

    python -m training.build_family_eval --out build/family-eval --per-kind 100 --seed 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from detector.documents import Document
from detector.errors import InputError
from detector.text import split_sentences, tokenize, words
from training.build_dataset import news_split, pair_split, spin_with_a_swap, usable_sentence
from training.build_eval_articles import (
    PAIR_RATES,
    EvalSet,
    _cap_distractors,
    _News,
    _paraphrase_articles,
    _related_pairs,
    _sentence_copy,
    _SuspectMaker,
    _unlinked,
    held_out_news,
    paraphrases_by_corpus,
)
from training.corpora import ParaphrasePair, read_mrpc, read_news, read_parasci, read_sts, resolve_shared_dir
from training.families import FAMILIES, family_spinner
from training.spinner import STOP_WORDS, Spinner, SpunSentence

__all__ = [
    "DEFAULT_OUT",
    "KINDS",
    "FamilyEvalSet",
    "FamilySuspect",
    "EvalMaterial",
    "PairMaterial",
    "RelationPair",
    "build_family_eval",
    "load_eval_material",
    "load_pair_material",
    "main",
    "relation_pairs",
    "swap_share",
]

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "build" / "family-eval"
KINDS = ("spun_light", "spun_heavy", "copy", "rewrite", "human_paraphrase", "absent_same_topic", "related", "partial_reuse", "stitched")
NEWS_FAMILIES = tuple(f for f in FAMILIES if f != "tortured")  # the families that can spin news
SHARE_BANDS = {"spun_light": (0.10, 0.15), "spun_heavy": (0.30, 0.50)}  # wanted share of content words swapped
TYPICAL_COVERAGE = 0.65  # content-word share a thesaurus swaps at rate 1 (0.6-0.7 measured on held-out news)
RATE_ATTEMPTS = 5
COPY_VARIANTS = ("verbatim", "shuffled", "lost_punctuation_case", "boilerplate")
SCIENCE_SENTENCES = (8, 12)
MIN_CARRIERS = 3  # sentences with a tortured phrase per science pseudo-article
TORTURED_LIGHT = (0.25, 1 / 3)  # share of a pseudo-article's sentences given tortured phrases
LIFTED_SENTENCES, MIN_LIFTED_WORDS, PARTIAL_SENTENCES = (2, 5), 10, (8, 20)
STITCHED_SOURCES, STITCHED_PART = (2, 3), (3, 6)
LIFT_RATES = (0.2, 0.6)  # spinner rates of lifted parts that are spun
PAIR_COPY_VARIANTS = ("verbatim", "lost_case", "lost_punctuation", "one_word_dropped")
EDIT_DROPPABLE = frozenset("that the a an has have had on also".split())  # what a copy desk drops without rewriting
MIN_PAIR_WORDS = 6
HARD_CANDIDATES = 50


@dataclass(frozen=True)
class FamilySuspect:
    """One suspect article, its true verdict and the indexed sources it was made from."""

    id: str
    text: str
    kind: str
    family: str | None  # the family whose swaps it holds; None when nothing in it was spun
    truth: str  # "copy", "spun", "paraphrased", "related" or "original"
    source_ids: list[str]
    variant: str
    rate: float | None  # spinner rate; tortured: share of sentences given tortured phrases
    swap_share: float | None  # changed content words / content words of the source text; None without one
    split: str = "test"


@dataclass(frozen=True)
class RelationPair:
    """A (source, suspect) sentence pair of a known relation, for fitting a pair-relation model."""

    id: str
    source: str
    suspect: str
    relation: str  # "copy", "spun", "paraphrase" or "unrelated"
    family: str | None
    rate: float | None
    variant: str


@dataclass
class EvalMaterial:
    """Held-out material for the suspects: test-split news, rewritten test paraphrases, ParaSCI test sentences."""

    news: list[_News]
    paraphrases: dict[str, list[ParaphrasePair]]  # "mrpc", "sts_news", "parasci" (see `paraphrases_by_corpus`)
    science: list[str]  # distinct first sides of ParaSCI test pairs


@dataclass
class PairMaterial:
    """Training material for the relation pairs, disjoint from `EvalMaterial`."""

    news: list[tuple[str, str]]  # (article id, sentence) of training-split news
    science: list[tuple[str, str]]  # (pair id, sentence) of training-split ParaSCI first sides
    paraphrases: list[ParaphrasePair]  # training-split paraphrases of MRPC, STS and ParaSCI


class FamilyEvalSet(EvalSet):
    """Sources to index, suspects (`FamilySuspect`) to judge and relation pairs (`RelationPair`) to fit
    on, with the build parameters; saved as `EvalSet` saves, with a card of its own."""

    def card(self) -> dict:
        """Counts per kind and family, truth and relation; mean swap share and rate per family and kind."""
        by_kind: dict[str, Counter] = defaultdict(Counter)
        shares: dict[tuple[str, str], list[float]] = defaultdict(list)
        rates: dict[tuple[str, str], list[float]] = defaultdict(list)
        for s in self.suspects:
            by_kind[s.kind][s.family or "-"] += 1
            if s.family is not None:
                shares[s.family, s.kind].append(s.swap_share)
                rates[s.family, s.kind].append(s.rate)
        pairs: dict[str, Counter] = defaultdict(Counter)
        for p in self.pairs:
            pairs[p.relation][p.family or "-"] += 1
        return {
            "parameters": self.parameters,
            "sources": len(self.sources),
            "suspects": {kind: dict(counts) for kind, counts in by_kind.items()},
            "truth": dict(Counter(s.truth for s in self.suspects)),
            "mean_swap_share": _nested_means(shares),
            "mean_rate": _nested_means(rates),
            "pairs": {relation: dict(counts) for relation, counts in pairs.items()},
        }


def _nested_means(values: dict[tuple[str, str], list[float]]) -> dict[str, dict[str, float]]:
    means: dict[str, dict[str, float]] = defaultdict(dict)
    for (family, kind), found in sorted(values.items()):
        means[family][kind] = round(sum(found) / len(found), 4)
    return dict(means)


# --- measuring a spin ------------------------------------------------------------------------------


def _content_words(text: str) -> list[str]:
    """Lower-case words that are no function word and hold a letter (names count: a spinner keeps them)."""
    return [w.lower() for w in words(text) if w.lower() not in STOP_WORDS and any(c.isalpha() for c in w)]


def _changed(spun: Sequence[SpunSentence]) -> int:
    """Content words the swaps replaced ("machine translation" -> "contraption translation": one)."""
    changed = 0
    for sentence in spun:
        for original, replacement in sentence.swaps:
            kept = set(_content_words(replacement))
            changed += sum(word not in kept for word in _content_words(original))
    return changed


def swap_share(spun: Sequence[SpunSentence], source: str) -> float:
    """Changed content words / content words of ``source``, the text that was spun into ``spun``."""
    return round(_changed(spun) / max(1, len(_content_words(source))), 4)


def _spin_to_share(spinner: Spinner, text: str, band: tuple[float, float]) -> tuple[str, float, float]:
    """(spun text, rate, swap share): the rate is rescaled until the share falls in ``band`` (or the closest try)."""
    low, high = band
    target = (low + high) / 2
    rate, best = min(1.0, target / TYPICAL_COVERAGE), None
    for _ in range(RATE_ATTEMPTS):
        spun = spinner.spin_article(text, rate=rate)
        share = swap_share(spun, text)
        if best is None or abs(share - target) < abs(best[2] - target):
            best = (" ".join(s.text for s in spun), round(rate, 4), share)
        if low <= share <= high or (rate == 1.0 and share < low):
            break
        rate = min(1.0, rate * target / share) if share else min(1.0, 2 * rate)
    return best


# --- planning the held-out news ---------------------------------------------------------------------


@dataclass
class _NewsPlan:
    """Which held-out articles play which part; all but related suspects, absent articles and hosts are indexed."""

    related: list[tuple[_News, _News]]  # (indexed article, related suspect)
    absent: list[_News]
    hosts: list[_News]  # unindexed articles that receive lifted sentences
    spun: list[_News]  # light sources, then heavy sources
    copied: list[_News]
    partial: list[_News]
    stitched: list[list[_News]]

    def kept_out(self) -> set[str]:
        return {s.id for _, s in self.related} | {a.id for a in self.absent + self.hosts}


def _plan_news(news: list[_News], per_kind: int, rng: random.Random) -> _NewsPlan:
    """Deal the shuffled held-out news into parts; absent articles must share a topic with some source."""
    pool = list(news)
    rng.shuffle(pool)
    related = _related_pairs(pool, per_kind)
    taken = {a.id for pair in related for a in pair}
    alone = _unlinked(pool, taken)
    candidates = [a for a in alone if a.topics][: 2 * per_kind]  # absent articles need a topic
    taken |= {a.id for a in candidates}
    hosts = [a for a in alone if a.id not in taken and len(a.sentences) >= PARTIAL_SENTENCES[0] - LIFTED_SENTENCES[0]][:per_kind]
    taken |= {a.id for a in hosts}
    free = [a for a in pool if a.id not in taken]
    spun, copied, rest = free[: 2 * per_kind], free[2 * per_kind : 3 * per_kind], free[3 * per_kind :]
    partial = [a for a in rest if sum(len(words(s)) >= MIN_LIFTED_WORDS for s in a.sentences) >= LIFTED_SENTENCES[0]][:per_kind]
    rest = [a for a in rest if a.id not in {p.id for p in partial}]
    stitched = []
    while len(stitched) < per_kind and len(rest) >= STITCHED_SOURCES[1]:
        size = rng.randint(*STITCHED_SOURCES)
        stitched.append(rest[:size])
        rest = rest[size:]
    sources = [a for a, _ in related] + spun + copied + partial + [a for group in stitched for a in group]
    topics = {t for a in sources for t in a.topics}
    absent = [a for a in candidates if a.topics & topics][:per_kind]
    plan = _NewsPlan(related, absent, hosts, spun, copied, partial, stitched)
    _check_plan(plan, per_kind)
    return plan


def _check_plan(plan: _NewsPlan, per_kind: int) -> None:
    found = {"related": len(plan.related), "absent_same_topic": len(plan.absent), "hosts": len(plan.hosts),
             "spun sources": len(plan.spun) // 2, "copy": len(plan.copied), "partial_reuse": len(plan.partial),
             "stitched": len(plan.stitched)}
    short = {name: count for name, count in found.items() if count < per_kind}
    if short:
        raise InputError(f"per_kind={per_kind} is more than the held-out news supports ({short}): ask for fewer")


# --- suspects ---------------------------------------------------------------------------------------


def _suspect(kind: str, number: int, text: str, truth: str, source_ids: list[str], variant: str, *,
             family: str | None = None, rate: float | None = None, share: float | None = None) -> FamilySuspect:
    label = family if kind in SHARE_BANDS else variant
    return FamilySuspect(f"{kind}:{label}:{number}", text, kind, family, truth, source_ids, variant, rate, share)


def _news_spun(plan: _NewsPlan, spinners: Mapping[str, Spinner], per_kind: int, log: Callable[[str], None]) -> list[FamilySuspect]:
    """Light and heavy spins of the same source articles by each word family; a spin that changed nothing is dropped."""
    suspects = []
    for family in NEWS_FAMILIES:
        for offset, kind in enumerate(SHARE_BANDS):
            for number, source in enumerate(plan.spun[offset * per_kind : (offset + 1) * per_kind]):
                text, rate, share = _spin_to_share(spinners[family], source.article.text, SHARE_BANDS[kind])
                if share > 0:
                    suspects.append(_suspect(kind, number, text, "spun", [source.id], "news", family=family, rate=rate, share=share))
        log(f"spun news with {family}")
    return suspects


@dataclass(frozen=True)
class _ScienceArticle:
    """A pseudo-article of ParaSCI test sentences; ``carriers`` index those holding an expected phrase."""

    id: str
    sentences: list[str]
    carriers: list[int]


def _science_articles(sentences: Sequence[str], spinner: Spinner, per_kind: int, rng: random.Random) -> list[_ScienceArticle]:
    """``per_kind`` pseudo-articles of 8-12 sentences, the carriers of tortured phrases dealt evenly among them."""
    carriers = [s for s in sentences if spinner.spin(s, rate=1.0).swaps]
    found = set(carriers)
    others = [s for s in sentences if s not in found and len(words(s)) >= MIN_PAIR_WORDS]
    rng.shuffle(carriers)
    rng.shuffle(others)
    if len(carriers) < MIN_CARRIERS * per_kind:
        raise InputError(f"per_kind={per_kind} needs {MIN_CARRIERS * per_kind} science sentences with a tortured phrase; found {len(carriers)}")
    articles = []
    for number in range(per_kind):
        chosen = carriers[number::per_kind][: SCIENCE_SENTENCES[1] - 1]
        filler = max(1, rng.randint(*SCIENCE_SENTENCES) - len(chosen))
        chosen_others, others = others[:filler], others[filler:]
        order = chosen + chosen_others
        rng.shuffle(order)
        articles.append(_ScienceArticle(f"science-article:{number}", order, [i for i, s in enumerate(order) if s in chosen]))
    return articles


def _tortured_spun(articles: list[_ScienceArticle], spinner: Spinner, rng: random.Random) -> list[FamilySuspect]:
    """Light (a quarter to a third of the sentences) and heavy (every carrier) tortured versions of each pseudo-article."""
    suspects = []
    for kind in SHARE_BANDS:
        for number, article in enumerate(articles):
            if kind == "spun_light":
                wanted = round(len(article.sentences) * rng.uniform(*TORTURED_LIGHT))
                chosen = set(rng.sample(article.carriers, max(1, min(wanted, len(article.carriers)))))
            else:
                chosen = set(article.carriers)
            spun = [spinner.spin(s, rate=1.0) for i, s in enumerate(article.sentences) if i in chosen]
            texts = iter(s.text for s in spun)
            text = " ".join(next(texts) if i in chosen else s for i, s in enumerate(article.sentences))
            share = swap_share(spun, " ".join(article.sentences))
            rate = round(len(chosen) / len(article.sentences), 4)
            suspects.append(_suspect(kind, number, text, "spun", [article.id], "science", family="tortured", rate=rate, share=share))
    return suspects


def _copies(plan: _NewsPlan, rng: random.Random) -> list[FamilySuspect]:
    maker = _SuspectMaker(None, rng)  # only its copies are used: no spinner needed
    titles = [a.article.title.title() for a in plan.absent + plan.hosts]
    suspects = []
    for number, source in enumerate(plan.copied):
        variant = COPY_VARIANTS[number % len(COPY_VARIANTS)]
        text = maker.copy(source, variant, None, titles[number % len(titles)])
        suspects.append(_suspect("copy", number, text, "copy", [source.id], variant, share=0.0))
    return suspects


def _lift(sentences: list[str], spinner: Spinner | None, rate: float) -> tuple[list[str], int]:
    """The lifted sentences, spun when ``spinner`` is given, and how many content words changed."""
    if spinner is None:
        return list(sentences), 0
    spun = [spinner.spin(s, rate=rate) for s in sentences]
    return [s.text for s in spun], _changed(spun)


def _maybe_spinner(spinners: Mapping[str, Spinner], rng: random.Random) -> tuple[str | None, Spinner | None, float | None]:
    """Half the time a random word family's spinner and a rate, else nothing (a copy)."""
    if rng.random() < 0.5:
        return None, None, None
    family = rng.choice(NEWS_FAMILIES)
    return family, spinners[family], round(rng.uniform(*LIFT_RATES), 4)


def _partial_reuse(plan: _NewsPlan, spinners: Mapping[str, Spinner], rng: random.Random) -> list[FamilySuspect]:
    """2-5 consecutive long sentences of a source, copied or spun, set into 8-20 sentences of an unindexed article."""
    suspects = []
    for number, (source, host) in enumerate(zip(plan.partial, plan.hosts)):
        long = [s for s in source.sentences if len(words(s)) >= MIN_LIFTED_WORDS]
        size = min(rng.randint(*LIFTED_SENTENCES), len(long))
        start = rng.randint(0, len(long) - size)
        family, spinner, rate = _maybe_spinner(spinners, rng)
        lifted, changed = _lift(long[start : start + size], spinner, rate)
        own = host.sentences[: max(PARTIAL_SENTENCES[0] - size, rng.randint(*PARTIAL_SENTENCES) - size)]
        at = rng.randint(0, len(own))
        text = " ".join(own[:at] + lifted + own[at:])
        share = round(changed / max(1, len(_content_words(" ".join(long[start : start + size])))), 4)
        truth, variant = ("spun", "spun") if changed else ("copy", "copied")
        suspects.append(_suspect("partial_reuse", number, text, truth, [source.id], variant,
                                 family=family if changed else None, rate=rate if changed else None, share=share))
    return suspects


def _stitched(plan: _NewsPlan, spinners: Mapping[str, Spinner], rng: random.Random) -> list[FamilySuspect]:
    """3-6 consecutive sentences from each of 2-3 sources, each part copied or spun (one family per suspect)."""
    suspects = []
    for number, group in enumerate(plan.stitched):
        family, rate = rng.choice(NEWS_FAMILIES), round(rng.uniform(*LIFT_RATES), 4)
        parts, changed, content = [], 0, 0
        for source in group:
            size = rng.randint(STITCHED_PART[0], min(STITCHED_PART[1], len(source.sentences)))
            start = rng.randint(0, len(source.sentences) - size)
            part = source.sentences[start : start + size]
            lifted, part_changed = _lift(part, spinners[family] if rng.random() < 0.5 else None, rate)
            parts += lifted
            changed += part_changed
            content += len(_content_words(" ".join(part)))
        truth = "spun" if changed else "copy"
        suspects.append(_suspect("stitched", number, " ".join(parts), truth, [a.id for a in group], f"{len(group)}_sources",
                                 family=family if changed else None, rate=rate if changed else None,
                                 share=round(changed / max(1, content), 4)))
    return suspects


def _human_kinds(plan: _NewsPlan, paraphrased: dict[str, list], per_kind: int) -> list[FamilySuspect]:
    """Rewrites, human paraphrases, related articles and absent articles: nothing spun in any."""
    suspects = []
    for kind in ("rewrite", "human_paraphrase"):
        for number, (source_id, variant, _, sides) in enumerate(paraphrased[kind][:per_kind]):
            suspects.append(_suspect(kind, number, " ".join(sides), "paraphrased", [source_id], variant))
    for number, (anchor, item) in enumerate(plan.related):
        suspects.append(_suspect("related", number, item.article.text, "related", [anchor.id], "same_story"))
    for number, item in enumerate(plan.absent):
        suspects.append(_suspect("absent_same_topic", number, item.article.text, "original", [], "same_topic"))
    return suspects


def _paraphrase_pseudo_articles(paraphrases: dict[str, list[ParaphrasePair]], science: list[_ScienceArticle],
                                per_kind: int, rng: random.Random) -> dict[str, list]:
    """MRPC pseudo-articles (rewrite) and STS news / ParaSCI ones (human_paraphrase), none sharing a sentence with a science article."""
    used = {s for article in science for s in article.sentences}
    parasci = [p for p in paraphrases["parasci"] if p.text_a not in used and p.text_b not in used]
    found = {"rewrite": _paraphrase_articles({"mrpc": paraphrases["mrpc"]}, rng, ("mrpc",)),
             "human_paraphrase": _paraphrase_articles({"sts_news": paraphrases["sts_news"], "parasci": parasci}, rng, ("sts_news", "parasci"))}
    short = {kind: len(articles) for kind, articles in found.items() if len(articles) < per_kind}
    if short:
        raise InputError(f"per_kind={per_kind} is more than the paraphrase pseudo-articles {short}: ask for fewer")
    return found


# --- relation pairs -----------------------------------------------------------------------------------


def relation_pairs(material: PairMaterial, spinners: Mapping[str, Spinner], per_family: int, rng: random.Random) -> list[RelationPair]:
    """Spun pairs per family (``per_family`` each), copies and unrelated pairs (``per_family`` each) and
    up to 1.5 x ``per_family`` human paraphrases, from training material only."""
    sentences = list(material.news)
    rng.shuffle(sentences)
    copies, spin_pool, rest = sentences[:per_family], sentences[per_family : 4 * per_family], sentences[4 * per_family :]
    pairs = []
    for number, (_, sentence) in enumerate(copies):
        variant = PAIR_COPY_VARIANTS[number % len(PAIR_COPY_VARIANTS)]
        copied = _one_word_dropped(sentence, rng) if variant == "one_word_dropped" else _sentence_copy(sentence, variant)
        pairs.append(RelationPair(f"copy:{number}", sentence, copied, "copy", None, None, variant))
    science = list(material.science)
    rng.shuffle(science)
    for family in FAMILIES:
        pool, rates = (science, (1.0,)) if family == "tortured" else (spin_pool, PAIR_RATES)
        pairs += _spun_pairs(family, spinners[family], pool, rates, per_family)
    pairs += _paraphrase_pairs(material.paraphrases, 3 * per_family // 2, rng)
    pairs += _unrelated_pairs(rest, per_family, rng)
    return pairs


def _one_word_dropped(sentence: str, rng: random.Random) -> str:
    """The sentence less one function word ("said that the" -> "said the"), as a copy desk trims it;
    unchanged when it has none to drop."""
    tokens = [t for t in tokenize(sentence) if t.is_word and t.text.lower() in EDIT_DROPPABLE]
    if not tokens:
        return sentence
    token = rng.choice(tokens)
    return " ".join((sentence[: token.start] + sentence[token.end :]).split())


def _spun_pairs(family: str, spinner: Spinner, pool: list[tuple[str, str]], rates: Sequence[float], wanted: int) -> list[RelationPair]:
    """Spins of the pool's sentences at the rates in turn; a sentence that draws no swap in four tries is skipped."""
    pairs: list[RelationPair] = []
    for _, sentence in pool:
        if len(pairs) == wanted:
            break
        rate = rates[len(pairs) % len(rates)]
        spun = spin_with_a_swap(spinner, sentence, rate)
        if spun.swaps:
            pairs.append(RelationPair(f"spun:{family}:{len(pairs)}", sentence, spun.text, "spun", family, rate, f"rate_{rate}"))
    return pairs


def _paraphrase_pairs(paraphrases: list[ParaphrasePair], wanted: int, rng: random.Random) -> list[RelationPair]:
    """Up to ``wanted`` paraphrases of at least 6 words a side, the corpora taking turns."""
    by_corpus: dict[str, list[ParaphrasePair]] = defaultdict(list)
    for pair in paraphrases:
        if min(len(words(pair.text_a)), len(words(pair.text_b))) >= MIN_PAIR_WORDS:
            by_corpus[pair.source].append(pair)
    groups = list(by_corpus.values())
    for group in groups:
        rng.shuffle(group)
    turns = (group[i] for i in range(max(map(len, groups), default=0)) for group in groups if i < len(group))
    return [RelationPair(f"paraphrase:{n}", p.text_a, p.text_b, "paraphrase", None, None, p.source)
            for n, p in enumerate(islice(turns, wanted))]


def _unrelated_pairs(sentences: list[tuple[str, str]], wanted: int, rng: random.Random) -> list[RelationPair]:
    """Sentence pairs of different articles: half at random, half the most TF-IDF-similar of 50 random candidates."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len({article_id for article_id, _ in sentences}) < 2:
        raise InputError(f"unrelated pairs need sentences of at least two articles; got {len(sentences)} sentences")
    vectors = TfidfVectorizer(sublinear_tf=True).fit_transform([s for _, s in sentences])
    pairs: list[RelationPair] = []
    while len(pairs) < wanted:
        a = rng.randrange(len(sentences))
        others = [i for i in rng.sample(range(len(sentences)), min(HARD_CANDIDATES, len(sentences))) if sentences[i][0] != sentences[a][0]]
        if not others:
            continue
        hard = len(pairs) % 2 == 1
        b = others[int((vectors[others] @ vectors[a].T).toarray().argmax())] if hard else others[0]
        variant = "hard_tfidf" if hard else "random"
        pairs.append(RelationPair(f"unrelated:{len(pairs)}", sentences[a][1], sentences[b][1], "unrelated", None, None, variant))
    return pairs


# --- the whole set ------------------------------------------------------------------------------------


def build_family_eval(
    material: EvalMaterial,
    pair_material: PairMaterial,
    spinners: Mapping[str, Spinner],
    *,
    per_kind: int = 100,
    pairs_per_family: int = 600,
    distractors: int | None = None,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> FamilyEvalSet:
    """The evaluation set (see the module docstring) from ``material``, ``pair_material`` and one
    `Spinner` per family; the same arguments give the same set. ``distractors`` caps the indexed
    articles that are no suspect's source (None: every one)."""
    if per_kind < 1 or pairs_per_family < 1:
        raise InputError(f"per_kind={per_kind} and pairs_per_family={pairs_per_family} must be >= 1")
    missing = [family for family in FAMILIES if family not in spinners]
    if missing:
        raise InputError(f"no spinner for the families {missing}; give one per family of {FAMILIES}")
    rng = random.Random(seed)
    plan = _plan_news(material.news, per_kind, rng)
    science = _science_articles(material.science, spinners["tortured"], per_kind, rng)
    paraphrased = _paraphrase_pseudo_articles(material.paraphrases, science, per_kind, rng)
    log(f"planned {len(material.news)} news articles, {len(science)} science pseudo-articles")
    suspects = _news_spun(plan, spinners, per_kind, log) + _tortured_spun(science, spinners["tortured"], rng)
    suspects += _copies(plan, rng) + _partial_reuse(plan, spinners, rng) + _stitched(plan, spinners, rng)
    suspects += _human_kinds(plan, paraphrased, per_kind)
    log(f"made {len(suspects)} suspects")
    sources = _sources(material.news, plan, paraphrased, science)
    sources = _cap_distractors(sources, {i for s in suspects for i in s.source_ids}, distractors, rng)
    pairs = relation_pairs(pair_material, spinners, pairs_per_family, rng)
    log(f"made {len(pairs)} relation pairs")
    parameters = {"per_kind": per_kind, "pairs_per_family": pairs_per_family, "distractors": distractors, "seed": seed,
                  "share_bands": SHARE_BANDS, "tortured_light_sentences": TORTURED_LIGHT, "pair_rates": PAIR_RATES}
    return FamilyEvalSet(sources, suspects, pairs, parameters)


def _sources(news: list[_News], plan: _NewsPlan, paraphrased: dict[str, list], science: list[_ScienceArticle]) -> list[Document]:
    """The index: held-out news but the kept-out articles, paraphrase pseudo-articles' first sides, science pseudo-articles."""
    kept_out = plan.kept_out()
    sources = [Document(a.id, a.article.text, {"title": a.article.title, "topics": sorted(a.topics)}) for a in news if a.id not in kept_out]
    sources += [Document(i, " ".join(firsts), {"title": "", "topics": []}) for articles in paraphrased.values() for i, _, firsts, _ in articles]
    sources += [Document(a.id, " ".join(a.sentences), {"title": "", "topics": []}) for a in science]
    return sources


def load_eval_material(shared: str | os.PathLike | None = None, dataset_seed: int = 0) -> EvalMaterial:
    """Test-split news, rewritten test paraphrases and ParaSCI test first sides."""
    shared = resolve_shared_dir(shared)
    science = list(dict.fromkeys(p.text_a for p in read_parasci(shared, "test")))
    return EvalMaterial(held_out_news(shared, dataset_seed), paraphrases_by_corpus(shared), science)


def load_pair_material(shared: str | os.PathLike | None = None, dataset_seed: int = 0, sentences: int = 6000, seed: int = 0) -> PairMaterial:
    """About ``sentences`` usable sentences of training-split news articles (seeded choice of articles),
    ParaSCI training-split first sides and the training-split paraphrases of MRPC, STS and ParaSCI."""
    shared = resolve_shared_dir(shared)
    articles = [a for a in read_news(shared, held_out=False) if news_split(a, dataset_seed) == "train"]
    random.Random(seed).shuffle(articles)
    news: list[tuple[str, str]] = []
    for article in articles:
        if len(news) >= sentences:
            break
        segments = split_sentences(article.text)
        news += [(article.id, s.text) for s in segments if not s.is_boilerplate and not s.is_heading and usable_sentence(s.text)]
    parasci = [p for p in read_parasci(shared, "train") if pair_split(p, dataset_seed) == "train"]
    science = list({p.text_a: (p.id, p.text_a) for p in parasci}.values())
    paraphrases = [p for p in [*read_mrpc(shared, "train"), *read_sts(shared, "train")] if p.is_paraphrase and pair_split(p, dataset_seed) == "train"]
    return PairMaterial(news, science, paraphrases + parasci)


def main(argv: Sequence[str] | None = None) -> FamilyEvalSet:
    parser = argparse.ArgumentParser(prog="python -m training.build_family_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=None, help="shared data folder (default: $SPIN_DETECTOR_SHARED or ../shared)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--per-kind", type=int, default=100, help="suspects per kind (spun kinds: per family)")
    parser.add_argument("--pairs-per-family", type=int, default=600, help="spun pairs per family; copy and unrelated pairs as many")
    parser.add_argument("--distractors", type=int, default=None, help="cap on indexed articles that are no suspect's source")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset-seed", type=int, default=0, help="seed of the training.build_dataset run (its news splits)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {message}", flush=True)

    material = load_eval_material(args.shared, args.dataset_seed)
    pair_material = load_pair_material(args.shared, args.dataset_seed, sentences=6 * args.pairs_per_family + 2000, seed=args.seed)
    spinners = {family: family_spinner(family, args.shared, args.seed, dataset_seed=args.dataset_seed) for family in FAMILIES}
    log("loaded the held-out and training material and the five family spinners")
    built = build_family_eval(material, pair_material, spinners, per_kind=args.per_kind, pairs_per_family=args.pairs_per_family,
                              distractors=args.distractors, seed=args.seed, log=log)
    built.parameters["dataset_seed"] = args.dataset_seed
    folder = built.save(args.out)
    print(json.dumps(built.card(), indent=2))
    log(f"wrote {folder}")
    return built


if __name__ == "__main__":
    main()
