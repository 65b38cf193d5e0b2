"""The machine block every benchmark and evaluation writes: CPU model and vector extensions read off /proc/cpuinfo."""

from detector.machine import describe_machine

CPUINFO = """processor\t: 0
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 f16c

processor\t: 1
model name\t: Other CPU
flags\t\t: avx512f avx512_vnni
"""


def test_the_first_processors_model_and_its_vector_extensions_are_reported(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO)
    described = describe_machine(cpuinfo)
    assert described["cpu_model"] == "AMD EPYC"
    assert described["vector_extensions"] == ["avx2", "fma"]  # no AVX-512 VNNI: int8 runs at AVX2 speed
    assert set(described) >= {"cpus", "load_average", "platform", "python"}


def test_a_machine_without_cpuinfo_still_gets_a_block(tmp_path):
    described = describe_machine(tmp_path / "missing")
    assert described["vector_extensions"] == []
    assert described["cpus"] >= 1
