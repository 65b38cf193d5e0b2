"""The transformers config of a spin classifier folder (``model_type`` ``spin-detector``).

config.json keeps the layout `detector.classifier` reads (the encoder's config nested under
``encoder``, the heads' under ``head``); this class only gives it a ``model_type`` so that
``AutoConfig.from_pretrained`` reads it (remote code trusted). Imports transformers only.
"""

from transformers import PretrainedConfig

__all__ = ["SpinDetectorConfig"]


class SpinDetectorConfig(PretrainedConfig):
    """A BERT-style encoder config (``encoder``), the heads' config (``head``) and ``max_length`` subwords."""

    model_type = "spin-detector"

    def __init__(self, encoder: dict | None = None, head: dict | None = None, max_length: int = 128, **kwargs):
        self.encoder = dict(encoder or {"model_type": "bert"})
        self.head = dict(head or {"dropout": 0.1, "pooling": "mean"})
        self.max_length = max_length
        super().__init__(**kwargs)
