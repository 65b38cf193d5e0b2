"""Sentence alignment: pair each suspect sentence with at most one source sentence, in any order.

Copies and spins often reorder or drop sentences (seed 004 is the wire text shuffled), so the
alignment is an assignment problem, not a sequence alignment: the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) picks the one-to-one pairing with the highest total
similarity. The similarity mixes the dense cosine of the sentence embeddings with a lexical score
(Dice overlap of the sets of word keys), so that a verbatim copy with stripped apostrophes scores
1 even when the encoder wavers, and a spun sentence still scores high on meaning.

Example:
    >>> source = ["Russia won China's backing.", "The talks went on."]
    >>> suspect = ["The talks went on.", "Russia won Chinas backing."]
    >>> [(a.suspect_index, a.source_index, a.similarity) for a in align_sentences(suspect, None, source, None)]
    [(0, 1, 1.0), (1, 0, 1.0)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix

from detector.errors import InputError
from detector.text import word_key, words

__all__ = ["SentenceAlignment", "align_sentences", "coverage", "lexical_similarity_matrix", "similarity_matrix"]


@dataclass(frozen=True)
class SentenceAlignment:
    """One suspect sentence paired with one source sentence."""

    suspect_index: int
    source_index: int
    similarity: float  # combined dense + lexical, 0..1


def align_sentences(
    suspect_sentences: Sequence[str],
    suspect_embeddings: np.ndarray | None,
    source_sentences: Sequence[str],
    source_embeddings: np.ndarray | None,
    min_similarity: float = 0.5,
    *,
    dense_weight: float = 0.6,
) -> list[SentenceAlignment]:
    """One-to-one, order-free alignment of suspect sentences to source sentences.

    ``*_embeddings`` are unit-norm rows (one per sentence), or ``None`` to align on words alone.
    See :func:`similarity_matrix` for the score and ``dense_weight``. Pairs scoring below
    ``min_similarity`` are dropped. The result is sorted by suspect index.
    """
    similarity = similarity_matrix(
        suspect_sentences, suspect_embeddings, source_sentences, source_embeddings, dense_weight=dense_weight
    )
    if similarity.size == 0:
        return []
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return [
        SentenceAlignment(int(r), int(c), float(similarity[r, c]))
        for r, c in zip(rows, cols)
        if similarity[r, c] >= min_similarity
    ]


def similarity_matrix(
    suspect_sentences: Sequence[str],
    suspect_embeddings: np.ndarray | None,
    source_sentences: Sequence[str],
    source_embeddings: np.ndarray | None,
    *,
    dense_weight: float = 0.6,
) -> np.ndarray:
    """(n_suspect, n_source) combined similarity in 0..1.

    ``max(lexical, dense_weight * cosine + (1 - dense_weight) * lexical)``: a lexical match is never
    pulled down by the encoder, while meaning-preserving rewrites (spins, paraphrases) get credit
    from the cosine. Without embeddings it is the lexical score alone.
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise InputError(f"dense_weight must lie in [0, 1], got {dense_weight!r}")
    lexical = lexical_similarity_matrix(suspect_sentences, source_sentences)
    if suspect_embeddings is None or source_embeddings is None:
        return lexical
    suspect_embeddings = _checked_embeddings(suspect_embeddings, len(suspect_sentences), "suspect")
    source_embeddings = _checked_embeddings(source_embeddings, len(source_sentences), "source")
    if suspect_embeddings.shape[1] != source_embeddings.shape[1]:
        raise InputError(
            f"suspect and source embeddings must come from the same encoder: dimensions "
            f"{suspect_embeddings.shape[1]} and {source_embeddings.shape[1]} differ"
        )
    if lexical.size == 0:
        return lexical
    dense = np.clip(suspect_embeddings @ source_embeddings.T, 0.0, 1.0)
    return np.maximum(lexical, dense_weight * dense + (1.0 - dense_weight) * lexical).astype(np.float32)


def lexical_similarity_matrix(suspect_sentences: Sequence[str], source_sentences: Sequence[str]) -> np.ndarray:
    """(n_suspect, n_source) Dice overlap of the sets of word keys (1 for a verbatim copy)."""
    vocabulary: dict[str, int] = {}
    suspect = _key_matrix(suspect_sentences, vocabulary)
    source = _key_matrix(source_sentences, vocabulary)
    shape = (len(suspect_sentences), len(source_sentences))
    if 0 in shape:
        return np.zeros(shape, dtype=np.float32)
    width = max(len(vocabulary), 1)
    suspect.resize(shape[0], width)
    source.resize(shape[1], width)
    shared = (suspect @ source.T).toarray()
    sizes = np.asarray(suspect.sum(axis=1)) + np.asarray(source.sum(axis=1)).T
    with np.errstate(divide="ignore", invalid="ignore"):
        dice = np.where(sizes > 0, 2.0 * shared / sizes, 0.0)
    return dice.astype(np.float32)


def coverage(alignments: Sequence[SentenceAlignment], n_suspect: int) -> float:
    """Share of the suspect's sentences that found a source sentence (0 for an empty suspect).

    >>> coverage([SentenceAlignment(0, 3, 0.9)], 4)
    0.25
    """
    if n_suspect <= 0:
        return 0.0
    return len({a.suspect_index for a in alignments}) / n_suspect


def _key_matrix(sentences: Sequence[str], vocabulary: dict[str, int]) -> csr_matrix:
    """Binary sentence x word-key matrix; grows ``vocabulary`` in place."""
    indptr, indices = [0], []
    for sentence in sentences:
        indices.extend(vocabulary.setdefault(k, len(vocabulary)) for k in _sentence_keys(sentence))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return csr_matrix((data, indices, indptr), shape=(len(sentences), max(len(vocabulary), 1)))


@lru_cache(maxsize=8192)
def _sentence_keys(sentence: str) -> frozenset[str]:
    """The set of word keys of a sentence, cached: a suspect sentence meets several candidate
    sources, and a popular source meets many suspects."""
    return frozenset(word_key(w) for w in words(sentence))


def _checked_embeddings(embeddings: np.ndarray, n: int, name: str) -> np.ndarray:
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or embeddings.shape[0] != n:
        raise InputError(
            f"{name}_embeddings must have one row per {name} sentence: shape (n={n}, dim), "
            f"got {embeddings.shape}"
        )
    return embeddings
