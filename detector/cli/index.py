"""`spin-detect index build`: a source index from .txt files, folders, JSON lines or Parquet.

Example:
    >>> from detector.cli.index import build_index                   # doctest: +SKIP
    >>> build_index(["sources/"], "build/index")["documents"]        # doctest: +SKIP
    300
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from detector.errors import InputError

__all__ = ["index", "build", "build_index"]


def build_index(
    sources: Sequence[str],
    out: str | Path,
    *,
    append: bool = False,
    id_field: str = "id",
    text_field: str = "text",
    encoder=None,
    progress: bool = False,
    chunk_size: int = 512,
) -> dict:
    """Index the documents of `sources` into the folder `out` (replaced, or extended with `append`).

    Documents are read and indexed ``chunk_size`` at a time, so memory holds one chunk of text
    (plus the index itself) whatever the input size. Returns a summary: the folder, documents
    added, documents in the index, seconds taken.
    """
    from tqdm.auto import tqdm

    from detector.documents import read_documents
    from detector.index import SourceIndex, recover_index

    if not sources:
        raise InputError("no sources given: name .txt files, folders of .txt, JSON lines or Parquet files")
    start = time.perf_counter()
    out = Path(out)
    recover_index(out)
    if append and out.exists():
        source_index = SourceIndex.load(out, encoder=encoder)
    elif append and any(out.parent.glob(f".{out.name}.old-*")):
        raise InputError(
            f"no index at {str(out)!r}, but an earlier one lies half-removed beside it ({out.parent}/.{out.name}.old-*): "
            "appending would start from empty; rebuild the index from all its sources without --append"
        )
    else:
        source_index = SourceIndex.build([], encoder=encoder)
    before = len(source_index)
    stream = itertools.chain.from_iterable(read_documents(s, id_field=id_field, text_field=text_field) for s in sources)
    with tqdm(desc="indexing sources", unit="doc", disable=not progress) as bar:
        for chunk in _chunks(stream, chunk_size):
            _check_unique([d.id for d in chunk], source_index)
            source_index.add(chunk)
            bar.update(len(chunk))
    source_index.save(out)
    return {
        "index": str(out),
        "added": len(source_index) - before,
        "documents": len(source_index),
        "seconds": round(time.perf_counter() - start, 2),
    }


def _chunks(documents: Iterator, size: int) -> Iterator[list]:
    """Lists of up to ``size`` documents: the input is read as it is indexed, never held whole."""
    while chunk := list(itertools.islice(documents, size)):
        yield chunk


def _check_unique(ids: list[str], source_index) -> None:
    seen, repeated = set(), []
    for doc_id in ids:
        if doc_id in seen or doc_id in source_index:
            repeated.append(doc_id)
        seen.add(doc_id)
    if repeated:
        raise InputError(f"document ids {sorted(set(repeated))[:5]} occur more than once: give every source a unique id")


@click.group()
def index() -> None:
    """Build or extend a source index (the clean sources that articles are compared with)."""


@index.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Index folder to write (replaced if it exists, unless --append).")
@click.option("--append", is_flag=True, help="Add the sources to the existing index in --out instead of replacing it.")
@click.option("--id-field", default="id", show_default=True, help="JSON lines / Parquet field holding the document id.")
@click.option("--text-field", default="text", show_default=True, help="JSON lines / Parquet field holding the text.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar on stderr.")
@click.pass_context
def build(ctx: click.Context, sources: tuple[str, ...], out: str, append: bool, id_field: str, text_field: str,
          progress: bool) -> None:
    """Index SOURCES into the folder --out.

    SOURCES are .txt files (id: the file name without extension), folders of .txt files, globs
    such as 'news/*.txt', JSON lines (.jsonl) or Parquet files (id and text from --id-field and
    --text-field).
    """
    summary = build_index(sources, out, append=append, id_field=id_field, text_field=text_field,
                          encoder=(ctx.obj or {}).get("encoder"), progress=progress)
    click.echo(f"indexed {summary['added']} documents into {summary['index']} "
               f"({summary['documents']} in all, {summary['seconds']} s)")
