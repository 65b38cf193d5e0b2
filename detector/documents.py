"""Documents and streaming readers for the formats sources arrive in.

A source collection is a .txt file, a folder of .txt files, a glob, JSON lines or Parquet. The readers
stream one `Document` at a time (Parquet in record batches), so that a large collection never has to
fit in memory. A bad record raises `InputError`, or, when an ``errors`` callback is given, is reported
to it as ``(record id or position, reason)`` and skipped, so one broken line does not stop a batch.

Example:
    >>> from detector.documents import as_document
    >>> as_document(("a1", "Some text.")).id
    'a1'
"""

from __future__ import annotations

import glob as globlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detector.errors import InputError
from detector.text import shorten_text

__all__ = ["Document", "as_document", "read_documents", "DEFAULT_MAX_CHARS", "SUPPORTED_FORMATS"]

DEFAULT_MAX_CHARS = 2_000_000
_COUNT_BLOCK = 1 << 20  # characters read at a time past the kept start of a truncated file
SUPPORTED_FORMATS = "a .txt file, a folder of .txt files, a glob such as 'sources/*.txt', .jsonl or .json (JSON lines), .parquet"
_JSON_LINES = {".jsonl", ".json", ".ndjson"}
_PARQUET = {".parquet", ".pq"}
_GLOB_CHARS = set("*?[")
_PARQUET_BATCH_ROWS = 1024

ErrorCallback = Callable[[str, str], None]


@dataclass
class Document:
    """One source or suspect article: a stable id, its text and free-form metadata."""

    id: str
    text: str
    meta: dict = field(default_factory=dict)


def as_document(obj: Any) -> Document:
    """Turn a `Document`, a ``{"id", "text"[, "meta"]}`` dict or an ``(id, text)`` pair into a `Document`."""
    if isinstance(obj, Document):
        doc = obj
    elif isinstance(obj, dict):
        missing = [name for name in ("id", "text") if name not in obj]
        if missing:
            raise InputError(f"document dict lacks {missing}; it has keys {sorted(obj)}: give 'id' and 'text'")
        meta = obj.get("meta") or {k: v for k, v in obj.items() if k not in ("id", "text")}
        doc = Document(id=obj["id"], text=obj["text"], meta=dict(meta))
    elif isinstance(obj, (tuple, list)) and len(obj) == 2:
        doc = Document(id=obj[0], text=obj[1])
    else:
        raise InputError(
            f"cannot read a document from {type(obj).__name__} {str(obj)[:60]!r}: "
            "give a Document, a dict with 'id' and 'text', or an (id, text) pair"
        )
    return _checked(doc)


def _checked(doc: Document) -> Document:
    if isinstance(doc.id, bool) or not isinstance(doc.id, (str, int)) or str(doc.id).strip() == "":
        raise InputError(f"document id {doc.id!r} is not usable: give a non-empty string or integer id")
    if not isinstance(doc.text, str):
        raise InputError(f"document {doc.id!r} has text of type {type(doc.text).__name__}: give a string")
    if not isinstance(doc.meta, dict):
        raise InputError(f"document {doc.id!r} has meta of type {type(doc.meta).__name__}: give a dict")
    return Document(id=str(doc.id), text=doc.text, meta=doc.meta)


def read_documents(
    path: str | Path,
    id_field: str = "id",
    text_field: str = "text",
    errors: ErrorCallback | None = None,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    truncate: bool = False,
) -> Iterator[Document]:
    """Stream the documents at ``path``: a .txt file, a folder of .txt, a glob, JSON lines or Parquet.

    Records with empty text, undecodable bytes or a missing field raise `InputError`, or go to
    ``errors(record id or position, reason)`` and are skipped. So do those of more than
    ``max_chars`` characters, unless ``truncate``: then they are cut at a word boundary (a .txt
    file is read no further than that, whatever its size) and ``meta["chars_dropped"]`` says how
    many characters were left out.
    """
    reader = _Reader(id_field=id_field, text_field=text_field, errors=errors, max_chars=max_chars, truncate=truncate)
    for file in _expand(str(path)):
        yield from reader.read_file(file)


def _expand(path: str) -> list[Path]:
    if _GLOB_CHARS & set(path):
        matches = sorted(Path(p) for p in globlib.glob(path, recursive=True) if Path(p).is_file())
        if not matches:
            raise InputError(f"no file matches the pattern {path!r}; valid inputs: {SUPPORTED_FORMATS}")
        for match in matches:
            _format_of(match)
        return matches
    target = Path(path)
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
        if not files:
            raise InputError(f"folder {path!r} holds no .txt files; valid inputs: {SUPPORTED_FORMATS}")
        return files
    if not target.exists():
        raise InputError(f"no such file or folder: {path!r}; valid inputs: {SUPPORTED_FORMATS}")
    _format_of(target)
    return [target]


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return "txt"
    if suffix in _JSON_LINES:
        return "jsonl"
    if suffix in _PARQUET:
        return "parquet"
    raise InputError(f"unknown document format {suffix or '(no extension)'!r} of {str(path)!r}; valid inputs: {SUPPORTED_FORMATS}")


@dataclass
class _Reader:
    """Reads one file at a time and routes bad records to the callback or to an `InputError`."""

    id_field: str
    text_field: str
    errors: ErrorCallback | None
    max_chars: int
    truncate: bool = False

    def read_file(self, path: Path) -> Iterator[Document]:
        kind = _format_of(path)
        if kind == "txt":
            yield from self._read_txt(path)
        elif kind == "jsonl":
            yield from self._read_json_lines(path)
        else:
            yield from self._read_parquet(path)

    def _bad(self, where: str, reason: str) -> None:
        if self.errors is None:
            raise InputError(f"{where}: {reason}; fix or drop the record, or pass errors=callback to skip bad records")
        self.errors(where, reason)

    def _document(self, where: str, doc_id: Any, text: Any, meta: dict) -> Document | None:
        if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
            self._bad(where, f"missing or empty id field {self.id_field!r}")
        elif text is None:
            self._bad(str(doc_id), f"missing text field {self.text_field!r} ({where})")
        elif not isinstance(text, str):
            self._bad(str(doc_id), f"text field {self.text_field!r} is {type(text).__name__}, not a string ({where})")
        elif not text.strip():
            self._bad(str(doc_id), f"empty text ({where})")
        elif len(text) > self.max_chars and not self.truncate:
            self._bad(str(doc_id), f"text of {len(text):,} characters exceeds max_chars={self.max_chars:,} ({where}; truncate=True, or spin-detect analyze --truncate, reads its start)")
        else:
            text, dropped = shorten_text(text, self.max_chars)
            return Document(id=str(doc_id), text=text, meta={**meta, "chars_dropped": dropped} if dropped else meta)
        return None

    def _read_txt(self, path: Path) -> Iterator[Document]:
        try:
            text, unread = self._txt_text(path)
        except UnicodeDecodeError as exc:
            self._bad(path.stem, f"undecodable bytes at offset {exc.start} of {str(path)!r}: save it as UTF-8")
            return
        doc = self._document(str(path), path.stem, text, {"path": str(path)})
        if doc is not None and unread:
            doc.meta["chars_dropped"] = doc.meta.get("chars_dropped", 0) + unread
        if doc is not None:
            yield doc

    def _txt_text(self, path: Path) -> tuple[str, int]:
        """The file's text, and how many characters after the first ``max_chars + 1`` were not kept
        (with `truncate` the rest is only counted, a block at a time, never held)."""
        if not self.truncate:
            return path.read_bytes().decode("utf-8"), 0
        with path.open(encoding="utf-8", newline="") as handle:
            text, unread = handle.read(self.max_chars + 1), 0
            while block := handle.read(_COUNT_BLOCK):
                unread += len(block)
        return text, unread

    def _read_json_lines(self, path: Path) -> Iterator[Document]:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                where = f"{path}:{number}"
                if not raw.strip():
                    continue
                record = self._parse_json_line(raw, where)
                if record is None:
                    continue
                meta = {k: v for k, v in record.items() if k not in (self.id_field, self.text_field)}
                doc = self._document(where, record.get(self.id_field), record.get(self.text_field), meta)
                if doc is not None:
                    yield doc

    def _parse_json_line(self, raw: bytes, where: str) -> dict | None:
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            self._bad(where, f"undecodable bytes at offset {exc.start}: save the file as UTF-8")
            return None
        except json.JSONDecodeError as exc:
            self._bad(where, f"not valid JSON ({exc.msg}): expected one JSON object per line")
            return None
        if not isinstance(record, dict):
            self._bad(where, f"a JSON {type(record).__name__}, not an object: expected one JSON object per line")
            return None
        return record

    def _read_parquet(self, path: Path) -> Iterator[Document]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"cannot read Parquet file {str(path)!r}: {exc}") from exc
        columns = parquet.schema_arrow.names
        missing = [name for name in (self.id_field, self.text_field) if name not in columns]
        if missing:
            raise InputError(
                f"Parquet file {str(path)!r} has no column {missing}; its columns are {columns}: "
                "pass id_field=/text_field= naming the right ones"
            )
        position = 0
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            for record in batch.to_pylist():
                position += 1
                meta = {k: v for k, v in record.items() if k not in (self.id_field, self.text_field)}
                doc = self._document(f"{path}:row {position}", record[self.id_field], record[self.text_field], meta)
                if doc is not None:
                    yield doc
