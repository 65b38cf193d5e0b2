"""Sentence-level training, validation, calibration and test sets for the spin classifier, plus eval sets.

Output (zstd Parquet, read by ``training.train`` and ``training.evaluate``)::

    <out>/{train,validation,calibration,test}.parquet
    <out>/eval/{news_spun_20_40,news_spun_05_10,news_clean,paraphrase_human,tortured_pairs,
                news_spun_<source> ...}.parquet
    <out>/human_negatives.parquet   held-out human sentences for the calibration's cap (below)
    <out>/card.json        counts per split, kind, domain and label; seed, sources, timings

Columns: ``text`` (normalised sentence), ``label`` (int8, 1 = spun), ``word_labels`` (list<int8>,
one per word token of ``detector.text.tokenize(text)``, 1 = substituted; zeros for human text),
``kind`` ("clean", "spun", "paraphrase", "tortured"; "human" in the held-out negatives), ``domain`` ("news", "science", "social"),
``rate`` (requested swap rate, 0 for unspun rows), ``thesaurus`` ("mythes+wordnet+ppdb", "pps" or
"" for human text) and ``article_id``. Eval sets add ``source`` and ``pair_id``.

Design decisions:

* **Split by article.** BBC articles hash (seeded) into all four splits; Reuters reut2-000..015 into
  train/validation/calibration; the held-out Reuters files reut2-016..018 only into test. Pair
  corpora keep their own test parts for test and hash their other parts into the other splits; the
  PPS list is halved by expected phrase and the test half appears only in test and the eval sets.
* **Both sides of every spun sentence.** Each sampled clean sentence appears once clean (label 0)
  and once spun (label 1), side by side in one group. Such minimal pairs differ only in the swapped
  words, so the classifier cannot lean on topic, length or source style, and the news corpora go
  twice as far. A spin that draws no swap is drawn again (up to four times, same rate) and dropped
  if it still swapped nothing (its clean side stays).
* **Swap rates** are drawn from ``low + (high - low) * u ** 1.5`` over 0.05-0.6: low rates, the
  hard cases, get more weight than a uniform draw would give.
* Human paraphrases (MRPC, STS, Twitter-URL, ParaSCI, both sides) are label-0 hard negatives;
  ParaSCI sentences also give the science domain its clean and spun pairs, and tortured phrases
  from the training half of the PPS list are put into carrier sentences that contain their
  expected phrase (or a neutral template), next to the untouched carrier as label 0.
* **Held-out human negatives.** The sentences of MRPC and STS pairs judged *not* paraphrases, from
  their non-test parts and in no paraphrase pair, feed no split: ``human_negatives.parquet`` (kind
  "human") holds them all (about 5,300 sentences, in the genres of the paraphrase test) so that
  ``training.calibrate --negatives`` can cap the threshold's false-positive rate on human text the
  model never saw, where 250 paraphrases per development split are too few to tell 2% from 3%.

Spinning and word labelling run in ``datasets.map`` with ``num_proc`` workers; the thesaurus is
loaded once in the parent and shared with the forked workers; a build is reproducible for a given
``--seed`` and ``--num-proc``. ``--draw n`` keeps the splits and every held-out set but draws a
fresh training split (other sentences of the same training articles, other spins), so that a
further epoch of an existing model sees new data instead of repeating the old.

Command line::

    python -m training.build_dataset --out build/dataset --size 60000 --seed 0
    python -m training.build_dataset --out build/dataset-loto-ppdb --sources mythes,wordnet
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import datasets
import pyarrow.compute as pc
import pyarrow.parquet as pq

from detector.errors import InputError
from detector.text import normalise, split_sentences, tokenize
from training import corpora
from training.corpora import SPLITS, ParaphrasePair, TorturedPhrase
from training.spinner import Spinner
from training.thesauri import SOURCES, load_thesaurus

__all__ = [
    "FEATURES",
    "EVAL_FEATURES",
    "BuildConfig",
    "PhraseFinder",
    "build_dataset",
    "collect_pools",
    "draw_rate",
    "main",
    "paraphrase_groups",
    "spun_pairs",
    "tortured_groups",
    "span_word_labels",
    "news_split",
    "pair_split",
    "spin_with_a_swap",
    "usable_sentence",
]

TRAIN_RATES = (0.05, 0.6)
# Share of a split's rows by group; each share except "paraphrase" is made of clean/spun (or
# expected/tortured) pairs.
MIX = {"news": 0.56, "science": 0.14, "social": 0.06, "paraphrase": 0.16, "tortured": 0.08}
PARAPHRASE_SOURCES = ("mrpc", "sts", "twitter-url", "parasci")
NEWS_FRACTIONS = (0.8, 0.05, 0.05, 0.1)  # BBC into train / validation / calibration / test
DEV_FRACTIONS = (0.9, 0.05, 0.05)  # Reuters 000-015 and the non-test parts of pair corpora
CARRIERS_PER_PHRASE = 3
SPIN_ATTEMPTS = 4
MIN_WORDS, MAX_WORDS = 6, 64
CARRIER_TEMPLATES = (
    "In this paper, we use {} to analyse the results.",
    "The proposed method relies on {} in every experiment.",
    "We compare {} with the approach described in the previous section.",
    "Recent work has shown that {} improves performance on this task.",
    "Table 2 reports the effect of {} on the final results.",
    "Our analysis of {} is presented in Section 4.",
    "Several studies have examined {} in detail.",
    "The results obtained with {} are discussed below.",
)

FEATURES = datasets.Features({
    "text": datasets.Value("string"),
    "label": datasets.Value("int8"),
    "word_labels": datasets.Sequence(datasets.Value("int8")),
    "kind": datasets.Value("string"),
    "domain": datasets.Value("string"),
    "rate": datasets.Value("float32"),
    "thesaurus": datasets.Value("string"),
    "article_id": datasets.Value("string"),
})
EVAL_FEATURES = datasets.Features({**FEATURES, "source": datasets.Value("string"), "pair_id": datasets.Value("string")})


@dataclass
class BuildConfig:
    """Settings of one dataset build (written into card.json)."""

    out: str = "build/dataset"
    size: int = 60_000
    seed: int = 0
    sources: tuple[str, ...] = SOURCES
    eval_size: int = 2_000
    num_proc: int = field(default_factory=lambda: os.cpu_count() or 1)
    shared: str | None = None
    draw: int = 0  # 0: the standard training split; n > 0: fresh training sentences and spins, all else unchanged

    def split_sizes(self) -> dict[str, int]:
        """Rows wanted per split: train = ``size``, validation and calibration 5 %, test 10 %."""
        return {"train": self.size, "validation": self.size // 20, "calibration": self.size // 20, "test": self.size // 10}


# --- sentence filtering and labelling ---------------------------------------------------------

def usable_sentence(text: str) -> bool:
    """A real prose sentence: 6-64 words, mostly alphabetic words, not shouted in capitals."""
    words = [token.text for token in tokenize(text) if token.is_word]
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    alphabetic = sum(word[0].isalpha() for word in words)
    letters = [char for char in text if char.isalpha()]
    upper = sum(char.isupper() for char in letters)
    return alphabetic >= 0.7 * len(words) and upper <= 0.3 * len(letters) and text[-1] in ".!?\"')"


def span_word_labels(text: str, start: int, end: int) -> list[int]:
    """One 0/1 per word token of ``tokenize(text)``: 1 where the token overlaps ``text[start:end]``."""
    return [int(token.start < end and token.end > start) for token in tokenize(text) if token.is_word]


def draw_rate(rng: random.Random, low: float, high: float, skew: float = 1.5) -> float:
    """A swap rate in [low, high]; ``skew`` > 1 puts more mass on low (harder) rates."""
    return round(low + (high - low) * rng.random() ** skew, 3)


# --- thesaurus and spinner, shared with forked workers -------------------------------------------

_THESAURI: dict[str | None, object] = {}
_SPINNERS: dict[tuple[str | None, str], Spinner] = {}


def _thesaurus(shared: str | None):
    """The merged thesaurus of every source, loaded once per process (forked workers inherit it, and the
    lemminflect tables that a first spin loads)."""
    if shared not in _THESAURI:
        _THESAURI[shared] = load_thesaurus(shared, sources=SOURCES)
        Spinner(_THESAURI[shared], rate=1.0).spin("Officials have admitted new members.")  # loads lemminflect's tables
    return _THESAURI[shared]


def _spinner(shared: str | None, sources: str, seed: int) -> Spinner:
    """One spinner per process and thesaurus set: its synonym cache makes each later spin cheaper."""
    key = (shared, sources)
    if key not in _SPINNERS:
        _SPINNERS[key] = Spinner(_thesaurus(shared), seed=seed, sources=tuple(sources.split("+")))
    return _SPINNERS[key]


def spin_with_a_swap(spinner: Spinner, text: str, rate: float):
    """Spin at ``rate``, drawing again (up to `SPIN_ATTEMPTS` times) while nothing was swapped: at low
    rates a short sentence often draws no swap, and an unchanged sentence is not a spun one."""
    spun = spinner.spin(text, rate=rate)
    for _ in range(SPIN_ATTEMPTS - 1):
        if spun.swaps:
            break
        spun = spinner.spin(text, rate=rate)
    return spun


def _materialise_batch(batch: dict, shared: str | None) -> dict:
    """Spin the rows of kind "spun" and compute every row's word labels (``datasets.map`` worker);
    ``edited`` says whether a spin changed anything (a phrase shortened to one of its own words leaves
    no word labelled but is still spun).

    A worker's spinner is seeded by the first spun row it meets, so a build is reproducible for a
    given seed and number of workers.
    """
    texts, labels, edited = [], [], []
    for text, kind, rate, thesaurus, seed, start, end in zip(
        batch["text"], batch["kind"], batch["rate"], batch["thesaurus"], batch["seed"], batch["span_start"], batch["span_end"]
    ):
        if kind == "spun":
            spun = spin_with_a_swap(_spinner(shared, thesaurus, seed), text, rate)
            text, word_labels = spun.text, list(spun.labels)
            edited.append(bool(spun.swaps))
        else:
            word_labels = span_word_labels(text, start, end)
            edited.append(False)
        texts.append(text)
        labels.append(word_labels)
    return {"text": texts, "word_labels": labels, "edited": edited}


def _workers(num_proc: int, rows: int, batch_size: int) -> int | None:
    """Worker processes for ``datasets.map``: None (run in this process) unless there is work for two."""
    workers = min(num_proc, rows // batch_size)
    return workers if workers > 1 else None


# --- sentence pools -------------------------------------------------------------------------------

def news_split(article: corpora.Article, seed: int) -> str:
    if article.held_out:
        return "test"
    if article.source == "reuters":
        return corpora.assign_split(article.id, seed, DEV_FRACTIONS, SPLITS[:3])
    return corpora.assign_split(article.id, seed, NEWS_FRACTIONS)


def _segment_batch(batch: dict) -> dict:
    """Cut articles into usable, non-boilerplate sentences (``datasets.map`` worker)."""
    out = {"article_id": [], "split": [], "text": []}
    for article_id, split, text in zip(batch["article_id"], batch["split"], batch["text"]):
        for segment in split_sentences(text):
            if not segment.is_boilerplate and not segment.is_heading and usable_sentence(segment.text):
                out["article_id"].append(article_id)
                out["split"].append(split)
                out["text"].append(segment.text)
    return out


def news_pools(shared: str | None, seed: int, num_proc: int) -> dict[str, list[tuple[str, str]]]:
    """split -> [(article_id, sentence)] of BBC and Reuters, split by article."""
    articles = [{"article_id": a.id, "split": news_split(a, seed), "text": a.text} for a in corpora.read_news(shared)]
    table = datasets.Dataset.from_list(articles).map(
        _segment_batch, batched=True, batch_size=64, num_proc=_workers(num_proc, len(articles), 64), remove_columns=["article_id", "split", "text"],
        new_fingerprint=f"news-sentences-{seed}", desc="segmenting news articles",
    )
    pools: dict[str, list[tuple[str, str]]] = {split: [] for split in SPLITS}
    for article_id, split, text in zip(table["article_id"], table["split"], table["text"]):
        pools[split].append((article_id, text))
    return pools


def pair_split(pair: ParaphrasePair, seed: int) -> str:
    if pair.split == "test":
        return "test"
    return corpora.assign_split(pair.id, seed, DEV_FRACTIONS, SPLITS[:3])


def read_pairs(shared: str | None) -> Iterable[ParaphrasePair]:
    """Every human-judged pair of MRPC, STS, Twitter-URL and ParaSCI, all parts."""
    for split in ("train", "test"):
        yield from corpora.read_mrpc(shared, split)
        yield from corpora.read_sts(shared, split)
        yield from corpora.read_twitter_url(shared, split)
    for split in corpora.PAIR_SPLITS:
        yield from corpora.read_parasci(shared, split)


@dataclass
class PairPools:
    """Per split: paraphrase sides by source, and unique clean sentences of science and social text."""

    paraphrase: dict[str, dict[str, list[tuple[str, str, str, str]]]]  # split -> source -> [(pair_id, domain, text, side)]
    science: dict[str, list[tuple[str, str]]]  # split -> [(pair_id, text)]
    social: dict[str, list[tuple[str, str]]]
    human: list[tuple[str, str, str, str]] = field(default_factory=list)  # held out: [(pair_id, domain, text, source)]


def _normalise_pairs_batch(batch: dict) -> dict:
    """Normalise both sides of each pair and mark the usable ones (``datasets.map`` worker)."""
    out: dict[str, list] = {"text_a": [], "text_b": [], "usable_a": [], "usable_b": []}
    for side in ("a", "b"):
        for text in batch[f"text_{side}"]:
            text = normalise(text)
            out[f"text_{side}"].append(text)
            out[f"usable_{side}"].append(usable_sentence(text))
    return out


def pair_pools(shared: str | None, seed: int, num_proc: int = 1) -> PairPools:
    """Sort the pair corpora into splits (by pair), normalise their text and keep usable sentences.

    Non-paraphrase MRPC and STS pairs outside the test parts give `PairPools.human`: each usable
    sentence once, unless it is also a side of some paraphrase pair (which a split may train on) or
    of a test pair.
    """
    rows = [{**asdict(pair), "split": pair_split(pair, seed)} for pair in read_pairs(shared)]
    table = datasets.Dataset.from_list(rows).map(
        _normalise_pairs_batch, batched=True, batch_size=512, num_proc=_workers(num_proc, len(rows), 512),
        new_fingerprint=f"pairs-{seed}", desc="normalising paraphrase pairs",
    )
    pools = PairPools({s: {name: [] for name in PARAPHRASE_SOURCES} for s in SPLITS}, {s: [] for s in SPLITS}, {s: [] for s in SPLITS})
    seen: set[tuple[str, str]] = set()
    excluded: set[str] = set()  # sides of paraphrase pairs and of test pairs
    human: dict[str, tuple[str, str, str, str]] = {}
    for row in table:
        for side in ("a", "b"):
            text, split = row[f"text_{side}"], row["split"]
            if row["is_paraphrase"] or split == "test":
                excluded.add(text)
            if not row[f"usable_{side}"]:
                continue
            if row["is_paraphrase"]:
                pools.paraphrase[split][row["source"]].append((row["id"], row["domain"], text, side))
            elif row["source"] in ("mrpc", "sts") and split != "test":
                human.setdefault(text, (row["id"], row["domain"], text, row["source"]))
            if (split, text) not in seen and row["source"] in ("parasci", "twitter-url"):
                seen.add((split, text))
                (pools.science if row["source"] == "parasci" else pools.social)[split].append((row["id"], text))
    pools.human = [entry for text, entry in human.items() if text not in excluded]
    return pools


# --- tortured phrases in carrier sentences ----------------------------------------------------------

_KEY_TOKEN = re.compile(r"[a-z0-9]+")


class PhraseFinder:
    """Finds where any of a set of phrases occurs in a sentence, case-insensitively, on word boundaries."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.keys = {" ".join(_KEY_TOKEN.findall(p.lower())): p for p in phrases}
        self.keys.pop("", None)
        self.prefixes = {" ".join(key.split()[:n]) for key in self.keys for n in range(1, len(key.split()) + 1)}

    def find(self, sentence: str) -> list[tuple[str, int, int]]:
        """(phrase, start, end) for every occurrence in ``sentence``."""
        tokens = list(_KEY_TOKEN.finditer(sentence.lower()))
        found = []
        for i, token in enumerate(tokens):
            key = token.group()
            for j in range(i, len(tokens)):
                if j > i:
                    key = f"{key} {tokens[j].group()}"
                if key not in self.prefixes:
                    break
                if key in self.keys:
                    found.append((self.keys[key], token.start(), tokens[j].end()))
        return found


def _carrier_pairs(phrase: TorturedPhrase, carriers: list[tuple[str, str, int, int]], rng: random.Random, limit: int) -> list[tuple[str, str, int, int, str]]:
    """Up to ``limit`` (clean text, tortured text, start, end, article_id) for one phrase; a template when no carrier has it."""
    chosen = rng.sample(carriers, min(limit, len(carriers)))
    if not chosen:
        template = CARRIER_TEMPLATES[rng.randrange(len(CARRIER_TEMPLATES))]
        start = template.index("{}")
        chosen = [(f"pps:{phrase.expected}", template.format(phrase.expected), start, start + len(phrase.expected))]
    pairs = []
    for article_id, clean, start, end in chosen:
        tortured = phrase.tortured if start else phrase.tortured[:1].upper() + phrase.tortured[1:]
        pairs.append((clean, clean[:start] + tortured + clean[end:], start, start + len(tortured), article_id))
    return pairs


def _carrier_index(phrases: Sequence[TorturedPhrase], sentences: Iterable[tuple[str, str]]) -> dict[str, list[tuple[str, str, int, int]]]:
    """expected phrase -> [(article_id, sentence, start, end)] of the sentences that contain it."""
    finder = PhraseFinder(p.expected for p in phrases)
    index: dict[str, list[tuple[str, str, int, int]]] = {}
    for article_id, text in sentences:
        for expected, start, end in finder.find(text):
            index.setdefault(expected, []).append((article_id, text, start, end))
    return index


# --- job rows (text to materialise) --------------------------------------------------------------

def _job(text: str, kind: str, domain: str, article_id: str, *, label: int = 0, rate: float = 0.0, thesaurus: str = "",
         seed: int = 0, span: tuple[int, int] = (-1, -1), source: str = "", pair_id: str = "") -> dict:
    return {"text": text, "label": label, "kind": kind, "domain": domain, "rate": rate, "thesaurus": thesaurus,
            "article_id": article_id, "seed": seed, "span_start": span[0], "span_end": span[1], "source": source, "pair_id": pair_id}


def _cycle(pool: Sequence, count: int, rng: random.Random) -> list:
    """``count`` items of ``pool``: a shuffled pass, repeated (freshly shuffled) when the pool is short."""
    items: list = []
    while pool and len(items) < count:
        order = list(pool)
        rng.shuffle(order)
        items.extend(order[: count - len(items)])
    return items


def spun_pairs(pool: Sequence[tuple[str, str]], count: int, domain: str, sources: str, rates: tuple[float, float],
               rng: random.Random, skew: float = 1.5, source: str = "") -> list[list[dict]]:
    """``count`` groups of [clean sentence, the same sentence to spin] drawn from ``pool``."""
    groups = []
    for number, (article_id, text) in enumerate(_cycle(pool, count, rng)):
        pair_id = f"{article_id}#{number}"
        groups.append([
            _job(text, "clean", domain, article_id, source=source, pair_id=pair_id),
            _job(text, "spun", domain, article_id, label=1, rate=draw_rate(rng, *rates, skew=skew), thesaurus=sources,
                 seed=rng.randrange(2**31), source=source, pair_id=pair_id),
        ])
    return groups


def paraphrase_groups(pools: dict[str, list[tuple[str, str, str, str]]], count: int, rng: random.Random) -> list[list[dict]]:
    """``count`` human paraphrase sentences (label 0), shared evenly among the pair corpora that have any."""
    names = [name for name in PARAPHRASE_SOURCES if pools.get(name)]
    groups = []
    for position, name in enumerate(names):
        quota = count // len(names) + (position < count % len(names))
        chosen = rng.sample(pools[name], min(quota, len(pools[name])))
        groups.extend([[_job(text, "paraphrase", domain, pair_id, source=name, pair_id=pair_id)] for pair_id, domain, text, _ in chosen])
    return groups


def human_negative_groups(human: Sequence[tuple[str, str, str, str]]) -> list[list[dict]]:
    """One label-0 row of kind "human" per held-out human sentence (`PairPools.human`)."""
    return [[_job(text, "human", domain, pair_id, source=source, pair_id=pair_id)] for pair_id, domain, text, source in human]


def _carrier_domain(article_id: str) -> str:
    return "news" if article_id.startswith(("bbc:", "reuters:")) else "science"


def tortured_groups(phrases: Sequence[TorturedPhrase], carriers: dict, count: int, rng: random.Random, per_phrase: int) -> list[list[dict]]:
    """Groups of [carrier with the expected phrase (label 0), the same carrier with the tortured phrase (label 1)]."""
    groups = []
    for phrase in _cycle(phrases, count, rng):
        for clean, tortured, start, end, article_id in _carrier_pairs(phrase, carriers.get(phrase.expected, []), rng, per_phrase):
            pair_id, domain = f"pps:{phrase.tortured}->{phrase.expected}", _carrier_domain(article_id)
            groups.append([
                _job(clean, "clean", domain, article_id, thesaurus="pps", source="pps", pair_id=pair_id),
                _job(tortured, "tortured", domain, article_id, label=1, thesaurus="pps", span=(start, end), source="pps", pair_id=pair_id),
            ])
            if len(groups) >= count:
                return groups
    return groups


# --- assembling splits --------------------------------------------------------------------------

@dataclass
class Pools:
    news: dict[str, list[tuple[str, str]]]
    pairs: PairPools
    phrases: dict[str, list[TorturedPhrase]]  # split -> tortured phrases (test = the test half)
    carriers: dict[str, dict]  # split -> expected phrase -> carrier sentences


def collect_pools(config: BuildConfig) -> Pools:
    """Every sentence pool the splits and eval sets draw from, split by article / pair / expected phrase."""
    news = news_pools(config.shared, config.seed, config.num_proc)
    pairs = pair_pools(config.shared, config.seed, config.num_proc)
    train_half, test_half = corpora.split_tortured_phrases(corpora.read_tortured_phrases(config.shared), seed=config.seed)
    phrases = {split: [] for split in SPLITS}
    phrases["test"] = test_half
    for phrase, group in zip(train_half, corpora.tortured_phrase_groups(train_half)):
        phrases[corpora.assign_split("pps:" + group, config.seed, DEV_FRACTIONS, SPLITS[:3])].append(phrase)
    carriers = {split: _carrier_index(phrases[split], [*pairs.science[split], *news[split]]) for split in SPLITS}
    return Pools(news, pairs, phrases, carriers)


def split_groups(pools: Pools, split: str, rows: int, sources: str, rng: random.Random) -> list[list[dict]]:
    """The row groups of one split, in the proportions of `MIX`."""
    want = {group: int(rows * share) for group, share in MIX.items()}
    groups = [
        *spun_pairs(pools.news[split], want["news"] // 2, "news", sources, TRAIN_RATES, rng),
        *spun_pairs(pools.pairs.science[split], want["science"] // 2, "science", sources, TRAIN_RATES, rng),
        *spun_pairs(pools.pairs.social[split], want["social"] // 2, "social", sources, TRAIN_RATES, rng),
        *paraphrase_groups(pools.pairs.paraphrase[split], want["paraphrase"], rng),
        *tortured_groups(pools.phrases[split], pools.carriers[split], want["tortured"] // 2, rng, CARRIERS_PER_PHRASE),
    ]
    rng.shuffle(groups)
    return groups


def eval_groups(pools: Pools, config: BuildConfig, rng: random.Random) -> dict[str, list[list[dict]]]:
    """The evaluation sets, all from held-out (test-split) articles, pairs and phrases."""
    news, sources, n = pools.news["test"], "+".join(config.sources), config.eval_size
    paraphrase = pools.pairs.paraphrase["test"]
    sets = {
        "news_spun_20_40": spun_pairs(news, n, "news", sources, (0.2, 0.4), rng, skew=1.0, source="news"),
        "news_spun_05_10": spun_pairs(news, n, "news", sources, (0.05, 0.1), rng, skew=1.0, source="news"),
        "news_clean": [[_job(text, "clean", "news", article_id, source="news")] for article_id, text in rng.sample(news, min(n, len(news)))],
        "paraphrase_human": [[_job(text, "paraphrase", domain, pair_id, source=name, pair_id=pair_id)]
                             for name in ("mrpc", "sts") for pair_id, domain, text, side in paraphrase[name] if side == "b"],
        "tortured_pairs": tortured_groups(pools.phrases["test"], pools.carriers["test"], len(pools.phrases["test"]), rng, 1),
    }
    for source in SOURCES:
        sets[f"news_spun_{source}"] = spun_pairs(news, n, "news", source, (0.2, 0.4), rng, skew=1.0, source="news")
    return sets


def materialise(groups: list[list[dict]], config: BuildConfig, features: datasets.Features, name: str) -> datasets.Dataset:
    """Spin and label the rows of ``groups`` in parallel; drop spins that swapped nothing."""
    rows = [row for group in groups for row in group]
    _thesaurus(config.shared)  # load before forking: the workers share it
    _SPINNERS.clear()  # each build starts from freshly seeded spinners
    table = datasets.Dataset.from_list(rows)
    table = table.map(
        _materialise_batch, batched=True, batch_size=256, num_proc=_workers(config.num_proc, len(rows), 256),
        fn_kwargs={"shared": config.shared}, new_fingerprint=f"{name}-{config.seed}-{len(rows)}", desc=f"spinning {name}",
    )
    table = table.filter(lambda kind, edited: kind != "spun" or edited, input_columns=["kind", "edited"])
    return table.select_columns(list(features)).cast(features)


def write_parquet(table: datasets.Dataset, path: Path) -> int:
    """Write ``table`` as zstd Parquet, rows ordered by article (near-duplicate sentences side by side
    compress well: a 400k-row train split stays near 15 MB); returns the file size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".parquet.tmp")
    arrow = table.data.table
    arrow = arrow.take(pc.sort_indices(arrow, sort_keys=[("article_id", "ascending")]))
    pq.write_table(arrow, temporary, compression="zstd", compression_level=19, use_dictionary=["kind", "domain", "thesaurus", "article_id", "source"])
    temporary.replace(path)
    return path.stat().st_size


def describe(table: datasets.Dataset) -> dict:
    """Row counts of a split by kind, domain, label and (kind, domain)."""
    kinds, domains, labels = table["kind"], table["domain"], table["label"]
    return {
        "rows": len(table),
        "by_kind": dict(Counter(kinds)),
        "by_domain": dict(Counter(domains)),
        "by_label": {str(k): v for k, v in Counter(labels).items()},
        "by_kind_domain": {f"{k}/{d}": v for (k, d), v in Counter(zip(kinds, domains)).items()},
    }


def build_dataset(config: BuildConfig) -> dict:
    """Build every split and eval set of ``config`` into ``config.out``; returns the dataset card."""
    unknown = set(config.sources) - set(SOURCES)
    if unknown or not config.sources:
        raise InputError(f"unknown thesaurus sources {sorted(unknown)}; choose from {', '.join(SOURCES)}")
    started, out, rng = time.time(), Path(config.out), random.Random(config.seed)
    datasets.disable_caching()
    pools = collect_pools(config)
    _log(started, "pools: " + ", ".join(f"{s} {len(pools.news[s])} news" for s in SPLITS))
    card = {"config": {**asdict(config), "sources": list(config.sources)}, "mix": MIX, "train_rates": list(TRAIN_RATES), "splits": {}, "eval": {}}
    sources = "+".join(config.sources)
    for split, rows in config.split_sizes().items():
        groups = split_groups(pools, split, rows, sources, rng)  # advances rng as draw 0 does
        if split == "train" and config.draw:
            groups = split_groups(pools, split, rows, sources, random.Random(f"{config.seed}/draw-{config.draw}"))
        table = materialise(groups, config, FEATURES, split)
        card["splits"][split] = {**describe(table), "bytes": write_parquet(table, out / f"{split}.parquet")}
        _log(started, f"{split}: {len(table)} rows")
    for name, groups in eval_groups(pools, config, rng).items():
        table = materialise(groups, config, EVAL_FEATURES, name)
        card["eval"][name] = {**describe(table), "bytes": write_parquet(table, out / "eval" / f"{name}.parquet")}
        _log(started, f"eval/{name}: {len(table)} rows")
    table = materialise(human_negative_groups(pools.pairs.human), config, EVAL_FEATURES, "human_negatives")
    card["held_out"] = {"human_negatives": {**describe(table), "bytes": write_parquet(table, out / "human_negatives.parquet")}}
    _log(started, f"human_negatives: {len(table)} rows")
    card["wall_seconds"] = round(time.time() - started, 1)
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def _log(started: float, message: str) -> None:
    print(f"[build_dataset {time.time() - started:7.1f}s] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> BuildConfig:
    parser = argparse.ArgumentParser(prog="python -m training.build_dataset", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="build/dataset", help="output folder")
    parser.add_argument("--size", type=int, default=60_000, help="training sentences (validation/calibration 5 %%, test 10 %% of it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", default=",".join(SOURCES), help="thesauri the spinner may use, comma-separated")
    parser.add_argument("--eval-size", type=int, default=2_000, help="sentences per evaluation set")
    parser.add_argument("--num-proc", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--shared", default=None, help="shared data folder (default ../shared or $SPIN_DETECTOR_SHARED)")
    parser.add_argument("--draw", type=int, default=0,
                        help="n > 0 draws fresh training sentences and spins from the same training articles (a further "
                             "epoch on new data); validation, calibration, test and eval sets stay those of draw 0")
    args = parser.parse_args(argv)
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    return BuildConfig(args.out, args.size, args.seed, sources, args.eval_size, args.num_proc, args.shared, args.draw)


def main(argv: list[str] | None = None) -> dict:
    card = build_dataset(parse_args(argv))
    print(json.dumps({split: info["rows"] for split, info in card["splits"].items()}), f"in {card['wall_seconds']} s")
    return card


if __name__ == "__main__":
    from training.build_dataset import main as run  # workers pickle functions by module, not as __main__

    run()
