"""The engines that score a batch job's work: `LocalEngine` (this machine's processes) and `RayEngine` (Ray Data)."""

from detector.batch.engines.local import LocalEngine
from detector.batch.engines.ray import RayEngine

__all__ = ["LocalEngine", "RayEngine"]
