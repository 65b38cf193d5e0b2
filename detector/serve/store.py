"""The served source index, and its writes: each add or remove is saved atomically before it is answered.

`SourceIndex.save` writes a temporary sibling folder and renames it over the index, so a server killed
at any moment (kill -9 included) leaves a folder that loads, holding the index before the write or
after it. Calls run on the model thread only (`detector.serve.batching`), so a write never overlaps
a read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from detector.serve.guard import ApiError

__all__ = ["ServedIndex", "WriteResult"]


@dataclass
class WriteResult:
    """What a write did: the source id, and the documents the index holds after it."""

    id: str
    documents: int


class ServedIndex:
    """A `SourceIndex` loaded from ``path``; with ``writable``, sources are added and removed, each
    change saved to ``path`` before the call returns."""

    def __init__(self, path: str | Path, encoder, *, writable: bool = False):
        from detector.index import SourceIndex

        self.path = Path(path)
        self.writable = writable
        self._encoder = encoder
        self.index = SourceIndex.load(self.path, encoder=encoder)

    def source(self, doc_id: str) -> dict:
        """The indexed source as JSON-ready data; 404 when the index holds none with that id."""
        if doc_id not in self.index:
            raise ApiError(404, f"no source with id {doc_id!r} in this index of {len(self.index)} documents")
        found = self.index.source(doc_id)
        document = found.document
        return {"id": document.id, "text": document.text, "meta": document.meta, "sentences": len(found.segments)}

    def add(self, doc_id: str, text: str, meta: dict) -> WriteResult:
        """Add one source and save; 409 when the id is taken."""
        self._check_writable()
        if doc_id in self.index:
            raise ApiError(409, f"the index already holds a source with id {doc_id!r}: DELETE it first, or use another id")
        return self._write(lambda: self.index.add([{"id": doc_id, "text": text, "meta": meta}]), doc_id)

    def remove(self, doc_id: str) -> WriteResult:
        """Remove one source and save; 404 when there is none with that id."""
        self._check_writable()
        if doc_id not in self.index:
            raise ApiError(404, f"no source with id {doc_id!r} in this index of {len(self.index)} documents: nothing removed")
        return self._write(lambda: self.index.remove([doc_id]), doc_id)

    def _check_writable(self) -> None:
        if not self.writable:
            raise ApiError(403, "this index is served read-only: start the server with --writable to add or remove sources")

    def _write(self, change, doc_id: str) -> WriteResult:
        """Apply ``change`` and save; if either fails, the index is read back from its folder."""
        from detector.index import SourceIndex

        try:
            change()
            self.index.save(self.path)
        except BaseException:
            self.index = SourceIndex.load(self.path, encoder=self._encoder)
            raise
        return WriteResult(doc_id, len(self.index))

