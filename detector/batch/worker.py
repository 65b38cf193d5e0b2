"""What each worker (a process, a Ray actor) loads to score: `WorkerSpec`, picklable, nothing loaded yet."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detector.batch.fingerprints import index_record, model_record
from detector.batch.manifest import shown
from detector.batch.options import BatchOptions
from detector.batch.plan import absolute_path
from detector.batch.scoring import ArticleScorer, DetectorLoader, is_detector_factory
from detector.errors import InputError

__all__ = ["WorkerSpec", "worker_spec"]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build its own `ArticleScorer` (picklable, nothing loaded yet).

    `detector_factory` is called once per worker (`DetectorLoader` by default); `index` is a source
    index folder or None; `threads` caps torch's intra-op threads in the worker. `index_fingerprint`
    and `model_fingerprint` are the job manifest's: a folder that no longer matches them once loaded
    (changed after the job checked it, say before a Ray actor restarted) is refused, never scored.
    """

    detector_factory: Callable[[], Any]
    index: str | None
    options: BatchOptions
    threads: int | None = None
    index_fingerprint: str | None = None
    model_fingerprint: str | None = None

    def load(self) -> ArticleScorer:
        if self.threads:
            os.environ["OMP_NUM_THREADS"] = str(self.threads)
        detector = self.detector_factory()
        if isinstance(self.detector_factory, DetectorLoader):
            found = model_record(self.detector_factory)
            _check_unchanged("model", found["path"], self.model_fingerprint, found["fingerprint"])
        if self.threads and "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(self.threads)
        return ArticleScorer(detector, self.load_index(detector), self.options)

    def load_index(self, detector):
        """The source index from its folder (sharing the detector's encoder), or None."""
        if self.index is None:
            return None
        from detector.index import SourceIndex  # deferred: FAISS loads where an index is used

        index = SourceIndex.load(self.index, encoder=getattr(detector, "encoder", None))
        _check_unchanged("source index", self.index, self.index_fingerprint, index_record(self.index)["fingerprint"])
        return index


def _check_unchanged(what: str, path, expected: str | None, found: str | None) -> None:
    if expected is not None and found != expected:
        raise InputError(
            f"the {what} {str(path)!r} changed after this batch job checked it ({shown(expected)} → {shown(found)}): "
            "nothing was scored with it; run the job again to check it again"
        )


def worker_spec(index, detector, model, options: BatchOptions, threads: int | None = None,
                manifest: dict | None = None) -> WorkerSpec:
    """What each worker loads: `detector` if it is a factory, else `DetectorLoader(model)`; the index folder.

    Paths are made absolute, since a worker (a Ray actor above all) may start in another folder. The
    job `manifest`'s fingerprints go along, so that a worker refuses a folder that changed since.
    """
    factory = detector if detector is not None and is_detector_factory(detector) else DetectorLoader(absolute_path(model), options.precision)
    folder = absolute_path(index) if isinstance(index, (str, Path)) else None
    index_fingerprint = ((manifest or {}).get("index") or {}).get("fingerprint") if folder else None
    model_fingerprint = ((manifest or {}).get("model") or {}).get("fingerprint")
    return WorkerSpec(factory, folder, options, threads, index_fingerprint, model_fingerprint)
