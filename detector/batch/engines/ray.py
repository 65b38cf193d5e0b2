"""The Ray Data engine: `map_batches` over an actor pool whose actors each load one detector and index.

One read task, on the driver's node, streams the plan (`Plan.records`), so that duplicate ids and
resume are decided in one place, exactly as in the local engine; the driver hands the returned rows
to the job, which writes the same output folder. Ray is an optional extra: ``pip install "spin-detector[ray]"``.

Example:
    >>> from detector.batch import run_batch                                                  # doctest: +SKIP
    >>> run_batch("crawl/*.parquet", "scores.parquet", index="build/index", engine="ray", actors=8)  # doctest: +SKIP
    BatchSummary(output='scores.parquet', engine='ray', workers=8, ...)
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path

from detector.batch.engine import Engine, Sink, Work
from detector.batch.plan import BadRecord, Plan, WorkItem
from detector.batch.scoring import UnitResult, is_detector_factory
from detector.batch.worker import WorkerSpec
from detector.errors import InputError

__all__ = ["RAY_EXTRA", "RayEngine"]

RAY_EXTRA = 'pip install "spin-detector[ray]"  (or: pip install "ray[data]")'
_READ_BLOCK_ROWS = 256


class RayEngine(Engine):
    """`actors` Ray actors (default: the cluster's CPUs / `cpus_per_actor`), each loading its own detector and index.

    The index must be a folder and the detector None (load the model) or a picklable factory. Joins the
    Ray cluster at `address` ($RAY_ADDRESS, else starts a local Ray) unless Ray is already initialised.
    """

    name = "ray"

    def __init__(self, *, actors: int | None = None, cpus_per_actor: float = 1.0, address: str | None = None):
        self.actors = actors
        self.cpus_per_actor = cpus_per_actor
        self.address = address

    def check(self, index, detector) -> None:
        _import_ray()
        if detector is not None and not is_detector_factory(detector):
            raise InputError(
                "the ray engine loads one detector per actor: pass model= (a folder) or a picklable factory, not a loaded Detector"
            )
        if index is not None and not isinstance(index, (str, Path)):
            raise InputError("the ray engine loads the index in every actor: pass the index folder path, not a loaded SourceIndex")

    def start(self) -> None:
        ray = _import_ray()
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)

    def run(self, work: Work, sink: Sink) -> int:
        ray = _import_ray()
        actors = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1) // self.cpus_per_actor))
        spec = work.spec(threads=max(1, int(self.cpus_per_actor)))
        dataset = ray.data.read_datasource(_planned_records_source(work.plan), num_cpus=0).map_batches(
            _ScoringActor, fn_constructor_kwargs={"spec": spec}, batch_size=work.plan.options.batch_size,
            batch_format="pyarrow", concurrency=actors, num_cpus=self.cpus_per_actor,
        )
        for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
            sink.add(_decode(batch))
        return actors


def _import_ray():
    try:
        import ray  # the optional extra, imported only when this engine is used
        import ray.data  # noqa: F401  (the Data library is the part this engine needs)
    except ImportError as exc:
        raise InputError(f"the ray engine needs Ray Data, which is not installed ({exc}): {RAY_EXTRA}") from None
    return ray


# ------------------------------------------------------------------------------------ reading
def _planned_records_source(plan: Plan):
    """A Ray Datasource with one read task that streams the plan's records as blocks of rows.

    Reading is light next to scoring, and one stream sees every id, so duplicates and resume are
    decided exactly as in the local engine. The task runs on the driver's node, where the input is.
    """
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    plan = Plan(str(plan.input), plan.options, frozenset(plan.done_ids), frozenset(plan.finished_errors))

    def read_blocks() -> Iterator:
        block: list[WorkItem | BadRecord] = []
        for record in plan.records():
            block.append(record)
            if len(block) == _READ_BLOCK_ROWS:
                yield _encode(block)
                block = []
        if block:
            yield _encode(block)

    class PlannedRecords(Datasource):
        supports_distributed_reads = False

        def estimate_inmemory_data_size(self) -> None:
            return None

        def get_read_tasks(self, parallelism: int, **_) -> list:
            return [ReadTask(read_blocks, _block_metadata(BlockMetadata, plan.input))]

    return PlannedRecords()


def _block_metadata(block_metadata, input: str):
    """Unknown-size metadata, built with the fields this Ray version's BlockMetadata takes."""
    known = {"num_rows": None, "size_bytes": None, "schema": None, "input_files": [input], "exec_stats": None}
    names = inspect.signature(block_metadata).parameters
    return block_metadata(**{name: value for name, value in known.items() if name in names})


def _encode(records: list[WorkItem | BadRecord]):
    import pyarrow as pa

    is_bad = [isinstance(r, BadRecord) for r in records]
    return pa.table({
        "position": pa.array([r.position for r in records], pa.int64()),
        "id": pa.array([None if bad else r.id for r, bad in zip(records, is_bad, strict=True)], pa.string()),
        "text": pa.array([None if bad else r.text for r, bad in zip(records, is_bad, strict=True)], pa.string()),
        "bad": pa.array([json.dumps(r.to_row()) if bad else None for r, bad in zip(records, is_bad, strict=True)], pa.string()),
    })


# ------------------------------------------------------------------------------------ scoring
class _ScoringActor:
    """One Ray actor: loads its detector and index once, then scores batches of planned records."""

    def __init__(self, spec: WorkerSpec):
        self.scorer = spec.load()

    def __call__(self, batch):
        import pyarrow as pa

        records = batch.to_pylist()
        items = [WorkItem(r["position"], r["id"], r["text"]) for r in records if r["bad"] is None]
        result = self.scorer.score(items) if items else UnitResult([], [])
        payloads = [("row", json.dumps(row, ensure_ascii=False)) for row in result.rows]
        payloads += [("error", json.dumps(bad.to_row())) for bad in result.errors]
        payloads += [("error", r["bad"]) for r in records if r["bad"] is not None]
        return pa.table({"kind": [kind for kind, _ in payloads], "payload": [p for _, p in payloads]},
                        schema=pa.schema([("kind", pa.string()), ("payload", pa.string())]))


def _decode(batch) -> UnitResult:
    result = UnitResult([], [])
    for kind, payload in zip(batch.column("kind").to_pylist(), batch.column("payload").to_pylist(), strict=True):
        if kind == "row":
            result.rows.append(json.loads(payload))
        else:
            result.errors.append(BadRecord(**json.loads(payload)))
    return result
