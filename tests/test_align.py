"""Sentence alignment: one-to-one, order-free, combined dense + lexical similarity."""

import doctest
import random

import numpy as np
import pytest

import detector.align
from detector.align import (
    SentenceAlignment,
    align_sentences,
    coverage,
    lexical_similarity_matrix,
    similarity_matrix,
)
from detector.errors import InputError
from detector.text import split_sentences


def body(text: str) -> list[str]:
    return [s.text for s in split_sentences(text) if not s.is_boilerplate and not s.is_heading]


def unit_rows(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_doctests():
    assert doctest.testmod(detector.align).failed == 0


def test_verbatim_copy_with_stripped_apostrophes_scores_one():
    source = ["Russia won China's backing in its showdown with the West over Ukraine on Friday."]
    suspect = ["Russia won Chinas backing in its showdown with the West over Ukraine on Friday"]
    assert lexical_similarity_matrix(suspect, source)[0, 0] == pytest.approx(1.0)
    noisy = unit_rows(2)  # an encoder that disagrees must not pull a lexical copy down
    assert similarity_matrix(suspect, noisy[:1], source, noisy[1:])[0, 0] == pytest.approx(1.0)


def test_shuffled_copy_is_aligned_order_free(seed_texts):
    source = body(seed_texts["004"])
    order = list(range(len(source)))
    random.Random(3).shuffle(order)
    suspect = [source[i] for i in order]
    alignments = align_sentences(suspect, None, source, None)
    assert [(a.suspect_index, a.source_index) for a in alignments] == list(enumerate(order))
    assert all(a.similarity == pytest.approx(1.0) for a in alignments)
    assert coverage(alignments, len(suspect)) == 1.0


def test_seed_004_aligns_to_003_on_words_alone(seed_texts):
    suspect, source = body(seed_texts["004"]), body(seed_texts["003"])
    alignments = align_sentences(suspect, None, source, None)
    pairs = {suspect[a.suspect_index]: source[a.source_index] for a in alignments}
    assert pairs[
        "In a long strategy document, Moscow and Beijing hit out at what they said was Washingtons destabilising role in global security."
    ] == "In a lengthy strategy document, Moscow and Beijing denounced what they called Washington's destabilizing role in global security."
    assert coverage(alignments, len(suspect)) > 0.8


def test_one_to_one():
    source = ["NATO should not admit new members.", "Putin met Xi in Beijing."]
    suspect = ["NATO should not admit new members.", "NATO should not admit new members!", "Putin met Xi."]
    alignments = align_sentences(suspect, None, source, None)
    assert len({a.source_index for a in alignments}) == len(alignments)
    assert len({a.suspect_index for a in alignments}) == len(alignments)
    assert {(a.suspect_index, a.source_index) for a in alignments} >= {(2, 1)}


def test_pairs_below_min_similarity_are_dropped():
    source = ["NATO should not admit new members."]
    suspect = ["The weather in Lisbon was sunny all week."]
    assert align_sentences(suspect, None, source, None, min_similarity=0.5) == []
    assert len(align_sentences(suspect, None, source, None, min_similarity=0.0)) == 1


def test_dense_similarity_rescues_a_rewrite():
    source = ["The alliance should not admit new members."]
    suspect = ["Expansion of the bloc must stop."]
    lexical = lexical_similarity_matrix(suspect, source)[0, 0]
    same = unit_rows(1)
    combined = similarity_matrix(suspect, same, source, same, dense_weight=0.6)[0, 0]
    assert combined == pytest.approx(0.6 + 0.4 * lexical, abs=1e-5)
    assert align_sentences(suspect, same, source, same, min_similarity=0.5)[0] == SentenceAlignment(0, 0, pytest.approx(combined))


def test_empty_inputs():
    assert align_sentences([], None, ["A sentence."], None) == []
    assert align_sentences(["A sentence."], None, [], None) == []
    assert align_sentences([], np.zeros((0, 4), np.float32), [], np.zeros((0, 4), np.float32)) == []
    assert coverage([], 0) == 0.0


def test_bad_embeddings_are_named():
    with pytest.raises(InputError, match=r"suspect_embeddings must have one row per suspect sentence"):
        align_sentences(["a b", "c d"], unit_rows(1), ["a b"], unit_rows(1))
    with pytest.raises(InputError, match=r"dimensions 16 and 8 differ"):
        align_sentences(["a b"], unit_rows(1), ["a b"], unit_rows(1, dim=8))
    with pytest.raises(InputError, match=r"dense_weight must lie in \[0, 1\], got 2"):
        align_sentences(["a b"], None, ["a b"], None, dense_weight=2)


def test_coverage_counts_each_suspect_sentence_once():
    alignments = [SentenceAlignment(0, 0, 0.9), SentenceAlignment(2, 1, 0.7)]
    assert coverage(alignments, 4) == 0.5
