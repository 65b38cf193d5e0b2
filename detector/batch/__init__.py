"""Batch scoring: many articles in, one row per article out; resumable, parallel, bounded memory.

`run_batch` streams the input (a folder of .txt, a glob, JSON lines or Parquet), scores the articles
with `Detector.analyze_many` in units of `batch_size` articles, in this process or in worker
processes that each load their own detector, and writes the rows into an output folder:

```
out/                       (or out.parquet/: the format follows --format or the folder's suffix)
  _manifest.json           the job's inputs (index and model fingerprints) and options: a rerun with
                           other ones is refused, saying what changed (overwrite=True starts over)
  part-00000.jsonl         committed chunks of result rows (id, verdict, spin_score, ...; with details,
                           the report nested: an object per line, struct columns in Parquet)
  _errors-00000.jsonl      committed chunks of bad records (record, stage, reason)
  _summary.json            written when a run finishes
```

Every chunk is written under a temporary name and renamed into place, so a kill at any moment
leaves only whole rows. A rerun of the same job reads the committed chunks back, skips what is done
and scores the rest: every input id ends up exactly once in the output, and every bad record
(unreadable, empty, oversized, a duplicate id, or one the detector fails on) exactly once in the
errors. The rows of one output folder all come from the same inputs: a rerun whose index, model,
precision, batch size or other options differ from the manifest's is refused (`job_manifest`,
`index_record`, `model_record`). Ids never become file names. Names beginning with "_" or "." are
skipped by Parquet dataset readers, so ``pandas.read_parquet("out.parquet")`` reads the results alone.

The job is written once (`job`: options, output folder, plan, manifest, resume, progress, summary);
an engine only turns the planned work into results (`engine.Engine`): `LocalEngine` (processes on
this machine) and `RayEngine` (Ray Data), chosen with ``run_batch(..., engine="local" | "ray")``.
The modules, each importing only those listed before it: `options`, `plan`, `scoring`,
`fingerprints`, `manifest`, `worker`, `columns`, `files`, `output`, `progress`, `engine`, `engines`, `job`.

Example:
    >>> from detector.batch import run_batch                                      # doctest: +SKIP
    >>> summary = run_batch("crawl/*.jsonl", "scores.parquet", index="build/index")  # doctest: +SKIP
    >>> summary.verdicts                                                           # doctest: +SKIP
    {'copy': 812, 'original': 90311, 'spun': 1204, ...}
"""

from detector.batch.columns import parquet_schema, row_from_parquet, row_to_parquet
from detector.batch.engine import Engine, Sink, Work
from detector.batch.engines.local import LocalEngine, cores, default_workers
from detector.batch.engines.ray import RayEngine
from detector.batch.files import read_batch_errors, read_batch_output
from detector.batch.fingerprints import index_record, model_record
from detector.batch.job import run_batch
from detector.batch.manifest import MANIFEST_VERSION, job_manifest
from detector.batch.options import (
    DEFAULT_MAX_CHARS,
    OUTPUT_FORMATS,
    RESULT_COLUMNS,
    BatchOptions,
    BatchSummary,
    resolve_format,
)
from detector.batch.output import BatchOutput
from detector.batch.plan import BadRecord, Plan, WorkItem, count_records, plan_records
from detector.batch.progress import ProgressReporter, progress_mode, start_progress
from detector.batch.scoring import ArticleScorer, DetectorLoader, UnitResult, is_detector_factory, result_row
from detector.batch.worker import WorkerSpec, worker_spec

__all__ = [
    # the job and its output
    "run_batch",
    "read_batch_output",
    "read_batch_errors",
    "BatchSummary",
    "BatchOptions",
    "RESULT_COLUMNS",
    "OUTPUT_FORMATS",
    "DEFAULT_MAX_CHARS",
    "resolve_format",
    # the Parquet columns of a row
    "parquet_schema",
    "row_to_parquet",
    "row_from_parquet",
    # the engines and their interface
    "Engine",
    "LocalEngine",
    "RayEngine",
    "Work",
    "Sink",
    "Plan",
    "cores",
    "default_workers",
    # planning and scoring
    "WorkItem",
    "BadRecord",
    "plan_records",
    "count_records",
    "UnitResult",
    "ArticleScorer",
    "result_row",
    "DetectorLoader",
    "is_detector_factory",
    "WorkerSpec",
    "worker_spec",
    # the output folder, its manifest and fingerprints
    "BatchOutput",
    "MANIFEST_VERSION",
    "job_manifest",
    "index_record",
    "model_record",
    # progress
    "ProgressReporter",
    "progress_mode",
    "start_progress",
]
