"""The spin classifier: a fine-tuned BERT encoder with a word head and a sentence head.

`SpinClassifier` is the torch module. Its word head gives every word a substitution logit (read at
the word's first subword); its sentence head reads the mean-pooled encoder states together with
pooled word evidence (max and mean word logit, mean word probability), so that a sentence with a
few confident swaps is called spun and the word head learns from the sentence labels as well.

`SpinScorer` is the inference side: a model folder in and out (``config.json``,
``model.safetensors`` in fp16, tokenizer files, ``calibration.json``, and ``manifest.json`` with the
sha256 of each, `detector.model_manifest`), calibrated sentence probabilities and per-word
probabilities for the word tokens of `detector.text.tokenize`, in length-sorted batches under
`torch.inference_mode()`, with faster reduced-precision paths (bf16, int8; see `detector.precision`).

The heads, the pooled word evidence and the calibration formula live in `detector.hf`, the remote
code a saved folder carries so that ``transformers.AutoModel`` and the ``spin-detection`` pipeline
load it (`SpinScorer.save` writes that form). This module needs only torch, transformers, numpy,
safetensors, `detector.text` and `detector.hf`, so that the training machine can import it.

Example:
    >>> scorer = SpinScorer.load("models/spin-classifier")          # doctest: +SKIP
    >>> probability, words = scorer.predict(["The armed forces alliance should not confess new participants."])[0]  # doctest: +SKIP
    >>> probability >= scorer.threshold                              # doctest: +SKIP
    True
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import safetensors
import safetensors.torch
import torch
import transformers
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer, PretrainedConfig, PreTrainedTokenizerBase

from detector.errors import InputError, ModelFormatError
from detector.hf import write_hf_form
from detector.hf.modeling_spin_detector import (
    WORD_FEATURES,
    apply_calibration,
    build_heads,
    padded_logits,
    pooled_word_evidence,
)
from detector.invariant import (
    PackedBatch,
    RowStableLinear,
    pack,
    packed_states,
    replace_linear_layers,
    sentence_means,
    sigmoid,
)
from detector.model_manifest import CLASSIFIER_FILES, MANIFEST_FILE, verify_model_folder, write_manifest
from detector.precision import int8_linear_layers, resolve_precision
from detector.text import Token, tokenize

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_LENGTH",
    "Calibration",
    "SpinClassifier",
    "SpinOutput",
    "SpinScorer",
    "SubwordInput",
    "collate_subwords",
    "encode_words",
]

FORMAT = "spin-detector-classifier"
FORMAT_VERSION = 1
MAX_LENGTH = 128
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CALIBRATION_FILE = "calibration.json"
CALIBRATION_METHODS = ("isotonic", "platt", "identity")
VOCAB_PADDING = 128  # rows an embedding table may hold beyond the tokenizer's tokens (rounded-up tables)
CONFIG_FIX = "re-save the model with SpinScorer.save, or re-train it with `python -m training.train`"


@dataclass
class SpinOutput:
    """Logits of one forward pass: one per sentence, one per subword position."""

    sentence_logits: torch.Tensor  # (batch,)
    word_logits: torch.Tensor  # (batch, length); meaningful where word_index >= 0


class SpinClassifier(nn.Module):
    """BERT encoder + word head (substitution logit per token) + sentence head (spun logit).

    Args:
        encoder: a transformers encoder (``AutoModel``) whose outputs have ``last_hidden_state``.
        dropout: dropout before each head.
    """

    def __init__(self, encoder: nn.Module, dropout: float = 0.1):
        super().__init__()
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # unused: the heads read the token states
        self.encoder = encoder
        self.dropout = dropout
        self.word_head, self.sentence_head = build_heads(encoder.config.hidden_size, dropout)

    @classmethod
    def from_base(cls, path: str | os.PathLike, dropout: float = 0.1) -> "SpinClassifier":
        """Start from a pretrained encoder folder (the bundled MiniLM, or a tiny test model)."""
        return cls(
            AutoModel.from_pretrained(str(path), use_safetensors=True).float(), dropout=dropout
        )  # fp32 master weights, whatever the file holds

    @classmethod
    def from_config(cls, encoder_config: dict, dropout: float = 0.1) -> "SpinClassifier":
        """An untrained model of the given encoder architecture (weights to be loaded after)."""
        config = AutoConfig.for_model(**encoder_config)
        return cls(AutoModel.from_config(config).float(), dropout=dropout)  # some versions build in config.dtype

    def head_config(self) -> dict:
        """What `from_config` needs besides the encoder config, for the model folder's config.json."""
        return {"dropout": self.dropout, "word_features": list(WORD_FEATURES), "pooling": "mean"}

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor) -> SpinOutput:
        """Logits for a padded batch; ``word_index`` >= 0 marks each word's first subword."""
        sentence_logits, word_logits = padded_logits(self, input_ids, attention_mask, word_index)
        return SpinOutput(sentence_logits=sentence_logits, word_logits=word_logits)

    def packed_forward(self, batch: PackedBatch, word_mask: torch.Tensor) -> SpinOutput:
        """`forward` for sentences packed without padding (`detector.invariant.pack`), for inference.

        A sentence's logits do not depend on the sentences packed with it: the encoder attends within
        each sentence, and pooling and word evidence reduce over one sentence at a time. ``word_mask``
        (total tokens,) marks each word's first subword; ``word_logits`` come back packed the same way.
        """
        states = packed_states(self.encoder, batch).to(self.word_head[1].weight.dtype)
        word_logits = self.word_head(states).squeeze(-1)
        features = []
        for mean, start, length in zip(sentence_means(states, batch), batch.starts, batch.lengths):
            sentence = slice(start, start + length)
            evidence = pooled_word_evidence(word_logits[None, sentence], word_mask[None, sentence])[0]
            features.append(torch.cat([mean, evidence.to(mean.dtype)]))
        sentence_logits = self.sentence_head(torch.stack(features)).squeeze(-1)
        return SpinOutput(sentence_logits=sentence_logits, word_logits=word_logits)


@dataclass(frozen=True)
class SubwordInput:
    """One sentence as subword ids, with the word each first subword starts (-1 elsewhere)."""

    input_ids: list[int]
    word_index: list[int]  # index among the sentence's word tokens (Token.is_word), or -1
    n_words: int  # word tokens in the sentence, including any cut off by max_length


def encode_words(
    tokenizer: PreTrainedTokenizerBase, token_lists: Sequence[Sequence[Token]], max_length: int = MAX_LENGTH
) -> list[SubwordInput]:
    """Subword ids for pre-tokenised sentences (all tokens, punctuation included, as split words).

    Words cut off by ``max_length`` and words that yield no subword have no position.
    """
    if not token_lists:
        return []
    encoded = tokenizer(
        [[token.text for token in tokens] for tokens in token_lists],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
    )
    inputs = []
    for row, tokens in enumerate(token_lists):
        word_of_token, n_words = _word_numbers(tokens)
        index, previous = [], None
        for token_id in encoded.word_ids(row):
            first = token_id is not None and token_id != previous
            index.append(word_of_token[token_id] if first else -1)
            previous = token_id
        inputs.append(SubwordInput(list(encoded["input_ids"][row]), index, n_words))
    return inputs


def _word_numbers(tokens: Sequence[Token]) -> tuple[list[int], int]:
    """For each token its index among the word tokens (-1 for punctuation), and the word count."""
    numbers, count = [], 0
    for token in tokens:
        numbers.append(count if token.is_word else -1)
        count += token.is_word
    return numbers, count


def collate_subwords(inputs: Sequence[SubwordInput], pad_id: int, multiple_of: int = 1) -> dict[str, torch.Tensor]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``word_index`` tensors for a batch.

    ``multiple_of`` rounds the padded length up (fewer distinct shapes for the GPU to tune for).
    """
    length = -(-max(len(item.input_ids) for item in inputs) // multiple_of) * multiple_of
    input_ids = torch.full((len(inputs), length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(inputs), length), dtype=torch.long)
    word_index = torch.full((len(inputs), length), -1, dtype=torch.long)
    for row, item in enumerate(inputs):
        n = len(item.input_ids)
        input_ids[row, :n] = torch.tensor(item.input_ids)
        attention_mask[row, :n] = 1
        word_index[row, :n] = torch.tensor(item.word_index)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "word_index": word_index}


@dataclass
class Calibration:
    """Maps the model's raw sentence probability to a calibrated one, plus the decision threshold.

    ``method`` is ``"isotonic"`` (piecewise-linear through the ``x``/``y`` knots of a fitted
    sklearn IsotonicRegression, clipped at the ends), ``"platt"`` (``sigmoid(a * logit + b)``) or
    ``"identity"`` (an uncalibrated model). ``word_threshold`` is where a word's substitution
    probability calls it swapped (the best word F1 on the calibration split's spun sentences).
    ``int8``, when fitted, is the calibration of the int8 quantised model (`SpinScorer.quantize`),
    whose raw probabilities sit a little lower.

    Every number is checked on construction (`ValueError` naming the field and the value): the
    thresholds and the isotonic knots are real numbers (not bools) in [0, 1], the knots' ``x``
    strictly increasing and ``y`` never decreasing, Platt's ``a`` and ``b`` finite; so that no
    calibration read from disk can turn a raw probability into NaN.
    """

    method: str = "identity"
    threshold: float = 0.5
    word_threshold: float = 0.5
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    a: float = 1.0
    b: float = 0.0
    details: dict = field(default_factory=dict)  # how it was fitted: sizes, Brier scores, ...
    int8: "Calibration | None" = None

    def __post_init__(self):
        if self.method not in CALIBRATION_METHODS:
            raise ValueError(f"calibration method {self.method!r} is unknown; use one of {CALIBRATION_METHODS}")
        for name in ("threshold", "word_threshold"):
            _check_calibration_number(name, getattr(self, name))
        if self.method == "isotonic":
            self._check_knots()
        if self.method == "platt":
            _check_calibration_number("a", self.a, unit=False)
            _check_calibration_number("b", self.b, unit=False)

    def _check_knots(self) -> None:
        if len(self.x) < 1 or len(self.x) != len(self.y):
            raise ValueError(f"isotonic calibration needs matching x/y knots, got {len(self.x)} and {len(self.y)}")
        for axis, knots in (("x", self.x), ("y", self.y)):
            for i, value in enumerate(knots):
                _check_calibration_number(f"{axis}[{i}]", value)
        for i in range(1, len(self.x)):
            if not self.x[i] > self.x[i - 1]:
                raise ValueError(f"calibration knot x[{i}] {self.x[i]!r} does not rise above x[{i - 1}] {self.x[i - 1]!r}")
            if self.y[i] < self.y[i - 1]:
                raise ValueError(f"calibration knot y[{i}] {self.y[i]!r} falls below y[{i - 1}] {self.y[i - 1]!r}")

    def apply(self, raw_probability: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for raw sentence probabilities (any shape)."""
        return apply_calibration(self.to_dict(), raw_probability)

    def to_dict(self) -> dict:
        data = {"method": self.method, "threshold": self.threshold, "word_threshold": self.word_threshold, "details": self.details}
        if self.method == "isotonic":
            data.update(x=self.x, y=self.y)
        if self.method == "platt":
            data.update(a=self.a, b=self.b)
        if self.int8 is not None:
            data["int8"] = self.int8.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Calibration":
        fields = ("method", "threshold", "word_threshold", "x", "y", "a", "b", "details")
        int8 = data.get("int8")
        if int8 is not None and not isinstance(int8, dict):
            raise ValueError(f"calibration int8 is a {type(int8).__name__}, expected an object")
        try:
            int8 = cls.from_dict(int8) if int8 is not None else None
        except (TypeError, ValueError) as error:
            raise ValueError(f"int8 {error}") from None
        return cls(**{key: data[key] for key in fields if key in data}, int8=int8)


def _check_calibration_number(name: str, value, unit: bool = True) -> None:
    """A finite real number (a bool is not one), in [0, 1] when ``unit``; else `ValueError` naming it."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise ValueError(f"calibration {name} {value!r} is not a real number")
    if not math.isfinite(value):
        raise ValueError(f"calibration {name} {value!r} is not a finite number")
    if unit and not 0.0 <= value <= 1.0:
        raise ValueError(f"calibration {name} {value!r} is outside [0, 1]")


class SpinScorer:
    """Calibrated spun probability per sentence and substitution probability per word.

    Args:
        model: the `SpinClassifier` (put in eval mode here).
        tokenizer: its subword tokenizer.
        calibration: sentence calibration and decision threshold.
        max_length: subwords per sentence; later words get probability 0.
        base_model: name or path of the encoder the model was fine-tuned from (for the config).
    """

    def __init__(
        self,
        model: SpinClassifier,
        tokenizer: PreTrainedTokenizerBase,
        calibration: Calibration | None = None,
        max_length: int = MAX_LENGTH,
        base_model: str = "",
    ):
        self.model = replace_linear_layers(model.eval(), RowStableLinear.from_linear)  # same parameters, batch-invariant rows
        self.tokenizer = tokenizer
        self.calibration = calibration or Calibration()
        self.max_length = max_length
        self.base_model = base_model
        self.precision = "fp32"

    @property
    def quantized(self) -> bool:
        """Whether the encoder runs int8 Linear layers (`quantize`)."""
        return self.precision == "int8"

    @property
    def threshold(self) -> float:
        """Decision threshold on the calibrated probability (spun when probability >= threshold)."""
        return self.calibration.threshold

    @property
    def word_threshold(self) -> float:
        """Threshold on a word's substitution probability (swapped when probability >= it)."""
        return self.calibration.word_threshold

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters(), torch.empty(0)).device

    @classmethod
    def load(
        cls, path: str | os.PathLike, quantize: bool = False, device: str | None = None, precision: str = "fp32"
    ) -> "SpinScorer":
        """Read a model folder, to run at ``precision`` (``fp32``, ``bf16``, ``int8`` or ``fast``).

        ``quantize=True`` is a deprecated spelling of ``precision="int8"``. The folder is checked before any weight is
        built: its files against manifest.json (`detector.model_manifest`), every number of config.json
        and calibration.json against its range, the tokenizer against the config's vocabulary, the
        weights' names and shapes against the config, and the weights for NaN or infinity.
        """
        folder = Path(path)
        _verify_files(folder)
        config = _read_config(folder)
        calibration = _read_calibration(folder)
        tokenizer = _read_tokenizer(folder)
        _check_vocabulary(folder, config, tokenizer)
        model = _build_model(folder, config)
        model.load_state_dict(_read_weights(folder, model))
        scorer = cls(model, tokenizer, calibration, config["max_length"], config.get("base_model", ""))
        if quantize:
            warnings.warn('SpinScorer.load(quantize=True) is deprecated: use precision="int8"', DeprecationWarning, stacklevel=2)
            if precision not in ("fp32", "int8"):
                raise InputError(f"quantize=True asks for int8 but precision={precision!r}: give one of them")
        if device is not None:
            scorer.model.to(device)
        return scorer.with_precision("int8" if quantize else precision)

    def with_precision(self, precision: str) -> "SpinScorer":
        """Run at ``precision`` from now on (``fp32``, ``bf16``, ``int8`` or ``fast``; `detector.precision`)."""
        precision = resolve_precision(precision, self.device)
        if precision == self.precision:
            return self
        if self.precision != "fp32":
            raise InputError(f"the model already runs in {self.precision}; load it again for {precision}")
        return self.quantize() if precision == "int8" else self.to_bf16()

    def to_bf16(self) -> "SpinScorer":
        """Run the encoder in bfloat16 (fast on CPUs with AMX, and on GPUs); the heads stay in fp32.

        Raw probabilities move by about 0.001 on average (`benchmarks/classifier_throughput.py`
        measures it), so the full-precision calibration and threshold still apply.
        """
        self.model.encoder.to(torch.bfloat16)
        self.precision = "bf16"
        return self

    def quantize(self) -> "SpinScorer":
        """Swap the encoder's Linear layers for int8 ones (CPU inference only; `detector.precision`).

        Activations are quantised per token, so a sentence's scores do not depend on its batch. The
        two small heads stay in fp32: they cost little and keep the word scores closest to the
        full-precision model. The int8 calibration replaces the full-precision one when the model
        folder has it, so that the threshold keeps its false-positive rate.
        """
        if self.device.type != "cpu":
            raise InputError(f"int8 dynamic quantisation runs on the CPU only, the model is on {self.device}")
        self.model.encoder = int8_linear_layers(self.model.encoder)
        self.precision = "int8"
        if self.calibration.int8 is not None:
            self.calibration = self.calibration.int8
        return self

    def save(self, path: str | os.PathLike) -> None:
        """Write the model folder atomically (fp16 safetensors); an existing README.md is kept.

        manifest.json (the size and sha256 of every file, `detector.model_manifest`) is written last.
        """
        if self.precision != "fp32":
            raise InputError(
                f"a SpinScorer running in {self.precision} cannot be saved; save the full-precision model"
                " and choose the precision on load"
            )
        folder = Path(path)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            self._write(staging)
            if (folder / "README.md").is_file():
                shutil.copy2(folder / "README.md", staging / "README.md")
            write_manifest(staging)
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _write(self, folder: Path) -> None:
        weights = {
            name: tensor.detach().to("cpu", torch.float16).contiguous()
            for name, tensor in self.model.state_dict().items()
        }
        safetensors.torch.save_file(weights, folder / WEIGHTS_FILE, metadata={"format": FORMAT})
        self.tokenizer.save_pretrained(folder)
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "base_model": self.base_model,
            "max_length": self.max_length,
            "encoder": self.model.encoder.config.to_dict(),
            "head": self.model.head_config(),
            "versions": {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "safetensors": safetensors.__version__,
            },
        }
        (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
        (folder / CALIBRATION_FILE).write_text(json.dumps(self.calibration.to_dict(), indent=2), encoding="utf-8")
        write_hf_form(folder)  # remote code and config keys for transformers.AutoModel / pipeline

    def predict(self, sentences: Sequence[str], batch_size: int = 64) -> list[tuple[float, list[tuple[str, float]]]]:
        """Per sentence: calibrated spun probability and (word, substitution probability) per word token."""
        _check_sentences(sentences, batch_size)
        token_lists = [tokenize(sentence) for sentence in sentences]
        raw, word_probabilities = self.raw_scores(token_lists, batch_size)
        calibrated = self.calibration.apply(raw)
        results = []
        for probability, tokens, words in zip(calibrated, token_lists, word_probabilities):
            word_tokens = [token for token in tokens if token.is_word]
            results.append((float(probability), [(token.text, float(p)) for token, p in zip(word_tokens, words)]))
        return results

    def raw_scores(
        self, token_lists: Sequence[Sequence[Token]], batch_size: int = 64
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Uncalibrated sentence probabilities and per-word probabilities for tokenised sentences."""
        return self.score_subwords(encode_words(self.tokenizer, token_lists, self.max_length), batch_size)

    def score_subwords(
        self, inputs: Sequence[SubwordInput], batch_size: int = 64
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Uncalibrated sentence probabilities and per-word probabilities, in input order.

        Batches hold sentences of similar subword length (sorted, longest first), packed without
        padding (`SpinClassifier.packed_forward`): a sentence scores the same, to the last bit,
        whatever the batch size and whichever sentences share its batch (issue 39). Words without a
        subword position (cut off by ``max_length``) keep probability 0.
        """
        sentence = np.zeros(len(inputs), dtype=np.float64)
        words: list[np.ndarray] = [np.zeros(item.n_words) for item in inputs]
        order = sorted(range(len(inputs)), key=lambda i: -len(inputs[i].input_ids))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = pack([inputs[i].input_ids for i in rows])
                index = np.concatenate([inputs[i].word_index for i in rows])
                output = self.model.packed_forward(batch, torch.from_numpy(index >= 0).to(self.device))
                sentence[rows] = sigmoid(output.sentence_logits)
                word_probability = sigmoid(output.word_logits)
                for i, first, length in zip(rows, batch.starts, batch.lengths):
                    positions = index[first : first + length] >= 0
                    words[i][index[first : first + length][positions]] = word_probability[first : first + length][positions]
        return sentence, words


def _check_sentences(sentences: Sequence[str], batch_size: int) -> None:
    if isinstance(sentences, str):
        raise InputError("predict expects a list of sentences, got one string; wrap it in a list")
    for position, sentence in enumerate(sentences):
        if not isinstance(sentence, str):
            raise InputError(f"sentence {position} is a {type(sentence).__name__}, not a str")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")


def _read_json(folder: Path, name: str) -> dict:
    file = folder / name
    if not folder.is_dir():
        raise ModelFormatError(
            f"model folder {folder} does not exist; train one with `python -m training.train` or pass the right path"
        )
    if not file.is_file():
        raise ModelFormatError(
            f"model folder {folder} has no {name}; it is truncated or not a spin-detector model folder"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFormatError(
            f"model folder {folder}: {name} is not valid JSON ({error}); re-save or re-train the model"
        ) from error
    if not isinstance(data, dict):
        raise ModelFormatError(f"model folder {folder}: {name} holds a {type(data).__name__}, expected a JSON object")
    return data


def _verify_files(folder: Path) -> None:
    """The folder's files against its manifest.json; a foreign folder is named as such first."""
    if folder.is_dir() and not (folder / MANIFEST_FILE).is_file() and (folder / CONFIG_FILE).is_file():
        _read_config(folder)  # a plain transformers folder: say so rather than ask for a manifest
    verify_model_folder(folder, require=CLASSIFIER_FILES)


def _read_config(folder: Path) -> dict:
    config = _read_json(folder, CONFIG_FILE)
    if config.get("format") != FORMAT:
        raise ModelFormatError(
            f"model folder {folder} is not a spin classifier (config.json format is {config.get('format')!r}, "
            f"expected {FORMAT!r}); a plain transformers model must be fine-tuned with `python -m training.train` first"
        )
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(
            f"model folder {folder} has format_version {config.get('format_version')!r}; this library reads version "
            f"{FORMAT_VERSION}: re-train the model or install the matching spin-detector version"
        )
    missing = [key for key in ("encoder", "head", "max_length") if key not in config]
    if missing:
        raise ModelFormatError(f"model folder {folder}: config.json lacks {missing}")
    _check_config_values(folder, config)
    return config


def _check_config_values(folder: Path, config: dict) -> None:
    """Every number of config.json in its range, before any weight is built from it.

    The encoder's sizes are whole numbers >= 1 (``hidden_size`` a multiple of the head count),
    ``max_length`` leaves room for [CLS], a subword and [SEP] within ``max_position_embeddings``,
    dropouts lie in [0, 1); no number anywhere is NaN or infinite. ``vocab_size`` is checked against
    the tokenizer (`_check_vocabulary`), the sizes against the weights file (`_build_model`).
    """
    _check_finite(folder, CONFIG_FILE, config, CONFIG_FIX)
    encoder, head = config["encoder"], config["head"]
    if not isinstance(encoder, dict) or not isinstance(head, dict):
        raise ModelFormatError(f"model folder {folder}: config.json encoder and head must be objects; {CONFIG_FIX}")
    check = functools.partial(_check_config_number, folder)
    for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                 "max_position_embeddings"):
        check(f"encoder.{name}", encoder.get(name), 1, integer=True)
    if encoder["hidden_size"] % encoder["num_attention_heads"]:
        raise ModelFormatError(
            f"model folder {folder}: config.json encoder.hidden_size={encoder['hidden_size']} is not a multiple of "
            f"encoder.num_attention_heads={encoder['num_attention_heads']}; {CONFIG_FIX}"
        )
    check("max_length", config["max_length"], 3, encoder["max_position_embeddings"], integer=True)
    check("head.dropout", head.get("dropout"), 0.0, 1.0, high_open=True)
    for name in ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"):
        if encoder.get(name) is not None:
            check(f"encoder.{name}", encoder[name], 0.0, 1.0, high_open=True)
    if encoder.get("type_vocab_size") is not None:
        check("encoder.type_vocab_size", encoder["type_vocab_size"], 1, integer=True)
    if encoder.get("layer_norm_eps") is not None:
        check("encoder.layer_norm_eps", encoder["layer_norm_eps"], 0.0, 1.0, low_open=True, high_open=True)
    if encoder.get("pad_token_id") is not None:
        check("encoder.pad_token_id", encoder["pad_token_id"], 0, encoder["vocab_size"], integer=True, high_open=True)
    if head.get("word_features", list(WORD_FEATURES)) != list(WORD_FEATURES):
        raise ModelFormatError(
            f"model folder {folder}: config.json head.word_features={head['word_features']!r}, this library computes "
            f"{list(WORD_FEATURES)}; install the matching spin-detector version or {CONFIG_FIX}"
        )


def _check_config_number(
    folder: Path, field: str, value, low: float, high: float | None = None, *,
    integer: bool = False, low_open: bool = False, high_open: bool = False,
) -> None:
    """A number (never a bool) of config.json within [low, high] (open ends as asked), else `ModelFormatError`."""
    kind = int if integer else numbers.Real
    fits = isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
    fits = fits and (value > low if low_open else value >= low)
    fits = fits and (high is None or (value < high if high_open else value <= high))
    if not fits:
        what = "a whole number" if integer else "a real number"
        where = f"{'(' if low_open else '['}{low}, {'...' if high is None else high}{')' if high_open or high is None else ']'}"
        raise ModelFormatError(f"model folder {folder}: config.json {field}={value!r} must be {what} in {where}; {CONFIG_FIX}")


def _check_finite(folder: Path, name: str, data, fix: str, where: str = "") -> None:
    """No NaN or infinity anywhere in a JSON document of the folder (Python's json reads them)."""
    if isinstance(data, float) and not math.isfinite(data):
        raise ModelFormatError(f"model folder {folder}: {name} {where or 'value'}={data!r} is not a finite number; {fix}")
    if isinstance(data, dict):
        for key, value in data.items():
            _check_finite(folder, name, value, fix, f"{where}.{key}" if where else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _check_finite(folder, name, value, fix, f"{where}[{i}]")


def _read_calibration(folder: Path) -> Calibration:
    data = _read_json(folder, CALIBRATION_FILE)
    fix = f"re-fit it with `python -m training.calibrate --model {folder} --data <calibration.parquet>`"
    _check_finite(folder, CALIBRATION_FILE, data, fix)
    try:
        return Calibration.from_dict(data)
    except (TypeError, ValueError) as error:
        raise ModelFormatError(f"model folder {folder}: calibration.json is unusable ({_one_line(error)}); {fix}") from None


def _check_vocabulary(folder: Path, config: dict, tokenizer: PreTrainedTokenizerBase) -> None:
    """The tokenizer must fill the embedding table (a lost tokenizer.json falls back to 5 tokens) and pad."""
    vocab, tokens = config["encoder"]["vocab_size"], len(tokenizer)
    if not tokens <= vocab < tokens + VOCAB_PADDING:
        raise ModelFormatError(
            f"model folder {folder}: config.json encoder.vocab_size={vocab} does not fit the tokenizer's {tokens} tokens: "
            "the tokenizer files are missing, broken or of another model; copy them from the base model "
            "(or re-save the model with SpinScorer.save) and seal the folder again"
        )
    if tokenizer.pad_token_id is None:
        raise ModelFormatError(f"model folder {folder}: the tokenizer has no padding token; re-save the model with SpinScorer.save")


def _build_model(folder: Path, config: dict) -> SpinClassifier:
    """The untrained model of config.json, once a weightless (meta) twin has matched the weights file."""
    try:
        with torch.device("meta"):
            skeleton = SpinClassifier.from_config(config["encoder"], dropout=config["head"]["dropout"])
    except Exception as error:  # transformers and huggingface_hub check configs with their own error types
        raise ModelFormatError(
            f"model folder {folder}: config.json has an unusable encoder/head config ({_one_line(error)}); {CONFIG_FIX}"
        ) from None
    _check_weight_shapes(folder, {name: tuple(tensor.shape) for name, tensor in skeleton.state_dict().items()})
    return SpinClassifier.from_config(config["encoder"], dropout=config["head"]["dropout"])


def _check_weight_shapes(folder: Path, expected: dict[str, tuple[int, ...]]) -> None:
    """Names and shapes of the weights file's header against the model config.json describes."""
    try:
        with safetensors.safe_open(folder / WEIGHTS_FILE, framework="pt") as handle:
            shapes = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except Exception as error:  # safetensors raises its own error type, or OSError, on a damaged file
        raise ModelFormatError(
            f"model folder {folder}: {WEIGHTS_FILE} is corrupt or truncated ({_one_line(error)}); re-save the model"
        ) from None
    missing, unexpected = sorted(set(expected) - set(shapes)), sorted(set(shapes) - set(expected))
    if missing or unexpected:
        raise ModelFormatError(
            f"model folder {folder}: {WEIGHTS_FILE} does not match config.json (missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}); {CONFIG_FIX}"
        )
    for name, shape in shapes.items():
        if shape != expected[name]:
            raise ModelFormatError(
                f"model folder {folder}: weight {name} has shape {shape}, config.json implies {expected[name]}; {CONFIG_FIX}"
            )


def _read_weights(folder: Path, model: SpinClassifier) -> dict[str, torch.Tensor]:
    """The weights (names and shapes already checked), in the model's dtypes; NaN or infinity refused."""
    try:
        weights = safetensors.torch.load_file(folder / WEIGHTS_FILE, device="cpu")
    except Exception as error:  # safetensors raises its own error type, or OSError, on a damaged file
        raise ModelFormatError(
            f"model folder {folder}: {WEIGHTS_FILE} is corrupt or truncated ({_one_line(error)}); re-save the model"
        ) from None
    expected = model.state_dict()
    weights = {name: tensor.to(expected[name].dtype) for name, tensor in weights.items()}
    for name, tensor in weights.items():  # fp32 by now: one numpy pass over every value
        if tensor.is_floating_point() and not np.isfinite(tensor.numpy()).all():
            raise ModelFormatError(
                f"model folder {folder}: weight {name} holds NaN or infinity; the model diverged or the file is "
                "damaged: re-train it or restore the weights"
            )
    return weights


def _read_tokenizer(folder: Path) -> PreTrainedTokenizerBase:
    """The folder's tokenizer, by the class its tokenizer_config.json names.

    A blank config is passed so that AutoTokenizer does not read config.json, whose ``model_type``
    is the folder's remote code (`detector.hf`): this library runs its own code, never the folder's.
    """
    try:
        return AutoTokenizer.from_pretrained(str(folder), config=PretrainedConfig())
    except Exception as error:  # transformers raises many types for a missing or broken tokenizer
        raise ModelFormatError(
            f"model folder {folder}: the tokenizer files are missing or broken ({_one_line(error)})"
        ) from None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
