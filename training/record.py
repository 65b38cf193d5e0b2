"""The training record (``training.json`` in a model folder): how the model was made, from which
earlier runs, and how it scored; the model card (`training.model_card`) is generated from it.

Neither file is checked by the folder's manifest.json (`detector.model_manifest.UNCHECKED_FILES`): no
score depends on them, so writing them after `SpinScorer.save` leaves the folder sealed.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from training.model_card import write_model_card

__all__ = ["RECORD_FILE", "init_record", "device_name", "save_record", "write_record"]

RECORD_FILE = "training.json"


def init_record(init: str | None) -> dict | None:
    """How the model that training continued was itself made (from its training.json), for the card."""
    path = Path(init) / RECORD_FILE if init else None
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


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's thread count and processor, for the card."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})"


def save_record(folder: Path, record: dict) -> None:
    """Write training.json alone."""
    (Path(folder) / RECORD_FILE).write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")


def write_record(folder: Path, record: dict) -> None:
    """training.json and a new model card (README.md, without an evaluation section) in the model folder."""
    save_record(folder, record)
    write_model_card(folder, record, keep_evaluation=False)
