"""Validation figures of a model during training: raw-probability metrics per epoch, and the
decisions at the calibrated threshold once it is fitted (both go into training.json and the card)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from detector.classifier import SpinScorer
from training.data import SplitData

__all__ = ["validation_metrics", "decisions_at_threshold"]


def validation_metrics(scorer: SpinScorer, split: SplitData, batch_size: int, autocast: bool = False) -> dict:
    """Validation metrics: sentence AUC / average precision / F1 / Brier at 0.5, word F1, rates by kind."""
    scorer.model.eval()
    with torch.autocast(scorer.device.type, dtype=torch.bfloat16, enabled=autocast):
        raw, words = scorer.score_subwords(split.inputs, batch_size)
    labels = split.labels.astype(int)
    predicted = (raw >= 0.5).astype(int)
    metrics = {
        "sentence_auc": float(roc_auc_score(labels, raw)) if len(set(labels)) == 2 else float("nan"),
        "sentence_average_precision": float(average_precision_score(labels, raw)),
        "sentence_f1": float(f1_score(labels, predicted, zero_division=0)),
        "sentence_brier_loss": float(brier_score_loss(labels, raw)),
    }
    metrics.update(_word_metrics(split, words))
    metrics["spun_rate_by_kind"] = {
        kind: float(predicted[[k == kind for k in split.kinds]].mean()) for kind in sorted(set(split.kinds))
    }
    return metrics


def _word_metrics(split: SplitData, words: list[np.ndarray]) -> dict:
    truth = [labels for labels in split.word_labels if labels is not None]
    if not truth:
        return {"word_f1": float("nan")}
    y_true = np.concatenate(truth).astype(int)
    y_score = np.concatenate([w for w, labels in zip(words, split.word_labels) if labels is not None])
    y_pred = (y_score >= 0.5).astype(int)
    return {
        "word_f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "word_precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "word_recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "word_auc": float(roc_auc_score(y_true, y_score)) if len(set(y_true)) == 2 else float("nan"),
    }


def decisions_at_threshold(scorer: SpinScorer, split: SplitData, batch_size: int) -> dict:
    """Validation precision / recall / F1 of the calibrated decision, and the share called spun by kind."""
    raw, _ = scorer.score_subwords(split.inputs, batch_size)
    predicted = (scorer.calibration.apply(raw) >= scorer.threshold).astype(int)
    labels = split.labels.astype(int)
    kinds = np.asarray(split.kinds)
    return {
        "threshold": scorer.threshold,
        "precision": float(precision_score(labels, predicted, zero_division=0)),
        "recall": float(recall_score(labels, predicted, zero_division=0)),
        "f1": float(f1_score(labels, predicted, zero_division=0)),
        "spun_rate_by_kind": {kind: float(predicted[kinds == kind].mean()) for kind in sorted(set(split.kinds))},
    }
