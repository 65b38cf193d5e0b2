"""Sealing a model folder (``spin-detect seal-model``): check that it loads, then record its files.

Apart from `detector.model_manifest` because it loads the model (`SpinScorer`, `DecisionModel`),
while the manifest module stays a leaf that the loaders themselves import.

Example:
    >>> seal_model_folder("models/spin-classifier")["files"]        # doctest: +SKIP
    ['calibration.json', 'config.json', 'configuration_spin_detector.py', 'decisions.json', 'model.safetensors', ...]
"""

from __future__ import annotations

import os
from pathlib import Path

from detector.errors import ModelFormatError
from detector.hf import write_hf_form
from detector.model_manifest import CLASSIFIER_FILES, DECISION_FILES, MANIFEST_FILE, write_manifest

__all__ = ["seal_model_folder"]


def seal_model_folder(folder: str | os.PathLike) -> dict:
    """Record the folder's files as they are now (``spin-detect seal-model``), after checking them.

    A classifier folder (one with config.json or model.safetensors) must hold every file of
    `CLASSIFIER_FILES`; a decisions-only folder must hold decisions.json. The folder is then loaded
    (`SpinScorer.load`, `DecisionModel.load`): when that fails, the previous manifest is put back and
    the error raised, so a folder that does not load is never sealed. A classifier folder first gets
    its Hugging Face form (`detector.hf.write_hf_form`: remote code, config.json keys), the one the
    training save writes, so that sealing an older folder makes it load with ``transformers`` too.
    Returns what was sealed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFormatError(f"model folder {folder} does not exist: give the folder of a saved model")
    classifier = any((folder / name).is_file() for name in CLASSIFIER_FILES[:2])
    required = CLASSIFIER_FILES if classifier else DECISION_FILES
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        raise ModelFormatError(
            f"model folder {folder} has no {', '.join(missing)}: a model needs it; re-save the model "
            "(SpinScorer.save, python -m training.train) or copy the file back, then seal it"
        )
    if classifier:
        write_hf_form(folder)
    previous = (folder / MANIFEST_FILE).read_bytes() if (folder / MANIFEST_FILE).is_file() else None
    manifest = write_manifest(folder)
    try:
        _load_parts(folder, classifier)
    except BaseException:
        _restore(folder / MANIFEST_FILE, previous)
        raise
    files = manifest["files"]
    return {"folder": str(folder), "files": sorted(files), "bytes": sum(entry["bytes"] for entry in files.values())}


def _load_parts(folder: Path, classifier: bool) -> None:
    """Load what the folder holds, so that sealing proves it loads (imported here: torch is heavy)."""
    from detector.decision import DECISIONS_FILE, DecisionModel

    if classifier:
        from detector.classifier import SpinScorer

        SpinScorer.load(folder)
    if (folder / DECISIONS_FILE).is_file():
        DecisionModel.load(folder)


def _restore(path: Path, previous: bytes | None) -> None:
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(previous)
