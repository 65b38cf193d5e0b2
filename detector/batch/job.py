"""`run_batch`: the batch job, written once for every engine (options, output folder, plan, progress, summary)."""

from __future__ import annotations

import time
from pathlib import Path

from detector.batch.engine import Engine, Sink, Work
from detector.batch.engines import LocalEngine, RayEngine
from detector.batch.manifest import job_manifest
from detector.batch.options import DEFAULT_MAX_CHARS, BatchOptions, BatchSummary, resolve_format
from detector.batch.output import BatchOutput
from detector.batch.plan import Plan
from detector.batch.progress import start_progress
from detector.errors import InputError
from detector.precision import resolve_precision

__all__ = ["run_batch"]


def run_batch(
    input: str | Path,
    output: str | Path,
    index=None,
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
    workers: int | None = None,
    threads: int | None = None,
    batch_size: int = 32,
    exclude_quotations: bool = False,
    chunk_size: int = 500,
    commit_seconds: float = 30.0,
    overwrite: bool = False,
    progress: bool | None = None,
    engine: str | Engine = "local",
    **engine_options,
) -> BatchSummary:
    """Score every article of `input` into the output folder `output`; resumes a killed run.

    Args:
        input: a .txt file, a folder of .txt, a glob, JSON lines or Parquet (`read_documents`).
        output: the output folder (created); its suffix .parquet / .jsonl picks the format unless
            `output_format` is given (default JSON lines).
        index: a source index folder, a loaded `SourceIndex` (this process only), or None.
        detector: a loaded `Detector` (this process only), a picklable callable returning one
            (called once per worker), or None to load `model` (default: the shipped model).
        id_field, text_field: the id and text columns of JSON lines / Parquet input.
        details: add each article's full report in a "report" column: a nested object in JSON lines,
            nested columns in Parquet (`detector.batch.columns`).
        max_chars: longer articles go to the errors file; exclude_self: an indexed source whose id
            equals the article's is never its candidate.
        precision: of the model loaded when `detector` is not given (`Detector.load`): "fast" (bf16
            on CPUs with AMX, else int8 with the model's int8 calibration), "bf16", "int8" or "fp32".
            The manifest records what "fast" meant, so a resume on another kind of CPU is refused.
        workers: processes scoring in parallel (default `default_workers()`); threads: torch
            intra-op threads per worker (default: the cores shared out between the workers).
        batch_size: articles per `analyze_many` call (recorded: at int8 it can move a verdict);
            chunk_size / commit_seconds: a chunk is committed every `chunk_size` rows or
            `commit_seconds`, whichever comes first.
        exclude_quotations: leave quoted speech out of each verdict and spin score, as
            ``Detector.analyze_many(..., exclude_quotations=True)`` does (recorded: a resume keeps it).
        overwrite: delete the earlier output of another job in `output` and start over. Without it, a
            rerun whose index, model or options differ from those the committed rows were scored
            with is refused with `InputError` naming each change (`job_manifest`).
        progress: a bar on a terminal, log lines elsewhere (None); False for silence.
        engine: "local" (`LocalEngine`: `workers`, `threads`), "ray" (`RayEngine`, which takes the
            `engine_options` actors, cpus_per_actor and address), or an `Engine` of your own.
    """
    chosen = _engine(engine, workers, threads, engine_options)
    chosen.check(index, detector)
    options = BatchOptions(
        id_field, text_field, resolve_format(output, output_format), details, max_chars, exclude_self,
        resolve_precision(precision), batch_size, exclude_quotations,
    )
    start = time.monotonic()
    job = BatchOutput(output, job_manifest(input, index, detector, model, options), overwrite=overwrite,
                      chunk_size=chunk_size, commit_seconds=commit_seconds)
    try:
        chosen.start()
        reporter = start_progress(progress, input, options, job)
        work = Work(Plan(input, options, job.done_ids, job.finished_errors), index, detector, model, job.manifest)
        used = chosen.run(work, Sink(job, reporter))
        reporter.close()
        summary = job.summary(chosen.name, used, time.monotonic() - start)
        job.finish(summary)
        return summary
    finally:
        job.close()


def _engine(engine: str | Engine, workers: int | None, threads: int | None, engine_options: dict) -> Engine:
    """The engine named (with its options), or the one given; `workers` and `threads` are the local engine's."""
    if engine == "ray":
        return RayEngine(**engine_options)
    if engine == "local" and not engine_options:
        return LocalEngine(workers, threads)
    if isinstance(engine, Engine) and not engine_options:
        return engine
    raise InputError(f"engine={engine!r} with options {sorted(engine_options)}: use engine 'local' (no options) or 'ray'")
