"""The machine block every benchmark writes: CPU model and vector extensions read off /proc/cpuinfo."""

import importlib.util
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[1] / "benchmarks" / "machine.py"


@pytest.fixture(scope="module")
def machine():
    spec = importlib.util.spec_from_file_location("benchmark_machine", MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CPUINFO = """processor\t: 0
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 f16c

processor\t: 1
model name\t: Other CPU
flags\t\t: avx512f avx512_vnni
"""


def test_the_first_processors_model_and_its_vector_extensions_are_reported(machine, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO)
    described = machine.describe_machine(cpuinfo)
    assert described["cpu_model"] == "AMD EPYC"
    assert described["vector_extensions"] == ["avx2", "fma"]  # no AVX-512 VNNI: int8 runs at AVX2 speed
    assert set(described) >= {"cpus", "load_average", "platform", "python"}


def test_a_machine_without_cpuinfo_still_gets_a_block(machine, tmp_path):
    described = machine.describe_machine(tmp_path / "missing")
    assert described["vector_extensions"] == []
    assert described["cpus"] >= 1
