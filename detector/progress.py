"""Progress of long work: a tqdm bar (items/s, ETA) on a terminal, a log line every 30 s elsewhere.

Shared by the batch job, ``spin-detect analyze`` over many files and ``spin-detect evaluate``.
Progress goes to stderr only (the bar, or the log lines once `log_progress_to_stderr` has given
their logger a handler); standard output stays the command's own.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator

__all__ = ["ProgressReporter", "log_progress_to_stderr", "progress_mode", "track"]

PROGRESS_LOGGER = "detector.progress"


class ProgressReporter:
    """A tqdm bar (``unit``s per second, ETA) on a terminal, plain log lines every `log_seconds` elsewhere."""

    def __init__(self, mode: str, total: int | None, initial: int = 0, log_seconds: float = 30.0,
                 unit: str = "article", logger: str = PROGRESS_LOGGER):
        self.mode = mode
        self.total = total
        self.done = initial
        self.scored = 0
        self.log_seconds = log_seconds
        self.unit = unit
        self.log = logging.getLogger(logger)
        self._start = self._last_log = time.monotonic()
        self._bar = None
        if mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, unit=unit, dynamic_ncols=True, smoothing=0.1)

    def update(self, count: int) -> None:
        self.done += count
        self.scored += count
        if self._bar is not None:
            self._bar.update(count)
        elif self.mode == "log" and time.monotonic() - self._last_log >= self.log_seconds:
            self._last_log = time.monotonic()
            self.log.info(self.line())

    def line(self) -> str:
        elapsed = time.monotonic() - self._start
        rate = self.scored / elapsed if elapsed > 0 else 0.0
        of_total = f"/{self.total}" if self.total is not None else ""
        line = f"{self.done}{of_total} {self.unit}s, {rate:.1f} {self.unit}s/s"
        if self.total is not None and rate > 0:
            line += f", ETA {_duration(max(self.total - self.done, 0) / rate)}"
        return line

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "log":
            self.log.info(self.line())


def progress_mode(progress: bool | None) -> str:
    """"bar" on a terminal, "log" elsewhere, "off" when progress is False."""
    if progress is False:
        return "off"
    return "bar" if progress or sys.stderr.isatty() else "log"


def track(items: Iterable, total: int, progress: bool | None, unit: str = "article") -> Iterator:
    """``items`` as they come, counted by a `ProgressReporter` (a bar, a log line every 30 s, or nothing).

    Off a terminal only the periodic lines are written, so a short run stays silent.
    """
    reporter = ProgressReporter(progress_mode(progress), total, unit=unit)
    try:
        for item in items:
            yield item
            reporter.update(1)
    finally:
        if reporter.mode == "bar":
            reporter.close()


def log_progress_to_stderr(progress: bool | None, logger: str = PROGRESS_LOGGER) -> None:
    """Send a logger's periodic progress lines to stderr when no progress bar is drawn (a command's job)."""
    if progress is False or sys.stderr.isatty():
        return
    log = logging.getLogger(logger)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
