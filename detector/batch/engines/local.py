"""The local engine: work units scored in this process, or in worker processes that each load their own detector."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from detector.batch.engine import Engine, Sink, Work
from detector.batch.plan import WorkItem
from detector.batch.scoring import ArticleScorer, UnitResult, is_detector_factory
from detector.batch.worker import WorkerSpec, worker_spec
from detector.errors import InputError, SpinDetectorError

__all__ = ["LocalEngine", "cores", "default_workers"]


def default_workers() -> int:
    """Worker processes when none are asked for: one process whose torch uses every core.

    benchmarks/batch_throughput.py times this against one process per core with one thread each
    ("faster_workers" in benchmarks/results/batch_throughput.json); on 2 cores the one process was
    faster (it loads one detector and index, not two, and torch's batched matrix work uses both cores).
    """
    return 1


def cores() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class LocalEngine(Engine):
    """`workers` processes on this machine (default `default_workers()`), `threads` torch threads each
    (default: the cores shared out between the workers). One worker scores in this process, with a
    loaded detector and index if given; more need paths or a picklable detector factory."""

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None):
        self.workers = workers
        self.threads = threads

    def check(self, index, detector) -> None:
        _checked_workers(self.workers, index, detector)

    def run(self, work: Work, sink: Sink) -> int:
        workers = _checked_workers(self.workers, work.index, work.detector)
        if workers == 1:
            scorer = _scorer_here(work, self.threads)
            for unit in work.plan.units(sink.skip):
                sink.add(scorer.score(unit))
        else:
            spec = work.spec(self.threads or max(1, cores() // workers))
            _score_in_pool(work.plan.units(sink.skip), spec, workers, sink)
        return workers


def _checked_workers(workers: int | None, index, detector) -> int:
    in_memory = [name for name, thing in (("index", index), ("detector", detector))
                 if thing is not None and not isinstance(thing, (str, Path)) and not is_detector_factory(thing)]
    if workers is None:
        return 1 if in_memory else default_workers()
    if not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers={workers!r} must be a positive integer")
    if workers > 1 and in_memory:
        raise InputError(
            f"workers={workers} needs every worker to load its own {' and '.join(in_memory)}: pass the index "
            "as a folder path and the model as a path (or detector as a picklable factory), or use workers=1"
        )
    return workers


def _scorer_here(work: Work, threads: int | None) -> ArticleScorer:
    """The scorer of a one-process run: the objects given, or loaded here as a worker would."""
    index, detector, options = work.index, work.detector, work.plan.options
    loaded = detector is not None and not is_detector_factory(detector)
    spec = worker_spec(index, None if loaded else detector, work.model, options, threads, work.manifest)
    scorer = ArticleScorer(detector, spec.load_index(detector), options) if loaded else spec.load()
    if index is not None and not isinstance(index, (str, Path)):
        scorer.index = index
    return scorer


def _score_in_pool(units: Iterable[list[WorkItem]], spec: WorkerSpec, workers: int, sink: Sink) -> None:
    """Units scored by `workers` spawned processes, a bounded number in flight, results in order."""
    context = multiprocessing.get_context("spawn")
    pending: deque[Future] = deque()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(spec,)) as pool:
        try:
            for unit in units:
                pending.append(pool.submit(_score_in_worker, unit))
                while len(pending) > 2 * workers or (pending and pending[0].done()):
                    sink.add(pending.popleft().result())
            while pending:
                sink.add(pending.popleft().result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


_WORKER_SCORER: ArticleScorer | None = None
_WORKER_ERROR: SpinDetectorError | None = None


def _start_worker(spec: WorkerSpec) -> None:
    """Process-pool initializer: Ctrl-C is the parent's to handle; load the detector once.

    Our own errors (a changed index, a broken model folder) are raised again with the first unit, so
    that the parent reports their message rather than a broken process pool.
    """
    global _WORKER_SCORER, _WORKER_ERROR
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _WORKER_SCORER = spec.load()
    except SpinDetectorError as exc:
        _WORKER_ERROR = exc


def _score_in_worker(items: list[WorkItem]) -> UnitResult:
    if _WORKER_ERROR is not None:
        raise _WORKER_ERROR
    return _WORKER_SCORER.score(items)
