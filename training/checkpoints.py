"""Training checkpoints: model and optimizer state at the end of an epoch (or at a --max-minutes stop),
so that a killed run resumes where it stopped when started again with the same arguments."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import safetensors.torch
import torch

from detector.classifier import SpinClassifier
from detector.errors import InputError
from training.config import TrainConfig

__all__ = ["Checkpoint", "checkpoint_for", "resume"]

LOG = logging.getLogger("training.train")


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


def checkpoint_for(config: TrainConfig) -> Checkpoint:
    """The run's checkpoint: ``--checkpoint-dir``, else build/checkpoints/<name of --out>."""
    folder = config.checkpoint_dir or str(Path("build") / "checkpoints" / Path(config.out).name)
    return Checkpoint(Path(folder))


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
