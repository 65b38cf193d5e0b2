"""The files of a batch output folder: their names, atomic writes, the lock, and chunks written and read back."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from detector.batch.columns import parquet_schema, row_from_parquet, row_to_parquet
from detector.errors import InputError

__all__ = [
    "ERRORS", "LOCK", "MANIFEST", "PARTS", "SUMMARY", "OUR_FILE", "chunk_bytes", "exclusive_lock", "read_batch_errors",
    "read_batch_output", "read_rows", "write_atomic",
]

MANIFEST = "_manifest.json"
SUMMARY = "_summary.json"
LOCK = ".lock"
PARTS = "part"
ERRORS = "_errors"
OUR_FILE = re.compile(r"^(part-\d{5,}\.(jsonl|parquet)|_errors-\d{5,}\.jsonl|_manifest\.json|_summary\.json|\.lock|\..+\.tmp)$")


def exclusive_lock(path: Path):
    """An open lock file holding an exclusive advisory lock (released when the process dies)."""
    handle = path.open("a")
    try:
        import fcntl  # not on Windows, where the lock is skipped

        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:
        pass
    except OSError:
        handle.close()
        raise InputError(f"another batch run is writing to {str(path.parent)!r}: wait for it, or choose another output") from None
    return handle


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a hidden temporary sibling, flush it to disk, then rename it over `path`."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def chunk_bytes(rows: list[dict], output_format: str, details: bool) -> bytes:
    """A chunk's file content: JSON lines, or a zstd Parquet table of `parquet_schema` (the report nested)."""
    if output_format == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
    return _parquet_bytes(rows, details)


def _parquet_bytes(rows: list[dict], details: bool) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    table = pa.Table.from_pylist([row_to_parquet(row) for row in rows], schema=parquet_schema(details))
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def read_rows(path: Path, columns: list[str] | None = None) -> Iterator[dict]:
    """The rows of one committed chunk in their JSON form (Parquet, or JSON lines: a torn line names the chunk to delete)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from map(row_from_parquet, pq.read_table(path, columns=columns).to_pylist())
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                yield json.loads(line)
            except ValueError:
                raise InputError(f"{path}:{number} is not a whole JSON row: delete {path.name} to redo its rows") from None


def read_batch_output(path: str | Path) -> Iterator[dict]:
    """The result rows of a batch output folder, chunk by chunk (committed chunks only), in their JSON form:
    a --details report is the same object from a JSON lines or a Parquet folder."""
    folder = Path(path)
    parts = sorted(p for p in folder.glob("part-*") if p.suffix in (".jsonl", ".parquet"))
    for part in parts:
        yield from read_rows(part)


def read_batch_errors(path: str | Path) -> Iterator[dict]:
    """The bad records of a batch output folder: position, record, stage, reason, occurrence."""
    for chunk in sorted(Path(path).glob(f"{ERRORS}-*.jsonl")):
        yield from read_rows(chunk)
