"""Metrics against small hand-checked cases."""

import math

import numpy as np
import pytest

from detector import metrics


def test_sentence_ranking_and_threshold_metrics():
    labels, scores = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert metrics.sentence_roc_auc_score(labels, scores) == pytest.approx(0.75)
    # ranked: 0.8 (1), 0.4 (0), 0.35 (1), 0.1 (0): AP = (1/1 + 2/3) / 2
    assert metrics.sentence_average_precision_score(labels, scores) == pytest.approx((1 + 2 / 3) / 2)
    # threshold 0.5: predicted 0,0,0,1 -> precision 1, recall 0.5, F1 2/3
    assert metrics.f1_at_threshold_score(labels, scores, threshold=0.5) == pytest.approx(2 / 3)
    assert metrics.false_positive_rate_loss(labels, scores, threshold=0.3) == pytest.approx(0.5)
    assert metrics.recall_at_threshold_score(labels, scores, threshold=0.5) == pytest.approx(0.5)
    assert metrics.recall_at_threshold_score([0, 0], [0.9, 0.9], zero_division=0.0) == 0.0
    assert math.isnan(metrics.sentence_roc_auc_score([0, 0], [0.1, 0.2]))
    assert metrics.f1_at_threshold_score([0, 0], [0.1, 0.2], zero_division=1.0) == 1.0
    assert metrics.false_positive_rate_loss([1, 1], [0.9, 0.9], zero_division=0.0) == 0.0


def test_word_scores_pool_words_and_skip_unknown():
    labels = [[0, 1, 1], None, [1, 0]]
    scores = [[0.1, 0.9, 0.2], [0.9, 0.9], [0.8, 0.7]]
    # pooled truth 0 1 1 1 0, predicted 0 1 0 1 1 -> tp 2, fp 1, fn 1
    word = metrics.word_precision_recall_f1(labels, scores, threshold=0.5)
    assert (word.precision, word.recall, word.f1, word.words) == pytest.approx((2 / 3, 2 / 3, 2 / 3, 5))
    assert metrics.word_f1_score([], [], zero_division=0.0) == 0.0
    with pytest.raises(ValueError, match="3 word labels but 2 word scores"):
        metrics.word_f1_score([[0, 1, 0]], [[0.1, 0.2]])


def test_brier_and_reliability():
    labels, probabilities = [0, 1, 1, 0], [0.0, 1.0, 0.5, 0.5]
    assert metrics.sentence_brier_loss(labels, probabilities) == pytest.approx(0.125)
    curve = metrics.reliability_curve(labels, probabilities, n_bins=2)
    # bins [0, 0.5] and (0.5, 1]: {0.0, 0.5, 0.5} with labels 0, 1, 0, then {1.0} with label 1
    assert curve.mean_predicted == pytest.approx([1 / 3, 1.0])
    assert curve.fraction_positive == pytest.approx([1 / 3, 1.0])
    assert curve.counts == [3, 1]


def test_verdicts_and_retrieval():
    true = ["spun", "copy", "original", "spun"]
    predicted = ["spun", "spun", "original", "copy"]
    labels = ["original", "copy", "spun"]
    assert metrics.verdict_confusion_matrix(true, predicted, labels).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    # F1: original 1, copy 0, spun 0.5
    assert metrics.verdict_macro_f1_score(true, predicted, labels) == pytest.approx(0.5)
    ranked = [["a", "b"], ["c", "b"], ["x", "y"]]
    assert metrics.retrieval_accuracy_at_k_score(["a", "b", "z"], ranked, k=1) == pytest.approx(1 / 3)
    assert metrics.retrieval_accuracy_at_k_score(["a", "b", "z"], ranked, k=2) == pytest.approx(2 / 3)
    assert metrics.retrieval_accuracy_at_k_score([], [], k=1) == 0.0


def test_bootstrap_interval():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    scores = labels * 0.5 + rng.random(400)
    interval = metrics.bootstrap_interval(metrics.sentence_roc_auc_score, labels, scores, n=100, seed=1)
    assert interval.low < interval.value < interval.high and interval.high - interval.low < 0.15
    assert interval == metrics.bootstrap_interval(metrics.sentence_roc_auc_score, labels, scores, n=100, seed=1)
    word = metrics.bootstrap_interval(metrics.word_f1_score, [[0, 1], [1, 1], [0, 0]], [[0.2, 0.9], [0.1, 0.8], [0.7, 0.1]], n=50)
    assert word.value == pytest.approx(2 * (2 / 3 * 2 / 3) / (4 / 3)) and word.low <= word.value <= word.high
    with pytest.raises(ValueError, match="equal lengths"):
        metrics.bootstrap_interval(metrics.sentence_roc_auc_score, [0, 1], [0.5])
    assert interval.to_dict()["n"] == 100
