"""Training data: Parquet splits read and tokenised, and shuffled length-bucketed batches of them.

Reads Parquet with pyarrow only (the GPU training machine has no ``datasets``).
"""

from __future__ import annotations

import logging
import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch

from detector.classifier import SubwordInput, collate_subwords, encode_words
from detector.errors import InputError
from detector.text import tokenize

__all__ = ["SPLITS", "COLUMNS", "IGNORE", "SplitData", "load_split", "encode_texts", "word_targets", "epoch_batches",
           "BatchBuilder", "split_summary"]

LOG = logging.getLogger("training.train")
SPLITS = ("train", "validation", "calibration")
COLUMNS = ["text", "label", "word_labels", "kind"]
IGNORE = -1.0  # word target of positions without a word label
PAD_MULTIPLE = 16  # training batches are padded to a multiple of 16 subwords: few shapes, faster GPU steps
ENCODE_CHUNK = 10_000  # sentences per task when tokenising in several processes


@dataclass
class SplitData:
    """One dataset split, tokenised: subword inputs plus sentence and word targets."""

    labels: np.ndarray  # (n,) float32, 1 = spun
    inputs: list[SubwordInput]
    word_labels: list[np.ndarray | None]  # per sentence, one label per word token, or None
    kinds: list[str]
    mismatched_word_labels: int = 0  # rows whose word_labels length did not match tokenize()

    def __len__(self) -> int:
        return len(self.inputs)


def load_split(
    path: Path, tokenizer, max_length: int, max_rows: int | None = None, seed: int = 0, processes: int = 0
) -> SplitData:
    """Read a Parquet split (pyarrow only), optionally subsample it, and tokenise it (in ``processes``
    worker processes when more than one)."""
    if not path.is_file():
        raise InputError(f"dataset split {path} not found; build it with `python -m training.build_dataset`")
    schema = pq.read_schema(path)
    missing = [name for name in COLUMNS if name not in schema.names]
    if missing:
        raise InputError(f"dataset split {path} lacks columns {missing}; expected {COLUMNS}")
    table = pq.read_table(path, columns=COLUMNS)
    if max_rows is not None and table.num_rows > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(table.num_rows, size=max_rows, replace=False))
        table = table.take(rows)
    inputs = encode_texts(tokenizer, table.column("text").to_pylist(), max_length, processes)
    word_labels, mismatched = [], 0
    for item, labels in zip(inputs, table.column("word_labels").to_pylist()):
        if labels is not None and len(labels) != item.n_words:
            mismatched += 1
            labels = None
        word_labels.append(None if labels is None else np.asarray(labels, dtype=np.float32))
    if mismatched:
        LOG.warning(
            "%s: %d rows have word_labels that do not match tokenize(); their word loss is skipped",
            path.name,
            mismatched,
        )
    labels = np.asarray(table.column("label").to_pylist(), dtype=np.float32)
    return SplitData(labels, inputs, word_labels, table.column("kind").to_pylist(), mismatched)


def encode_texts(
    tokenizer, texts: list[str], max_length: int, processes: int = 0, chunk: int = ENCODE_CHUNK
) -> list[SubwordInput]:
    """`tokenize` and `encode_words` over ``texts``, split into chunks over forked processes when
    ``processes`` > 1 and there is more than one chunk: one process takes over a minute for 400k
    sentences, time a lent GPU would spend idle."""
    if processes <= 1 or len(texts) <= chunk:
        return _encode_chunk(texts, tokenizer, max_length)
    parts = [texts[start : start + chunk] for start in range(0, len(texts), chunk)]
    with ProcessPoolExecutor(
        min(processes, len(parts)), mp_context=multiprocessing.get_context("fork"), initializer=_set_encoder,
        initargs=(tokenizer, max_length),
    ) as pool:
        return [item for part in pool.map(_encode_chunk, parts) for item in part]


_WORKER_ENCODER: tuple = ()  # (tokenizer, max_length) inherited by each forked tokenising process


def _set_encoder(tokenizer, max_length: int) -> None:
    global _WORKER_ENCODER
    _WORKER_ENCODER = (tokenizer, max_length)


def _encode_chunk(texts: list[str], tokenizer=None, max_length: int | None = None) -> list[SubwordInput]:
    if tokenizer is None:
        tokenizer, max_length = _WORKER_ENCODER
    return encode_words(tokenizer, [tokenize(text) for text in texts], max_length)


def word_targets(split: SplitData, rows: list[int], word_index: torch.Tensor) -> torch.Tensor:
    """(batch, length) float targets at first-subword positions of labelled words, IGNORE elsewhere."""
    targets = torch.full(word_index.shape, IGNORE)
    for row, i in enumerate(rows):
        labels = split.word_labels[i]
        if labels is None:
            continue
        index = word_index[row]
        positions = index >= 0
        targets[row, positions] = torch.from_numpy(labels)[index[positions]]
    return targets


def epoch_batches(split: SplitData, batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within chunks of 50 batches, shuffle batches."""
    rng = random.Random(seed)
    order = list(range(len(split)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(split.inputs[i].input_ids))
        batches.extend(part[k : k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


class BatchBuilder:
    """Turns a list of row numbers into padded model inputs plus targets (runs in loader workers)."""

    def __init__(self, split: SplitData, pad_id: int):
        self.split = split
        self.pad_id = pad_id

    def __call__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        batch = collate_subwords([self.split.inputs[i] for i in rows], self.pad_id, PAD_MULTIPLE)
        batch["word_targets"] = word_targets(self.split, rows, batch["word_index"])
        batch["labels"] = torch.from_numpy(self.split.labels[rows])
        return batch


def split_summary(split: SplitData) -> dict:
    """Sentences, spun sentences, sentences per kind and word-label counts of a split, for training.json."""
    kinds = {kind: split.kinds.count(kind) for kind in sorted(set(split.kinds))}
    with_words = sum(labels is not None for labels in split.word_labels)
    return {
        "sentences": len(split),
        "spun": int(split.labels.sum()),
        "kinds": kinds,
        "with_word_labels": with_words,
        "mismatched_word_labels": split.mismatched_word_labels,
    }
