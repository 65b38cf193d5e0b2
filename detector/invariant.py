"""Batch-invariant inference: what a sentence scores does not depend on the sentences batched with it.

Four things made an article's report depend on ``--batch-size`` (issue 39), in every precision:

1. Padding. A padded batch runs each sentence at the length of the batch's longest: attention then
   reduces over more (masked) keys, in another order, and the last bits move (bf16: by up to 0.004
   in a seed sentence's probability). Here a batch's sentences are packed end to end, without padding (`pack`),
   each with its own positions from 0, and attention runs on each run of equal-length sentences
   (`packed_states`): a sentence only ever attends over its own tokens, in a tensor of its own length.
2. Matrix products with few rows. MKL's fp32 sgemm computes a row another way when the matrix has
   fewer than 12 rows (a gemv for one row), and for a one-column output in the last rows when the
   row count is not a multiple of 4. `RowStableLinear` pads the rows to a multiple of 16, where each
   row comes out as in any other matrix (``tests/test_batch_invariance.py`` checks it).
3. int8 activations. ``torch.ao.quantization.quantize_dynamic`` quantises a Linear layer's input with
   one scale for the whole tensor: the batch's largest activation, padding included, set the
   rounding of every sentence (spin scores up to 0.2 apart between batch sizes 4 and 32).
   `RowInt8Linear` gives each row (token) its own scale, multiplies in integers (``torch._int_mm``:
   exact, int32 sums) and rescales by row scale times column scale, so no row depends on another.
4. Elementwise functions. torch computes the elements past a tensor's last full vector register
   another way (``torch.sigmoid``: 1 ulp apart), so a probability depended on how many sentences
   or words shared its tensor; `sigmoid` runs every element through a full register.

Layer norms, activations and residual sums are row-wise already; pooling is done per sentence.
The packed pass runs a transformers BERT's own embeddings and layers, with its own self-attention
projections, and replaces only the attention itself; nothing global changes, so threads may share
a model. Other architectures run their forward once for each run of equal-length sentences, which
needs no padding either.

Example:
    >>> batch = pack([[101, 7592, 102], [101, 2088, 102], [101, 102]], multiple_of=6)
    >>> batch.runs, batch.starts
    (((0, 2, 3), (6, 1, 2), (8, 1, 4)), (0, 3, 6))
    >>> batch.position_ids.tolist()
    [[0, 1, 2, 0, 1, 2, 0, 1, 0, 1, 2, 3]]
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "ROW_MULTIPLE",
    "PackedBatch",
    "RowInt8Linear",
    "RowStableLinear",
    "int8_rows",
    "int8_weight_levels",
    "pack",
    "packed_states",
    "replace_linear_layers",
    "sentence_means",
    "sigmoid",
    "supports_packing",
]

ROW_MULTIPLE = 16  # rows of every fp32 matrix product are padded to a multiple of this (point 2)
ELEMENT_MULTIPLE = 64  # elementwise functions run on a multiple of this many elements (`sigmoid`)
INT8_LEVELS = 127  # symmetric int8: -127..127, so that a row's largest value maps to +-127 exactly
SMALLEST_SCALE = 1e-30  # a row of zeros quantises to zeros (levels / scale stays finite)


@dataclass(frozen=True)
class PackedBatch:
    """Sentences end to end: ids and positions as (1, total) tensors, and where each sentence lies.

    ``runs`` lists (first token, sentences, length) for each run of consecutive sentences of equal
    length, the filler included; ``starts`` and ``lengths`` give each sentence's first token and
    subword count (the filler's are not listed).
    """

    input_ids: torch.Tensor
    position_ids: torch.Tensor
    starts: tuple[int, ...]
    lengths: tuple[int, ...]
    runs: tuple[tuple[int, int, int], ...]


def pack(sequences: Sequence[Sequence[int]], multiple_of: int = ROW_MULTIPLE) -> PackedBatch:
    """Pack subword id lists (each non-empty) end to end; sort them by length first, for fewer runs.

    A filler sequence (ids 0, attending only to itself) rounds the total up to ``multiple_of``
    tokens, so that the encoder's matrix products need no padding of their own (`RowStableLinear`).
    """
    lengths = tuple(len(sequence) for sequence in sequences)
    filler = -sum(lengths) % multiple_of
    starts, runs, offset = [], [], 0
    for length in lengths + ((filler,) if filler else ()):
        if runs and runs[-1][2] == length:
            runs[-1][1] += 1
        else:
            runs.append([offset, 1, length])
        starts.append(offset)
        offset += length
    ids = [token for sequence in sequences for token in sequence] + [0] * filler
    positions = [position for length in lengths + (filler,) for position in range(length)]
    return PackedBatch(
        torch.tensor([ids], dtype=torch.long), torch.tensor([positions], dtype=torch.long),
        tuple(starts[: len(lengths)]), lengths, tuple(tuple(run) for run in runs),
    )


def supports_packing(model: nn.Module) -> bool:
    """Whether `packed_states` can run ``model`` in one pass: a transformers BERT encoder, absolute positions."""
    config = getattr(model, "config", None)
    return (
        getattr(config, "model_type", None) == "bert"
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
        and not getattr(config, "is_decoder", False)
        and hasattr(model, "embeddings")
        and hasattr(getattr(model, "encoder", None), "layer")
    )


def packed_states(model: nn.Module, batch: PackedBatch) -> torch.Tensor:
    """(total tokens, hidden): the last hidden states of a packed batch, sentence after sentence.

    One pass through the model's own embeddings and layers where it `supports_packing`, with
    attention run by run (`_packed_attention`); else the model's forward once for each run of
    equal-length sentences, which needs no padding either.
    """
    device = next(model.parameters()).device
    ids = batch.input_ids.to(device)
    if not supports_packing(model):
        return torch.cat([
            model(input_ids=ids[0, start : start + count * length].view(count, length)).last_hidden_state.flatten(0, 1)
            for start, count, length in batch.runs
        ])
    hidden = model.embeddings(input_ids=ids, position_ids=batch.position_ids.to(device), token_type_ids=torch.zeros_like(ids))[0]
    for layer in model.encoder.layer:
        hidden = layer.attention.output(_packed_attention(layer.attention.self, hidden, batch.runs), hidden)
        hidden = layer.output(layer.intermediate(hidden), hidden)
    return hidden


def _packed_attention(attention: nn.Module, hidden: torch.Tensor, runs) -> torch.Tensor:
    """BERT self-attention over packed (tokens, hidden) states, run by run of equal-length sentences (no dropout)."""
    heads, size = attention.num_attention_heads, attention.attention_head_size
    query, key, value = (projection(hidden).view(-1, heads, size) for projection in (attention.query, attention.key, attention.value))
    context = torch.empty_like(query)
    for start, count, length in runs:
        stop = start + count * length

        def run(tensor):
            return tensor[start:stop].view(count, length, heads, size).transpose(1, 2)  # (sentences, heads, length, size)

        attended = F.scaled_dot_product_attention(run(query), run(key), run(value), scale=getattr(attention, "scaling", size**-0.5))
        context[start:stop] = attended.transpose(1, 2).reshape(count * length, heads, size)
    return context.view(-1, heads * size)


def sentence_means(states: torch.Tensor, batch: PackedBatch) -> list[torch.Tensor]:
    """Each sentence's mean state (hidden,), reduced over its own tokens only, one reduction a sentence."""
    return [states[start : start + length].sum(0) / length for start, length in zip(batch.starts, batch.lengths)]


def sigmoid(logits: torch.Tensor) -> np.ndarray:
    """``torch.sigmoid`` as float64 numpy, each element as it would come out in any other tensor (point 4)."""
    flat = logits.detach().float().reshape(-1)
    padded = torch.cat([flat, flat.new_zeros(-flat.numel() % ELEMENT_MULTIPLE)])
    return torch.sigmoid(padded)[: flat.numel()].cpu().numpy().astype(np.float64).reshape(logits.shape)


def _padded_rows(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``x`` as a 2-D matrix with its rows padded by zeros to a multiple of `ROW_MULTIPLE`, and its row count."""
    flat = x.reshape(-1, x.shape[-1])
    rows = flat.shape[0]
    padded = max(1, -(-rows // ROW_MULTIPLE)) * ROW_MULTIPLE
    if padded != rows:
        flat = torch.cat([flat, flat.new_zeros(padded - rows, flat.shape[1])])
    return flat, rows


class RowStableLinear(nn.Linear):
    """`nn.Linear` whose every output row is the same whatever the other rows (point 2 above).

    Same parameters and state dict as the Linear it replaces (`from_linear` shares them).
    """

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> "RowStableLinear":
        if isinstance(linear, cls):
            return linear
        stable = cls(linear.in_features, linear.out_features, bias=linear.bias is not None, device="meta")
        stable.weight, stable.bias = linear.weight, linear.bias
        return stable

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat, rows = _padded_rows(x)
        return F.linear(flat, self.weight, self.bias)[:rows].reshape(*x.shape[:-1], self.out_features)


def int8_rows(x: torch.Tensor, levels: int = INT8_LEVELS) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row of a float matrix as integers in -levels..levels with its own scale: (int8 matrix, scales as a column)."""
    largest = torch.maximum(x.amax(dim=1, keepdim=True), x.amin(dim=1, keepdim=True).neg_())  # no |x| copy
    largest = largest.float().clamp_min(SMALLEST_SCALE)
    return torch.mul(x, levels / largest).round_().to(torch.int8), largest / levels


@functools.cache
def int8_weight_levels() -> int:
    """127 where this CPU's int8 products are exact; 64 where they saturate (no VNNI).

    Without VNNI, oneDNN shifts the activations to 0..255 and sums pairs of products in 16 bits, which
    saturate at 32,767 once weights pass 64 in size (255 * 127 * 2); weights in -64..64 keep every sum exact.
    """
    ones = torch.full((16, 64), INT8_LEVELS, dtype=torch.int8)
    exact = int(torch._int_mm(ones, ones.t())[0, 0]) == 64 * INT8_LEVELS**2
    return INT8_LEVELS if exact else 64


class RowInt8Linear(nn.Module):
    """An int8 Linear layer (CPU): weights per output channel, activations per row, integer products.

    ``y = (int8(x) @ int8(W).T) * row_scale * column_scale + bias``: the products are summed
    exactly in int32 (``torch._int_mm``), and a row's scale comes from that row alone.
    """

    def __init__(self, weight_int8: torch.Tensor, weight_scale: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        self.in_features, self.out_features = weight_int8.shape[1], weight_int8.shape[0]
        self.register_buffer("weight_int8", weight_int8)  # (out, in); multiplied as its transpose
        self.register_buffer("weight_scale", weight_scale)  # (out,)
        self.register_buffer("bias", bias)

    @classmethod
    def from_linear(cls, linear: nn.Linear, levels: int | None = None) -> "RowInt8Linear":
        """Quantise ``linear``'s weights per output channel to ``levels`` (default `int8_weight_levels`)."""
        weight_int8, scale = int8_rows(linear.weight.detach(), levels or int8_weight_levels())
        bias = None if linear.bias is None else linear.bias.detach().float().clone()
        return cls(weight_int8.contiguous(), scale[:, 0].contiguous(), bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_int8, row_scale = int8_rows(x.reshape(-1, self.in_features))
        products = torch._int_mm(x_int8, self.weight_int8.t())
        # scaled into the same memory as float32: one (rows, out) buffer, not two (their page faults cost more than the products)
        y = torch.mul(products, self.weight_scale, out=products.view(torch.float32)).mul_(row_scale)
        if self.bias is not None:
            y.add_(self.bias)
        return y.to(x.dtype).reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def replace_linear_layers(module: nn.Module, make) -> nn.Module:
    """Replace, in place, every `nn.Linear` inside ``module`` by ``make(linear)``; returns ``module``."""
    for child in list(module.modules()):
        for attribute, layer in list(child.named_children()):
            if isinstance(layer, nn.Linear):
                setattr(child, attribute, make(layer))
    return module
