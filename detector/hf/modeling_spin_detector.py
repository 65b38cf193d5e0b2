"""The spin classifier as a transformers model: encoder, word head and sentence head.

Parameter names match the weights file of a model folder (``encoder.*``, ``word_head.*``,
``sentence_head.*``), so ``AutoModel.from_pretrained`` (remote code trusted) reads the
fp16 safetensors as `detector.classifier.SpinScorer.load` does. The heads, the pooled word evidence
and the calibration live here once: `detector.classifier` imports them. Imports torch, numpy and
transformers only, so that the folder loads without the ``detector`` package.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_spin_detector import SpinDetectorConfig

__all__ = ["WORD_FEATURES", "SpinDetectorModel", "SpinDetectorOutput", "apply_calibration", "build_heads",
           "padded_logits", "pooled_word_evidence"]

WORD_FEATURES = ("max_word_logit", "mean_word_logit", "mean_word_probability")


def build_heads(hidden: int, dropout: float) -> tuple[nn.Sequential, nn.Sequential]:
    """The word head (a substitution logit per token) and the sentence head (mean states + word evidence)."""
    word_head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, 1))
    sentence_head = nn.Sequential(
        nn.Dropout(dropout),
        nn.Linear(hidden + len(WORD_FEATURES), hidden),
        nn.GELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, 1),
    )
    return word_head, sentence_head


def pooled_word_evidence(word_logits: torch.Tensor, word_mask: torch.Tensor) -> torch.Tensor:
    """(batch, 3): max and mean word logit and mean word probability over real words (0 if none)."""
    logits = word_logits.float()
    has_words = word_mask.any(dim=1)
    count = word_mask.sum(dim=1).clamp(min=1)
    maximum = logits.masked_fill(~word_mask, float("-inf")).amax(dim=1)
    maximum = torch.where(has_words, maximum, torch.zeros_like(maximum))
    mean_logit = logits.masked_fill(~word_mask, 0.0).sum(dim=1) / count
    mean_probability = torch.sigmoid(logits).masked_fill(~word_mask, 0.0).sum(dim=1) / count
    return torch.stack([maximum, mean_logit, mean_probability], dim=-1)


def padded_logits(
    model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(sentence logits, word logits) of a model with ``encoder``, ``word_head`` and ``sentence_head``,
    for a right-padded batch; ``word_index`` >= 0 marks each word's first subword."""
    states = model.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    states = states.to(model.word_head[1].weight.dtype)  # a bf16 encoder feeds the fp32 heads
    word_logits = model.word_head(states).squeeze(-1)
    mask = attention_mask.unsqueeze(-1).to(states.dtype)
    pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    evidence = pooled_word_evidence(word_logits, word_index >= 0)
    sentence_logits = model.sentence_head(torch.cat([pooled, evidence.to(pooled.dtype)], dim=-1)).squeeze(-1)
    return sentence_logits, word_logits


def apply_calibration(calibration: dict, raw_probability) -> np.ndarray:
    """Calibrated probabilities for raw sentence probabilities, by a calibration.json document.

    ``isotonic``: piecewise-linear through the ``x``/``y`` knots, clipped at the ends; ``platt``:
    ``sigmoid(a * logit + b)``; ``identity``: unchanged.
    """
    raw = np.asarray(raw_probability, dtype=np.float64)
    method = calibration.get("method", "identity")
    if method == "isotonic":
        return np.interp(raw, calibration["x"], calibration["y"])
    if method == "platt":
        logit = np.log(np.clip(raw, 1e-12, None)) - np.log(np.clip(1.0 - raw, 1e-12, None))
        return 1.0 / (1.0 + np.exp(-(calibration["a"] * logit + calibration["b"])))
    return raw


@dataclass
class SpinDetectorOutput(ModelOutput):
    """Raw logits: one per sentence, one per subword position (meaningful where ``word_index`` >= 0)."""

    sentence_logits: torch.Tensor | None = None
    word_logits: torch.Tensor | None = None


class SpinDetectorModel(PreTrainedModel):
    """Encoder + word head + sentence head; ``forward`` gives raw logits (calibration is the pipeline's)."""

    config_class = SpinDetectorConfig
    base_model_prefix = "spin_detector"

    def __init__(self, config: SpinDetectorConfig):
        super().__init__(config)
        encoder = AutoModel.from_config(AutoConfig.for_model(**config.encoder))
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # unused: the heads read the token states
        self.encoder = encoder
        self.word_head, self.sentence_head = build_heads(encoder.config.hidden_size, config.head.get("dropout", 0.1))
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=self.config.encoder.get("initializer_range", 0.02))
            if module.bias is not None:
                module.bias.data.zero_()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor, **kwargs
    ) -> SpinDetectorOutput:
        """Logits for a right-padded batch; ``word_index`` >= 0 marks each word's first subword."""
        sentence_logits, word_logits = padded_logits(self, input_ids, attention_mask, word_index)
        return SpinDetectorOutput(sentence_logits=sentence_logits, word_logits=word_logits)
