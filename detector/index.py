"""`SourceIndex`: the clean sources a suspect article is checked against.

Each source is split into sentences; every sentence is embedded (the vectors are kept, float16, for
alignment) and the non-boilerplate ones go into FAISS: an exact inner-product index while small, an
inverted-file index over fp16 vectors (IVF, k-means cells of which a query scans `ivf_probe`) once
it passes `IndexSettings.ann_threshold`, so that a query stays around a millisecond at a million
sentences. The cells are re-trained whenever the index has grown fourfold since they were drawn.
Beside the vectors, each source's immutables (names, numbers, rare words; see
`detector.fingerprint`) are MinHashed into an LSH table, and its names are counted, so that
`detector.story` can tell a rare name from a common one and find the sources that share rare names
with a suspect (`name_frequency`, `sources_naming`); the words each source writes lower-case are
counted too, so that a common word capitalised in a title is not taken for a name
(`lowercase_frequency`).

`search` ranks sources by two kinds of evidence, so that it survives spinning and shuffling:
(a) dense votes: each suspect sentence's nearest source sentences vote for their documents, the
    per-document score being the mean over suspect sentences of the best cosine above a floor;
(b) immutables containment: the estimated share of the suspect's immutables found in the source,
    which a spinner leaves intact even when it changes most content words.

An index is a folder (manifest.json with versions, counts and sha256 of every file; Parquet, .npy and
a FAISS file; no pickle). `save` is atomic; `load` checks everything and says what to do when a
folder is missing, truncated, corrupt, foreign or of another format version.

Example:
    >>> index = SourceIndex.build([{"id": "a", "text": "NATO met in Brussels."}])   # doctest: +SKIP
    >>> index.save("sources.index"); SourceIndex.load("sources.index")              # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import uuid
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from detector.documents import Document, as_document
from detector.encoder import SentenceEncoder
from detector.checksum import file_sha256
from detector.errors import IndexFormatError, InputError
from detector.story import source_lowercase_words, source_names
from detector.fingerprint import (
    DEFAULT_NUM_PERM,
    FINGERPRINT_SCHEME,
    FINGERPRINT_SEED,
    FINGERPRINT_VERSION,
    document_immutables,
    immutable_shingles,
    immutables_signature,
    signature_jaccard,
)
from detector.text import Segment, split_sentences

__all__ = ["Document", "SourceIndex", "IndexedSource", "IndexSettings", "FORMAT_VERSION", "recover_index"]

FORMAT_VERSION = 2  # 2: names.parquet, and a checksum over the manifest itself
READABLE_VERSIONS = (1, 2)
FORMAT_NAME = "spin-detector-source-index"
MANIFEST = "manifest.json"
REBUILD_HINT = "rebuild it with `spin-detect index build`"
_PROBE_SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
_ENCODE_CHUNK = 2048


@dataclass(frozen=True)
class IndexSettings:
    """How the index stores vectors and scores candidates (saved in the manifest)."""

    ann_threshold: int = 50_000       # vectors beyond which the exact flat index becomes IVF
    ivf_probe: int = 64               # IVF cells a query scans (of about 4 * sqrt(vectors))
    neighbours: int = 10              # nearest source sentences fetched per suspect sentence
    dense_floor: float = 0.5          # cosine below which a match casts no vote
    dense_weight: float = 0.5         # share of dense votes in the score; the rest is immutables
    num_perm: int = DEFAULT_NUM_PERM
    lsh_threshold: float = 0.2        # Jaccard threshold of the immutables LSH (candidate generation)
    batch_size: int = 64              # encoder batch size

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.type == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise InputError(f"index setting {item.name}={value!r} must be a whole number >= 1")
            if item.type == "float" and (
                not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0
            ):
                raise InputError(f"index setting {item.name}={value!r} must be a number in [0, 1]")
        if self.dense_floor >= 1.0 or self.lsh_threshold == 0.0:
            raise InputError(
                f"index settings dense_floor={self.dense_floor!r} and lsh_threshold={self.lsh_threshold!r}: "
                "the floor must be under 1 and the threshold above 0"
            )


@dataclass(frozen=True)
class IndexedSource:
    """One indexed source: the document, its segments and one unit-norm float32 vector per segment."""

    document: Document
    segments: list[Segment]
    embeddings: np.ndarray


class SourceIndex:
    """Clean sources, searchable by dense sentence votes and by immutables MinHash."""

    def __init__(self, encoder: SentenceEncoder | None = None, settings: IndexSettings | None = None):
        self.settings = settings or IndexSettings()
        self._encoder = encoder
        self._encoder_info = _encoder_info(encoder) if encoder is not None else None
        self._documents: list[Document] = []
        self._row_of: dict[str, int] = {}
        self._segments: list[list[Segment]] = []
        self._offsets = np.zeros(1, dtype=np.int64)
        self._embeddings: np.ndarray | None = None
        self._vector_rows = np.zeros(0, dtype=np.int64)
        self._signatures = np.zeros((0, self.settings.num_perm), dtype=np.uint32)
        self._shingle_counts = np.zeros(0, dtype=np.int64)
        self._vectors = None
        self._lsh = _new_lsh(self.settings)
        self._sentence_table: tuple[np.ndarray, np.ndarray] | None = None  # (sorted text hashes, segment rows)
        self._names: list[frozenset[str]] | None = []  # per source; None until read for an index saved without them
        self._name_rows: dict[str, list[int]] | None = None  # name -> rows of the sources carrying it
        self._lowercase: Counter | None = Counter()  # word -> sources writing it lower-case; None until read

    @classmethod
    def build(
        cls,
        documents: Iterable,
        encoder: SentenceEncoder | None = None,
        progress: bool = False,
        settings: IndexSettings | None = None,
    ) -> SourceIndex:
        """Index ``documents`` (`Document`, ``{"id", "text"}`` dicts or ``(id, text)`` pairs)."""
        index = cls(encoder or SentenceEncoder.load(), settings)
        index.add(documents, progress=progress)
        return index

    @property
    def encoder(self) -> SentenceEncoder:
        """The encoder that embeds new sources (the bundled MiniLM when none was given)."""
        if self._encoder is None:
            self._encoder = SentenceEncoder.load()
            self._encoder_info = _checked_encoder(self._encoder, self._encoder_info)
        return self._encoder

    @property
    def ids(self) -> list[str]:
        return [doc.id for doc in self._documents]

    def __len__(self) -> int:
        return len(self._documents)

    def __contains__(self, doc_id) -> bool:
        return str(doc_id) in self._row_of

    def __repr__(self) -> str:
        name = self._encoder_info["name"] if self._encoder_info else None
        return f"SourceIndex({len(self)} documents, {len(self._vector_rows)} vectors, encoder={name!r})"

    # ------------------------------------------------------------------ adding
    def add(self, documents: Iterable, progress: bool = False) -> None:
        """Add sources; all or nothing (a duplicate or bad document leaves the index unchanged)."""
        docs = self._new_documents(documents)
        if not docs:
            return
        from tqdm.auto import tqdm

        encoder = self.encoder
        segments = [split_sentences(doc.text) for doc in docs]
        bar = tqdm(total=len(docs), desc="indexing sources", unit="doc", disable=not progress)
        with bar:
            embeddings = self._embed(encoder, segments, bar)
        signatures, counts = zip(*(_fingerprint(segs, self.settings) for segs in segments))
        self._commit(docs, segments, embeddings, np.stack(signatures), np.asarray(counts, dtype=np.int64))

    def _new_documents(self, documents: Iterable) -> list[Document]:
        if documents is None or not hasattr(documents, "__iter__"):
            raise InputError(
                f"the documents must be an iterable, not {type(documents).__name__}: "
                "give a list of {'id', 'text'} dicts, (id, text) pairs or Documents"
            )
        if isinstance(documents, (str, bytes, Path, Document, dict)):
            raise InputError(
                f"add() takes an iterable of documents, not one {type(documents).__name__}: "
                "wrap one document in a list, or read a file with detector.documents.read_documents(path)"
            )
        docs = [as_document(obj) for obj in documents]
        seen: set[str] = set()
        for doc in docs:
            if doc.id in self._row_of or doc.id in seen:
                raise InputError(f"duplicate document id {doc.id!r}: every source needs a unique id")
            if not doc.text.strip():
                raise InputError(f"document {doc.id!r} has no text: drop it or give its text")
            seen.add(doc.id)
        return docs

    def _embed(self, encoder: SentenceEncoder, segments: list[list[Segment]], bar) -> np.ndarray:
        """Embed every segment of every new document, a chunk of documents per encoder call."""
        chunks, texts, pending = [], [], 0
        for segs in segments:
            texts.extend(seg.text for seg in segs)
            pending += 1
            if len(texts) >= _ENCODE_CHUNK:
                chunks.append(encoder.encode(texts, self.settings.batch_size).astype(np.float16))
                bar.update(pending)
                texts, pending = [], 0
        chunks.append(encoder.encode(texts, self.settings.batch_size).astype(np.float16))
        bar.update(pending)
        return np.concatenate(chunks)

    def _commit(self, docs, segments, embeddings, signatures, counts, names=None, lowercase=None) -> None:
        """Append sources with their vectors and fingerprints; ``names`` (per source) and ``lowercase``
        (summed counts) are theirs when the caller knows them, else they are read from the text."""
        first_row, first_segment = len(self._documents), int(self._offsets[-1])
        known_names, known_lowercase = self._source_names(), self._lowercase_counts()  # before the new sources join
        sizes = np.array([len(segs) for segs in segments], dtype=np.int64)
        flags = np.array([not seg.is_boilerplate for segs in segments for seg in segs], dtype=bool)
        new_rows = first_segment + np.flatnonzero(flags)
        self._add_vectors(embeddings[flags].astype(np.float32))
        self._documents.extend(docs)
        self._row_of.update((doc.id, first_row + i) for i, doc in enumerate(docs))
        self._segments.extend(segments)
        self._offsets = np.concatenate([self._offsets, first_segment + np.cumsum(sizes)])
        old = self._embeddings if self._embeddings is not None else np.zeros((0, embeddings.shape[1]), np.float16)
        self._embeddings = np.concatenate([old, embeddings])
        self._vector_rows = np.concatenate([self._vector_rows, new_rows])
        self._signatures = np.concatenate([self._signatures, signatures])
        self._shingle_counts = np.concatenate([self._shingle_counts, counts])
        _insert_lsh(self._lsh, signatures, first_row, self.settings)
        self._sentence_table = None
        if names is None:
            names = [source_names([seg.text for seg in segs]) for segs in segments]
        self._names = known_names + names
        self._name_rows = None
        self._lowercase = known_lowercase + (_lowercase_counts(segments) if lowercase is None else lowercase)

    def remove(self, ids: Iterable[str]) -> None:
        """Drop the sources ``ids``; all or nothing (an unknown id leaves the index unchanged). The kept
        sources keep their stored vectors, fingerprints and name counts: nothing is encoded again, and
        only the dropped sources' text is read."""
        ids = list(dict.fromkeys(str(doc_id) for doc_id in _checked_ids(ids)))
        unknown = [doc_id for doc_id in ids if doc_id not in self._row_of]
        if unknown:
            raise InputError(f"no source with id {unknown[0]!r} in this index of {len(self)} documents: nothing removed")
        dropped = {self._row_of[doc_id] for doc_id in ids}
        kept = [row for row in range(len(self)) if row not in dropped]
        fresh = SourceIndex(self._encoder, self.settings)
        fresh._encoder_info = self._encoder_info
        if kept:
            spans = [np.asarray(self._embeddings[self._offsets[row] : self._offsets[row + 1]]) for row in kept]
            names = self._source_names()
            lowercase = self._lowercase_counts() - _lowercase_counts(self._segments[row] for row in dropped)
            fresh._commit([self._documents[row] for row in kept], [self._segments[row] for row in kept],
                          np.concatenate(spans), self._signatures[kept], self._shingle_counts[kept],
                          names=[names[row] for row in kept], lowercase=lowercase)
        self.__dict__.update(fresh.__dict__)

    def _add_vectors(self, vectors: np.ndarray) -> None:
        import faiss

        dim = self._encoder_info["dim"]
        if self._vectors is None:
            self._vectors = faiss.IndexFlatIP(dim)
        total = self._vectors.ntotal + len(vectors)
        flat = isinstance(self._vectors, faiss.IndexFlat)
        if total > self.settings.ann_threshold and (flat or ivf_lists(total) >= 2 * faiss.extract_index_ivf(self._vectors).nlist):
            existing = self._embeddings[self._vector_rows].astype(np.float32) if self._vectors.ntotal else vectors[:0]
            self._vectors = ivf_index(np.concatenate([existing, vectors]))
        else:
            self._vectors.add(vectors)

    # ------------------------------------------------------------------ searching
    def search(
        self, sentences: Sequence[str], embeddings: np.ndarray, k: int = 5, exclude_ids: Iterable[str] = ()
    ) -> list[tuple[str, float]]:
        """Up to ``k`` candidate sources for a suspect's sentences, best first, with a score in 0..1."""
        embeddings = self._checked_query(sentences, embeddings, k)
        excluded = {self._row_of[str(i)] for i in exclude_ids if str(i) in self._row_of}
        if not len(self) or not len(sentences):
            return []
        dense = self._dense_votes(embeddings, excluded)
        signature, size = _fingerprint_of_texts(list(sentences), self.settings)
        candidates = set(np.flatnonzero(dense).tolist()) | self._lsh_candidates(signature)
        rows = np.array(sorted(candidates - excluded), dtype=np.int64)
        if not len(rows):
            return []
        contained = _containment(signature_jaccard(signature, self._signatures[rows]), size, self._shingle_counts[rows])
        weight = self.settings.dense_weight
        scores = weight * dense[rows] + (1 - weight) * contained
        best = np.argsort(-scores, kind="stable")[:k]
        return [(self._documents[rows[i]].id, float(np.clip(scores[i], 0.0, 1.0))) for i in best if scores[i] > 0]

    def _checked_query(self, sentences, embeddings, k) -> np.ndarray:
        if isinstance(sentences, str):
            raise InputError("search() takes a list of sentences, not one string: wrap it as [sentence]")
        if not isinstance(k, int) or k < 1:
            raise InputError(f"k={k!r} must be a positive integer")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        dim = self._encoder_info["dim"] if self._encoder_info else embeddings.shape[-1]
        if embeddings.ndim != 2 or embeddings.shape != (len(sentences), dim):
            raise InputError(
                f"embeddings of shape {embeddings.shape} do not fit {len(sentences)} sentences of dimension {dim}: "
                "embed the same sentences with the index's encoder"
            )
        return np.ascontiguousarray(embeddings)

    def _dense_votes(self, embeddings: np.ndarray, excluded: set[int]) -> np.ndarray:
        """Per document: mean over suspect sentences of the best cosine above the floor, rescaled to 0..1."""
        votes = np.zeros(len(self), dtype=np.float64)
        if self._vectors is None or self._vectors.ntotal == 0:
            return votes
        cosines, ids = self._nearest(embeddings, excluded)
        query = np.repeat(np.arange(len(embeddings)), ids.shape[1])
        cosines, ids = cosines.ravel(), ids.ravel()
        floor = self.settings.dense_floor
        keep = (ids >= 0) & (cosines > floor)
        query, cosines = query[keep], cosines[keep]
        docs = np.searchsorted(self._offsets, self._vector_rows[ids[keep]], side="right") - 1
        order = np.lexsort((-cosines, docs, query))
        pairs = query[order] * len(self) + docs[order]
        first = np.unique(pairs, return_index=True)[1]
        best_docs, best_cosines = docs[order][first], cosines[order][first]
        gain = (np.minimum(best_cosines, 1.0) - floor) / (1.0 - floor)
        votes += np.bincount(best_docs, weights=gain, minlength=len(self))
        return votes / len(embeddings)

    def _nearest(self, embeddings: np.ndarray, excluded: set[int]) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        count = min(self.settings.neighbours, self._vectors.ntotal)
        kwargs, parameters = {}, faiss.SearchParameters
        if isinstance(self._vectors, faiss.IndexIVF):
            kwargs, parameters = {"nprobe": self.settings.ivf_probe}, faiss.SearchParametersIVF
        elif isinstance(self._vectors, faiss.IndexHNSW):  # indexes saved before the IVF switch
            kwargs, parameters = {"efSearch": max(64, count)}, faiss.SearchParametersHNSW
        if excluded:
            vector_ids = np.concatenate([np.arange(*self._vector_span(row)) for row in excluded])
            kwargs["sel"] = faiss.IDSelectorNot(faiss.IDSelectorBatch(vector_ids.astype(np.int64)))
        return self._vectors.search(embeddings, count, params=parameters(**kwargs))

    def _vector_span(self, row: int) -> tuple[int, int]:
        begin, end = self._offsets[row], self._offsets[row + 1]
        return tuple(int(i) for i in np.searchsorted(self._vector_rows, [begin, end]))

    def name_frequency(self, name: str) -> int:
        """How many sources carry ``name`` (a key as `detector.story.source_names` gives it)."""
        return len(self._rows_naming().get(name, ()))

    def lowercase_frequency(self, word: str) -> int:
        """How many sources write ``word`` (a key as `detector.story.source_lowercase_words` gives it)
        lower-case mid-sentence."""
        return self._lowercase_counts()[word]

    def word_frequency(self, word: str) -> int:
        """About how many sources carry ``word`` (a key as `detector.story.story_words` gives it): its
        name and lower-case counts added, capped at the index size. A source writing it both ways
        counts twice, one using it only to open sentences not at all; for weighing words, not counting."""
        return min(len(self), self.name_frequency(word) + self.lowercase_frequency(word))

    def _lowercase_counts(self) -> Counter:
        if self._lowercase is None:  # an index saved before lower-case words were counted: read its text
            self._lowercase = _lowercase_counts(self._segments)
        return self._lowercase

    def sources_naming(self, names: Iterable[str], min_shared: int = 1, exclude_ids: Iterable[str] = ()) -> list[tuple[str, int]]:
        """Sources that carry at least ``min_shared`` of ``names``, with how many, most first."""
        rows_naming = self._rows_naming()
        counts: dict[int, int] = {}
        for name in set(names):
            for row in rows_naming.get(name, ()):
                counts[row] = counts.get(row, 0) + 1
        excluded = {str(i) for i in exclude_ids}
        found = [(self._documents[row].id, count) for row, count in counts.items() if count >= min_shared]
        return sorted(((i, c) for i, c in found if i not in excluded), key=lambda item: (-item[1], item[0]))

    def _source_names(self) -> list[frozenset[str]]:
        if self._names is None:  # an index saved before names were counted: read them from the text
            self._names = [source_names([seg.text for seg in segs]) for segs in self._segments]
        return self._names

    def _rows_naming(self) -> dict[str, list[int]]:
        if self._name_rows is None:
            rows_naming: dict[str, list[int]] = {}
            for row, found in enumerate(self._source_names()):
                for name in found:
                    rows_naming.setdefault(name, []).append(row)
            self._name_rows = rows_naming
        return self._name_rows

    def _lsh_candidates(self, signature: np.ndarray) -> set[int]:
        from datasketch import LeanMinHash

        if not len(self):
            return set()
        return set(self._lsh.query(LeanMinHash(seed=FINGERPRINT_SEED, hashvalues=signature, scheme=FINGERPRINT_SCHEME)))

    # ------------------------------------------------------------------ stored vectors
    def stored_vectors(self, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``sentences`` found verbatim among the indexed sentences, and their stored vectors.

        A sentence copied word for word from a source need not be encoded again: the detector looks
        it up here first. The lookup is a sorted table of text hashes over every indexed sentence
        (16 bytes a sentence), built on first use; each hit is checked against the stored text.
        """
        dim = self._encoder_info["dim"] if self._encoder_info else 0
        if not len(sentences) or self._embeddings is None or not len(self._embeddings):
            return np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32)
        hashes, rows = self._sentences_by_hash()
        query = np.fromiter((hash(sentence) for sentence in sentences), dtype=np.int64, count=len(sentences))
        at = np.minimum(np.searchsorted(hashes, query), len(hashes) - 1)
        positions = [
            (i, int(rows[at[i]])) for i in np.flatnonzero(hashes[at] == query)
            if self._segment_text(int(rows[at[i]])) == sentences[i]
        ]
        found = np.array([i for i, _ in positions], dtype=np.int64)
        vectors = np.asarray(self._embeddings[[row for _, row in positions]], dtype=np.float32).reshape(len(found), dim)
        return found, vectors

    def _sentences_by_hash(self) -> tuple[np.ndarray, np.ndarray]:
        if self._sentence_table is None:
            texts = (segment.text for segments in self._segments for segment in segments)
            hashes = np.fromiter((hash(text) for text in texts), dtype=np.int64, count=int(self._offsets[-1]))
            order = np.argsort(hashes, kind="stable")
            self._sentence_table = (hashes[order], order)
        return self._sentence_table

    def _segment_text(self, row: int) -> str:
        document = int(np.searchsorted(self._offsets, row, side="right")) - 1
        return self._segments[document][row - int(self._offsets[document])].text

    # ------------------------------------------------------------------ sources
    def source(self, doc_id: str) -> IndexedSource:
        """The indexed document, its segments and their embeddings (for sentence alignment)."""
        row = self._row_of.get(str(doc_id))
        if row is None:
            raise InputError(f"no source with id {doc_id!r} in this index of {len(self)} documents")
        begin, end = int(self._offsets[row]), int(self._offsets[row + 1])
        return IndexedSource(
            document=self._documents[row],
            segments=list(self._segments[row]),
            embeddings=np.asarray(self._embeddings[begin:end], dtype=np.float32),
        )

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | Path) -> None:
        """Write the index folder atomically: into a temporary sibling, then renamed over ``path``.

        A save killed at any point leaves ``path`` holding the index as it was before or after it
        (`recover_index`, which every load and save runs first, finishes the job)."""
        target = Path(path)
        recover_index(target)
        _check_save_target(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            self._write_files(staging)
            _swap_in(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _write_files(self, folder: Path) -> None:
        import faiss
        import pyarrow as pa
        import pyarrow.parquet as pq

        docs = self._documents
        pq.write_table(pa.table({
            "id": [d.id for d in docs],
            "text": [d.text for d in docs],
            "meta": [json.dumps(d.meta, ensure_ascii=False, default=str) for d in docs],
        }), folder / "documents.parquet")
        segs = [seg for doc_segments in self._segments for seg in doc_segments]
        pq.write_table(pa.table({
            "document": np.repeat(np.arange(len(docs), dtype=np.int64), np.diff(self._offsets)),
            "text": [seg.text for seg in segs],
            "start": np.array([seg.start for seg in segs], dtype=np.int64),
            "end": np.array([seg.end for seg in segs], dtype=np.int64),
            "is_boilerplate": np.array([seg.is_boilerplate for seg in segs], dtype=bool),
            "is_heading": np.array([seg.is_heading for seg in segs], dtype=bool),
        }), folder / "segments.parquet")
        names = self._source_names()
        pq.write_table(pa.table({
            "document": np.repeat(np.arange(len(docs), dtype=np.int64), [len(found) for found in names]),
            "name": [name for found in names for name in sorted(found)],
        }), folder / "names.parquet")
        lowercase = self._lowercase_counts()
        words = sorted(lowercase)
        pq.write_table(pa.table({
            "word": words, "sources": np.array([lowercase[word] for word in words], dtype=np.int64),
        }), folder / "lowercase.parquet")
        dim = self._encoder_info["dim"] if self._encoder_info else 0
        embeddings = self._embeddings if self._embeddings is not None else np.zeros((0, dim), np.float16)
        np.save(folder / "embeddings.npy", np.asarray(embeddings, dtype=np.float16))
        np.save(folder / "vector_rows.npy", self._vector_rows)
        np.save(folder / "signatures.npy", self._signatures)
        np.save(folder / "shingle_counts.npy", self._shingle_counts)
        if self._vectors is not None:
            faiss.write_index(self._vectors, str(folder / "vectors.faiss"))
        manifest = self._manifest(sorted(p.name for p in folder.iterdir()), folder)
        manifest["checksum"] = _manifest_checksum(manifest)
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    def _manifest(self, names: list[str], folder: Path) -> dict:
        from detector import __version__

        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "encoder": self._encoder_info,
            "fingerprint": {
                "version": FINGERPRINT_VERSION,
                "seed": FINGERPRINT_SEED,
                "scheme": FINGERPRINT_SCHEME,
                "num_perm": self.settings.num_perm,
            },
            "settings": dataclasses.asdict(self.settings),
            "vector_index": "none" if self._vectors is None else type(self._vectors).__name__,
            "counts": {"documents": len(self), "segments": int(self._offsets[-1]), "vectors": len(self._vector_rows)},
            "files": {name: {"bytes": (folder / name).stat().st_size, "sha256": file_sha256(folder / name)} for name in names},
        }

    @classmethod
    def load(cls, path: str | Path, encoder: SentenceEncoder | None = None) -> SourceIndex:
        """Read an index folder; `IndexFormatError` if it is missing, corrupt, foreign or outdated."""
        folder = Path(path)
        recover_index(folder)
        manifest = _read_manifest(folder)
        _verify_files(folder, manifest)
        try:
            index = cls._from_files(folder, manifest)
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            raise IndexFormatError(f"source index {str(folder)!r} cannot be read ({exc}): {REBUILD_HINT}") from exc
        if encoder is not None:
            index._encoder_info = _checked_encoder(encoder, index._encoder_info)
            index._encoder = encoder
        return index

    @classmethod
    def _from_files(cls, folder: Path, manifest: dict) -> SourceIndex:
        import faiss
        import pyarrow.parquet as pq

        index = cls(settings=_settings_from(manifest["settings"]))
        index._encoder_info = manifest["encoder"]
        docs = pq.read_table(folder / "documents.parquet").to_pydict()
        index._documents = [Document(id=i, text=t, meta=json.loads(m)) for i, t, m in zip(docs["id"], docs["text"], docs["meta"])]
        index._row_of = {doc.id: row for row, doc in enumerate(index._documents)}
        index._segments, index._offsets = _segments_from_table(pq.read_table(folder / "segments.parquet").to_pydict(), len(docs["id"]))
        index._embeddings = np.load(folder / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        index._vector_rows = np.load(folder / "vector_rows.npy", allow_pickle=False)
        index._signatures = np.load(folder / "signatures.npy", allow_pickle=False)
        index._shingle_counts = np.load(folder / "shingle_counts.npy", allow_pickle=False)
        if (folder / "vectors.faiss").is_file():
            index._vectors = faiss.read_index(str(folder / "vectors.faiss"))
        if "names.parquet" in manifest["files"]:
            index._names = _names_from_table(pq.read_table(folder / "names.parquet").to_pydict(), len(docs["id"]))
        else:
            index._names = None
        if "lowercase.parquet" in manifest["files"]:
            table = pq.read_table(folder / "lowercase.parquet").to_pydict()
            index._lowercase = Counter(dict(zip(table["word"], table["sources"])))
        else:
            index._lowercase = None
        _check_counts(index, manifest["counts"], folder)
        _check_finite(index._embeddings, folder)
        _insert_lsh(index._lsh, index._signatures, 0, index.settings)
        return index


# ---------------------------------------------------------------------- encoder identity
def _encoder_info(encoder: SentenceEncoder) -> dict:
    """Name, dimension and the embedding of a fixed probe sentence: what identifies an encoder."""
    probe = encoder.encode([_PROBE_SENTENCE])[0]
    return {"name": encoder.name, "dim": int(encoder.dim), "probe": [round(float(x), 6) for x in probe]}


def _checked_encoder(encoder: SentenceEncoder, built_with: dict | None) -> dict:
    """The encoder's identity, after checking it against the one that built the index."""
    info = _encoder_info(encoder)
    if built_with is None:
        return info
    if info["dim"] != built_with["dim"]:
        raise InputError(
            f"this index was built with encoder {built_with['name']!r} (dimension {built_with['dim']}), "
            f"not {info['name']!r} (dimension {info['dim']}): load it with the encoder that built it, or {REBUILD_HINT}"
        )
    same = 0.95 if getattr(encoder, "quantized", False) else 0.999  # int8 moves a vector by a cosine of ~0.03
    if float(np.dot(info["probe"], built_with["probe"])) < same:
        warnings.warn(
            f"this index was built with encoder {built_with['name']!r}, which embeds differently from "
            f"{info['name']!r}: search quality will suffer; {REBUILD_HINT} with the new encoder",
            UserWarning,
            stacklevel=3,
        )
    return built_with


# ---------------------------------------------------------------------- vectors and fingerprints
def _settings_from(saved: dict) -> IndexSettings:
    """The manifest's settings; those of indexes saved before the IVF switch (HNSW keys) map over."""
    saved = dict(saved)
    if "hnsw_threshold" in saved:
        saved["ann_threshold"] = saved.pop("hnsw_threshold")
    known = {f.name for f in dataclasses.fields(IndexSettings)}
    return IndexSettings(**{key: value for key, value in saved.items() if key in known})


def ivf_lists(vectors: int) -> int:
    """IVF cells for an index of `vectors` vectors: 4 * sqrt(n) (FAISS's rule of thumb), with at
    least 39 vectors per cell to train on (fewer, and k-means places cells badly)."""
    return max(1, min(int(4 * np.sqrt(vectors)), vectors // 39))


def ivf_index(vectors: np.ndarray, seed: int = 1234):
    """Inverted-file index over fp16 vectors (inner product), its k-means cells drawn from `vectors`.

    k-means runs 10 iterations on at most 64 vectors per cell: enough to place the cells, a few
    minutes at a million vectors on two cores.
    """
    import faiss

    lists = ivf_lists(len(vectors))
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter, index.cp.seed = 10, seed
    sample = np.random.default_rng(seed).permutation(len(vectors))[: 64 * lists]
    index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    index.add(vectors)
    return index


def _fingerprint(segments: list[Segment], settings: IndexSettings) -> tuple[np.ndarray, int]:
    texts = [seg.text for seg in segments if not seg.is_boilerplate and not seg.is_heading]
    return _fingerprint_of_texts(texts, settings)


def _fingerprint_of_texts(sentences: list[str], settings: IndexSettings) -> tuple[np.ndarray, int]:
    """MinHash signature of the sentences' immutables, and how many shingles went into it."""
    shingles = immutable_shingles(document_immutables(sentences))
    return immutables_signature(shingles, settings.num_perm, FINGERPRINT_SEED), len(shingles)


def _containment(jaccard: np.ndarray, query_size: int, source_sizes: np.ndarray) -> np.ndarray:
    """Share of the query's shingles found in each source, from the Jaccard estimate and set sizes."""
    if query_size == 0:
        return np.zeros_like(jaccard)
    shared = jaccard * (query_size + source_sizes) / (1.0 + jaccard)
    return np.clip(shared / query_size, 0.0, 1.0)


def _new_lsh(settings: IndexSettings):
    from datasketch import MinHashLSH

    return MinHashLSH(threshold=settings.lsh_threshold, num_perm=settings.num_perm)


def _insert_lsh(lsh, signatures: np.ndarray, first_row: int, settings: IndexSettings) -> None:
    from datasketch import LeanMinHash

    with lsh.insertion_session() as session:
        for offset, signature in enumerate(signatures):
            session.insert(first_row + offset, LeanMinHash(seed=FINGERPRINT_SEED, hashvalues=signature, scheme=FINGERPRINT_SCHEME), check_duplication=False)


def _checked_ids(ids) -> list:
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
        raise InputError(f"remove() takes a list of source ids, not one {type(ids).__name__}: wrap one id as [id]")
    return list(ids)


# ---------------------------------------------------------------------- folder helpers
def _check_save_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InputError(f"cannot save the index to {str(target)!r}: it is a file; give a folder path")
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise InputError(
            f"refusing to save the index over {str(target)!r}: the folder is not empty and holds no source index; "
            "give a new or empty folder"
        )


def _swap_in(staging: Path, target: Path) -> None:
    """Rename the finished folder over the target; the old index stays whole until the rename."""
    if not target.exists():
        os.rename(staging, target)
        return
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(target, retired)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(retired, target)  # put the old index back before the error propagates
        raise
    shutil.rmtree(retired, ignore_errors=True)


def recover_index(target: str | Path) -> None:
    """Finish what a killed `SourceIndex.save` of ``target`` left: put back the index it retired
    if the new one never moved in, and remove the temporary folders of saves no longer running
    (and a retired index whose removal was cut short). Loads and saves run it first; call it
    before deciding that no index exists at ``target``."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    retired = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not target.exists():
        whole = [folder for folder in retired if (folder / MANIFEST).is_file()]
        if whole:
            os.rename(whole[-1], target)
            retired.remove(whole[-1])
    if (target / MANIFEST).is_file():
        for folder in retired:
            shutil.rmtree(folder, ignore_errors=True)
    for staging in target.parent.glob(f".{target.name}.tmp-*"):
        if not _save_running(staging.name.rsplit(".tmp-", 1)[1]):
            shutil.rmtree(staging, ignore_errors=True)


def _save_running(suffix: str) -> bool:
    """Whether the process named in a staging folder's suffix ("<pid>-<random>") still runs."""
    pid = suffix.split("-", 1)[0]
    if not pid.isdigit() or "-" not in suffix:
        return False  # a folder from a release that did not name its process: long dead
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _read_manifest(folder: Path) -> dict:
    if not folder.is_dir():
        raise IndexFormatError(f"no source index at {str(folder)!r} (not a folder): give an index folder, or {REBUILD_HINT}")
    if not (folder / MANIFEST).is_file():
        raise IndexFormatError(f"{str(folder)!r} is not a source index (no {MANIFEST}): {REBUILD_HINT}")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexFormatError(f"{MANIFEST} of {str(folder)!r} is truncated or corrupt ({exc}): {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{str(folder)!r} holds no spin-detector source index (foreign {MANIFEST}): {REBUILD_HINT}")
    version = manifest.get("format_version")
    if version not in READABLE_VERSIONS:
        raise IndexFormatError(
            f"source index {str(folder)!r} has format version {version!r} "
            f"(written by spin-detector {manifest.get('library_version')}); this version reads formats "
            f"{', '.join(map(str, READABLE_VERSIONS))}: {REBUILD_HINT}"
        )
    if not isinstance(manifest.get("files"), dict) or not manifest["files"]:
        raise IndexFormatError(f"{MANIFEST} of {str(folder)!r} lists no files, so nothing can be checked: {REBUILD_HINT}")
    if version >= 2 and manifest.get("checksum") != _manifest_checksum(manifest):
        raise IndexFormatError(
            f"{MANIFEST} of {str(folder)!r} fails its checksum: its settings, counts or file list were edited; {REBUILD_HINT}"
        )
    if version < 2:
        warnings.warn(
            f"source index {str(folder)!r} is of format {version}, whose manifest carries no checksum of its own: "
            "save it again to add one (in Python: SourceIndex.load(folder).save(folder))",
            stacklevel=3,
        )
    expected = {"version": FINGERPRINT_VERSION, "seed": FINGERPRINT_SEED, "scheme": FINGERPRINT_SCHEME}
    fingerprint = manifest.get("fingerprint", {})
    if {key: fingerprint.get(key) for key in expected} != expected:
        raise IndexFormatError(f"source index {str(folder)!r} uses another immutables fingerprint ({fingerprint}): {REBUILD_HINT}")
    return manifest


def _manifest_checksum(manifest: dict) -> str:
    """sha256 of the manifest's canonical JSON without its own checksum: edits to the settings,
    counts or file list show. A checksum, not a signature: whoever edits the file can recompute it."""
    body = {key: value for key, value in manifest.items() if key != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _verify_files(folder: Path, manifest: dict) -> None:
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise IndexFormatError(f"source index {str(folder)!r} lacks {name}: it is incomplete; {REBUILD_HINT}")
        if path.stat().st_size != expected["bytes"]:
            raise IndexFormatError(
                f"{name} of source index {str(folder)!r} has {path.stat().st_size} bytes, not {expected['bytes']}: "
                f"it is truncated or changed; {REBUILD_HINT}"
            )
        if file_sha256(path) != expected["sha256"]:
            raise IndexFormatError(f"{name} of source index {str(folder)!r} fails its sha256 checksum: it is corrupt; {REBUILD_HINT}")


def _segments_from_table(table: dict, n_documents: int) -> tuple[list[list[Segment]], np.ndarray]:
    owners = np.asarray(table["document"], dtype=np.int64)
    offsets = np.searchsorted(owners, np.arange(n_documents + 1), side="left").astype(np.int64)
    flat = [
        Segment(text=text, start=start, end=end, is_boilerplate=boiler, is_heading=heading)
        for text, start, end, boiler, heading in zip(
            table["text"], table["start"], table["end"], table["is_boilerplate"], table["is_heading"]
        )
    ]
    return [flat[offsets[row] : offsets[row + 1]] for row in range(n_documents)], offsets


def _lowercase_counts(segments: Iterable[list[Segment]]) -> Counter:
    """Per word, how many of the sources (given as their segments) write it lower-case mid-sentence."""
    return Counter(word for segs in segments for word in source_lowercase_words([seg.text for seg in segs]))


def _names_from_table(table: dict, n_documents: int) -> list[frozenset[str]]:
    found: list[set[str]] = [set() for _ in range(n_documents)]
    for row, name in zip(table["document"], table["name"]):
        if not 0 <= row < n_documents:
            raise ValueError(f"names.parquet names document {row} of {n_documents}")
        found[row].add(name)
    return [frozenset(names) for names in found]


def _check_finite(embeddings: np.ndarray, folder: Path, rows: int = 1 << 18) -> None:
    """Refuse stored vectors holding NaN or infinity (they would reach a report as NaN similarities);
    read a block of rows at a time, since the array is memory-mapped."""
    for start in range(0, len(embeddings), rows):
        if not np.isfinite(embeddings[start : start + rows]).all():
            raise IndexFormatError(f"embeddings.npy of source index {str(folder)!r} holds values that are not finite numbers: {REBUILD_HINT}")


def _check_counts(index: SourceIndex, counts: dict, folder: Path) -> None:
    found = {"documents": len(index), "segments": int(index._offsets[-1]), "vectors": len(index._vector_rows)}
    vectors = index._vectors.ntotal if index._vectors is not None else 0
    if found != counts or vectors != counts["vectors"] or len(index._embeddings) != counts["segments"] or len(index._signatures) != counts["documents"]:
        raise IndexFormatError(f"source index {str(folder)!r} is inconsistent (manifest counts {counts}, files hold {found}): {REBUILD_HINT}")
