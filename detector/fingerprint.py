"""The immutables of a text, and their MinHash: what article spinners leave alone.

A spinner swaps common content words for thesaurus neighbours but keeps names ("Putin", "NATO",
"U.S."), numbers ("100,000", "2022", "30") and rare words (a thesaurus rarely lists "destabilising"
or "pretext"). Those tokens, in their order within each sentence, are the skeleton a spun copy
shares with its source. They are compared as `word_key` shingles (each immutable, and each pair of
neighbouring immutables in a sentence); sentence order does not matter, so shuffled copies match too.

A word is rare when the bundled MiniLM WordPiece vocabulary (about 20k whole English words) does not
hold it as one token: a fixed, offline stand-in for a corpus frequency list.

The MinHash seed, permutation scheme and hash function are pinned (`FINGERPRINT_SEED`,
`FINGERPRINT_SCHEME`, datasketch's SHA-1 based hash): changing any of them, or the immutables rules,
bumps `FINGERPRINT_VERSION` and invalidates stored indexes.

Example:
    >>> sentence_immutables("Western sources accused Russia of massing 100,000 troops at the U.S. border.")
    ['russia', 'massing', '100000', 'us']
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from detector.text import tokenize, word_key

__all__ = [
    "FINGERPRINT_VERSION",
    "FINGERPRINT_SEED",
    "FINGERPRINT_SCHEME",
    "DEFAULT_NUM_PERM",
    "MIN_RARE_LENGTH",
    "load_common_words",
    "document_names",
    "document_lowercase_words",
    "document_word_counts",
    "sentence_immutables",
    "document_immutables",
    "immutable_shingles",
    "immutables_signature",
    "signature_jaccard",
]

FINGERPRINT_VERSION = 1
FINGERPRINT_SEED = 20220204
FINGERPRINT_SCHEME = "affine32"
DEFAULT_NUM_PERM = 128
MIN_RARE_LENGTH = 5
_EMPTY_HASH = np.uint32((1 << 32) - 1)
_OPENERS = {'"', "'", "(", "[", ":", ";", "-", "--"}


@functools.lru_cache(maxsize=1)
def load_common_words() -> frozenset[str]:
    """Whole lower-case words of the bundled MiniLM WordPiece vocabulary: the 'common' side of rare."""
    from detector.encoder import default_model_path

    lines = (default_model_path() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(word for word in lines if word.isalpha() and not word.startswith("["))


def _is_number(word: str) -> bool:
    return any(char.isdigit() for char in word)


def _is_acronym(word: str) -> bool:
    letters = [char for char in word if char.isalpha()]
    return len(letters) >= 2 and all(char.isupper() for char in letters)


def _key(word: str) -> str:
    """`word_key`, without the commas of numbers ("100,000") and the dots of acronyms ("U.S.")."""
    key = word_key(word)
    key = key.replace(",", "") if _is_number(word) else key.replace(".", "")
    return key.strip(".-")


def _word_positions(sentence: str) -> list[tuple[str, bool]]:
    """Each word token with whether it stands where any word is capitalised (sentence or quote start)."""
    words: list[tuple[str, bool]] = []
    opening = True
    for token in tokenize(sentence):
        if token.is_word:
            words.append((token.text, opening))
            opening = False
        elif token.text in _OPENERS:
            opening = True
    return words


def document_names(sentences: Iterable[str]) -> frozenset[str]:
    """Keys of the words capitalised mid-sentence anywhere in the text: its names."""
    return frozenset(_key(word) for word in _mid_sentence_words(sentences) if word[:1].isupper() and not _is_number(word))


def document_lowercase_words(sentences: Iterable[str]) -> frozenset[str]:
    """Keys of the words written lower-case mid-sentence anywhere in the text: with `document_names`,
    how a corpus tells a common word in a title ("Cocoa", "Stores") from a name."""
    return frozenset(_key(word) for word in _mid_sentence_words(sentences) if word.islower())


def document_word_counts(sentences: Iterable[str]) -> Counter:
    """Every word of the text keyed as `document_names` keys names, wherever it stands, with its count."""
    return Counter(_key(token.text) for sentence in sentences for token in tokenize(sentence) if token.is_word)


def _mid_sentence_words(sentences: Iterable[str]) -> Iterator[str]:
    """The word tokens that stand where their case is the writer's choice: not at a sentence or quote start."""
    for sentence in sentences:
        yield from (word for word, at_start in _word_positions(sentence) if not at_start)


def sentence_immutables(
    sentence: str, names: frozenset[str] = frozenset(), common: frozenset[str] | None = None
) -> list[str]:
    """Keys of the names, numbers and rare words of one sentence, in order.

    A capitalised word counts as a name mid-sentence, or at the start when it is an acronym or one of
    ``names`` (the document's names, from `document_names`).
    """
    common = load_common_words() if common is None else common
    keys = []
    for word, at_start in _word_positions(sentence):
        key = _key(word)
        if not key:
            continue
        if _is_number(word) or _is_acronym(word):
            keys.append(key)
        elif word[:1].isupper() and (not at_start or key in names):
            keys.append(key)
        elif key.isalpha() and len(key) >= MIN_RARE_LENGTH and key not in common:
            keys.append(key)
    return keys


def document_immutables(sentences: Sequence[str], common: frozenset[str] | None = None) -> list[list[str]]:
    """Immutables of each sentence of one document (names are learnt from the whole document)."""
    names = document_names(sentences)
    return [sentence_immutables(sentence, names, common) for sentence in sentences]


def immutable_shingles(per_sentence: Iterable[Sequence[str]]) -> set[str]:
    """Every immutable, and every pair of neighbouring immutables within a sentence."""
    shingles: set[str] = set()
    for keys in per_sentence:
        shingles.update(keys)
        shingles.update(f"{a} {b}" for a, b in zip(keys, keys[1:]))
    return shingles


def immutables_signature(
    shingles: Iterable[str], num_perm: int = DEFAULT_NUM_PERM, seed: int = FINGERPRINT_SEED
) -> np.ndarray:
    """MinHash signature (``num_perm`` uint32 values) of a shingle set; pinned seed by default."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=num_perm, seed=seed, scheme=FINGERPRINT_SCHEME)
    minhash.update_batch([shingle.encode("utf-8") for shingle in sorted(shingles)])
    return minhash.hashvalues.astype(np.uint32)


def signature_jaccard(query: np.ndarray, signatures: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of ``query`` with each row of ``signatures``; 0 for empty sets."""
    signatures = np.atleast_2d(signatures)
    if len(signatures) == 0 or np.all(query == _EMPTY_HASH):
        return np.zeros(len(signatures), dtype=np.float64)
    estimate = (signatures == query[None, :]).mean(axis=1)
    estimate[np.all(signatures == _EMPTY_HASH, axis=1)] = 0.0
    return estimate
