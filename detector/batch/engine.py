"""The engine interface: an engine turns a job's planned work into results; the job itself is not its part.

The job (`run_batch`) resolves the options, opens the output folder (manifest, lock, resume), plans
the records, reports progress and writes the summary, once for every engine. An engine only scores:
`run(work, sink)` reads the planned work items from `work`, scores them with what `work.spec`
describes (or, in this process, with the objects given) and hands each unit's result to `sink`.
A new engine is one subclass of `Engine`, passed as ``run_batch(..., engine=MyEngine())``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from detector.batch.output import BatchOutput
from detector.batch.plan import BadRecord, Plan
from detector.batch.progress import ProgressReporter
from detector.batch.scoring import UnitResult
from detector.batch.worker import WorkerSpec, worker_spec

__all__ = ["Engine", "Sink", "Work"]


@dataclass(frozen=True)
class Work:
    """What an engine scores: the plan, and the index, detector and model as the caller gave them."""

    plan: Plan
    index: Any = None
    detector: Any = None
    model: str | Path | None = None
    manifest: dict | None = None

    def spec(self, threads: int | None = None) -> WorkerSpec:
        """What each worker loads (`worker_spec`), with `threads` torch threads and the manifest's fingerprints."""
        return worker_spec(self.index, self.detector, self.model, self.plan.options, threads, self.manifest)


class Sink:
    """Where an engine hands its results: the job's output folder, and the progress of the articles scored."""

    def __init__(self, output: BatchOutput, reporter: ProgressReporter):
        self.output = output
        self.reporter = reporter

    def add(self, result: UnitResult) -> None:
        """A unit's rows and bad records; its articles (rows and "score" failures) count as progress."""
        self.output.add(result)
        self.reporter.update(len(result.rows) + sum(bad.stage == "score" for bad in result.errors))

    def skip(self, bad: BadRecord) -> None:
        """A record the plan found bad (unreadable, a duplicate id): written to the errors, not scored."""
        self.output.add(UnitResult([], [bad]))


class Engine(ABC):
    """Scores a job's work: `run` is the one method an engine must have.

    `check` refuses, before the output folder is touched, an index or detector this engine cannot
    load; `start` gets the workers ready (joins a cluster, say) once the folder is open.
    """

    name: ClassVar[str]

    def check(self, index, detector) -> None:
        """Raise `InputError` for an index or detector this engine cannot score with (default: any will do)."""

    def start(self) -> None:
        """Get ready to score, once the output folder is open (default: nothing to do)."""

    @abstractmethod
    def run(self, work: Work, sink: Sink) -> int:
        """Score every work item of `work.plan` into `sink`; returns how many workers scored (for the summary)."""
