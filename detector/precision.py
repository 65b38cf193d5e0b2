"""Numeric precision of the classifier and encoder at inference: fp32, bf16 or int8, and the fast one.

- ``fp32``: the weights as trained; the reference every other path is measured against.
- ``bf16``: the encoder's weights and arithmetic in bfloat16. On a CPU with AMX tiles (Intel Xeon
  from Sapphire Rapids on) the matrix units multiply bf16 natively: on the 2-core Xeon of
  `benchmarks/classifier_throughput.py` it is the fastest path and the closest to fp32. Without AMX
  it is emulated and far slower than fp32 on a CPU with AVX2 only (``classifier_throughput_avx2.json``);
  on the EPYC with AVX-512 BF16 of ``classifier_throughput_vnni.json`` it runs 1.6x fp32, but int8
  runs faster still there.
- ``int8``: the Linear layers in int8 (`detector.invariant.RowInt8Linear`), quantised on the fly, so
  that no calibration data is needed: the weights with one scale per output channel, the
  activations with one scale per row, that is per token, and the products summed exactly in int32
  (``torch._int_mm``) before both scales are applied. Until issue 39 this was torch's
  ``quantize_dynamic``, which gives the activations one scale per tensor: the largest activation of
  the whole batch, padding included, set the rounding of every sentence in it, so an article's
  verdict and spin score depended on ``--batch-size``. A row's scale now comes from that row alone
  and the sums are exact, so a sentence scores the same in any batch, to the last bit
  (`detector.invariant` packs batches without padding, which does the same for fp32 and bf16).
  Per-token scales also follow fp32 more closely: on the 2,000 benchmark sentences the mean
  difference of the raw probability from fp32 fell from 0.043 to 0.009, the correlation of the
  calibrated probabilities rose from 0.946 to 0.990 and equal decisions from 99.2% to 99.55%, at
  about the same speed, 2.0x fp32 (376 against 187 sentences/s; 394 before) on the 2-core EPYC
  with AVX-512 VNNI of ``benchmarks/results/classifier_throughput_vnni.json`` (before:
  ``classifier_throughput_vnni_before.json``). Activations take 255 levels; on a CPU without VNNI,
  where oneDNN adds pairs of 8-bit products in 16 bits that would saturate, the weights take
  -64..64, which keeps every sum exact (`detector.invariant.int8_weight_levels`). The model folder's
  int8 calibration (``calibration.json``, key ``int8``) was fitted to the old numerics.
- ``fast``: bf16 where the CPU has AMX, int8 elsewhere (`fast_precision`).
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
