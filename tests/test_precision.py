import pytest

import detector.precision
from detector.errors import InputError
from detector.precision import PRECISIONS, fast_precision, resolve_precision


@pytest.mark.parametrize("amx, expected", [(True, "bf16"), (False, "int8")])
def test_fast_means_bf16_only_where_the_cpu_multiplies_bf16_in_hardware(monkeypatch, amx, expected):
    monkeypatch.setattr(detector.precision, "has_bf16_matrix_units", lambda: amx)
    assert fast_precision() == expected
    assert resolve_precision("fast") == expected
    assert resolve_precision("fast", "cuda:0") == "bf16"


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_named_precisions_stay_as_they_are(precision):
    assert precision in PRECISIONS
    assert resolve_precision(precision) == precision


def test_unknown_precision_and_int8_on_a_gpu_say_what_to_use():
    with pytest.raises(InputError, match="use one of fp32, bf16, int8, fast"):
        resolve_precision("fp16")
    with pytest.raises(InputError, match="CPU only.*use bf16 or fp32"):
        resolve_precision("int8", "cuda")
