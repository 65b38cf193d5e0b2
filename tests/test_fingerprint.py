"""Immutables (names, numbers, rare words) and their pinned MinHash."""

import numpy as np
import pytest

from detector.fingerprint import (
    FINGERPRINT_SEED,
    document_immutables,
    document_names,
    immutable_shingles,
    immutables_signature,
    sentence_immutables,
    signature_jaccard,
)

COMMON = frozenset("the military alliance should not admit new members armed forces confess participants said".split())


def test_names_numbers_acronyms_and_rare_words():
    common = COMMON | {"spokesman", "troops", "faced"}
    keys = sentence_immutables("Pentagon spokesman John Kirby said 100,000 troops, 30% of them, faced the U.S. pretext.", common=common)
    assert keys == ["pentagon", "john", "kirby", "100000", "30", "us", "pretext"]


def test_sentence_start_counts_only_for_acronyms_and_known_names():
    assert sentence_immutables("Several leaders met.", common=COMMON | {"several", "leaders"}) == []
    assert sentence_immutables("NATO met.", common=COMMON) == ["nato"]
    names = document_names(["They met Putin.", "Putin said no."])
    assert names == {"putin"}
    assert document_immutables(["They met Putin.", "Putin said no."], common=COMMON) == [["putin"], ["putin"]]


def test_spinning_keeps_the_immutables():
    source = "the US-led NATO military alliance should not admit new members, Stoltenberg said in 2022."
    spun = "the U.S.-led NATO armed forces alliance should not confess new participants, Stoltenberg said in 2022."
    assert sentence_immutables(source, common=COMMON) == sentence_immutables(spun, common=COMMON)


def test_shingles_hold_words_and_neighbouring_pairs():
    assert immutable_shingles([["putin", "xi", "2022"], ["nato"]]) == {"putin", "xi", "2022", "nato", "putin xi", "xi 2022"}


def test_signature_is_pinned_and_estimates_jaccard():
    a = {f"w{i}" for i in range(100)}
    b = {f"w{i}" for i in range(50, 150)}
    sig_a, sig_b = immutables_signature(a), immutables_signature(b, 128, FINGERPRINT_SEED)
    assert sig_a.dtype == np.uint32 and sig_a.shape == (128,)
    np.testing.assert_array_equal(sig_a, immutables_signature(set(sorted(a, reverse=True))))
    assert signature_jaccard(sig_a, np.stack([sig_a, sig_b]))[0] == 1.0
    assert signature_jaccard(sig_a, sig_b[None])[0] == pytest.approx(1 / 3, abs=0.12)


def test_stored_signatures_stay_valid():
    """A changed seed, scheme or hash would silently break every saved index: this pins them."""
    assert immutables_signature({"nato", "putin"}, num_perm=4).tolist() == [492593094, 1345981978, 1879263177, 3231727811]


def test_empty_sets_share_nothing():
    empty = immutables_signature(set())
    assert signature_jaccard(empty, np.stack([empty]))[0] == 0.0
    assert signature_jaccard(immutables_signature({"x"}), np.stack([empty]))[0] == 0.0
