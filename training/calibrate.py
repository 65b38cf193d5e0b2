"""Calibration of the sentence probability on held-out data, and the decision threshold.

The fine-tuned model's raw probabilities are pushed around by class balancing and by training to
low loss; a centred isotonic regression (or Platt scaling) fitted on the calibration split maps
them to probabilities that mean what they say. The threshold is the one with the best F1 on the
calibration split among those whose false-positive rate stays within ``max_false_positive_rate``
on every kind of negative row (clean sentences, human paraphrase) taken on its own: pooled, the
rarely flagged paraphrases would let clean news run over the cap. Held-out negatives (``--negatives``,
such as ``build_dataset``'s ``human_negatives.parquet``: human sentences no split trains on) are one
more such kind: the cap holds on them, but they do not enter the fit or the F1, so the probabilities
keep the calibration split's meaning.

Example:
    >>> import numpy as np
    >>> raw = np.array([0.1, 0.2, 0.3, 0.8, 0.9, 0.95])
    >>> labels = np.array([0, 0, 0, 1, 1, 1])
    >>> calibration = fit_calibration(raw, labels, method="isotonic")
    >>> calibration.method, float(calibration.apply(np.array([0.9]))[0])
    ('isotonic', 1.0)

Command line (re-calibrates a model folder in place)::

    python -m training.calibrate --model models/spin-classifier --data build/dataset/calibration.parquet \
        --negatives build/dataset/human_negatives.parquet
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_curve

from detector.classifier import CALIBRATION_FILE, Calibration
from detector.errors import InputError
from detector.model_manifest import refresh_manifest
from training.data import load_split
from training.model_card import write_model_card
from training.record import RECORD_FILE, save_record
from training.validation import decisions_at_threshold

__all__ = ["fit_calibration", "choose_threshold", "choose_word_threshold", "read_negatives", "calibration_summary", "calibrate_model", "main"]


def fit_calibration(
    raw_probability: np.ndarray,
    labels: np.ndarray,
    method: str = "isotonic",
    max_false_positive_rate: float = 0.02,
    word_labels: list | None = None,
    word_scores: list | None = None,
    kinds: list[str] | None = None,
    held_out_negatives: dict[str, np.ndarray] | None = None,
) -> Calibration:
    """Fit `Calibration` (isotonic or Platt) and its threshold on held-out raw probabilities.

    ``labels`` are 1 for spun; every 0 row counts toward the false-positive rate, which with
    per-row ``kinds`` must stay within the cap for each kind of 0 row (`choose_threshold`), and so
    must the raw probabilities of each set in ``held_out_negatives`` (name -> raw probabilities of
    negative sentences kept out of the fit). With per-row ``word_labels`` and ``word_scores``, the
    word threshold is fitted on the spun rows too (`choose_word_threshold`); without them it stays 0.5.
    """
    raw = np.asarray(raw_probability, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if raw.shape != y.shape or raw.ndim != 1:
        raise ValueError(f"raw probabilities {raw.shape} and labels {y.shape} must be 1-d of the same length")
    if len(np.unique(y)) != 2:
        raise ValueError("calibration needs both spun (1) and not-spun (0) rows; got one class only")
    if method == "isotonic":
        calibration = _fit_isotonic(raw, y)
    elif method == "platt":
        calibration = _fit_platt(raw, y)
    else:
        raise ValueError(f"calibration method {method!r} is unknown; use 'isotonic' or 'platt'")
    calibrated = calibration.apply(raw)
    held_out = {name: calibration.apply(np.asarray(raw_set, dtype=np.float64)) for name, raw_set in (held_out_negatives or {}).items()}
    threshold, chosen = choose_threshold(calibrated, y, max_false_positive_rate, kinds, held_out)
    calibration.threshold = threshold
    calibration.details = {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "brier_before": float(brier_score_loss(y, raw)),
        "brier_after": float(brier_score_loss(y, calibrated)),
        "max_false_positive_rate": max_false_positive_rate,
        **chosen,
    }
    if word_labels is not None and word_scores is not None:
        spun = np.flatnonzero(y == 1)
        calibration.word_threshold, calibration.details["word"] = choose_word_threshold(
            [word_labels[i] for i in spun], [word_scores[i] for i in spun]
        )
    return calibration


def calibration_summary(calibration: Calibration) -> dict:
    """Method, thresholds and fitting details of a calibration (no knots): for training.json and logs."""
    return {"method": calibration.method, "threshold": calibration.threshold,
            "word_threshold": calibration.word_threshold, **calibration.details}


def _fit_isotonic(raw: np.ndarray, y: np.ndarray) -> Calibration:
    """Centred isotonic regression: one knot per isotonic block, at its mean raw score.

    Plain isotonic regression is a staircase: hundreds of raw scores share one step, and a
    threshold can only fall between steps, so the false-positive rate jumps (say from 1% to 4%)
    past the cap. Joining the block centres keeps the fit monotone but strictly rising between
    them, so the threshold can sit at any raw score.
    """
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit_transform(raw, y)
    levels, block = np.unique(fitted, return_inverse=True)
    centres = np.bincount(block, weights=raw) / np.bincount(block)
    return Calibration(method="isotonic", x=centres.tolist(), y=levels.tolist())


def _fit_platt(raw: np.ndarray, y: np.ndarray) -> Calibration:
    logit = np.log(np.clip(raw, 1e-12, None)) - np.log(np.clip(1.0 - raw, 1e-12, None))
    regression = LogisticRegression(C=1e6).fit(logit.reshape(-1, 1), y)
    return Calibration(method="platt", a=float(regression.coef_[0, 0]), b=float(regression.intercept_[0]))


def choose_threshold(
    probability: np.ndarray,
    labels: np.ndarray,
    max_false_positive_rate: float = 0.02,
    kinds: list[str] | None = None,
    held_out_negatives: dict[str, np.ndarray] | None = None,
) -> tuple[float, dict]:
    """Threshold with the best F1 whose false-positive rate is at most ``max_false_positive_rate``.

    With per-row ``kinds``, the rate must stay within the cap on the negative rows of each kind
    alone (the rate of the worst kind is returned), not only on all negative rows pooled. Each set of
    ``held_out_negatives`` (name -> probabilities of negative sentences outside ``labels``) must stay
    within the cap too; they do not count in the F1, precision or pooled rate.
    Spun means ``probability >= threshold``. The threshold sits halfway between the chosen score
    and the next lower one, so that tiny numeric differences (fp16 weights) do not flip a decision.
    Returns the threshold and its F1, precision, recall and false-positive rate.
    """
    fpr, tpr, thresholds = roc_curve(labels, probability, drop_intermediate=False)
    positives, negatives = int(labels.sum()), int(len(labels) - labels.sum())
    tp, fp = tpr * positives, fpr * negatives
    f1 = np.divide(
        2 * tp, 2 * tp + fp + (positives - tp), out=np.zeros_like(tp), where=(2 * tp + fp + positives - tp) > 0
    )
    # where each candidate threshold would sit: halfway down to the next lower score (no labelled row
    # lies in between, but a held-out one may, so those are counted at the cut itself)
    cuts = np.clip(np.where(np.isfinite(thresholds), (thresholds + np.append(thresholds[1:], 0.0)) / 2, 1.0), 0.0, 1.0)
    worst_fpr = fpr if kinds is None else _worst_kind_false_positive_rate(probability, labels, kinds, thresholds)
    held_out_fpr = {name: _flagged_share(np.asarray(scores, dtype=np.float64), cuts)
                    for name, scores in (held_out_negatives or {}).items()}
    f1[np.maximum.reduce([worst_fpr, *held_out_fpr.values()]) > max_false_positive_rate] = -1.0
    best = int(np.argmax(f1))
    precision = float(tp[best] / (tp[best] + fp[best])) if tp[best] + fp[best] > 0 else 0.0
    chosen = {
        "f1": float(max(f1[best], 0.0)),
        "precision": precision,
        "recall": float(tpr[best]),
        "false_positive_rate": float(fpr[best]),
    }
    if kinds is not None:
        chosen["worst_kind_false_positive_rate"] = float(worst_fpr[best])
    if held_out_fpr:
        chosen["held_out_false_positive_rate"] = {
            name: {"rows": int(np.size(scores)), "false_positive_rate": float(held_out_fpr[name][best])}
            for name, scores in held_out_negatives.items()
        }
    return float(cuts[best]), chosen


def _worst_kind_false_positive_rate(
    probability: np.ndarray, labels: np.ndarray, kinds: list[str], thresholds: np.ndarray
) -> np.ndarray:
    """At each threshold, the highest false-positive rate among the kinds of negative row."""
    kinds = np.asarray(kinds)
    if kinds.shape != labels.shape:
        raise ValueError(f"kinds {kinds.shape} and labels {labels.shape} must have the same length")
    worst = np.zeros(len(thresholds))
    for kind in np.unique(kinds[labels == 0]):
        worst = np.maximum(worst, _flagged_share(probability[(labels == 0) & (kinds == kind)], thresholds))
    return worst


def _flagged_share(negatives: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """At each threshold, the share of ``negatives`` at or above it (0 for an empty set)."""
    if negatives.size == 0:
        return np.zeros(len(thresholds))
    ordered = np.sort(negatives)
    return (ordered.size - np.searchsorted(ordered, thresholds, side="left")) / ordered.size


def read_negatives(path: str | Path) -> tuple[str, list[str]]:
    """The name (file stem) and sentences (column ``text``) of a held-out negatives Parquet file."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise InputError(f"held-out negatives {path} not found; build them with `python -m training.build_dataset`")
    if "text" not in pq.read_schema(path).names:
        raise InputError(f"held-out negatives {path} lack a text column")
    return path.stem, pq.read_table(path, columns=["text"]).column("text").to_pylist()


def choose_word_threshold(word_labels, word_scores) -> tuple[float, dict]:
    """Threshold on word substitution probabilities with the best pooled word F1 (0.5 without data).

    ``word_labels`` holds one 0/1 list per sentence (None: unknown) aligned with ``word_scores``;
    pass the spun sentences only, as the evaluation's word F1 counts them.
    """
    kept = [(np.asarray(labels), np.asarray(scores)) for labels, scores in zip(word_labels, word_scores)
            if labels is not None and len(labels) == len(scores)]
    truth = np.concatenate([labels for labels, _ in kept]).astype(np.int64) if kept else np.zeros(0, np.int64)
    if len(np.unique(truth)) != 2:
        return 0.5, {}
    threshold, chosen = choose_threshold(np.concatenate([scores for _, scores in kept]), truth, max_false_positive_rate=1.0)
    return threshold, {"words": int(truth.size), **chosen}


def calibrate_model(
    model_dir: str | Path,
    data: str | Path,
    method: str = "isotonic",
    max_false_positive_rate: float = 0.02,
    batch_size: int = 64,
    command: str | None = None,
    negatives: str | Path | None = None,
) -> Calibration:
    """Score a Parquet split with the model folder, fit calibration, and rewrite calibration.json
    (and its entry in the folder's manifest.json).

    Fits two: one for the full-precision model and one (``int8``) for its int8 quantised twin, each
    with the word threshold of the best word F1 when the split has word labels; training.json and
    the model card (README.md) follow when the folder has them. ``negatives`` is a Parquet file of
    held-out negative sentences (column ``text``) on which the threshold must respect the cap too.
    """
    import pyarrow.parquet as pq

    from detector.classifier import SpinScorer
    from detector.text import tokenize

    table = pq.read_table(data)
    texts, labels = table.column("text").to_pylist(), np.asarray(table.column("label").to_pylist())
    word_labels = table.column("word_labels").to_pylist() if "word_labels" in table.column_names else None
    kinds = table.column("kind").to_pylist() if "kind" in table.column_names else None
    tokens = [tokenize(text) for text in texts]
    held_out_tokens = {}
    if negatives is not None:
        name, sentences = read_negatives(negatives)
        held_out_tokens[name] = [tokenize(text) for text in sentences]
    fitted = {}
    for precision in ("fp32", "int8"):
        scorer = SpinScorer.load(model_dir, precision=precision)
        raw, words = scorer.raw_scores(tokens, batch_size=batch_size)
        held_out = {name: scorer.raw_scores(sentences, batch_size=batch_size)[0] for name, sentences in held_out_tokens.items()}
        fitted[precision] = fit_calibration(raw, labels, method, max_false_positive_rate, word_labels, words, kinds, held_out)
    calibration = fitted["fp32"]
    calibration.int8 = fitted["int8"]
    (Path(model_dir) / CALIBRATION_FILE).write_text(json.dumps(calibration.to_dict(), indent=2), encoding="utf-8")
    refresh_manifest(model_dir, [CALIBRATION_FILE])  # the model card and training record are not checked
    update_record(Path(model_dir), calibration, Path(data).with_name("validation.parquet"), batch_size, command)
    return calibration


def update_record(
    folder: Path, calibration: Calibration, validation: Path, batch_size: int = 64, command: str | None = None
) -> None:
    """Put the new calibration into training.json and rewrite the model card's training part from it.

    The validation decisions at the new threshold are scored again when the validation split lies
    beside the calibration split; the card's evaluation section (`training.evaluate --card`) is kept.
    """
    record_path = folder / RECORD_FILE
    if not record_path.is_file():
        return
    from detector.classifier import SpinScorer

    record = json.loads(record_path.read_text(encoding="utf-8"))
    record["calibration"] = calibration_summary(calibration)
    record["int8_calibration"] = calibration_summary(calibration.int8)
    record["calibration_command"] = command
    if validation.is_file():
        scorer = SpinScorer.load(folder)
        split = load_split(validation, scorer.tokenizer, scorer.max_length)
        record["validation_at_threshold"] = decisions_at_threshold(scorer, split, batch_size)
    save_record(folder, record)
    write_model_card(folder, record, keep_evaluation=True)


def main(argv: list[str] | None = None) -> dict:
    """Command line: re-calibrate a model folder; prints and returns the calibration details."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder to re-calibrate in place")
    parser.add_argument("--data", required=True, help="calibration split (Parquet with text and label)")
    parser.add_argument("--method", choices=("isotonic", "platt"), default="isotonic")
    parser.add_argument(
        "--max-fpr", type=float, default=0.02,
        help="largest false-positive rate allowed at the threshold, on each kind of negative row (column kind)",
    )
    parser.add_argument(
        "--negatives", default=None,
        help="held-out negative sentences (Parquet with text, e.g. build/dataset/human_negatives.parquet) that "
             "the threshold must flag at most --max-fpr of, without entering the fit",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    command = "python -m training.calibrate " + " ".join(argv if argv is not None else sys.argv[1:])
    calibration = calibrate_model(args.model, args.data, args.method, args.max_fpr, args.batch_size, command, args.negatives)
    summary = {**calibration_summary(calibration), "int8": calibration_summary(calibration.int8)}
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
