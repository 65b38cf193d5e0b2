"""Article- and pair-level evaluation sets for `detector.evaluation`, built with fixed seeds.

Nothing here overlaps what the shipped model trained on: the news comes from the test split of
`training.build_dataset` (the held-out Reuters files reut2-016..018 and the BBC articles that its
seeded hash puts in ``test``; ``--dataset-seed`` must match the build's seed), the paraphrases from
the test parts of MRPC, STS (2015-2016) and ParaSCI.

Article level: an index of clean sources and suspects of each verdict::

    copy         verbatim, shuffled, lost_punctuation_case, boilerplate, partial (half copied, half new text)
    spun         light (rate 0.1), heavy (0.5), partial (half the sentences spun at 0.3)
    paraphrased  a pseudo-article of paraphrase pairs' first sides is indexed; the suspect is their
                 paraphrasing sides, sentence for sentence (news: MRPC / STS; science: ParaSCI)
    related      another article on the same topic (Reuters <TOPICS>, BBC category) whose nearest
                 indexed neighbour by shared rare names is not a duplicate (few shared trigrams)
    original     an article absent from the index, sharing no topic-and-names link with any indexed article

Wires repeat stories (updates, corrections; BBC has true duplicates): an article that shares a
prose sentence with an earlier one is dropped, so no suspect is secretly a copy of a distractor. The rest of the held-out
articles, and the unused pseudo-articles, are indexed as distractors (all of them, or ``distractors``).
Every suspect is put in the ``tune`` split (30 %, for fitting baseline thresholds) or ``test`` by a
seeded hash of its id.

Pair level: copy (verbatim, lost case, lost punctuation), spun (the spinner at rates 0.05..0.6),
paraphrase (MRPC / STS / ParaSCI test paraphrases) and unrelated (STS test pairs scored <= 1, random Reuters
sentence pairs) sentence pairs.

Output: ``<out>/sources.jsonl`` (id, text, meta), ``<out>/suspects.jsonl``, ``<out>/pairs.jsonl``,
``<out>/card.json`` (counts, seed, parameters)::

    python -m training.build_eval_articles --out build/eval --per-verdict 150 --pairs-per-relation 300 --seed 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from detector.documents import Document
from detector.errors import InputError
from detector.text import split_sentences, word_key, words
from training.build_dataset import NEWS_FRACTIONS
from training.corpora import (
    REUTERS_HELD_OUT,
    Article,
    ParaphrasePair,
    assign_split,
    read_bbc,
    read_mrpc,
    read_parasci,
    read_reuters,
    read_sts,
    resolve_shared_dir,
    stable_fraction,
)
from training.spinner import Spinner
from training.thesauri import load_thesaurus

__all__ = [
    "COPY_VARIANTS",
    "DEFAULT_OUT",
    "PAIR_RATES",
    "PAIR_RELATIONS",
    "SPUN_RATES",
    "EvalSet",
    "SentencePair",
    "Suspect",
    "build_eval_set",
    "held_out_news",
    "main",
    "held_out_paraphrases",
    "paraphrases_by_corpus",
]

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "build" / "eval"
COPY_VARIANTS = ("verbatim", "shuffled", "lost_punctuation_case", "boilerplate", "partial")
SPUN_RATES = {"light": 0.1, "heavy": 0.5, "partial": 0.3}
PARAPHRASE_SENTENCES = 5  # pairs per paraphrase pseudo-article
PARAPHRASE_VARIANTS = ("mrpc_sts", "parasci")
MAX_PARAPHRASE_OVERLAP = 0.8  # a "paraphrase" keeping more of its source's words is a near copy: left out
PAIR_RATES = (0.05, 0.1, 0.2, 0.3, 0.45, 0.6)
PAIR_RELATIONS = ("copy", "spun", "paraphrase", "unrelated")
TUNE_FRACTION = 0.3
MIN_PROSE_SENTENCES = 4
MIN_PROSE_WORDS = 8
MIN_SHARED_NAMES = 2  # rare names two articles of one topic must share to count as related
MAX_RELATED_OVERLAP = 0.25  # a related article shares fewer of its word trigrams with its indexed partner
RARE_NAME_SHARE = 0.01  # a name in more than this share of the articles ("U.S.", "Japan") says nothing
BOILERPLATE_LINES = (
    "ALSO READ: {title}",
    "Read more: {title}",
    "Share this article",
    "Subscribe to our newsletter for the latest news.",
    "Leave a Reply",
    "Your email address will not be published. Required fields are marked *",
    "News Source : Reuters",
    "Click here to read more.",
)
_PUNCTUATION_LOST = re.compile(r"[\"'`,;:()\[\]]")


@dataclass(frozen=True)
class Suspect:
    """One article to analyse and what it truly is; ``source_id`` is its indexed source (None for originals)."""

    id: str
    text: str
    verdict: str
    variant: str
    source_id: str | None
    rate: float | None
    split: str


@dataclass(frozen=True)
class SentencePair:
    """A (source, suspect) sentence pair of a known relation; ``rate`` is the swap rate of spun pairs."""

    id: str
    source: str
    suspect: str
    relation: str
    variant: str
    rate: float | None
    origin: str


@dataclass
class EvalSet:
    """Sources to index, suspects to analyse and sentence pairs to compare, with the build parameters."""

    sources: list[Document]
    suspects: list[Suspect]
    pairs: list[SentencePair]
    parameters: dict = field(default_factory=dict)

    def card(self) -> dict:
        """Counts per verdict, variant, split and relation, plus the build parameters."""
        return {
            "parameters": self.parameters,
            "sources": len(self.sources),
            "suspects": dict(Counter(s.verdict for s in self.suspects)),
            "variants": dict(Counter(f"{s.verdict}/{s.variant}" for s in self.suspects)),
            "splits": dict(Counter(s.split for s in self.suspects)),
            "pairs": dict(Counter(p.relation for p in self.pairs)),
        }

    def save(self, folder: str | os.PathLike) -> Path:
        """Write sources.jsonl, suspects.jsonl, pairs.jsonl and card.json into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        _write_jsonl(folder / "sources.jsonl", [{"id": d.id, "text": d.text, "meta": d.meta} for d in self.sources])
        _write_jsonl(folder / "suspects.jsonl", [asdict(s) for s in self.suspects])
        _write_jsonl(folder / "pairs.jsonl", [asdict(p) for p in self.pairs])
        (folder / "card.json").write_text(json.dumps(self.card(), indent=2) + "\n", encoding="utf-8")
        return folder


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


# --- held-out news ----------------------------------------------------------------------------------


@dataclass
class _News:
    """A held-out news article with its sentences, topics and rare names."""

    article: Article
    sentences: list[str]
    topics: frozenset[str]
    names: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.article.id


_TOPICS_DOC = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>.*?<TOPICS>(.*?)</TOPICS>", re.DOTALL)


def _reuters_topics(shared: Path) -> dict[str, frozenset[str]]:
    """Topic codes per held-out article id (`training.corpora.Article` does not carry them)."""
    topics = {}
    for stem in REUTERS_HELD_OUT:
        raw = (shared / "data" / "news" / "reuters21578" / f"{stem}.sgm").read_text(encoding="latin-1")
        for new_id, codes in _TOPICS_DOC.findall(raw):
            topics[f"reuters:{stem}:{new_id}"] = frozenset(re.findall(r"<D>(.*?)</D>", codes))
    return topics


def _prose(sentence: str) -> bool:
    return len(words(sentence)) >= MIN_PROSE_WORDS and sum(c.islower() for c in sentence) > len(sentence) / 2


def _sentence_key(sentence: str) -> tuple[str, ...]:
    return tuple(word_key(w) for w in words(sentence))


def _capitalised_words(sentences: Sequence[str]) -> set[str]:
    """Word keys of capitalised words that do not open a sentence (names, places, companies, titles)."""
    return {word_key(w) for s in sentences for w in words(s)[1:] if w[:1].isupper() and len(w) > 2}


def _lower_case_words(sentences: Sequence[str]) -> set[str]:
    return {word_key(w) for s in sentences for w in words(s) if w.islower()}


def _test_split_articles(shared: Path, dataset_seed: int) -> list[Article]:
    """The news articles `training.build_dataset` keeps for test: held-out Reuters and the BBC test split."""
    bbc = [a for a in read_bbc(shared) if assign_split(a.id, dataset_seed, NEWS_FRACTIONS) == "test"]
    return [*read_reuters(shared, held_out=True), *bbc]


def held_out_news(shared: Path, dataset_seed: int = 0) -> list[_News]:
    """Test-split news articles with enough prose, in order, each sharing no prose sentence with an earlier one."""
    topics, seen, news = _reuters_topics(shared), set(), []
    for article in _test_split_articles(shared, dataset_seed):
        sentences = [s.text for s in split_sentences(article.text) if not s.is_boilerplate]
        keys = [_sentence_key(s) for s in sentences if _prose(s)]
        if len(keys) < MIN_PROSE_SENTENCES or len(keys) < 0.6 * len(sentences) or seen.intersection(keys):
            continue
        seen.update(keys)
        category = frozenset({article.id.split(":")[1].split("/")[0]}) if article.source == "bbc" else frozenset()
        news.append(_News(article, sentences, topics.get(article.id, category)))
    names = [_capitalised_words(item.sentences) for item in news]
    frequency = Counter(name for found in names for name in found)
    common = {name for name, count in frequency.items() if count > RARE_NAME_SHARE * len(news)}
    common |= {w for item in news for w in _lower_case_words(item.sentences)}  # "Director", "Mining": not names
    for item, found in zip(news, names):
        item.names = frozenset(found - common)
    return news


def _trigrams(item: _News) -> set[tuple[str, ...]]:
    keys = [word_key(w) for s in item.sentences for w in words(s)]
    return set(zip(keys, keys[1:], keys[2:]))


def _trigram_containment(suspect: _News, source: _News) -> float:
    """Share of the suspect's word trigrams found in the source: high for templated wire reports."""
    mine = _trigrams(suspect)
    return len(mine & _trigrams(source)) / max(1, len(mine))


def _linked(a: _News, b: _News) -> bool:
    """Same story territory: a shared topic (or no topic on either side) and shared rare names."""
    return (not a.topics or not b.topics or bool(a.topics & b.topics)) and len(a.names & b.names) >= MIN_SHARED_NAMES


# --- suspects -----------------------------------------------------------------------------------------


class _SuspectMaker:
    """Turns a source article into a copy or a spun copy of the wanted variant."""

    def __init__(self, spinner: Spinner, rng: random.Random):
        self.spinner, self.rng = spinner, rng

    def copy(self, source: _News, variant: str, filler: _News | None, title: str) -> str:
        sentences = list(source.sentences)
        if variant == "verbatim":
            return source.article.text
        if variant == "shuffled":
            self.rng.shuffle(sentences)
            return "\n".join(sentences)
        if variant == "lost_punctuation_case":
            return "\n".join(" ".join(_PUNCTUATION_LOST.sub(" ", s).lower().split()) for s in sentences)
        if variant == "boilerplate":
            lines = self.rng.sample(BOILERPLATE_LINES, 3)
            head, tail = [lines[0].format(title=title)], [line.format(title=title) for line in lines[1:]]
            return "\n".join(head + sentences[: len(sentences) // 2] + [tail[0]] + sentences[len(sentences) // 2 :] + tail[1:])
        if variant == "partial":
            keep = max(2, round(len(sentences) * 0.6))
            start = self.rng.randrange(0, len(sentences) - keep + 1)
            new = filler.sentences[: max(2, round(keep * 0.7))]
            return " ".join(sentences[start : start + keep] + new)
        raise InputError(f"unknown copy variant {variant!r}; choose one of {COPY_VARIANTS}")

    def spun(self, source: _News, variant: str) -> str:
        rate = SPUN_RATES[variant]
        if variant != "partial":
            return " ".join(s.text for s in self.spinner.spin_article(source.article.text, rate=rate))
        chosen = set(self.rng.sample(range(len(source.sentences)), max(2, len(source.sentences) // 2)))
        return " ".join(self.spinner.spin(s, rate=rate).text if i in chosen else s for i, s in enumerate(source.sentences))


def _related_pairs(pool: list[_News], wanted: int) -> list[tuple[_News, _News]]:
    """(indexed article, related suspect) pairs: each suspect used once, never as another's indexed article."""
    by_topic = defaultdict(list)
    for item in pool:
        for topic in item.topics:
            by_topic[topic].append(item)
    suspects, anchors, pairs = set(), set(), []
    for suspect in pool:
        if len(pairs) == wanted:
            break
        if suspect.id in anchors or not suspect.topics:
            continue
        partners = {a.id: a for topic in sorted(suspect.topics) for a in by_topic[topic] if a.id != suspect.id and a.id not in suspects}
        nearest = sorted((a for a in partners.values() if _linked(a, suspect)), key=lambda a: (-len(a.names & suspect.names), a.id))
        anchor = next((a for a in nearest if _trigram_containment(suspect, a) < MAX_RELATED_OVERLAP), None)
        if anchor is not None:
            suspects.add(suspect.id)
            anchors.add(anchor.id)
            pairs.append((anchor, suspect))
    return pairs


def _unlinked(pool: list[_News], taken: set[str]) -> list[_News]:
    """Articles not taken that have no topic-and-names link with any other article of the pool."""
    by_name = defaultdict(list)
    for item in pool:
        for name in item.names:
            by_name[name].append(item)
    alone = []
    for item in pool:
        if item.id in taken:
            continue
        others = {o.id: o for name in item.names for o in by_name[name] if o.id != item.id}
        if not any(_linked(item, other) for other in others.values()):
            alone.append(item)
    return alone


def _rewritten(pair: ParaphrasePair) -> bool:
    """A real rewrite: long enough, and keeping at most `MAX_PARAPHRASE_OVERLAP` of the longer side's words."""
    a, b = {word_key(w) for w in words(pair.text_a)}, {word_key(w) for w in words(pair.text_b)}
    return len(words(pair.text_a)) >= 6 and len(a & b) / max(1, len(a), len(b)) <= MAX_PARAPHRASE_OVERLAP


def paraphrases_by_corpus(shared: Path) -> dict[str, list[ParaphrasePair]]:
    """Rewritten test paraphrase pairs per corpus: "mrpc", "sts_news" (STS news) and "parasci"."""
    return {
        "mrpc": [p for p in read_mrpc(shared, "test") if p.is_paraphrase and _rewritten(p)],
        "sts_news": [p for p in read_sts(shared, "test") if p.is_paraphrase and p.domain == "news" and _rewritten(p)],
        "parasci": [p for p in read_parasci(shared, "test") if _rewritten(p)],
    }


def held_out_paraphrases(shared: Path) -> dict[str, list[ParaphrasePair]]:
    """Rewritten test paraphrase pairs per variant: news (MRPC, STS news) and science (ParaSCI)."""
    by_corpus = paraphrases_by_corpus(shared)
    return {"mrpc_sts": by_corpus["mrpc"] + by_corpus["sts_news"], "parasci": by_corpus["parasci"]}


def _paraphrase_articles(
    paraphrases: dict[str, list[ParaphrasePair]], rng: random.Random, variants: Sequence[str] = PARAPHRASE_VARIANTS
) -> list[tuple[str, str, list[str], list[str]]]:
    """(id, variant, first sides, paraphrasing sides) pseudo-articles, the ``variants`` interleaved."""
    per_variant = []
    for variant in variants:
        pairs = list(paraphrases[variant])
        rng.shuffle(pairs)
        groups = [pairs[i : i + PARAPHRASE_SENTENCES] for i in range(0, len(pairs) - PARAPHRASE_SENTENCES + 1, PARAPHRASE_SENTENCES)]
        per_variant.append([(variant, group) for group in groups])
    interleaved = [item for items in zip(*per_variant) for item in items]
    return [(f"paraphrase-article:{variant}:{n}", variant, [p.text_a for p in group], [p.text_b for p in group])
            for n, (variant, group) in enumerate(interleaved)]


def _split(suspect_id: str, seed: int) -> str:
    return "tune" if stable_fraction(f"eval-split:{suspect_id}", seed) < TUNE_FRACTION else "test"


def _article_suspects(news: list[_News], maker: _SuspectMaker, per_verdict: int, seed: int, rng: random.Random):
    """Suspects of the news verdicts, the news articles to index, and the ones kept out of it."""
    pool = list(news)
    rng.shuffle(pool)
    related = _related_pairs(pool, per_verdict)
    taken = {a.id for pair in related for a in pair}
    alone = _unlinked(pool, taken)
    originals, fillers = alone[:per_verdict], alone[per_verdict : per_verdict + per_verdict]
    taken |= {a.id for a in originals + fillers}
    free = [item for item in pool if item.id not in taken]
    copy_sources, spun_sources = free[:per_verdict], free[per_verdict : 2 * per_verdict]
    if min(len(related), len(originals), len(spun_sources)) < per_verdict or len(fillers) < len(COPY_VARIANTS):
        raise InputError(
            f"per_verdict={per_verdict} is more than the held-out news supports (related {len(related)}, "
            f"original {len(originals)}, spun sources {len(spun_sources)}): ask for fewer"
        )
    suspects = []

    def add(verdict, variant, text, source_id, rate, number):
        suspect_id = f"{verdict}:{variant}:{number}"
        suspects.append(Suspect(suspect_id, text, verdict, variant, source_id, rate, _split(suspect_id, seed)))

    titles = [item.article.title.title() for item in originals]
    for number, source in enumerate(copy_sources):
        variant = COPY_VARIANTS[number % len(COPY_VARIANTS)]
        text = maker.copy(source, variant, fillers[number % len(fillers)], titles[number % len(titles)])
        add("copy", variant, text, source.id, None, number)
    for number, source in enumerate(spun_sources):
        variant = tuple(SPUN_RATES)[number % len(SPUN_RATES)]
        add("spun", variant, maker.spun(source, variant), source.id, SPUN_RATES[variant], number)
    for number, (anchor, suspect) in enumerate(related):
        add("related", "same_topic", suspect.article.text, anchor.id, None, number)
    for number, item in enumerate(originals):
        add("original", "absent", item.article.text, None, None, number)
    kept_out = {item.id for item in originals + fillers} | {suspect.id for _, suspect in related}
    return suspects, [item for item in pool if item.id not in kept_out], kept_out


# --- pairs --------------------------------------------------------------------------------------------


def _sentence_copy(sentence: str, variant: str) -> str:
    """A copied sentence: "verbatim", "lost_case" or "lost_punctuation"."""
    return {"verbatim": sentence, "lost_case": sentence.lower(), "lost_punctuation": " ".join(_PUNCTUATION_LOST.sub(" ", sentence).split())}[variant]


def _sentence_pairs(news: list[_News], shared: Path, spinner: Spinner, per_relation: int, rng: random.Random) -> list[SentencePair]:
    """Copy, spun (per rate), paraphrase and unrelated sentence pairs, ``per_relation`` of each (spun: per rate / 2 each)."""
    sentences = [(item.id, s) for item in news for s in item.sentences if _prose(s)]
    rng.shuffle(sentences)
    pairs: list[SentencePair] = []
    copy_variants = ("verbatim", "lost_case", "lost_punctuation")
    for number, (_, sentence) in enumerate(sentences[:per_relation]):
        variant = copy_variants[number % len(copy_variants)]
        suspect = _sentence_copy(sentence, variant)
        pairs.append(SentencePair(f"copy:{number}", sentence, suspect, "copy", variant, None, "reuters"))
    spun_wanted, spun_rows = per_relation * len(PAIR_RATES) // 2, iter(sentences[per_relation:])
    while sum(p.relation == "spun" for p in pairs) < spun_wanted:
        _, sentence = next(spun_rows, (None, None))
        if sentence is None:
            break
        number = sum(p.relation == "spun" for p in pairs)
        rate = PAIR_RATES[number % len(PAIR_RATES)]
        spun = spinner.spin(sentence, rate=rate)
        if spun.swaps:
            pairs.append(SentencePair(f"spun:{number}", sentence, spun.text, "spun", f"rate_{rate}", rate, "reuters"))
    paraphrases = [p for variant in PARAPHRASE_VARIANTS for p in held_out_paraphrases(shared)[variant]]
    for number, pair in enumerate(rng.sample(paraphrases, min(per_relation, len(paraphrases)))):
        pairs.append(SentencePair(f"paraphrase:{number}", pair.text_a, pair.text_b, "paraphrase", pair.source, None, pair.id))
    unrelated = [p for p in read_sts(shared, "test") if p.score <= 1.0 and p.domain == "news"]
    human = rng.sample(unrelated, min(per_relation // 2, len(unrelated)))
    for number, pair in enumerate(human):
        pairs.append(SentencePair(f"unrelated:{number}", pair.text_a, pair.text_b, "unrelated", "sts_low_score", None, pair.id))
    rest = sentences[per_relation + spun_wanted * 2 :]
    for number in range(len(human), per_relation):
        (id_a, a), (id_b, b) = rng.sample(rest, 2)
        if id_a != id_b:
            pairs.append(SentencePair(f"unrelated:{number}", a, b, "unrelated", "random_news", None, "reuters"))
    return pairs


# --- the whole set --------------------------------------------------------------------------------


def build_eval_set(
    shared: str | os.PathLike | None = None,
    *,
    per_verdict: int = 150,
    pairs_per_relation: int = 300,
    distractors: int | None = None,
    seed: int = 0,
    dataset_seed: int = 0,
    spinner: Spinner | None = None,
) -> EvalSet:
    """The article- and pair-level evaluation set (see the module docstring); the same arguments give the same set.

    ``distractors`` caps the indexed articles that are no suspect's source (None: every one), for
    quick runs; ``dataset_seed`` is the seed of the `training.build_dataset` run whose test split the
    news comes from; ``spinner`` defaults to a `Spinner` over all three thesauri seeded with ``seed``.
    """
    if per_verdict < 1 or pairs_per_relation < 2:
        raise InputError(f"per_verdict={per_verdict} and pairs_per_relation={pairs_per_relation} must be >= 1 and >= 2")
    shared = resolve_shared_dir(shared)
    rng = random.Random(seed)
    spinner = spinner or Spinner(load_thesaurus(shared), seed=seed)
    maker = _SuspectMaker(spinner, rng)
    news = held_out_news(shared, dataset_seed)
    suspects, indexed_news, kept_out = _article_suspects(news, maker, per_verdict, seed, rng)
    paraphrased = _paraphrase_articles(held_out_paraphrases(shared), rng)
    if len(paraphrased) < per_verdict:
        raise InputError(f"per_verdict={per_verdict} is more than the {len(paraphrased)} paraphrase pseudo-articles: ask for fewer")
    for number, (source_id, variant, _, sides) in enumerate(paraphrased[:per_verdict]):
        suspect_id = f"paraphrased:{variant}:{number}"
        suspects.append(Suspect(suspect_id, " ".join(sides), "paraphrased", variant, source_id, None, _split(suspect_id, seed)))
    needed = {s.source_id for s in suspects if s.source_id}
    sources = [Document(item.id, item.article.text, {"title": item.article.title, "topics": sorted(item.topics)}) for item in indexed_news]
    sources += [Document(source_id, " ".join(firsts), {"title": "", "topics": []}) for source_id, _, firsts, _ in paraphrased]
    sources = _cap_distractors(sources, needed, distractors, rng)
    pairs = _sentence_pairs([item for item in news if item.id not in kept_out], shared, spinner, pairs_per_relation, rng)
    parameters = {"per_verdict": per_verdict, "pairs_per_relation": pairs_per_relation, "distractors": distractors,
                  "seed": seed, "dataset_seed": dataset_seed}
    return EvalSet(sources, suspects, pairs, parameters)


def _cap_distractors(sources: list[Document], needed: set[str], distractors: int | None, rng: random.Random) -> list[Document]:
    if distractors is None:
        return sources
    others = [doc for doc in sources if doc.id not in needed]
    keep = {doc.id for doc in rng.sample(others, min(distractors, len(others)))} | needed
    return [doc for doc in sources if doc.id in keep]


def main(argv: Sequence[str] | None = None) -> EvalSet:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=None, help="shared data folder (default: $SPIN_DETECTOR_SHARED or ../shared)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--per-verdict", type=int, default=150, help="suspect articles per verdict")
    parser.add_argument("--pairs-per-relation", type=int, default=300, help="sentence pairs per relation (spun: 3x, across rates)")
    parser.add_argument("--distractors", type=int, default=None, help="cap on indexed articles that are no suspect's source")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset-seed", type=int, default=0, help="seed of the training.build_dataset run (its BBC test split)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    evaluation_set = build_eval_set(
        args.shared, per_verdict=args.per_verdict, pairs_per_relation=args.pairs_per_relation,
        distractors=args.distractors, seed=args.seed, dataset_seed=args.dataset_seed,
    )
    folder = evaluation_set.save(args.out)
    print(json.dumps(evaluation_set.card(), indent=2))
    print(f"wrote {folder} in {time.perf_counter() - start:.0f} s")
    return evaluation_set


if __name__ == "__main__":
    main()
