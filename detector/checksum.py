"""sha256 of a file, read a block at a time: what the index and model manifests record of each file.

A checksum detects damaged, truncated, swapped or edited files; it is not a signature (anyone who
can write a folder can recompute it), see docs/INTEGRITY.md.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["file_sha256"]

_BLOCK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """The hex sha256 of the file at ``path``, in flat memory whatever its size."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
