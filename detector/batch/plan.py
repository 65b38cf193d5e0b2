"""Planning: the input streamed as work items and bad records, less what an earlier run finished."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from detector.batch.options import BatchOptions
from detector.documents import read_documents

__all__ = ["BadRecord", "Plan", "WorkItem", "absolute_path", "count_records", "plan_records"]


class WorkItem(NamedTuple):
    """One article to score: its place in the input stream, its id and its text."""

    position: int
    id: str
    text: str


class BadRecord(NamedTuple):
    """A record that goes to the errors file instead of the results.

    `record` is the article id, or where the record sits ("file.jsonl:12") when it has no usable id;
    `stage` is "read", "duplicate" or "score"; `occurrence` numbers repeats of the same (stage,
    record) in the input, so that each bad record is written exactly once across reruns.
    """

    position: int
    record: str
    stage: str
    reason: str
    occurrence: int = 1

    @property
    def key(self) -> tuple[str, str, int]:
        return self.stage, self.record, self.occurrence

    def to_row(self) -> dict:
        return self._asdict()


def plan_records(
    input: str | Path,
    options: BatchOptions,
    done_ids: frozenset[str] | set[str] = frozenset(),
    finished_errors: frozenset | set = frozenset(),
) -> Iterator[WorkItem | BadRecord]:
    """Stream the input as work items and bad records, skipping what an earlier run finished.

    The first occurrence of an id is scored; later ones are reported as "duplicate". Memory grows
    only with the number of distinct ids (one dict entry each), never with the texts. The input is
    read by its absolute path, so that records are named alike by every engine and working folder.
    """
    pending: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    read_errors: Counter = Counter()
    position = 0
    documents = read_documents(
        absolute_path(input), options.id_field, options.text_field,
        errors=lambda where, reason: pending.append((where, reason)), max_chars=options.max_chars,
    )
    for doc in _with_sentinel(documents):
        for where, reason in pending:
            read_errors[where] += 1
            bad = BadRecord(position, str(where), "read", reason, read_errors[where])
            position += 1
            if bad.key not in finished_errors:
                yield bad
        pending.clear()
        if doc is None:
            return
        count = seen[doc.id] = seen.get(doc.id, 0) + 1
        if count > 1:
            reason = f"duplicate id {doc.id!r} (occurrence {count}): only the first is scored"
            bad = BadRecord(position, doc.id, "duplicate", reason, count)
            if bad.key not in finished_errors:
                yield bad
        elif doc.id not in done_ids:
            yield WorkItem(position, doc.id, doc.text)
        position += 1


def _with_sentinel(documents: Iterable) -> Iterator:
    """The documents, then None (so that errors reported after the last document are flushed)."""
    yield from documents
    yield None


def count_records(input: str | Path, options: BatchOptions) -> int:
    """How many records (good and bad) the input holds: one cheap read, for progress and ETA."""
    bad = 0

    def on_error(where: str, reason: str) -> None:
        nonlocal bad
        bad += 1

    documents = read_documents(input, options.id_field, options.text_field, errors=on_error, max_chars=options.max_chars)
    good = sum(1 for _ in documents)
    return good + bad


@dataclass(frozen=True)
class Plan:
    """The work a run has left: the input, its options, and the ids and bad records already committed.

    Picklable and read lazily, so that an engine may stream it where the input is (a Ray read task).
    """

    input: str | Path
    options: BatchOptions
    done_ids: Set[str] = frozenset()
    finished_errors: Set[tuple[str, str, int]] = frozenset()

    def records(self) -> Iterator[WorkItem | BadRecord]:
        """The planned work items and bad records, in input order (`plan_records`)."""
        return plan_records(self.input, self.options, self.done_ids, self.finished_errors)

    def units(self, skip: Callable[[BadRecord], None]) -> Iterator[list[WorkItem]]:
        """Work items grouped `batch_size` at a time (checked by `BatchOptions`); bad records go to `skip`."""
        unit: list[WorkItem] = []
        for item in self.records():
            if isinstance(item, BadRecord):
                skip(item)
                continue
            unit.append(item)
            if len(unit) == self.options.batch_size:
                yield unit
                unit = []
        if unit:
            yield unit


def absolute_path(path: str | Path | None) -> str | None:
    """`path` made absolute (as a string), so that every worker and engine names it alike; None stays None."""
    return str(Path(path).absolute()) if path else None
