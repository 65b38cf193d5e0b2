"""Fingerprints of a job's index and model: what its manifest records, so that a resume with others is refused."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from detector.batch.scoring import DetectorLoader, is_detector_factory
from detector.errors import ModelFormatError

__all__ = ["index_record", "model_record"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MODEL_MANIFEST = "manifest.json"  # `detector.model_manifest.MANIFEST_FILE`: size and sha256 of every scored file
_UNSCORED_MODEL_FILES = ("README.md", "training.json")  # the model card and training record change no score
_DETECTOR_SETTINGS = ("batch_size", "articles_per_batch", "candidates", "rerank", "max_chars", "on_oversize",
                      "max_sentence_chars", "check_language", "related_min_score")


def index_record(index) -> dict | None:
    """The job's record of its index: path, documents and fingerprint ("sha256:..."), or None.

    A folder's fingerprint is the sha256 of its manifest.json, which holds the sha256 of every file,
    the settings and the counts, and against which `SourceIndex.load` checks the files: any append,
    rebuild or damage changes it. A folder that a killed save left half-swapped is put back by
    loading it first. A loaded index (no folder, no manifest) is fingerprinted by its content: its
    settings, encoder, counts, and the id and text of every source, in order.
    """
    if index is None:
        return None
    if isinstance(index, (str, Path)):
        return _index_folder_record(Path(index).absolute())
    return {"path": None, "documents": len(index), "fingerprint": _loaded_index_fingerprint(index)}


def _index_folder_record(folder: Path) -> dict:
    from detector.index import MANIFEST, SourceIndex

    if not (folder / MANIFEST).is_file():
        SourceIndex.load(folder)  # recovers a save killed between its renames, or says what is wrong
    data = (folder / MANIFEST).read_bytes()
    return {"path": str(folder), "documents": _documents_of(data), "fingerprint": _sha256(data)}


def _documents_of(index_manifest: bytes) -> int | None:
    """The document count an index manifest records (shown when an index changed), or None."""
    try:
        return json.loads(index_manifest)["counts"]["documents"]
    except (ValueError, KeyError, TypeError):
        return None


def _loaded_index_fingerprint(index) -> str:
    digest = hashlib.sha256(_ADDRESS.sub("", repr(index)).encode("utf-8"))  # counts and encoder of a SourceIndex
    digest.update(repr(getattr(index, "settings", None)).encode("utf-8"))
    for doc_id in getattr(index, "ids", ()):
        digest.update(json.dumps([doc_id, index.source(doc_id).document.text]).encode("utf-8"))
    return f"sha256:{digest.hexdigest()}"


def model_record(detector=None, model: str | Path | None = None) -> dict:
    """The job's record of its model, with a fingerprint that changes with anything that moves a score.

    - no `detector` (or a `DetectorLoader`): the folder `Detector.load(model)` reads (`model`,
      $SPIN_DETECTOR_MODEL, else the shipped one): the sha256 of its manifest.json, or of each of
      its files when it has none (a folder from before model manifests); and of the shipped
      decisions.json when the folder has none of its own, since `Detector.load` then takes those;
    - a loaded `Detector`: its classifier's threshold, calibration and head weights, its decisions,
      encoder and settings (the folder its weights came from is not known);
    - a detector factory: its name and arguments only (what it loads is its caller's to keep).
    """
    if isinstance(detector, DetectorLoader):
        return model_record(None, detector.model)
    if detector is None:
        return _model_folder_record(model)
    if is_detector_factory(detector):
        return {"factory": _describe_factory(detector), "fingerprint": None}
    return _loaded_detector_record(detector)


def _model_folder_record(model) -> dict:
    from detector.api import MODEL_ENV, model_folder
    from detector.decision import DECISIONS_FILE, DEFAULT_MODEL_PATH

    named = model or os.environ.get(MODEL_ENV) or None
    folder = model_folder(named).absolute()  # an installed package with no model stops here, in one line
    if named is not None and not folder.is_dir():
        raise ModelFormatError(f"model folder {str(folder)!r} does not exist: give a trained classifier folder")
    classifier = named is not None or (folder / "config.json").is_file()  # as `Detector.load` decides
    files = _scored_files(folder) if classifier else {}
    if not classifier or not (folder / DECISIONS_FILE).is_file():
        shipped = Path(DEFAULT_MODEL_PATH) / DECISIONS_FILE
        files[f"shipped {DECISIONS_FILE}"] = _file_sha256(shipped) if shipped.is_file() else None
    fingerprint = _sha256(json.dumps(files, sort_keys=True).encode("utf-8"))
    return {"path": str(folder), "classifier": classifier, "fingerprint": fingerprint, "files": files}


def _scored_files(folder: Path) -> dict[str, str]:
    """File name -> sha256 of what a score depends on: the folder's manifest.json (itself the sha256 of
    every such file, checked when the model loads), else each file but the model card and dot files."""
    if (folder / _MODEL_MANIFEST).is_file():
        return {_MODEL_MANIFEST: _file_sha256(folder / _MODEL_MANIFEST)}
    names = sorted(path.name for path in folder.iterdir()
                   if path.is_file() and not path.name.startswith(".") and path.name not in _UNSCORED_MODEL_FILES)
    return {name: _file_sha256(folder / name) for name in names}


def _loaded_detector_record(detector) -> dict:
    scorer, decisions = getattr(detector, "scorer", None), getattr(detector, "decisions", None)
    encoder = getattr(detector, "encoder", None)
    parts = {
        "type": type(detector).__qualname__,
        "settings": {name: getattr(detector, name, None) for name in _DETECTOR_SETTINGS},
        "encoder": [getattr(encoder, "name", None), getattr(encoder, "dim", None), getattr(encoder, "precision", None)],
        "classifier": _scorer_parts(scorer),
        "decisions": decisions.to_dict() if hasattr(decisions, "to_dict") else None,
    }
    return {
        "path": None,
        "loaded": type(detector).__qualname__,
        "threshold": float(scorer.threshold) if scorer is not None else None,
        "decision_version": getattr(decisions, "version", None),
        "fingerprint": _sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")),
    }


def _scorer_parts(scorer) -> dict | None:
    """A classifier by its precision, calibration (threshold included) and head weights."""
    if scorer is None:
        return None
    calibration = getattr(scorer, "calibration", None)
    return {
        "precision": getattr(scorer, "precision", None),
        "calibration": calibration.to_dict() if hasattr(calibration, "to_dict") else repr(calibration),
        "heads": _head_weights_sha256(getattr(scorer, "model", None)),
    }


def _head_weights_sha256(model) -> str | None:
    """The sha256 of a classifier's weights outside its encoder (the word and sentence heads, fp32)."""
    if not hasattr(model, "state_dict"):
        return None
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        if not name.startswith("encoder.") and hasattr(tensor, "detach"):
            digest.update(name.encode("utf-8"))
            digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


def _sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def _describe_factory(factory) -> str:
    """A detector factory as "module.function(arguments)", the same in every process.

    Arguments are described by value when they are plain data and by type otherwise, so that an
    object's memory address (which differs from run to run) never makes a rerun look like another job.
    """
    function = getattr(factory, "func", factory)
    arguments = [_describe_value(a) for a in getattr(factory, "args", ())]
    arguments += [f"{key}={_describe_value(value)}" for key, value in sorted((getattr(factory, "keywords", None) or {}).items())]
    if function is factory and not hasattr(function, "__qualname__"):
        return f"{type(factory).__module__}.{_ADDRESS.sub('', repr(factory))}"
    return f"{function.__module__}.{function.__qualname__}({', '.join(arguments)})"


def _describe_value(value) -> str:
    if isinstance(value, (str, int, float, bool, Path)) or value is None:
        return repr(value)
    if isinstance(value, (tuple, list)):
        return f"[{', '.join(_describe_value(v) for v in value)}]"
    return f"<{type(value).__qualname__}>"
