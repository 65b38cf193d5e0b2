"""Article- and pair-level evaluation of the detector against plain near-duplicate baselines.

Reads an evaluation set written by ``training/build_eval_articles.py`` (``sources.jsonl``,
``suspects.jsonl``, ``pairs.jsonl``, ``card.json``), indexes the sources, analyses every suspect
and compares every sentence pair, then reports with bootstrap 95 % intervals:

* article verdicts: macro-F1, F1 per verdict, confusion matrix, accuracy per construction variant;
* source retrieval accuracy at 1 and 5 for copies, spun copies and paraphrased articles;
* pair relations: macro-F1, confusion matrix, spun recall and ROC AUC per swap rate;
* throughput: index build and analysis rates.

Baselines on the same suspects: the best source by MinHash Jaccard of word trigrams (datasketch)
and by TF-IDF cosine (scikit-learn), with verdict thresholds on that one similarity fitted on the
``tune`` split (a depth-limited decision tree: ordered thresholds). Every article figure is measured
on the ``test`` split, for the detector and the baselines alike.

``detector`` never imports ``training``: build the set first (the spinner lives there), then
evaluate. Paths are arguments; the defaults (`DEFAULT_DATA`, `DEFAULT_RESULTS`) are relative to the
current directory, so they name the checkout's folders when run from its root::

    python -m training.build_eval_articles --out build/eval
    spin-detect evaluate --data build/eval --out benchmarks/results/evaluation.json

Works with and without a trained classifier: without one, verdicts rest on the source comparison
alone and the pair curves use the spin strength instead of the spun probability (the JSON says which).

Example:
    >>> from detector.evaluation import fit_threshold_verdicts
    >>> model = fit_threshold_verdicts([0.9, 0.95, 0.1, 0.05], ["copy", "copy", "original", "original"])
    >>> model.predict([[0.8], [0.0]]).tolist()
    ['copy', 'original']
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel
from sklearn.tree import DecisionTreeClassifier

from detector.documents import Document
from detector.errors import InputError
from detector.machine import describe_machine
from detector.metrics import (
    bootstrap_interval,
    retrieval_accuracy_at_k_score,
    sentence_roc_auc_score,
    verdict_confusion_matrix,
    verdict_macro_f1_score,
)
from detector.progress import progress_mode, track
from detector.relation import RELATIONS
from detector.report import VERDICTS
from detector.text import word_key

__all__ = [
    "BASELINES",
    "DEFAULT_DATA",
    "DEFAULT_RESULTS",
    "SAMPLE_ENV",
    "ArticleRecord",
    "EvalData",
    "EvaluationResult",
    "PairRecord",
    "evaluate",
    "fit_threshold_verdicts",
    "load_eval_data",
    "minhash_similarity_matrix",
    "sample_from_env",
    "summary_table",
    "tfidf_cosine_matrix",
]

DEFAULT_DATA = Path("build", "eval")  # relative to the current directory: the checkout's root
DEFAULT_RESULTS = Path("benchmarks", "results", "evaluation.json")  # likewise
SAMPLE_ENV = "SPIN_EVAL_SAMPLE"
SYSTEM = "detector"
BASELINES = ("minhash", "tfidf_cosine")
RETRIEVAL_GROUPS = {"copy": ("copy",), "spun": ("spun",), "copy+spun": ("copy", "spun"), "paraphrased": ("paraphrased",)}
CLEAN_PAIR_RELATIONS = ("copy", "paraphrase")  # the negatives of the per-rate spun curves
TOP_K = 5
_WORD = re.compile(r"[A-Za-z0-9]+(?:['.,-][A-Za-z0-9]+)*")


@dataclass
class EvalData:
    """A loaded evaluation set: sources to index, suspects (dicts) and sentence pairs (dicts)."""

    sources: list[Document]
    suspects: list[dict]
    pairs: list[dict]
    card: dict = field(default_factory=dict)


@dataclass
class ArticleRecord:
    """One suspect as judged by each system: ``predicted`` and ``ranked`` (source ids, best first) per system."""

    id: str
    split: str
    verdict: str
    variant: str
    rate: float | None
    source_id: str | None
    predicted: dict[str, str]
    ranked: dict[str, list[str]]
    spin_score: float
    coverage: float
    best_similarity: dict[str, float]


@dataclass
class PairRecord:
    """One sentence pair as compared by the detector; ``spun_probability`` is None without a classifier."""

    id: str
    relation: str
    variant: str
    rate: float | None
    predicted: str
    similarity: float
    spin_strength: float
    spun_probability: float | None


@dataclass
class EvaluationResult:
    """Every figure of one evaluation run (intervals as dicts: value, low, high, n) plus the raw records."""

    articles: dict
    pairs: dict
    throughput: dict
    data: dict
    article_records: list[ArticleRecord]
    pair_records: list[PairRecord]

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the full result as JSON (parent folders created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=True) + "\n", encoding="utf-8")
        return path

    def summary_table(self) -> str:
        """The headline figures as a Markdown table: metric, this project, each baseline."""
        return summary_table(self.to_dict())


# --- loading ------------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise InputError(
            f"evaluation file {str(path)!r} not found: build the set with "
            f"python -m training.build_eval_articles --out {path.parent}"
        )
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _first_per_group(rows: list[dict], key: str, limit: int) -> list[dict]:
    """The first ``limit`` rows of each ``key`` value, input order kept."""
    seen: dict[str, int] = {}
    kept = []
    for row in rows:
        seen[row[key]] = seen.get(row[key], 0) + 1
        if seen[row[key]] <= limit:
            kept.append(row)
    return kept


def _cap_sources(sources: list[Document], suspects: list[dict], distractors: int) -> list[Document]:
    """The sources some suspect points to, plus the first ``distractors`` others (file order)."""
    needed = {s["source_id"] for s in suspects if s["source_id"]}
    others = [d.id for d in sources if d.id not in needed][:distractors]
    keep = needed | set(others)
    return [d for d in sources if d.id in keep]


def load_eval_data(folder: str | os.PathLike = DEFAULT_DATA, sample: int | None = None, distractors: int | None = None) -> EvalData:
    """Read an evaluation set; ``sample`` keeps the first n suspects per verdict and pairs per relation (spun: 3n).

    ``distractors`` caps the indexed sources that no kept suspect points to (None: keep all), so that a
    small sample of a full set indexes quickly.
    """
    folder = Path(folder)
    if sample is not None and sample < 1:
        raise InputError(f"sample={sample} must be a positive number of suspects per verdict, or None for all")
    if distractors is not None and distractors < 0:
        raise InputError(f"distractors={distractors} must be >= 0, or None for every source")
    sources = [Document(row["id"], row["text"], row.get("meta", {})) for row in _read_jsonl(folder / "sources.jsonl")]
    suspects, pairs = _read_jsonl(folder / "suspects.jsonl"), _read_jsonl(folder / "pairs.jsonl")
    if sample is not None:
        suspects = _first_per_group(suspects, "verdict", sample)
        spun = _first_per_group([p for p in pairs if p["relation"] == "spun"], "relation", 3 * sample)
        pairs = _first_per_group([p for p in pairs if p["relation"] != "spun"], "relation", sample) + spun
    if distractors is not None:
        sources = _cap_sources(sources, suspects, distractors)
    card_path = folder / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
    return EvalData(sources, suspects, pairs, card)


# --- baselines ----------------------------------------------------------------------------------------


def _shingles(text: str, size: int = 3) -> set[bytes]:
    keys = [word_key(w) for w in _WORD.findall(text)]
    return {" ".join(keys[i : i + size]).encode() for i in range(max(1, len(keys) - size + 1))} if keys else set()


def minhash_similarity_matrix(suspects: Sequence[str], sources: Sequence[str], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """Estimated Jaccard similarity of word-trigram sets (datasketch MinHash), suspects x sources."""
    from datasketch import MinHash

    def signatures(texts):
        hashes = MinHash.bulk([list(_shingles(t)) for t in texts], num_perm=num_perm, seed=seed)
        return np.stack([h.hashvalues for h in hashes]) if hashes else np.zeros((0, num_perm), dtype=np.uint64)

    left, right = signatures(suspects), signatures(sources)
    out = np.zeros((len(left), len(right)), dtype=np.float32)
    for start in range(0, len(left), 64):
        out[start : start + 64] = (left[start : start + 64, None, :] == right[None, :, :]).mean(axis=2)
    return out


def tfidf_cosine_matrix(suspects: Sequence[str], sources: Sequence[str]) -> np.ndarray:
    """Cosine of TF-IDF vectors (word uni- and bigrams, sublinear tf, fitted on the sources), suspects x sources."""
    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), lowercase=True)
    source_vectors = vectorizer.fit_transform(sources)
    return linear_kernel(vectorizer.transform(suspects), source_vectors).astype(np.float32)


def fit_threshold_verdicts(similarities: Sequence[float], verdicts: Sequence[str]) -> DecisionTreeClassifier:
    """Verdict thresholds on one similarity: a tree with one leaf per verdict, fitted on labelled suspects."""
    model = DecisionTreeClassifier(max_leaf_nodes=len(VERDICTS), random_state=0)
    return model.fit(np.asarray(similarities, dtype=float).reshape(-1, 1), list(verdicts))


def _baseline_predictions(name: str, data: EvalData) -> tuple[list[str], list[list[str]], np.ndarray]:
    """(verdicts, ranked source ids, best similarity) of one baseline for every suspect."""
    matrix_of = {"minhash": minhash_similarity_matrix, "tfidf_cosine": tfidf_cosine_matrix}[name]
    matrix = matrix_of([s["text"] for s in data.suspects], [d.text for d in data.sources])
    order = np.argsort(-matrix, axis=1, kind="stable")[:, :TOP_K]
    ranked = [[data.sources[j].id for j in row] for row in order]
    best = matrix.max(axis=1) if matrix.shape[1] else np.zeros(len(data.suspects))
    tune = [i for i, s in enumerate(data.suspects) if s["split"] == "tune"] or list(range(len(data.suspects)))
    model = fit_threshold_verdicts(best[tune], [data.suspects[i]["verdict"] for i in tune])
    return model.predict(best.reshape(-1, 1)).tolist(), ranked, best


# --- the detector -------------------------------------------------------------------------------------


def _ranked_sources(report) -> list[str]:
    ids = ([report.source_id] if report.source_id else []) + [doc_id for doc_id, _ in report.candidates]
    return list(dict.fromkeys(ids))


def _analyze_articles(detector, data: EvalData, progress: bool | None) -> tuple[list, dict]:
    from detector.index import SourceIndex

    start = time.perf_counter()
    index = SourceIndex.build(data.sources, encoder=detector.encoder, progress=progress_mode(progress) == "bar")
    index_seconds = time.perf_counter() - start
    start = time.perf_counter()
    texts = [s["text"] for s in data.suspects]
    reports = list(track(detector.analyze_many(texts, index=index), len(texts), progress))
    analyze_seconds = time.perf_counter() - start
    sentences = sum(len(r.sentences) for r in reports)
    indexed_sentences = sum(len(index.source(d.id).segments) for d in data.sources)
    throughput = {
        "index_sources": len(data.sources),
        "index_sentences": indexed_sentences,
        "index_seconds": round(index_seconds, 3),
        "index_sentences_per_second": _rate(indexed_sentences, index_seconds),
        "articles": len(reports),
        "article_sentences": sentences,
        "analyze_seconds": round(analyze_seconds, 3),
        "articles_per_second": _rate(len(reports), analyze_seconds),
        "sentences_per_second": _rate(sentences, analyze_seconds),
    }
    return reports, throughput


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 3) if seconds > 0 else float("nan")


def _compare_pairs(detector, pairs: list[dict], progress: bool | None) -> tuple[list[PairRecord], dict]:
    """`Detector.compare` on every pair (its spun probability is the classifier's, when one is loaded)."""
    start = time.perf_counter()
    records = []
    for pair in track(pairs, len(pairs), progress, unit="pair"):
        result = detector.compare(pair["source"], pair["suspect"])
        probability = None if result.spun_probability is None else float(result.spun_probability)
        records.append(PairRecord(
            pair["id"], pair["relation"], pair["variant"], pair["rate"], result.relation,
            float(result.similarity), float(result.spin_strength), probability,
        ))
    seconds = time.perf_counter() - start
    return records, {"pairs": len(records), "pair_seconds": round(seconds, 3), "pairs_per_second": _rate(len(records), seconds)}


# --- metrics ------------------------------------------------------------------------------------------


def _interval(metric, *arrays, bootstrap: int, seed: int) -> dict:
    return bootstrap_interval(metric, *arrays, n=bootstrap, seed=seed).to_dict()


def _verdict_figures(truth: list[str], predicted: list[str], bootstrap: int, seed: int) -> dict:
    def macro(t, p):
        return verdict_macro_f1_score(t, p, labels=VERDICTS)

    def per_verdict(verdict):
        return lambda t, p: verdict_macro_f1_score(t, p, labels=[verdict])

    return {
        "macro_f1": _interval(macro, truth, predicted, bootstrap=bootstrap, seed=seed),
        "f1": {v: _interval(per_verdict(v), truth, predicted, bootstrap=bootstrap, seed=seed) for v in VERDICTS},
        "confusion": {"labels": list(VERDICTS), "matrix": verdict_confusion_matrix(truth, predicted, VERDICTS).tolist()},
    }


def _accuracy(truth: list[str], predicted: list[str]) -> float:
    return float(np.mean([t == p for t, p in zip(truth, predicted)])) if truth else float("nan")


def _retrieval_figures(records: list[ArticleRecord], system: str, bootstrap: int, seed: int) -> dict:
    figures = {}
    for group, verdicts in RETRIEVAL_GROUPS.items():
        rows = [r for r in records if r.verdict in verdicts and r.source_id]
        true_ids, ranked = [r.source_id for r in rows], [r.ranked[system] for r in rows]
        figures[group] = {
            f"at_{k}": _interval(lambda t, r, k=k: retrieval_accuracy_at_k_score(t, r, k=k), true_ids, ranked, bootstrap=bootstrap, seed=seed)
            for k in (1, TOP_K)
        }
    return figures


def _variant_accuracy(records: list[ArticleRecord], bootstrap: int, seed: int) -> dict:
    groups: dict[str, list[ArticleRecord]] = {}
    for record in records:
        groups.setdefault(f"{record.verdict}/{record.variant}", []).append(record)
    return {
        name: _interval(_accuracy, [r.verdict for r in rows], [r.predicted[SYSTEM] for r in rows], bootstrap=bootstrap, seed=seed)
        for name, rows in sorted(groups.items())
    }


def _pair_score(record: PairRecord) -> float:
    """The spun score of a pair: the classifier's probability when there is one, else the spin strength."""
    return record.spun_probability if record.spun_probability is not None else record.spin_strength


def _pair_figures(records: list[PairRecord], bootstrap: int, seed: int) -> dict:
    truth, predicted = [r.relation for r in records], [r.predicted for r in records]

    def macro(t, p):
        return verdict_macro_f1_score(t, p, labels=RELATIONS)

    negatives = [r for r in records if r.relation in CLEAN_PAIR_RELATIONS]
    by_rate, auc_by_rate = {}, {}
    for rate in sorted({r.rate for r in records if r.rate is not None}):
        spun = [r for r in records if r.rate == rate]
        by_rate[str(rate)] = _interval(_accuracy, ["spun"] * len(spun), [r.predicted for r in spun], bootstrap=bootstrap, seed=seed)
        rows = spun + negatives
        labels, scores = [int(r.relation == "spun") for r in rows], [_pair_score(r) for r in rows]
        auc_by_rate[str(rate)] = _interval(sentence_roc_auc_score, labels, scores, bootstrap=bootstrap, seed=seed)
    return {
        "macro_f1": _interval(macro, truth, predicted, bootstrap=bootstrap, seed=seed),
        "confusion": {"labels": list(RELATIONS), "matrix": verdict_confusion_matrix(truth, predicted, RELATIONS).tolist()},
        "spun_recall_by_rate": by_rate,
        "roc_auc_by_rate": auc_by_rate,
        "score": "classifier spun probability" if records and records[0].spun_probability is not None else "spin strength (no classifier)",
    }


def _article_figures(records: list[ArticleRecord], bootstrap: int, seed: int) -> dict:
    test = [r for r in records if r.split == "test"]
    truth = [r.verdict for r in test]
    systems = {}
    for system in (SYSTEM, *BASELINES):
        predicted = [r.predicted[system] for r in test]
        systems[system] = _verdict_figures(truth, predicted, bootstrap, seed) | {"retrieval": _retrieval_figures(test, system, bootstrap, seed)}
    systems[SYSTEM]["variant_accuracy"] = _variant_accuracy(test, bootstrap, seed)
    spun = [r for r in test if r.verdict == "spun"]
    systems[SYSTEM]["spin_score_by_variant"] = {
        variant: float(np.mean([r.spin_score for r in spun if r.variant == variant])) for variant in sorted({r.variant for r in spun})
    }
    return {"split": "test", "suspects": len(test), "systems": systems}


# --- the run ------------------------------------------------------------------------------------------


def evaluate(
    data: EvalData | str | os.PathLike = DEFAULT_DATA,
    detector=None,
    *,
    sample: int | None = None,
    distractors: int | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    progress: bool | None = False,
) -> EvaluationResult:
    """Evaluate ``detector`` (default `Detector.load()`) and the baselines on an evaluation set.

    ``data`` is an `EvalData` or the folder of one; ``sample`` keeps the first n suspects per verdict
    (and pairs per relation) and ``distractors`` caps the unrelated indexed sources (see
    `load_eval_data`; for an `EvalData` they are only recorded); ``bootstrap`` resamples (seeded by
    ``seed``) give each 95 % interval. ``progress`` counts the articles analysed and the pairs
    compared on stderr (`detector.progress`): True a bar, None a bar on a terminal and elsewhere a
    line every 30 s, False (the default) nothing.
    """
    if not isinstance(data, EvalData):
        data = load_eval_data(data, sample=sample, distractors=distractors)
    if detector is None:
        from detector.api import Detector

        detector = Detector.load()
    reports, throughput = _analyze_articles(detector, data, progress)
    baselines = {name: _baseline_predictions(name, data) for name in BASELINES}
    records = [_article_record(i, suspect, report, baselines) for i, (suspect, report) in enumerate(zip(data.suspects, reports))]
    pair_records, pair_throughput = _compare_pairs(detector, data.pairs, progress)
    return EvaluationResult(
        articles=_article_figures(records, bootstrap, seed),
        pairs=_pair_figures(pair_records, bootstrap, seed),
        throughput=throughput | pair_throughput | {"classifier": detector.scorer is not None, "machine": _machine()},
        data={
            "card": data.card, "sources": len(data.sources), "suspects": len(data.suspects), "pairs": len(data.pairs),
            "sample": sample, "distractors": distractors, "bootstrap": bootstrap, "seed": seed,
            "classifier": detector.scorer is not None, "notes": [detector.model_note] if detector.model_note else [],
        },
        article_records=records,
        pair_records=pair_records,
    )


def _article_record(i: int, suspect: dict, report, baselines: dict) -> ArticleRecord:
    predicted = {SYSTEM: report.verdict} | {name: result[0][i] for name, result in baselines.items()}
    ranked = {SYSTEM: _ranked_sources(report)} | {name: result[1][i] for name, result in baselines.items()}
    best = {SYSTEM: float(report.source_similarity)} | {name: float(result[2][i]) for name, result in baselines.items()}
    return ArticleRecord(
        suspect["id"], suspect["split"], suspect["verdict"], suspect["variant"], suspect["rate"], suspect["source_id"],
        predicted, ranked, float(report.spin_score), float(report.coverage), best,
    )


def _machine() -> dict:
    import torch

    return describe_machine() | {"torch_threads": torch.get_num_threads()}


# --- summary ------------------------------------------------------------------------------------------


def _cell(interval: dict | None) -> str:
    if interval is None or interval["value"] is None or math.isnan(interval["value"]):
        return "–"
    if math.isnan(interval["low"]):
        return f"{interval['value']:.3f}"
    return f"{interval['value']:.3f} [{interval['low']:.3f}, {interval['high']:.3f}]"


def summary_table(result: dict) -> str:
    """Markdown table of the headline figures of a result dict (`EvaluationResult.to_dict()` or its JSON)."""
    systems = result["articles"]["systems"]
    names = [SYSTEM, *BASELINES]
    rows = [("article macro-F1", {n: _cell(systems[n]["macro_f1"]) for n in names})]
    rows += [(f"article F1 {v}", {n: _cell(systems[n]["f1"][v]) for n in names}) for v in VERDICTS]
    for group in RETRIEVAL_GROUPS:
        for k in (1, TOP_K):
            rows.append((f"source retrieval acc@{k} {group}", {n: _cell(systems[n]["retrieval"][group][f"at_{k}"]) for n in names}))
    rows.append(("pair macro-F1 (copy/spun/paraphrase/unrelated)", {SYSTEM: _cell(result["pairs"]["macro_f1"])}))
    throughput = result["throughput"]
    rows.append(("articles analysed per second", {SYSTEM: f"{throughput['articles_per_second']:.1f}"}))
    header = ["metric", "this project", *BASELINES]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([metric] + [cells.get(n, "–") for n in names]) + " |" for metric, cells in rows]
    return "\n".join(lines)


def sample_from_env() -> int | None:
    """The sample size in ``$SPIN_EVAL_SAMPLE`` (suspects per verdict), or None (the full set) when unset."""
    value = os.environ.get(SAMPLE_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"{SAMPLE_ENV}={value!r} must be a positive integer (suspects per verdict), or unset for the full set")
    return int(value)


def __getattr__(name: str):
    """``main`` moved to `detector.cli.evaluate.main` (issue 36: the library does not import its CLI);
    the old name still resolves, with a `DeprecationWarning`."""
    if name != "main":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        "detector.evaluation.main moved to detector.cli.evaluate.main; run `spin-detect evaluate` instead",
        DeprecationWarning, stacklevel=2,
    )
    return importlib.import_module("detector.cli.evaluate").main


if __name__ == "__main__":
    __getattr__("main")()
