"""Where the evaluation notebook's numbers come from, so that its cells stay short.

* the article- and pair-level result: the full run's JSON (``spin-detect evaluate``) when the notebook
  runs on the full set, else a fresh `detector.evaluation.evaluate` run on a small sample (the sample
  set is built with `training.build_eval_articles` when ``build/eval`` is missing: a fresh clone);
* sentence scores per swap rate: the classifier on ``build/dataset/eval/*.parquet`` (from
  ``python -m training.build_dataset``) when both exist, else the evaluation's sentence pairs
  (classifier probability, or the spin strength against the source when no classifier is loaded);
* throughput: the evaluation's own timings and every ``benchmarks/results/*.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from detector.evaluation import DEFAULT_DATA, DEFAULT_RESULTS, evaluate

__all__ = ["RATE_BINS", "SentenceScores", "article_result", "benchmark_figures", "rate_bin", "sentence_scores"]

REPO = Path(__file__).resolve().parent.parent
EVAL_DATA = REPO / DEFAULT_DATA  # the library's defaults are relative to the working directory
EVAL_RESULTS = REPO / DEFAULT_RESULTS
SENTENCE_SETS = REPO / "build" / "dataset" / "eval"
SPUN_SETS = ("news_spun_05_10", "news_spun_20_40")
CLEAN_SETS = ("news_clean", "paraphrase_human")
RATE_BINS = ((0.1, "5-10%"), (0.2, "10-20%"), (0.3, "20-30%"), (0.45, "30-45%"), (0.6, "45-60%"))
SAMPLE_DISTRACTORS = 10  # indexed distractors per sampled suspect of each verdict
FULL_BOOTSTRAP, SAMPLE_BOOTSTRAP = 1000, 200
THROUGHPUT_WORDS = ("per_second", "_ms", "seconds", "peak", "memory", "_mb", "speedup")


@dataclass
class SentenceScores:
    """One score per sentence: ``labels`` 1 for spun, ``rates`` the swap rate (0 for human text)."""

    labels: np.ndarray
    scores: np.ndarray
    rates: np.ndarray
    score_name: str
    origin: str
    is_probability: bool


def rate_bin(rate: float) -> str:
    """The label of the swap-rate bin holding ``rate`` (bins closed on the right)."""
    return next((label for upper, label in RATE_BINS if rate <= upper + 1e-9), RATE_BINS[-1][1])


def article_result(detector, sample: int | None, results: Path = EVAL_RESULTS, data: Path = EVAL_DATA) -> dict:
    """The evaluation result as a dict: the saved full run when ``sample`` is None and it exists, else a new run."""
    if sample is None and results.is_file():
        saved = json.loads(results.read_text(encoding="utf-8"))
        if saved["data"].get("sample") is None:
            return saved
    if not (data / "suspects.jsonl").is_file():
        data = _build_set(sample)
    distractors = None if sample is None else SAMPLE_DISTRACTORS * sample
    bootstrap = FULL_BOOTSTRAP if sample is None else SAMPLE_BOOTSTRAP
    return evaluate(data, detector, sample=sample, distractors=distractors, bootstrap=bootstrap).to_dict()


def _build_set(sample: int | None) -> Path:
    from training.build_eval_articles import build_eval_set

    if sample is None:
        return build_eval_set().save(EVAL_DATA)
    folder = REPO / "build" / f"eval-sample-{sample}"
    if not (folder / "suspects.jsonl").is_file():
        # the builder needs at least 5 suspects per verdict (one per copy variant)
        build_eval_set(per_verdict=max(5, sample), pairs_per_relation=max(10, 2 * sample), distractors=SAMPLE_DISTRACTORS * sample).save(folder)
    return folder


def sentence_scores(detector, result: dict, sample: int | None) -> SentenceScores:
    """Sentence scores from the dataset's eval sets when they and a classifier exist, else from the evaluation's pairs."""
    if detector.scorer is not None and all((SENTENCE_SETS / f"{name}.parquet").is_file() for name in SPUN_SETS + CLEAN_SETS):
        return _dataset_scores(detector, None if sample is None else 25 * sample)
    return _pair_scores(result["pair_records"])


def _dataset_scores(detector, rows: int | None) -> SentenceScores:
    texts, labels, rates = [], [], []
    for name in SPUN_SETS + CLEAN_SETS:
        table = pq.read_table(SENTENCE_SETS / f"{name}.parquet", columns=["text", "label", "rate"])
        table = table if rows is None else table.slice(0, rows)
        texts += table["text"].to_pylist()
        labels += table["label"].to_pylist()
        rates += table["rate"].to_pylist()
    scores = [s.spun_probability for s in detector.score_sentences(texts)]
    return SentenceScores(np.array(labels), np.array(scores), np.array(rates, dtype=float),
                          "classifier spun probability", f"{len(texts)} sentences of {SENTENCE_SETS}", True)


def _pair_scores(records: list[dict]) -> SentenceScores:
    rows = [r for r in records if r["relation"] in ("spun", "copy", "paraphrase")]
    with_classifier = bool(rows) and rows[0]["spun_probability"] is not None
    key = "spun_probability" if with_classifier else "spin_strength"
    return SentenceScores(
        np.array([int(r["relation"] == "spun") for r in rows]),
        np.array([r[key] for r in rows], dtype=float),
        np.array([r["rate"] or 0.0 for r in rows], dtype=float),
        "classifier spun probability (suspect alone)" if with_classifier else "spin strength against the source (no classifier)",
        f"{len(rows)} sentence pairs of the article evaluation set",
        with_classifier,
    )


def benchmark_figures(result: dict, folder: Path = REPO / "benchmarks" / "results") -> list[tuple[str, str, float]]:
    """(file, figure, value) rows: the evaluation's throughput, then the speed and memory figures of each benchmark JSON."""
    rows = [("evaluation (this run)", key, value) for key, value in _leaves(result["throughput"])]
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name == DEFAULT_RESULTS.name:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows += [(path.name, key, value) for key, value in _leaves(data) if any(word in key for word in THROUGHPUT_WORDS)]
    return rows


def _leaves(data, prefix: str = ""):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        yield prefix, float(data)
