"""A job's manifest: what defines its output (input, index and model fingerprints, options), and the check
that refuses to resume a folder whose rows were scored with other ones, naming each change."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

from detector import __version__
from detector.batch.fingerprints import index_record, model_record
from detector.batch.options import BatchOptions
from detector.errors import InputError

__all__ = ["MANIFEST_VERSION", "START_OVER", "check_resumable", "job_manifest", "read_job_manifest", "shown"]

MANIFEST_VERSION = 5  # 5 (issue 35): --details reports of schema 2.1 (`story` has words); 4 (issue 37): --details reports nested, not JSON strings, and exclude_quotations; 3: rows carry "schema_version"; 2 (issue 39): fingerprints of the index and model, and the batch size; 1 had paths only
START_OVER = "start over with --overwrite (run_batch(..., overwrite=True)) or in a new output folder"
_MISSING = object()
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def job_manifest(input, index, detector, model, options: BatchOptions) -> dict:
    """What defines a job's output: the input, the index's and the model's fingerprints, the options.

    A rerun must match it to add rows to those already committed (`BatchOutput`).
    """
    return {
        "manifest_version": MANIFEST_VERSION,
        "spin_detector": __version__,
        "input": str(Path(input).absolute()),
        "index": index_record(index),
        "model": model_record(detector, model),
        "options": asdict(options),
    }


def read_job_manifest(path: Path) -> dict:
    """The manifest an earlier run wrote, or an `InputError` saying that the job's inputs are unknown."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{str(path)!r} is not readable JSON ({exc}): the job's inputs are unknown; {START_OVER}"
        ) from None
    if not isinstance(manifest, dict):
        raise InputError(f"{str(path)!r} holds a {type(manifest).__name__}, not a batch job manifest: {START_OVER}")
    return manifest


def check_resumable(folder: Path, previous: dict, manifest: dict) -> None:
    """Refuse to add rows to those of a job with other inputs or options (or of another manifest version)."""
    where = f"output folder {str(folder)!r}"
    previous = _read_as_current(where, previous)
    version = previous.get("manifest_version")
    if version != MANIFEST_VERSION:
        raise InputError(_version_refusal(where, version, previous.get("spin_detector")))
    changes = _changes(previous, manifest)
    if changes:
        raise InputError(
            f"{where} holds rows of a job with other inputs ({'; '.join(changes)}): resuming would mix rows "
            f"scored two ways; rerun with the same inputs to resume, or {START_OVER}"
        )


_DETAILS_OF = {  # how an older version's --details reports differ from this version's
    3: "whose reports are JSON strings, where this version writes nested objects (nested columns in Parquet)",
    4: "whose reports are of schema 2.0, where this version writes 2.1 (`story` with `word_similarity` and `words`)",
}


def _read_as_current(where: str, previous: dict) -> dict:
    """A version 3 or 4 manifest read as this version's where their rows are alike: without --details,
    a row of either is one of version 5, and a version 3 job left quotations in (it had no
    `exclude_quotations`).

    Their --details reports differ: version 3 wrote them as JSON strings, version 4 as objects of
    report schema 2.0, whose `story` lacks the two keys of 2.1. One folder must hold one kind (one
    Parquet schema), so such a job is refused.
    """
    version, options = previous.get("manifest_version"), previous.get("options")
    if version not in _DETAILS_OF or not isinstance(options, dict):
        return previous
    if options.get("details"):
        raise InputError(
            f"{where} holds --details rows of spin-detector {previous.get('spin_detector')} (batch manifest version {version}), "
            f"{_DETAILS_OF[version]}; one folder must hold one kind: finish the job with the spin-detector that started it, "
            f"or {START_OVER}"
        )
    return {**previous, "manifest_version": MANIFEST_VERSION, "options": {"exclude_quotations": False, **options}}


def _version_refusal(where: str, version, library) -> str:
    """Why the rows of a job with another manifest version cannot be resumed, and what to do."""
    if isinstance(version, int) and not isinstance(version, bool) and version < MANIFEST_VERSION:
        return (
            f"{where} holds rows of a job from an older spin-detector ({library}, batch manifest version {version}), "
            f"whose rows or recorded inputs differ from those of version {MANIFEST_VERSION} (version 1 knew the index and "
            f"model by path only): its rows and new ones cannot be mixed; {START_OVER}"
        )
    return (
        f"{where} holds rows of a job with batch manifest version {version!r} (spin-detector {library}); this "
        f"version reads {MANIFEST_VERSION}: finish the job with the spin-detector that started it, or {START_OVER}"
    )


def _changes(before, now, name: str = "") -> list[str]:
    """"name before → after" for every value that differs, nested records named with dots ("index.fingerprint").

    Two records of different kinds (a folder, a loaded object, a factory) are one change, named by what they are.
    """
    if not name or (isinstance(before, dict) and isinstance(now, dict) and before.keys() == now.keys()):
        keys = dict.fromkeys([*now, *before])
        return [change for key in keys
                for change in _changes(before.get(key, _MISSING), now.get(key, _MISSING), f"{name}.{key}" if name else key)]
    return [] if before == now else [f"{name} {shown(before)} → {shown(now)}"]


def shown(value) -> str:
    """A recorded value for a message: hashes cut to 12 digits, an index or model record by what it is."""
    if value is _MISSING:
        return "(not recorded)"
    if isinstance(value, str) and _HASH.match(value):
        return value[:19] + "…"
    if isinstance(value, dict) and value.get("path"):
        return f"the folder {value['path']!r}"
    if isinstance(value, dict) and ("loaded" in value or "factory" in value):
        return f"a loaded {value['loaded']}" if "loaded" in value else f"the factory {value['factory']}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {shown(item)}" for key, item in value.items()) + "}"
    return repr(value)
