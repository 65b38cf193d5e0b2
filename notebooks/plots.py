"""Matplotlib figures of the evaluation notebook: curves per swap rate, calibration, confusion matrices.

Every function takes plain data (`evaluation_inputs.SentenceScores`, the evaluation result dict) and
returns the figure; the numbers in titles and legends come from `detector.metrics`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from detector import metrics
from evaluation_inputs import RATE_BINS, SentenceScores, rate_bin

__all__ = ["calibration", "confusion_matrices", "curves_by_rate", "score_by_rate", "spin_score_by_variant"]


def _by_rate(scores: SentenceScores) -> dict[str, np.ndarray]:
    """Row masks: each swap-rate bin's spun rows together with every human (label 0) row."""
    bins = np.array([rate_bin(r) for r in scores.rates])
    negatives = scores.labels == 0
    return {label: ((scores.labels == 1) & (bins == label)) | negatives for _, label in RATE_BINS if ((scores.labels == 1) & (bins == label)).any()}


def curves_by_rate(scores: SentenceScores):
    """ROC and precision-recall curves, one line per swap-rate bin against all human sentences."""
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
    for label, rows in _by_rate(scores).items():
        y, s = scores.labels[rows], scores.scores[rows]
        fpr, tpr, _ = roc_curve(y, s)
        precision, recall, _ = precision_recall_curve(y, s)
        roc_ax.plot(fpr, tpr, label=f"{label} (AUC {metrics.sentence_roc_auc_score(y, s):.3f})")
        pr_ax.plot(recall, precision, label=f"{label} (AP {metrics.sentence_average_precision_score(y, s):.3f})")
    roc_ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    roc_ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC per swap rate")
    pr_ax.set(xlabel="recall", ylabel="precision", title="precision-recall per swap rate", ylim=(0, 1.02))
    for ax in (roc_ax, pr_ax):
        ax.legend(fontsize=8, loc="lower right" if ax is roc_ax else "lower left")
    fig.suptitle(scores.score_name, fontsize=10)
    fig.tight_layout()
    return fig


def score_by_rate(scores: SentenceScores):
    """Box plot of the score for human sentences and for each swap-rate bin of spun sentences."""
    bins = np.array([rate_bin(r) for r in scores.rates])
    groups = [("human", scores.scores[scores.labels == 0])]
    groups += [(label, scores.scores[(scores.labels == 1) & (bins == label)]) for _, label in RATE_BINS]
    groups = [(label, values) for label, values in groups if values.size]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.boxplot([values for _, values in groups], showfliers=False)
    ax.set_xticks(range(1, len(groups) + 1), [f"{label}\n(n={values.size})" for label, values in groups])
    ax.set(xlabel="swap rate", ylabel=scores.score_name, title="score against swap rate")
    fig.tight_layout()
    return fig


def spin_score_by_variant(result: dict):
    """Mean article spin score of each kind of suspect (test split): spun variants should stand out."""
    groups: dict[str, list[float]] = {}
    for record in result["article_records"]:
        if record["split"] == "test":
            groups.setdefault(f"{record['verdict']}/{record['variant']}", []).append(record["spin_score"])
    names = sorted(groups)
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1))
    ax.barh(names, [np.mean(groups[n]) for n in names], xerr=[np.std(groups[n]) for n in names], color="#4c72b0")
    ax.invert_yaxis()
    ax.set(xlabel="article spin score (mean ± sd)", xlim=(0, 1), title="spin score per kind of suspect")
    fig.tight_layout()
    return fig


def calibration(scores: SentenceScores):
    """Reliability curve (observed spun share against mean predicted probability per bin) with the Brier score."""
    curve = metrics.reliability_curve(scores.labels, scores.scores, n_bins=10)
    brier = metrics.sentence_brier_loss(scores.labels, scores.scores)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect calibration")
    ax.plot(curve.mean_predicted, curve.fraction_positive, marker="o", label=f"model (Brier {brier:.3f})")
    ax.set(xlabel="mean predicted spun probability", ylabel="observed share spun", xlim=(0, 1), ylim=(0, 1), title="reliability")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def confusion_matrices(result: dict):
    """Article verdict confusion matrices (rows true, columns predicted) of the detector and each baseline."""
    systems = result["articles"]["systems"]
    fig, axes = plt.subplots(1, len(systems), figsize=(4.2 * len(systems), 4.2))
    for ax, (name, figures) in zip(np.atleast_1d(axes), systems.items()):
        labels, matrix = figures["confusion"]["labels"], np.array(figures["confusion"]["matrix"])
        ax.imshow(matrix, cmap="Blues")
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set(xlabel="predicted", ylabel="true", title=f"{name}: macro-F1 {figures['macro_f1']['value']:.3f}")
    fig.tight_layout()
    return fig
