"""What a benchmark or an evaluation ran on: the CPU model and its vector extensions, cores, load, platform.

Throughput of the int8 path depends on the vector extensions more than on the clock: with
AVX-512 VNNI (or AVX-VNNI, AMX) int8 matrix products run several times faster than with AVX2
alone, so the figures of two days are only comparable when this block matches.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["VECTOR_EXTENSIONS", "describe_machine", "cpu_model_and_flags"]

# The extensions that decide how fast fp32 and int8 matrix products run, in /proc/cpuinfo's names.
VECTOR_EXTENSIONS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_int8", "amx_bf16")


def describe_machine(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> dict:
    """Cores, CPU model, its vector extensions (from ``cpuinfo`` where readable), load average, platform."""
    model, flags = cpu_model_and_flags(cpuinfo)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "vector_extensions": [name for name in VECTOR_EXTENSIONS if name in flags],
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def cpu_model_and_flags(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> tuple[str, set[str]]:
    """The first processor's model name and flags; ``platform.processor()`` and no flags off Linux."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor(), set()
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break  # the first processor's block is enough
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields.get("model name", platform.processor()), set(fields.get("flags", "").split())
