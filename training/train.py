"""Fine-tunes `SpinClassifier` (sentence head + word head) and writes the model folder.

The run, end to end: read and tokenise the splits (`training.data`), train epoch by epoch with a
validation pass and a checkpoint after each (`training.loop`, `training.checkpoints`), so that a
killed run resumes at the next epoch when started again with the same arguments; then calibrate the
best epoch on the calibration split (`training.calibrate`) and save it as an fp16 model folder with
``training.json`` (`training.record`) and the model card (`training.model_card`). Settings are
`training.config.TrainConfig`. bf16 autocast on CUDA and on CPUs with AMX tiles (which multiply bf16
in hardware; ``--fp32`` turns it off), fp32 on other CPUs. The recipe of the shipped model is in
docs/training.md.

Command line::

    python -m training.train --data build/dataset --out models/spin-classifier --epochs 3 \\
        --batch-size 64 --lr 5e-5 --max-length 128
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import shlex
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from detector.classifier import SpinClassifier, SpinScorer
from detector.errors import InputError
from detector.precision import has_bf16_matrix_units
from training.calibrate import calibration_summary, fit_calibration, read_negatives
from training.checkpoints import checkpoint_for
from training.config import SELECT_METRICS, TrainConfig, base_model_name, default_base
from training.data import SPLITS, SplitData, encode_texts, load_split, split_summary
from training.loop import run_epochs
from training.record import device_name, init_record, write_record
from training.validation import decisions_at_threshold, validation_metrics

__all__ = ["TrainConfig", "SplitData", "load_split", "train", "initial_model", "parse_args", "main"]

LOG = logging.getLogger("training.train")


def __getattr__(name: str):
    """``training.train.evaluate``, the per-epoch validation metrics, is now `training.validation.validation_metrics`."""
    if name == "evaluate":
        warnings.warn(
            "training.train.evaluate is deprecated; use training.validation.validation_metrics "
            "(training.evaluate is the held-out evaluation of a saved model)",
            DeprecationWarning,
            stacklevel=2,
        )
        return validation_metrics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when available, else the CPU; any other name as torch reads it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def train(config: TrainConfig) -> dict:
    """Run the whole fine-tuning; returns the training record also written to training.json."""
    started = time.time()
    config.base = config.base or config.init or default_base()  # a model to continue carries its tokenizer
    if config.threads:
        torch.set_num_threads(config.threads)
    if config.select not in SELECT_METRICS:
        raise InputError(f"--select {config.select!r} is unknown; use one of {SELECT_METRICS}")
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    config.workers = config.workers if config.workers is not None else (2 if device.type == "cuda" else 0)
    fast_bf16 = torch.cuda.is_bf16_supported() if device.type == "cuda" else has_bf16_matrix_units()
    autocast = fast_bf16 and not config.fp32
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    tokenizer = AutoTokenizer.from_pretrained(config.base)
    data = Path(config.data)
    splits = {}
    for name in SPLITS:
        limit = config.max_train if name == "train" else config.max_eval
        t0 = time.time()
        splits[name] = load_split(
            data / f"{name}.parquet", tokenizer, config.max_length, limit, config.seed, max(config.workers, 1)
        )
        LOG.info("%s: %d sentences tokenised in %.1f s", name, len(splits[name]), time.time() - t0)
    model = initial_model(config).to(device)
    if config.freeze_embeddings:
        model.encoder.get_input_embeddings().weight.requires_grad_(False)
    scorer = SpinScorer(model, tokenizer, max_length=config.max_length, base_model=base_model_name(config.base))
    deadline = started + 60 * config.max_minutes if config.max_minutes else None
    state = run_epochs(model, scorer, splits, tokenizer.pad_token_id, device, autocast, config, deadline)
    if state["stopped"]:
        return {
            "finished": False,
            "epoch": state["epoch_done"] + 1,
            "batches_done": state["batches_done"],
            "wall_seconds": time.time() - started,
        }
    model.load_state_dict(checkpoint_for(config).best_weights())
    record = finish(scorer, splits, config, device, autocast, state["history"], state["best_epoch"])
    record.update(finished=True, wall_seconds=time.time() - started, training_seconds_all_runs=state["epoch_seconds"])
    write_record(Path(config.out), record)
    LOG.info("model folder written to %s (%.0f s)", config.out, record["wall_seconds"])
    return record



def initial_model(config: TrainConfig) -> SpinClassifier:
    """The base encoder with fresh heads, or, with ``--init``, a fine-tuned model folder to train further."""
    if config.init:
        model = SpinScorer.load(config.init).model.float()  # keeps the dropout it was trained with
        LOG.info("continuing from the model folder %s", config.init)
        return model
    return SpinClassifier.from_base(config.base, dropout=config.dropout)


def finish(
    scorer: SpinScorer, splits: dict, config: TrainConfig, device, autocast: bool, history: list[dict], best_epoch: int
) -> dict:
    """Calibrate the best model, save the folder, and return the training record."""
    scorer.model.half().float().eval()  # the fp16 rounding of the saved weights, scored in fp32 like on load
    calibration = splits["calibration"]
    raw, words = scorer.score_subwords(calibration.inputs, config.eval_batch_size)
    held_out = None
    if config.negatives:
        name, sentences = read_negatives(config.negatives)
        inputs = encode_texts(scorer.tokenizer, sentences, config.max_length)
        held_out = {name: scorer.score_subwords(inputs, config.eval_batch_size)[0]}
    scorer.calibration = fit_calibration(
        raw, calibration.labels.astype(int), config.calibration, config.max_fpr, calibration.word_labels, words,
        calibration.kinds, held_out,
    )
    at_threshold = decisions_at_threshold(scorer, splits["validation"], config.eval_batch_size)
    scorer.model.to("cpu")
    scorer.save(config.out)
    return {
        "args": asdict(config),
        "data": {name: split_summary(split) for name, split in splits.items()},
        "device": device_name(device),
        "autocast_bf16": autocast,
        "best_epoch": best_epoch,
        "history": history,
        "validation": next((m for m in history if m["epoch"] == best_epoch), {}),
        "validation_at_threshold": at_threshold,
        "calibration": calibration_summary(scorer.calibration),
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "init_record": init_record(config.init),
    }


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """The `TrainConfig` of a command line, with the command itself kept for the model card."""
    parser = argparse.ArgumentParser(description="Fine-tune the spin classifier and write the model folder.")
    defaults = TrainConfig(data="", out="")
    parser.add_argument("--data", required=True, help="folder with train/validation/calibration .parquet")
    parser.add_argument("--out", required=True, help="model folder to write, e.g. models/spin-classifier")
    parser.add_argument(
        "--base", help="base encoder folder (default: the --init folder, else the bundled all-MiniLM-L6-v2)"
    )
    for name in (
        "epochs",
        "batch_size",
        "max_length",
        "max_train",
        "max_eval",
        "seed",
        "threads",
        "log_every",
        "eval_batch_size",
        "max_steps",
        "workers",
    ):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(defaults, name))
    for name in ("lr", "head_lr", "weight_decay", "warmup", "clip", "dropout", "word_weight", "max_fpr", "max_minutes"):
        parser.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(defaults, name))
    parser.add_argument("--balance", choices=("pos_weight", "none"), default=defaults.balance)
    parser.add_argument(
        "--select", choices=SELECT_METRICS, default=defaults.select, help="validation metric that picks the best epoch"
    )
    parser.add_argument("--calibration", choices=("isotonic", "platt"), default=defaults.calibration)
    parser.add_argument("--device", default=defaults.device, help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument("--checkpoint-dir", help="where epoch checkpoints go (default build/checkpoints/<out name>)")
    parser.add_argument(
        "--init", help="continue training a fine-tuned model folder (e.g. models/spin-classifier) instead of the base"
    )
    parser.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    parser.add_argument(
        "--negatives",
        help="held-out negative sentences (e.g. build/dataset/human_negatives.parquet) that the calibrated "
             "threshold must flag at most --max-fpr of, besides each kind of the calibration split",
    )
    parser.add_argument(
        "--freeze-embeddings",
        action="store_true",
        help="keep the word-embedding table fixed (words unseen in training keep their pretrained vectors)",
    )
    parser.add_argument(
        "--fp32", action="store_true", help="train in fp32 even on a GPU or an AMX CPU, where bf16 autocast is the default"
    )
    command = "python -m training.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    return TrainConfig(**vars(parser.parse_args(argv)), command=command)


def main(argv: list[str] | None = None) -> dict:
    """Command line: train and write the model folder; returns the training record."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return train(parse_args(argv))


if __name__ == "__main__":
    sys.exit(0 if main().get("finished") else 3)  # 3: stopped by --max-minutes, rerun to resume
