"""`SynonymTable`: the compact shipped table of thesaurus neighbours, looked up in any inflection.

Spun text swaps a word for a neighbour from a context-free thesaurus, in any sense ("admit" ->
"confess", "security" -> "safety", "military" -> "armed forces"). The pair relation stage asks this
table whether a source word and the suspect word that replaced it are such neighbours. Entries are
lemmas (words or phrases); both sides of a query are lemmatised with lemminflect (every reading, so
"members" / "participants" and "vowed" / "sworn" match the lemma pairs), phrases on their first
word as a verb ("called on" -> "call on") and on their last word as a noun ("armed forces").

The shipped table (``detector/data/synonyms.*``, written by ``python -m training.build_synonym_table``)
holds the pairs of MyThes, WordNet 3.0 and PPDB lexical whose one side is a lemma of a news
vocabulary. Files: ``synonyms.json`` (manifest), ``synonyms.terms.txt.gz`` (one term a line),
``synonyms.pairs.npz`` (integer arrays: ``indptr`` and ``neighbours`` in compressed-sparse-row
form over the sorted terms, ``sources`` a bit mask per edge; no pickle).

Example:
    >>> table = SynonymTable.from_pairs([("admit", "confess"), ("member", "participant")], source="mythes")
    >>> table.are_neighbours("admitted", "confessed"), table.are_neighbours("members", "participants")
    (True, True)
    >>> table.sources("participants", "member"), table.are_neighbours("admit", "member")
    (('mythes',), False)
"""

from __future__ import annotations

import gzip
import json
import os
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from detector.errors import InputError

__all__ = ["FORMAT_VERSION", "SynonymTable", "lemma_pairs", "lemma_variants", "normalise_term"]

FORMAT_NAME = "spin-detector-synonyms"
FORMAT_VERSION = 1
DATA_DIR = Path(__file__).resolve().parent / "data"
MANIFEST = "synonyms.json"
TERMS_FILE = "synonyms.terms.txt.gz"
PAIRS_FILE = "synonyms.pairs.npz"
_REBUILD = "rebuild it with python -m training.build_synonym_table"
_APOSTROPHES = str.maketrans("", "", "'\u2019\u2018\u02bc`")


def normalise_term(term: str) -> str:
    """Comparison form of a word or phrase: lower-case, apostrophes out, single spaces."""
    return " ".join(term.translate(_APOSTROPHES).lower().split())


@lru_cache(maxsize=1 << 17)
def _readings(word: str) -> dict[str, tuple[str, ...]]:
    """lemminflect's lemmas by part of speech (imported late: loading its tables takes a moment)."""
    from lemminflect import getAllLemmas

    return {pos: tuple(lemma.lower() for lemma in lemmas) for pos, lemmas in getAllLemmas(word).items()}


@lru_cache(maxsize=1 << 17)
def _word_lemmas(word: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(lemma for lemmas in _readings(word).values() for lemma in lemmas))


@lru_cache(maxsize=1 << 17)
def lemma_variants(term: str) -> tuple[str, ...]:
    """The forms of ``term`` to look up: itself and its lemmas ("members" -> "members", "member");
    a phrase with its first word as a lemma ("called on" -> "call on") and its last ("armed force")."""
    term = normalise_term(term)
    words = term.split(" ")
    variants = [term]
    if len(words) == 1:
        variants.extend(_word_lemmas(term))
    else:
        variants.extend(" ".join([lemma, *words[1:]]) for lemma in _word_lemmas(words[0]))
        variants.extend(" ".join([*words[:-1], lemma]) for lemma in _word_lemmas(words[-1]))
    return tuple(dict.fromkeys(variants))


class SynonymTable:
    """Undirected graph of thesaurus neighbours over lemmas, each edge tagged with its sources.

    Build one with `load` (the shipped table) or `from_pairs` (small tables, tests); query with
    `are_neighbours`, `neighbours` and `sources`, in any inflection and any case. The graph is kept
    as sorted terms plus compressed-sparse-row arrays, so loading is a few array reads.
    """

    def __init__(
        self,
        terms: Sequence[str],
        indptr: np.ndarray,
        targets: np.ndarray,
        bits: np.ndarray,
        source_names: Sequence[str],
    ) -> None:
        self.terms = list(terms)  # sorted: looked up by bisection
        self.source_names = tuple(source_names)
        self._indptr, self._targets, self._bits = indptr, targets, bits
        self._rows: dict[int, dict[int, int]] = {}
        self._mask = (1 << len(self.source_names)) - 1

    def restricted(self, sources: Iterable[str]) -> SynonymTable:
        """The same table answering from ``sources`` only (the arrays are shared): what a judge that
        never saw the other thesauri would know, for leave-one-family-out evaluation."""
        sources = set(sources)
        unknown = sources - set(self.source_names)
        if unknown:
            raise InputError(f"unknown sources {sorted(unknown)}: this table holds {list(self.source_names)}")
        table = SynonymTable(self.terms, self._indptr, self._targets, self._bits, self.source_names)
        table._mask = sum(1 << i for i, name in enumerate(self.source_names) if name in sources)
        return table

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> SynonymTable:
        """The table in folder ``path`` (default: the shipped ``detector/data``)."""
        folder = Path(path) if path is not None else DATA_DIR
        manifest = _read_manifest(folder)
        try:
            with gzip.open(folder / TERMS_FILE, "rt", encoding="utf-8") as handle:
                terms = handle.read().split("\n")
            with np.load(folder / PAIRS_FILE, allow_pickle=False) as arrays:
                indptr, targets, bits = arrays["indptr"], arrays["neighbours"], arrays["sources"]
        except (OSError, KeyError, ValueError, EOFError) as error:
            raise InputError(f"synonym table in {str(folder)!r} is unreadable ({error}); {_REBUILD}") from error
        counts = manifest.get("counts", {})
        if (
            len(terms) != counts.get("terms")
            or len(indptr) != len(terms) + 1
            or len(targets) != 2 * counts.get("pairs", -1)
        ):
            raise InputError(f"synonym table in {str(folder)!r} does not match its manifest; {_REBUILD}")
        return cls(terms, indptr, targets, bits, manifest["sources"])

    @classmethod
    def from_pairs(cls, pairs: Iterable[Sequence[str]], source: str = "custom") -> SynonymTable:
        """A table of ``(a, b)`` pairs (or ``(a, b, source)`` triples) stored as lemmas."""
        source_names: list[str] = []
        edges: dict[tuple[str, str], int] = {}
        for pair in pairs:
            a, b, name = (*pair, source) if len(pair) == 2 else pair
            if name not in source_names:
                source_names.append(name)
            for x, y in lemma_pairs(a, b):
                key = (x, y) if x < y else (y, x)
                edges[key] = edges.get(key, 0) | 1 << source_names.index(name)
        return cls.from_edges(edges, source_names)

    @classmethod
    def from_edges(cls, edges: dict[tuple[str, str], int], source_names: Sequence[str]) -> SynonymTable:
        """A table of ``{(a, b): source bits}`` over already lemmatised terms (bit i = ``source_names[i]``)."""
        if len(source_names) > 8:
            raise InputError(f"at most 8 sources fit a synonym table, got {len(source_names)}: {list(source_names)}")
        terms = sorted({term for pair in edges for term in pair})
        ids = {term: i for i, term in enumerate(terms)}
        left = np.array([ids[a] for a, _ in edges], dtype=np.int64)
        right = np.array([ids[b] for _, b in edges], dtype=np.int64)
        bits = np.array(list(edges.values()), dtype=np.uint8)
        sources, targets = np.concatenate([left, right]), np.concatenate([right, left])
        order = np.lexsort((targets, sources))
        indptr = np.searchsorted(sources[order], np.arange(len(terms) + 1)).astype(np.int32)
        return cls(terms, indptr, targets[order].astype(np.int32), np.concatenate([bits, bits])[order], source_names)

    def save(self, path: str | os.PathLike, manifest: dict | None = None) -> None:
        """Write the three files into folder ``path``; ``manifest`` adds fields (licences, vocabulary)."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(folder / TERMS_FILE, "wt", encoding="utf-8", compresslevel=9) as handle:
            handle.write("\n".join(self.terms))
        np.savez_compressed(folder / PAIRS_FILE, indptr=self._indptr, neighbours=self._targets, sources=self._bits)
        counts = {"terms": len(self.terms), "pairs": int(len(self._targets) // 2)}
        counts.update(
            {name: int(np.count_nonzero(self._bits & 1 << i)) // 2 for i, name in enumerate(self.source_names)}
        )
        document = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "sources": list(self.source_names),
            "counts": counts,
        }
        document.update(manifest or {})
        (folder / MANIFEST).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    def _id(self, term: str) -> int | None:
        i = bisect_left(self.terms, term)
        return i if i < len(self.terms) and self.terms[i] == term else None

    def _row(self, term_id: int) -> dict[int, int]:
        row = self._rows.get(term_id)
        if row is None:
            lo, hi = self._indptr[term_id], self._indptr[term_id + 1]
            row = self._rows[term_id] = dict(zip(self._targets[lo:hi].tolist(), self._bits[lo:hi].tolist()))
        return row

    def _ids_of(self, term: str) -> list[int]:
        return [i for i in map(self._id, lemma_variants(term)) if i is not None]

    def _pair_bits(self, a: str, b: str) -> int:
        targets = self._ids_of(b)
        bits = 0
        for term_id in self._ids_of(a):
            row = self._row(term_id)
            for target in targets:
                bits |= row.get(target, 0)
        return bits & self._mask

    def are_neighbours(self, a: str, b: str) -> bool:
        """True when some lemma of ``a`` and some lemma of ``b`` are listed together by a thesaurus."""
        return bool(self._pair_bits(a, b))

    def sources(self, a: str, b: str) -> tuple[str, ...]:
        """The thesauri that list the pair (empty when none does)."""
        bits = self._pair_bits(a, b)
        return tuple(name for i, name in enumerate(self.source_names) if bits >> i & 1)

    def neighbours(self, word: str) -> frozenset[str]:
        """Every lemma listed as a neighbour of a lemma of ``word``."""
        return frozenset(self.terms[t] for term_id in self._ids_of(word) for t in self._row(term_id))

    def __len__(self) -> int:
        return len(self.terms)

    def __contains__(self, term: str) -> bool:
        return bool(self._ids_of(term))


def lemma_pairs(a: str, b: str) -> set[tuple[str, str]]:
    """The lemma pairs a thesaurus pair stands for: same-part-of-speech readings when both words have
    one ("acknowledged"/"conceded" -> ("acknowledge", "concede")), else every combination."""
    a, b = normalise_term(a), normalise_term(b)
    if not a or not b or a == b:
        return set()
    if " " in a or " " in b:
        return {(x, y) for x in _base_forms(a) for y in _base_forms(b) if x != y}
    readings_a, readings_b = _readings(a), _readings(b)
    shared = set(readings_a) & set(readings_b)
    if shared:
        pairs = {(x, y) for pos in shared for x in readings_a[pos] for y in readings_b[pos]}
    else:
        pairs = {(x, y) for x in _base_forms(a) for y in _base_forms(b)}
    return {(x, y) for x, y in pairs if x != y}


def _base_forms(term: str) -> tuple[str, ...]:
    """A single word's lemmas (itself when lemminflect knows none); a phrase as written."""
    if " " in term:
        return (term,)
    return _word_lemmas(term) or (term,)


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(
            f"synonym table manifest {str(path)!r} is missing or unreadable ({error}); {_REBUILD}"
        ) from error
    if manifest.get("format") != FORMAT_NAME or manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{str(path)!r} is format {manifest.get('format')!r} version {manifest.get('format_version')!r}, "
            f"expected {FORMAT_NAME!r} version {FORMAT_VERSION}; {_REBUILD}"
        )
    return manifest
