"""Progress of a batch run: a bar with articles/s and ETA on a terminal, a log line every 30 s elsewhere."""

from __future__ import annotations

import logging
import sys
import time

from detector.batch.options import BatchOptions
from detector.batch.output import BatchOutput
from detector.batch.plan import count_records

__all__ = ["ProgressReporter", "progress_mode", "start_progress"]

log = logging.getLogger("detector.batch")  # the batch job's logger, which `spin-detect batch` sends to stderr


class ProgressReporter:
    """A tqdm bar (articles/s, ETA) on a terminal, plain log lines every `log_seconds` elsewhere."""

    def __init__(self, mode: str, total: int | None, initial: int = 0, log_seconds: float = 30.0):
        self.mode = mode
        self.total = total
        self.done = initial
        self.scored = 0
        self.log_seconds = log_seconds
        self._start = self._last_log = time.monotonic()
        self._bar = None
        if mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, unit="article", dynamic_ncols=True, smoothing=0.1)

    def update(self, articles: int) -> None:
        self.done += articles
        self.scored += articles
        if self._bar is not None:
            self._bar.update(articles)
        elif self.mode == "log" and time.monotonic() - self._last_log >= self.log_seconds:
            self._last_log = time.monotonic()
            log.info(self.line())

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        rate = self.scored / elapsed if elapsed > 0 else 0.0
        of_total = f"/{self.total}" if self.total is not None else ""
        line = f"{self.done}{of_total} articles, {rate:.1f} articles/s"
        if self.total is not None and rate > 0:
            line += f", ETA {_duration(max(self.total - self.done, 0) / rate)}"
        return line

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "log":
            log.info(self.line())


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def progress_mode(progress: bool | None) -> str:
    """"bar" on a terminal, "log" elsewhere, "off" when progress is False."""
    if progress is False:
        return "off"
    return "bar" if progress or sys.stderr.isatty() else "log"


def start_progress(progress: bool | None, input, options: BatchOptions, job: BatchOutput) -> ProgressReporter:
    """A reporter whose total comes from one cheap counting read of the input (skipped when off)."""
    mode = progress_mode(progress)
    total = count_records(input, options) if mode != "off" else None
    return ProgressReporter(mode, total, initial=job.resumed)
