"""Numeric precision of the classifier and encoder at inference: fp32, bf16 or int8, and the fast one.

- ``fp32``: the weights as trained; the reference every other path is measured against.
- ``bf16``: the encoder's weights and arithmetic in bfloat16. On a CPU with AMX tiles (Intel Xeon
  from Sapphire Rapids on) the matrix units multiply bf16 natively, which makes it the fastest path
  and the closest to fp32. Without AMX int8 is faster, and on a CPU with AVX2 only bf16 is emulated
  and slower than fp32.
- ``int8``: the Linear layers in int8 (`detector.invariant.RowInt8Linear`), quantised on the fly, so
  that no calibration data is needed: the weights with one scale per output channel, the
  activations with one scale per row, that is per token, and the products summed exactly in int32
  (``torch._int_mm``) before both scales are applied. A row's scale comes from that row alone and
  the sums are exact, so a sentence scores the same in any batch, to the last bit
  (`detector.invariant` packs batches without padding, which does the same for fp32 and bf16); until
  issue 39 one scale per tensor made a verdict depend on ``--batch-size``. Activations take 255
  levels; on a CPU without VNNI, where oneDNN adds pairs of 8-bit products in 16 bits that would
  saturate, the weights take -64..64, which keeps every sum exact
  (`detector.invariant.int8_weight_levels`). The model folder's int8 calibration
  (``calibration.json``, key ``int8``) was fitted to the old numerics.
- ``fast``: bf16 where the CPU has AMX, int8 elsewhere (`fast_precision`).

How fast each path runs and how closely it follows fp32, per CPU: ``benchmarks/README.md`` (tables
generated from ``benchmarks/results/classifier_throughput*.json``); why the paths are what they
are: ``docs/experiments.md``.
"""

from __future__ import annotations

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
    """``module`` with its Linear layers, in place, as int8 ones (CPU only); other layers are kept.

    Weights per output channel, activations per row (token) with its own scale, products summed
    exactly in int32: `detector.invariant.RowInt8Linear`.
    """
    from detector.invariant import RowInt8Linear, replace_linear_layers

    return replace_linear_layers(module, RowInt8Linear.from_linear)
