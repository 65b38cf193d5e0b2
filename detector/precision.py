"""Numeric precision of the classifier and encoder at inference: fp32, bf16 or int8, and the fast one.

- ``fp32``: the weights as trained; the reference every other path is measured against.
- ``bf16``: the encoder's weights and arithmetic in bfloat16. On a CPU with AMX tiles (Intel Xeon
  from Sapphire Rapids on) the matrix units multiply bf16 natively: on the 2-core Xeon of
  `benchmarks/classifier_throughput.py` it is the fastest path and the closest to fp32. Without AMX
  it is slower than fp32, even with AVX-512 bf16 instructions (measured with oneDNN held to them).
- ``int8``: dynamic quantisation of the Linear layers, one scale per output channel: closer to
  fp32 than one scale per matrix (on the classifier, F1 0.702 against 0.704 at fp32, where one
  scale per matrix gave 0.648) and faster than fp32 on any x86 CPU with AVX2 (1.4-1.8x; 1.7-3x
  with VNNI). Activations are quantised on the fly, so no calibration data is needed, to 128 levels
  (torch's ``reduce_range``): all 256 halved the classifier's mean probability error on an AVX2
  CPU, but there the 16-bit sums of pairs of products saturate, which made a random Linear layer's
  error four times larger, so the guard stays.
- ``fast``: bf16 where the CPU has AMX, int8 elsewhere (`fast_precision`).
"""

from __future__ import annotations

import warnings

from detector.errors import InputError

__all__ = ["PRECISIONS", "fast_precision", "has_bf16_matrix_units", "int8_linear_layers", "resolve_precision"]

PRECISIONS = ("fp32", "bf16", "int8", "fast")


def has_bf16_matrix_units() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (AMX tiles), so that bf16 runs fast."""
    import torch

    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe is not None and probe())


def fast_precision() -> str:
    """The fastest CPU path on this machine: ``bf16`` with AMX, else ``int8``."""
    return "bf16" if has_bf16_matrix_units() else "int8"


def resolve_precision(precision: str, device: object = "cpu") -> str:
    """``precision`` checked, with ``fast`` replaced by what it means on this machine and device.

    ``device`` is a torch device or its name (``"cpu"``, ``"cuda:0"``).
    """
    if precision not in PRECISIONS:
        raise InputError(f"precision {precision!r} is unknown; use one of {', '.join(PRECISIONS)}")
    on_cpu = str(device).split(":")[0] == "cpu"
    if precision == "fast":
        return fast_precision() if on_cpu else "bf16"
    if precision == "int8" and not on_cpu:
        raise InputError(f"int8 dynamic quantisation runs on the CPU only, the model is on {device}; use bf16 or fp32")
    return precision


def int8_linear_layers(module):
    """A copy of the torch `module` whose Linear layers run in int8 (CPU only); other layers are kept."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.ao.quantization: works, slated to move to torchao
        warnings.filterwarnings("ignore", message=".*quantiz", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(
            module, {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
