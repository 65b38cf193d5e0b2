"""The model folder's manifest: bytes and sha256 of every file that changes a score.

A model folder (``models/spin-classifier``) holds the weights (``model.safetensors``), the config
(``config.json``), the tokenizer files (``tokenizer.json``, ``tokenizer_config.json`` and whatever
else ``tokenizer.save_pretrained`` writes), the calibration (``calibration.json``), the pair
decisions (``decisions.json``) and the remote code that lets ``transformers`` load it (`detector.hf`). ``manifest.json`` records the size and sha256 of each, with a format
name and version, in the spirit of the source index's manifest (`detector.index`). Loading
(`SpinScorer.load`, `DecisionModel.load`) refuses a folder whose manifest is missing, that lacks a
listed file, whose listed file changed in size or checksum, or (`SpinScorer.load`) that holds a file
the manifest does not list. A missing tokenizer file or 2,000 flipped bytes in the weights thus stop
the load with one line naming the file and the fix, instead of scoring wrongly.

``README.md`` and ``training.json`` (the model card and the training record) are left out: they
change no score, and the training, calibration and evaluation commands rewrite them after the
model is saved. Files whose names start with a dot (a writer's temporary files) are ignored too.

Every writer of a file in a model folder refreshes the manifest: `SpinScorer.save` writes it last,
after every other file; ``training.calibrate`` and `DecisionModel.save` (``training.fit_decisions``)
refresh the entries of the files they rewrite (`refresh_manifest`). A folder changed by hand is
sealed again with ``spin-detect seal-model FOLDER`` (`detector.seal.seal_model_folder`), which first
checks that the folder holds what a model needs and that it loads. This module loads no model, so
that the loaders can import it: of ``detector`` it imports only checksums, errors and the version.

A checksum is not a signature: it detects damaged, truncated, missing or swapped files, but anyone
who can write the folder can also rewrite its manifest. Trust in a model folder comes from where it
came from (this repository, a signed release), not from its manifest.

Example:
    >>> verify_model_folder("models/spin-classifier", require=CLASSIFIER_FILES)   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import json
import os
import warnings
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from detector.checksum import file_sha256
from detector.errors import ModelFormatError

__all__ = [
    "CLASSIFIER_FILES",
    "DECISION_FILES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "SEAL_COMMAND",
    "UNCHECKED_FILES",
    "refresh_manifest",
    "verify_model_folder",
    "write_manifest",
]

FORMAT_NAME = "spin-detector-model-manifest"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
SEAL_COMMAND = "spin-detect seal-model"
UNCHECKED_FILES = ("README.md", "training.json")  # model card and training record: no score depends on them
CLASSIFIER_FILES = ("config.json", "model.safetensors", "calibration.json", "tokenizer.json", "tokenizer_config.json")
DECISION_FILES = ("decisions.json",)
_MOVED = {"seal_model_folder": "detector.seal"}  # deprecated here (issue 36): it loads the model, this module may not


def __getattr__(name: str):
    """Names that moved out of this module still resolve, with a `DeprecationWarning` naming the new home."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"detector.model_manifest.{name} moved to {_MOVED[name]}.{name}: import it from there",
        DeprecationWarning, stacklevel=2,
    )
    return getattr(importlib.import_module(_MOVED[name]), name)


def write_manifest(folder: str | os.PathLike, names: Iterable[str] | None = None) -> dict:
    """Write ``manifest.json`` over ``names`` (default: every checked file of the folder); returns it."""
    folder = Path(folder)
    names = sorted(names) if names is not None else _checked_files(folder)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "checksum_note": "sha256 detects changed or damaged files; it is not a signature",
        "unchecked": list(UNCHECKED_FILES),
        "files": {name: _entry(folder / name) for name in names},
    }
    _write_json(folder / MANIFEST_FILE, manifest)
    return manifest


def refresh_manifest(folder: str | os.PathLike, names: Iterable[str]) -> dict:
    """Re-record the files ``names`` a writer just rewrote, keeping every other entry as it was.

    A stale entry of another file stays stale (writing calibration.json does not bless changed
    weights). A folder without a manifest gets one that lists ``names`` only.
    """
    folder = Path(folder)
    if not (folder / MANIFEST_FILE).is_file():
        return write_manifest(folder, names)
    manifest = _read_manifest(folder)
    for name in names:
        if (folder / name).is_file():
            manifest["files"][name] = _entry(folder / name)
        else:
            manifest["files"].pop(name, None)
    manifest["files"] = dict(sorted(manifest["files"].items()))
    _write_json(folder / MANIFEST_FILE, manifest)
    return manifest


def verify_model_folder(
    folder: str | os.PathLike, require: Iterable[str] = (), only: Iterable[str] | None = None
) -> dict:
    """Check the folder against its manifest; `ModelFormatError` names the first file that fails.

    ``require``: files the manifest must list. ``only``: check just these files (`DecisionModel.load`
    reads decisions.json alone); otherwise every listed file is checked and unlisted files are refused.
    """
    folder = Path(folder)
    manifest = _read_manifest(folder)
    listed = manifest["files"]
    for name in require:
        if name not in listed:
            raise ModelFormatError(
                f"model folder {folder}: {MANIFEST_FILE} lists no {name}, which a model needs; "
                f"put {name} back and seal the folder again with `{SEAL_COMMAND} {folder}`"
            )
    for name in sorted(listed) if only is None else list(only):
        _check_file(folder, name, listed.get(name))
    if only is None:
        _refuse_unlisted(folder, listed)
    return manifest


def _checked_files(folder: Path) -> list[str]:
    """The files a manifest covers: every plain file but the manifest, the unchecked ones and dot files."""
    return sorted(
        path.name for path in folder.iterdir()
        if path.is_file() and path.name != MANIFEST_FILE and path.name not in UNCHECKED_FILES
        and not path.name.startswith(".")
    )


def _entry(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": file_sha256(path)}


def _write_json(path: Path, data: dict) -> None:
    """Write atomically: a dot file beside it, then renamed over it."""
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    staging.replace(path)


def _library_version() -> str:
    from detector import __version__

    return __version__


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise ModelFormatError(
            f"model folder {folder} does not exist; train one with `python -m training.train` or pass the right path"
        )
    if not path.is_file():
        raise ModelFormatError(
            f"model folder {folder} has no {MANIFEST_FILE} (the sha256 of its files), so its files cannot be checked; "
            f"if they are the ones you trust, seal it with `{SEAL_COMMAND} {folder}`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFormatError(
            f"model folder {folder}: {MANIFEST_FILE} is unreadable ({error}); seal it again with `{SEAL_COMMAND} {folder}`"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelFormatError(
            f"model folder {folder}: {MANIFEST_FILE} is not a {FORMAT_NAME} document; "
            f"is this a model folder? If so, seal it with `{SEAL_COMMAND} {folder}`"
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(
            f"model folder {folder}: {MANIFEST_FILE} has format_version {manifest.get('format_version')!r}, this "
            f"library reads {FORMAT_VERSION}: install the matching spin-detector or seal it with `{SEAL_COMMAND} {folder}`"
        )
    if not isinstance(manifest.get("files"), dict) or not all(_valid_entry(e) for e in manifest["files"].values()):
        raise ModelFormatError(
            f"model folder {folder}: {MANIFEST_FILE} has no valid files table; seal it again with `{SEAL_COMMAND} {folder}`"
        )
    return manifest


def _valid_entry(entry) -> bool:
    return (
        isinstance(entry, dict) and isinstance(entry.get("bytes"), int) and not isinstance(entry["bytes"], bool)
        and isinstance(entry.get("sha256"), str)
    )


def _check_file(folder: Path, name: str, expected: dict | None) -> None:
    path = folder / name
    fix = f"restore it from where the model came from, or, if you changed it on purpose, seal again with `{SEAL_COMMAND} {folder}`"
    if expected is None:
        raise ModelFormatError(f"model folder {folder}: {MANIFEST_FILE} lists no {name}; seal the folder with `{SEAL_COMMAND} {folder}`")
    if not path.is_file():
        raise ModelFormatError(
            f"model folder {folder} has no {name} (its {MANIFEST_FILE} lists it): it is incomplete; {fix}"
        )
    size = path.stat().st_size
    if size != expected["bytes"]:
        raise ModelFormatError(
            f"model folder {folder}: {name} has {size} bytes, its {MANIFEST_FILE} records {expected['bytes']}: "
            f"the file is truncated or was changed; {fix}"
        )
    if file_sha256(path) != expected["sha256"]:
        raise ModelFormatError(
            f"model folder {folder}: {name} fails its sha256 checksum: the file is corrupt or was changed; {fix}"
        )


def _refuse_unlisted(folder: Path, listed: dict) -> None:
    extra = [name for name in _checked_files(folder) if name not in listed]
    if extra:
        raise ModelFormatError(
            f"model folder {folder} holds {', '.join(extra)}, which its {MANIFEST_FILE} does not list (a file the "
            f"loaders may read); remove it, or seal the folder again with `{SEAL_COMMAND} {folder}` if it belongs there"
        )
