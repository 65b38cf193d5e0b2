"""Deprecated: the Ray engine is now ``run_batch(..., engine="ray")`` (`detector.batch.RayEngine`).

`run_batch_ray` is kept for code written against it; it warns, then runs `run_batch` with the Ray engine.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from detector.batch import BatchSummary, run_batch
from detector.batch.engines.ray import RAY_EXTRA

__all__ = ["run_batch_ray", "RAY_EXTRA"]


def run_batch_ray(input: str | Path, output: str | Path, index=None, detector=None, **options) -> BatchSummary:
    """Deprecated alias of ``run_batch(input, output, index, detector, engine="ray", **options)``."""
    warnings.warn(
        'detector.ray_engine.run_batch_ray is deprecated: call detector.batch.run_batch(..., engine="ray") instead',
        DeprecationWarning, stacklevel=2,
    )
    return run_batch(input, output, index, detector, engine="ray", **options)
