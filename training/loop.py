"""The training loop: AdamW with linear warm-up and decay, gradient clipping, and the loss.

loss = sentence BCE (positive class weighted by the negative/positive ratio) + ``word_weight`` * word
BCE over the first subword of every labelled word. Each epoch ends with a validation pass
(`training.validation`) and a checkpoint (`training.checkpoints`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from detector.classifier import SpinClassifier, SpinScorer
from detector.errors import InputError
from training.checkpoints import checkpoint_for, resume
from training.config import TrainConfig
from training.data import IGNORE, BatchBuilder, SplitData, epoch_batches
from training.validation import validation_metrics

__all__ = ["TrainingLoop", "run_epochs", "train_epoch", "train_step", "batch_loss", "make_optimizer", "schedule_factor",
           "class_weight"]

LOG = logging.getLogger("training.train")


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


def class_weight(split: SplitData, config: TrainConfig, device: torch.device) -> torch.Tensor | None:
    """Positive-class weight negatives/positives for the sentence loss (``balance='pos_weight'``)."""
    if config.balance == "none":
        return None
    if config.balance != "pos_weight":
        raise InputError(f"--balance {config.balance!r} is unknown; use 'pos_weight' or 'none'")
    positives = float(split.labels.sum())
    negatives = float(len(split) - positives)
    return torch.tensor(negatives / max(positives, 1.0), device=device)


def run_epochs(
    model: SpinClassifier,
    scorer: SpinScorer,
    splits: dict[str, SplitData],
    pad_id: int,
    device: torch.device,
    autocast: bool,
    config: TrainConfig,
    deadline: float | None = None,
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
        metrics = validation_metrics(scorer, splits["validation"], config.eval_batch_size, autocast)
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
