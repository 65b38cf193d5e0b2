"""training.calibrate: isotonic and Platt calibration, and the threshold under a false-positive cap."""

import doctest

import numpy as np
import pytest

import training.calibrate
from training.calibrate import choose_threshold, choose_word_threshold, fit_calibration


@pytest.fixture(scope="module")
def overconfident():
    """Raw probabilities pushed to the extremes: the truth is a gentler logistic curve."""
    rng = np.random.default_rng(0)
    score = rng.normal(size=4000)
    labels = (rng.random(4000) < 1 / (1 + np.exp(-score))).astype(int)
    return 1 / (1 + np.exp(-4 * score)), labels


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_lowers_the_brier_score(overconfident, method):
    raw, labels = overconfident
    calibration = fit_calibration(raw, labels, method=method)
    assert calibration.details["brier_after"] < calibration.details["brier_before"]
    assert calibration.method == method
    calibrated = calibration.apply(raw)
    assert np.all((calibrated >= 0) & (calibrated <= 1))
    assert np.all(np.diff(calibrated[np.argsort(raw)]) >= -1e-12)  # monotone


def test_threshold_keeps_the_false_positive_rate_under_the_cap(overconfident):
    raw, labels = overconfident
    for cap in (0.02, 0.2):
        threshold, chosen = choose_threshold(raw, labels, cap)
        predicted = raw >= threshold
        false_positive_rate = predicted[labels == 0].mean()
        assert false_positive_rate <= cap
        assert chosen["false_positive_rate"] == pytest.approx(false_positive_rate)
        assert chosen["recall"] == pytest.approx(predicted[labels == 1].mean())


def test_the_cap_holds_for_each_kind_of_negative_not_only_pooled():
    # 10 clean sentences, one scoring high, and 30 paraphrases scoring low: pooled, flagging the high clean one is
    # 1 of 40 false positives (2.5%), under a 5% cap, but it is 10% of the clean sentences.
    clean, paraphrase, spun = [0.1] * 9 + [0.8], [0.05] * 30, [0.6, 0.7, 0.9, 0.95]
    raw = np.array(clean + paraphrase + spun)
    labels = np.array([0] * 40 + [1] * 4)
    kinds = ["clean"] * 10 + ["paraphrase"] * 30 + ["spun"] * 4
    pooled_threshold, _ = choose_threshold(raw, labels, 0.05)
    threshold, chosen = choose_threshold(raw, labels, 0.05, kinds)
    assert pooled_threshold <= 0.8 < threshold
    assert chosen["worst_kind_false_positive_rate"] == 0.0 and chosen["recall"] == 0.5
    calibration = fit_calibration(raw, labels, method="platt", max_false_positive_rate=0.05, kinds=kinds)
    assert calibration.apply(np.array([0.8]))[0] < calibration.threshold


def test_held_out_negatives_cap_the_threshold_without_entering_the_f1():
    # On the labelled rows alone 0.65 is the best threshold (recall 1, no false positive); 1 of 10 held-out
    # human sentences scores 0.7, so at a 5% cap the threshold must rise past 0.7 and give up the 0.65 and 0.7 spins.
    raw = np.array([0.1, 0.2, 0.3, 0.65, 0.7, 0.9, 0.95])
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    human = np.array([0.05] * 9 + [0.7])
    free_threshold, free = choose_threshold(raw, labels, 0.05)
    threshold, chosen = choose_threshold(raw, labels, 0.05, held_out_negatives={"human": human})
    assert free_threshold <= 0.65 and free["recall"] == 1.0
    assert 0.7 < threshold <= 0.9 and chosen["recall"] == 0.5
    assert chosen["false_positive_rate"] == 0.0 and chosen["precision"] == 1.0  # the held-out rows are not in the F1
    assert chosen["held_out_false_positive_rate"] == {"human": {"rows": 10, "false_positive_rate": 0.0}}
    calibration = fit_calibration(raw, labels, method="platt", max_false_positive_rate=0.05, held_out_negatives={"human": human})
    assert calibration.apply(np.array([0.7]))[0] < calibration.threshold <= calibration.apply(np.array([0.9]))[0]
    assert calibration.details["held_out_false_positive_rate"]["human"]["false_positive_rate"] == 0.0


def test_a_held_out_negative_between_two_labelled_scores_counts_at_the_threshold_actually_returned():
    # The threshold sits halfway down to the next lower score: 0.45 between 0.3 and 0.6. A held-out sentence at
    # 0.5 is flagged there though it is under the score 0.6, so the cap must be checked at the returned cut.
    raw, labels = np.array([0.1, 0.2, 0.3, 0.6, 0.9]), np.array([0, 0, 0, 1, 1])
    human = np.array([0.05] * 9 + [0.5])
    threshold, chosen = choose_threshold(raw, labels, 0.05, held_out_negatives={"human": human})
    assert np.mean(human >= threshold) <= 0.05 and threshold > 0.5
    assert chosen["held_out_false_positive_rate"]["human"]["false_positive_rate"] == np.mean(human >= threshold)


def test_missing_or_textless_negatives_are_input_errors(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from detector.errors import InputError

    with pytest.raises(InputError, match="not found"):
        training.calibrate.read_negatives(tmp_path / "absent.parquet")
    pq.write_table(pa.table({"sentence": ["A human sentence."]}), tmp_path / "textless.parquet")
    with pytest.raises(InputError, match="text column"):
        training.calibrate.read_negatives(tmp_path / "textless.parquet")


def test_isotonic_threshold_reaches_the_cap_instead_of_stopping_on_a_plateau(overconfident):
    raw, labels = overconfident
    finest = choose_threshold(raw, labels, 0.03)[1]
    calibration = fit_calibration(raw, labels, method="isotonic", max_false_positive_rate=0.03)
    assert np.all(np.diff(calibration.x) > 0) and np.all(np.diff(calibration.y) > 0)
    assert calibration.details["false_positive_rate"] == pytest.approx(finest["false_positive_rate"], abs=0.002)
    assert calibration.details["f1"] == pytest.approx(finest["f1"], abs=0.003)


def test_word_threshold_is_the_best_word_f1_not_a_fixed_half():
    labels = [[0, 1, 0, 1], [1, 0, 0], None, [0, 0, 1]]
    scores = [[0.1, 0.4, 0.2, 0.35], [0.45, 0.3, 0.05], [0.9, 0.9], [0.2, 0.1, 0.6]]
    threshold, chosen = choose_word_threshold(labels, scores)
    assert 0.3 < threshold <= 0.35 and chosen["f1"] == 1.0 and chosen["words"] == 10
    assert choose_word_threshold([[0, 0]], [[0.2, 0.7]]) == (0.5, {})


def test_separable_data_gets_a_threshold_between_the_classes():
    threshold, chosen = choose_threshold(np.array([0.1, 0.2, 0.7, 0.9]), np.array([0, 0, 1, 1]), 0.0)
    assert 0.2 < threshold <= 0.7 and chosen["f1"] == 1.0


def test_one_class_and_unknown_method_are_refused():
    with pytest.raises(ValueError, match="one class only"):
        fit_calibration(np.array([0.1, 0.2]), np.array([1, 1]))
    with pytest.raises(ValueError, match="'beta' is unknown"):
        fit_calibration(np.array([0.1, 0.9]), np.array([0, 1]), method="beta")


def test_docstring_example_runs():
    assert doctest.testmod(training.calibrate).failed == 0


def test_calibrate_model_fits_the_full_and_the_int8_model(tiny_bert_dir, tmp_path):
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq
    import torch
    from transformers import AutoTokenizer

    from detector.classifier import SpinClassifier, SpinScorer

    torch.manual_seed(0)
    SpinScorer(SpinClassifier.from_base(tiny_bert_dir), AutoTokenizer.from_pretrained(tiny_bert_dir)).save(tmp_path / "model")
    texts = [f"Sentence number {i} says {'confess' if i % 2 else 'admit'} new members." for i in range(40)]
    word_labels = [[0, 0, 0, 0, i % 2, 0, 0] for i in range(40)]
    table = pa.table({"text": texts, "label": [i % 2 for i in range(40)], "word_labels": word_labels})
    pq.write_table(table, tmp_path / "calibration.parquet")
    training.calibrate.calibrate_model(tmp_path / "model", tmp_path / "calibration.parquet", max_false_positive_rate=0.5)
    saved = json.loads((tmp_path / "model" / "calibration.json").read_text(encoding="utf-8"))
    assert saved["method"] == "isotonic" and saved["int8"]["method"] == "isotonic"
    assert saved["int8"]["details"]["rows"] == 40
    assert SpinScorer.load(tmp_path / "model", precision="int8").threshold == saved["int8"]["threshold"]
    assert saved["details"]["word"]["words"] == 20 * 7
    assert SpinScorer.load(tmp_path / "model").word_threshold == saved["word_threshold"] != 0.5
    pq.write_table(pa.table({"text": [f"A human sentence, number {i}." for i in range(12)]}), tmp_path / "human_negatives.parquet")
    training.calibrate.calibrate_model(tmp_path / "model", tmp_path / "calibration.parquet", max_false_positive_rate=0.5,
                                       negatives=tmp_path / "human_negatives.parquet")
    saved = json.loads((tmp_path / "model" / "calibration.json").read_text(encoding="utf-8"))
    for details in (saved["details"], saved["int8"]["details"]):
        assert details["held_out_false_positive_rate"]["human_negatives"]["rows"] == 12
        assert details["held_out_false_positive_rate"]["human_negatives"]["false_positive_rate"] <= 0.5
