"""The batch job on Ray Data: the same input, output folder and resume rules as `run_batch`, on a cluster.

The driver opens the output folder (manifest, lock, what earlier runs committed) exactly as the
local engine does. One read task, on the driver's node, streams the input through `plan_records`
(so duplicate ids and resume are decided in one place); `map_batches` sends the articles to an
actor pool whose actors each load one detector and index; the driver writes the returned rows in
committed chunks. Ray is an optional extra: ``pip install "spin-detector[ray]"``.

Example:
    >>> from detector.ray_engine import run_batch_ray                                   # doctest: +SKIP
    >>> run_batch_ray("crawl/*.parquet", "scores.parquet", index="build/index", actors=8)  # doctest: +SKIP
    BatchSummary(output='scores.parquet', engine='ray', workers=8, ...)
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Iterator
from pathlib import Path

from detector.batch import (
    DEFAULT_MAX_CHARS,
    BadRecord,
    BatchOptions,
    BatchOutput,
    BatchSummary,
    UnitResult,
    WorkerSpec,
    WorkItem,
    is_detector_factory,
    job_manifest,
    plan_records,
    resolve_format,
    start_progress,
    worker_spec,
)
from detector.errors import InputError
from detector.precision import resolve_precision

__all__ = ["run_batch_ray", "RAY_EXTRA"]

RAY_EXTRA = 'pip install "spin-detector[ray]"  (or: pip install "ray[data]")'
_READ_BLOCK_ROWS = 256


def run_batch_ray(
    input: str | Path,
    output: str | Path,
    index: str | Path | None = None,
    detector=None,
    *,
    model: str | Path | None = None,
    id_field: str = "id",
    text_field: str = "text",
    output_format: str | None = None,
    details: bool = False,
    max_chars: int = DEFAULT_MAX_CHARS,
    exclude_self: bool = True,
    precision: str = "fast",
    batch_size: int = 32,
    chunk_size: int = 500,
    commit_seconds: float = 30.0,
    overwrite: bool = False,
    progress: bool | None = None,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    address: str | None = None,
) -> BatchSummary:
    """`run_batch` on Ray Data: `actors` actors (default: the cluster's CPUs / `cpus_per_actor`).

    `index` must be a folder and `detector` None (load `model`) or a picklable factory, since every
    actor loads its own. Joins the Ray cluster at `address` ($RAY_ADDRESS, else starts a local Ray)
    unless Ray is already initialised. ``precision="fast"`` is resolved here, on the driver, for every
    actor. Other arguments as for `run_batch`.
    """
    ray = _import_ray()
    if detector is not None and not is_detector_factory(detector):
        raise InputError(
            "the ray engine loads one detector per actor: pass model= (a folder) or a picklable factory, not a loaded Detector"
        )
    if index is not None and not isinstance(index, (str, Path)):
        raise InputError("the ray engine loads the index in every actor: pass the index folder path, not a loaded SourceIndex")
    options = BatchOptions(
        id_field, text_field, resolve_format(output, output_format), details, max_chars, exclude_self,
        resolve_precision(precision), batch_size,
    )
    start = time.monotonic()
    job = BatchOutput(output, job_manifest(input, index, detector, model, options), overwrite=overwrite,
                      chunk_size=chunk_size, commit_seconds=commit_seconds)
    try:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        actors = actors or max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
        reporter = start_progress(progress, input, options, job)
        spec = worker_spec(index, detector, model, options, threads=max(1, int(cpus_per_actor)), manifest=job.manifest)
        dataset = ray.data.read_datasource(
            _planned_records_source(input, options, job.done_ids, job.finished_errors), num_cpus=0,
        ).map_batches(
            _ScoringActor, fn_constructor_kwargs={"spec": spec}, batch_size=batch_size, batch_format="pyarrow",
            concurrency=actors, num_cpus=cpus_per_actor,
        )
        for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
            result = _decode(batch)
            job.add(result)
            reporter.update(len(result.rows) + sum(bad.stage == "score" for bad in result.errors))
        reporter.close()
        summary = job.summary("ray", actors, time.monotonic() - start)
        job.finish(summary)
        return summary
    finally:
        job.close()


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is the part this engine needs)
    except ImportError as exc:
        raise InputError(f"the ray engine needs Ray Data, which is not installed ({exc}): {RAY_EXTRA}") from None
    return ray


# ------------------------------------------------------------------------------------ reading
_PLANNED_COLUMNS = ("position", "id", "text", "bad")


def _planned_records_source(input, options: BatchOptions, done_ids, finished_errors):
    """A Ray Datasource with one read task that streams `plan_records` as blocks of rows.

    Reading is light next to scoring, and one stream sees every id, so duplicates and resume are
    decided exactly as in the local engine. The task runs on the driver's node, where the input is.
    """
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    input, done_ids, finished_errors = str(input), frozenset(done_ids), frozenset(finished_errors)

    def read_blocks() -> Iterator:
        block: list[WorkItem | BadRecord] = []
        for record in plan_records(input, options, done_ids, finished_errors):
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
            return [ReadTask(read_blocks, _block_metadata(BlockMetadata, input))]

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
