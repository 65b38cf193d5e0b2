"""Evaluation metrics shared by training, the benchmarks and the notebook, with bootstrap intervals.

Thin, explicit wrappers over :mod:`sklearn.metrics`: sentence-level ranking (ROC AUC, average
precision), decisions at a threshold (F1, false-positive rate), word-level precision/recall/F1 over
the word tokens of spun sentences, calibration (Brier score, reliability curve), article verdicts
(confusion matrix, macro-F1) and retrieval accuracy at k. Scores that are better when higher end in
``_score``, those better when lower in ``_loss``; undefined cases return ``zero_division`` (or NaN for
ranking metrics on a single class) instead of raising. No torch here.

Example:
    >>> labels, scores = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    >>> sentence_roc_auc_score(labels, scores)
    0.75
    >>> f1_at_threshold_score(labels, scores, threshold=0.3)
    0.8
    >>> interval = bootstrap_interval(sentence_roc_auc_score, labels, scores, n=200, seed=0)
    >>> interval.value, interval.low <= interval.value <= interval.high
    (0.75, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    recall_score,
    roc_auc_score,
)

__all__ = [
    "Interval",
    "ReliabilityCurve",
    "WordScores",
    "bootstrap_interval",
    "false_positive_rate_loss",
    "f1_at_threshold_score",
    "recall_at_threshold_score",
    "reliability_curve",
    "retrieval_accuracy_at_k_score",
    "sentence_average_precision_score",
    "sentence_brier_loss",
    "sentence_roc_auc_score",
    "verdict_confusion_matrix",
    "verdict_macro_f1_score",
    "word_f1_score",
    "word_precision_recall_f1",
]


@dataclass(frozen=True)
class Interval:
    """A metric on the full sample and its bootstrap percentile interval."""

    value: float
    low: float
    high: float
    n: int  # bootstrap resamples

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class WordScores:
    """Word-level precision, recall and F1 over every labelled word token, pooled across sentences."""

    precision: float
    recall: float
    f1: float
    words: int


@dataclass(frozen=True)
class ReliabilityCurve:
    """Mean predicted probability and observed positive share per non-empty probability bin."""

    mean_predicted: list[float]
    fraction_positive: list[float]
    counts: list[int]


def _single_class(labels: np.ndarray) -> bool:
    return len(np.unique(labels)) < 2


def sentence_roc_auc_score(labels: Sequence[int], scores: Sequence[float]) -> float:
    """ROC AUC of the sentence scores; NaN when only one class is present."""
    labels = np.asarray(labels)
    return float("nan") if _single_class(labels) else float(roc_auc_score(labels, np.asarray(scores, dtype=float)))


def sentence_average_precision_score(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Average precision (area under precision-recall) of the sentence scores; NaN without positives."""
    labels = np.asarray(labels)
    return float("nan") if not labels.any() else float(average_precision_score(labels, np.asarray(scores, dtype=float)))


def f1_at_threshold_score(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5, zero_division: float = 0.0) -> float:
    """F1 of the decision ``score >= threshold`` against ``labels``."""
    predicted = (np.asarray(scores, dtype=float) >= threshold).astype(int)
    return float(f1_score(np.asarray(labels, dtype=int), predicted, zero_division=zero_division))


def recall_at_threshold_score(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5, zero_division: float = 0.0) -> float:
    """Share of the positive rows (label 1) with ``score >= threshold``; ``zero_division`` without positives."""
    predicted = (np.asarray(scores, dtype=float) >= threshold).astype(int)
    return float(recall_score(np.asarray(labels, dtype=int), predicted, zero_division=zero_division))


def false_positive_rate_loss(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5, zero_division: float = 0.0) -> float:
    """Share of the negative rows (label 0) with ``score >= threshold``; ``zero_division`` without negatives."""
    labels, scores = np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)
    negatives = labels == 0
    return float(zero_division) if not negatives.any() else float(np.mean(scores[negatives] >= threshold))


def _flatten(rows: Sequence) -> np.ndarray:
    arrays = [np.asarray(row, dtype=float) for row in rows]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def word_precision_recall_f1(word_labels: Sequence, word_scores: Sequence, threshold: float = 0.5, zero_division: float = 0.0) -> WordScores:
    """Pooled word-level scores; sentences whose labels are ``None`` (unknown) are left out."""
    kept = [(labels, scores) for labels, scores in zip(word_labels, word_scores) if labels is not None]
    for labels, scores in kept:
        if len(labels) != len(scores):
            raise ValueError(f"a sentence has {len(labels)} word labels but {len(scores)} word scores; both must follow tokenize()")
    truth, predicted = _flatten([k[0] for k in kept]).astype(int), (_flatten([k[1] for k in kept]) >= threshold).astype(int)
    if truth.size == 0:
        return WordScores(float(zero_division), float(zero_division), float(zero_division), 0)
    precision, recall, f1, _ = precision_recall_fscore_support(truth, predicted, average="binary", zero_division=zero_division)
    return WordScores(float(precision), float(recall), float(f1), int(truth.size))


def word_f1_score(word_labels: Sequence, word_scores: Sequence, threshold: float = 0.5, zero_division: float = 0.0) -> float:
    """Word-level F1 (see `word_precision_recall_f1`)."""
    return word_precision_recall_f1(word_labels, word_scores, threshold, zero_division).f1


def sentence_brier_loss(labels: Sequence[int], probabilities: Sequence[float]) -> float:
    """Mean squared error of the probabilities against the 0/1 labels."""
    return float(brier_score_loss(np.asarray(labels, dtype=int), np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)))


def reliability_curve(labels: Sequence[int], probabilities: Sequence[float], n_bins: int = 10, strategy: str = "uniform") -> ReliabilityCurve:
    """Calibration curve (`sklearn.calibration.calibration_curve`) with the row count of each bin."""
    labels, probabilities = np.asarray(labels, dtype=int), np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    fraction, mean = calibration_curve(labels, probabilities, n_bins=n_bins, strategy=strategy)
    edges = np.linspace(0.0, 1.0, n_bins + 1) if strategy == "uniform" else np.percentile(probabilities, np.linspace(0, 100, n_bins + 1))
    bins = np.searchsorted(edges[1:-1], probabilities)  # the binning calibration_curve uses
    counts = np.bincount(bins, minlength=len(edges) - 1)
    return ReliabilityCurve(mean.tolist(), fraction.tolist(), [int(c) for c in counts if c > 0])


def verdict_confusion_matrix(true: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Counts, rows = true verdict, columns = predicted verdict, in the order of ``labels``."""
    return confusion_matrix(list(true), list(predicted), labels=list(labels))


def verdict_macro_f1_score(true: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None, zero_division: float = 0.0) -> float:
    """Unweighted mean of the per-verdict F1."""
    return float(f1_score(list(true), list(predicted), labels=None if labels is None else list(labels), average="macro", zero_division=zero_division))


def retrieval_accuracy_at_k_score(true_ids: Sequence[str], ranked_ids: Sequence[Sequence[str]], k: int = 1) -> float:
    """Share of queries whose true id is among the first ``k`` retrieved ids; 0 for no queries."""
    if not true_ids:
        return 0.0
    return float(np.mean([truth in list(ranked)[:k] for truth, ranked in zip(true_ids, ranked_ids, strict=True)]))


def _take(values, rows: np.ndarray):
    return values[rows] if isinstance(values, np.ndarray) else [values[i] for i in rows]


def bootstrap_interval(metric: Callable[..., float], *arrays, n: int = 1000, seed: int = 0, confidence: float = 0.95) -> Interval:
    """``metric(*arrays)`` and its percentile interval over ``n`` resamples of the rows (with replacement).

    The arrays are resampled together, row by row (a row may be a sentence's list of word labels).
    Resamples on which the metric is undefined (NaN) are skipped.
    """
    arrays = tuple(a if isinstance(a, np.ndarray) else list(a) for a in arrays)
    size = len(arrays[0])
    if any(len(a) != size for a in arrays):
        raise ValueError(f"bootstrap arrays must have equal lengths, got {[len(a) for a in arrays]}")
    value = float(metric(*arrays))
    if size == 0:
        return Interval(value, float("nan"), float("nan"), n)
    rng = np.random.default_rng(seed)
    samples = np.array([metric(*(_take(a, rows) for a in arrays)) for rows in rng.integers(0, size, size=(n, size))], dtype=float)
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return Interval(value, float("nan"), float("nan"), n)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(value, float(low), float(high), n)
