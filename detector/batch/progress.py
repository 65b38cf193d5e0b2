"""Progress of a batch run (`detector.progress`), its total counted from the input, on the batch job's logger."""

from __future__ import annotations

from detector.batch.options import BatchOptions
from detector.batch.output import BatchOutput
from detector.batch.plan import count_records
from detector.progress import ProgressReporter, progress_mode

__all__ = ["ProgressReporter", "progress_mode", "start_progress"]

BATCH_LOGGER = "detector.batch"  # the batch job's logger, which `spin-detect batch` sends to stderr


def start_progress(progress: bool | None, input, options: BatchOptions, job: BatchOutput) -> ProgressReporter:
    """A reporter whose total comes from one cheap counting read of the input (skipped when off)."""
    mode = progress_mode(progress)
    total = count_records(input, options) if mode != "off" else None
    return ProgressReporter(mode, total, initial=job.resumed, logger=BATCH_LOGGER)
