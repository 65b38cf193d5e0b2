"""Uniform weight average of model folders from one line of fine-tuning (checkpoint averaging).

Consecutive epochs of one run end near each other in weight space, and the mean of their weights
can rank sentences better than either end (stochastic weight averaging, Izmailov et al., 2018).
Averaging moves the raw probabilities, so the average keeps the last folder's calibration only
until ``training.calibrate`` fits its own, which it must do before the threshold means anything.

Command line::

    python -m training.average --models build/models/epoch-15 build/models/epoch-16 \\
        --out build/models/avg-1516 --validation build/dataset/validation.parquet
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

import torch

from detector.classifier import SpinScorer
from training.data import load_split
from training.record import RECORD_FILE, init_record, save_record, write_record
from training.validation import validation_metrics

__all__ = ["average_models", "average_state_dicts", "averaged_record", "main"]


def average_state_dicts(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Element-wise mean of state dicts with the same keys and shapes (summed in fp32, kept in each dtype)."""
    if len(states) < 2:
        raise ValueError(f"averaging needs at least two models, got {len(states)}")
    keys = set(states[0])
    for number, state in enumerate(states[1:], start=2):
        if set(state) != keys:
            raise ValueError(f"model {number} has other weights than model 1: {sorted(set(state) ^ keys)[:5]}")
    averaged = {}
    for name, first in states[0].items():
        shapes = {tuple(state[name].shape) for state in states}
        if len(shapes) > 1:
            raise ValueError(f"weight {name} has different shapes across the models: {sorted(shapes)}")
        if not first.is_floating_point():
            averaged[name] = first.clone()
            continue
        averaged[name] = torch.stack([state[name].float() for state in states]).mean(dim=0).to(first.dtype)
    return averaged


def average_models(folders: Sequence[str | Path]) -> SpinScorer:
    """Load model folders of one architecture and return a scorer holding the mean of their weights.

    The scorer keeps the last folder's tokenizer, settings and (now stale) calibration.
    """
    scorers = [SpinScorer.load(folder) for folder in folders]
    last = scorers[-1]
    for folder, scorer in zip(folders, scorers):
        same = (
            scorer.model.encoder.config.to_dict() == last.model.encoder.config.to_dict()
            and scorer.model.head_config() == last.model.head_config()
            and scorer.max_length == last.max_length
        )
        if not same:
            raise ValueError(
                f"model folder {folder} has another architecture or max_length than {folders[-1]}; "
                "only models from one line of fine-tuning can be averaged"
            )
    last.model.load_state_dict(average_state_dicts([scorer.model.state_dict() for scorer in scorers]))
    return last


def averaged_record(folders: Sequence[str | Path], command: str, validation: dict, seconds: float) -> dict:
    """The last folder's training record, marked as an average of all the folders' runs.

    Each folder keeps its last run's command and wall time; the runs before those are the last
    folder's ``init_record`` chain already, so they are not repeated per folder. ``seconds`` is the
    averaging step's own wall time (loading, averaging, validation).
    """
    record_path = Path(folders[-1]) / RECORD_FILE
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    runs = [init_record(str(folder)) or {} for folder in folders]
    record["averaged_from"] = [
        {"folder": str(folder), "command": run.get("command"), "wall_seconds": run.get("wall_seconds")}
        for folder, run in zip(folders, runs)
    ]
    record["average_command"] = command
    record["average_seconds"] = seconds
    record["validation"] = validation  # the last run's figures are not the average's
    return record


def main(argv: list[str] | None = None) -> dict:
    """Command line: write the averaged model folder; prints and returns its validation metrics."""
    parser = argparse.ArgumentParser(prog="python -m training.average", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", required=True, help="two or more model folders of one architecture")
    parser.add_argument("--out", required=True, help="model folder to write (calibrate it next)")
    parser.add_argument("--validation", help="validation split (Parquet) to score the average on, for its card")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    if len(args.models) < 2:
        parser.error("--models needs at least two model folders")
    command = "python -m training.average " + " ".join(argv if argv is not None else sys.argv[1:])
    started = time.perf_counter()
    try:
        scorer = average_models(args.models)
    except ValueError as error:
        parser.error(str(error))
    metrics = {}
    if args.validation:
        split = load_split(Path(args.validation), scorer.tokenizer, scorer.max_length)
        metrics = validation_metrics(scorer, split, args.batch_size)
    scorer.save(args.out)
    record = averaged_record(args.models, command, metrics, time.perf_counter() - started)
    if record.get("args"):
        write_record(Path(args.out), record)
    else:
        save_record(Path(args.out), record)
    print(json.dumps(metrics, indent=2))
    print("calibrate the average next: python -m training.calibrate --model", args.out, "--data <calibration.parquet>")
    return metrics


if __name__ == "__main__":
    main()
