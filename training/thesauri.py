"""Readers for the three thesauri in ``shared/data/thesaurus`` and the merged `Thesaurus`.

Article spinners draw their swaps from context-free thesauri such as LibreOffice's MyThes list; the
spinner and the shipped synonym table need the same kind of data. The readers turn each format into
plain ``(term, synonym, pos, relation)`` tuples, all senses kept:

* MyThes (``th_en_US_v2.dat``): ``headword|n`` then ``n`` lines ``(pos)|syn|syn|...``; plain and
  "similar" terms are synonyms, a "generic term" is broader (MyThes lists "safety" as the generic
  term of "security", a swap spinners make), "related" terms are related, antonyms are dropped;
* WordNet 3.0 (``data.noun`` ...): every pair of lemmas in a synset (underscores are spaces);
  ``*.exc`` lists give the base forms of irregular inflections;
* PPDB lexical: ``word<TAB>word`` pairs, inflected forms as they stand, no part of speech.

Each direction of a pair carries its relation: ``synonym``, ``broader`` (term -> its generic term),
``narrower`` (the reverse: "day" -> "walpurgis night", which no spinner writes) or ``related``.

Terms with capitals (names, acronyms: "The Hague", "NATO"), with digits, without letters or of more
than `MAX_PHRASE_WORDS` words are left out: a spinner leaves names and numbers alone.

Example:
    >>> th = Thesaurus()
    >>> th.add("role", "function", "mythes", "noun")
    >>> [(s.text, s.sources, s.pos, s.relations) for s in th.synonyms("role")]
    [('function', ('mythes',), ('noun',), ('synonym',))]
    >>> th.synonyms("function")[0].text
    'role'
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from detector.errors import InputError
from training.corpora import resolve_shared_dir

__all__ = [
    "MAX_PHRASE_WORDS",
    "POS",
    "RELATIONS",
    "FAMILY_SOURCES",
    "SOURCES",
    "Synonym",
    "Thesaurus",
    "files_fingerprint",
    "load_thesaurus",
    "read_mythes",
    "read_ppdb",
    "read_wordnet",
    "read_wordnet_exceptions",
]

SOURCES = ("mythes", "wordnet", "ppdb")  # the thesauri on disk, looped over by leave-one-thesaurus-out training
# Sources a `Thesaurus` may hold: the thesauri plus two substitution families built elsewhere
# (`training.families`): embedding neighbours and tortured phrases, which no training set draws from.
FAMILY_SOURCES = SOURCES + ("embedding", "pps")
POS = ("noun", "verb", "adj", "adv")
RELATIONS = ("synonym", "broader", "narrower", "related")
MAX_PHRASE_WORDS = 4
CACHE_FORMAT_VERSION = 3  # 3: five source bits (FAMILY_SOURCES) before the POS and relation bits

_SOURCE_BIT = {name: 1 << i for i, name in enumerate(FAMILY_SOURCES)}
_POS_SHIFT = len(FAMILY_SOURCES)
_POS_BIT = {name: 1 << (_POS_SHIFT + i) for i, name in enumerate(POS)}
_RELATION_SHIFT = _POS_SHIFT + len(POS)
_RELATION_BIT = {name: 1 << (_RELATION_SHIFT + i) for i, name in enumerate(RELATIONS)}
_REVERSE = {"synonym": "synonym", "broader": "narrower", "narrower": "broader", "related": "related"}
_SOURCE_MASK = sum(_SOURCE_BIT.values())
_RELATION_MASK = sum(_RELATION_BIT.values())
_WORDNET_FILES = {"noun": "noun", "verb": "verb", "adj": "adj", "adv": "adv"}
_MYTHES_NOTES = {" (generic term)": "broader", " (similar term)": "synonym", " (related term)": "related"}
_WORDNET_MARKER = re.compile(r"\((?:a|p|ip)\)$")
_DIGIT = re.compile(r"\d")

MYTHES_FILE = "mythes-en-us/th_en_US_v2.dat"
WORDNET_DIR = "wordnet-3.0"
PPDB_FILE = "ppdb-lexical/ppdb-1.0-xxxl-lexical.extended.synonyms.uniquepairs"
_SOURCE_FILES = {
    "mythes": (MYTHES_FILE,),
    "wordnet": tuple(
        f"{WORDNET_DIR}/{name}" for suffix in _WORDNET_FILES.values() for name in (f"data.{suffix}", f"{suffix}.exc")
    ),
    "ppdb": (PPDB_FILE,),
}
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / "build" / "thesaurus"


@dataclass(frozen=True)
class Synonym:
    """One synonym of a term: its text, the thesauri that list it, parts of speech and relations."""

    text: str
    sources: tuple[str, ...]
    pos: tuple[str, ...]  # parts of speech any source gives the pair; empty for PPDB-only pairs
    relations: tuple[str, ...]  # from the term to this synonym: "synonym", "broader", "narrower", "related"


def clean_term(term: str) -> str | None:
    """Whitespace-collapsed ``term``, or None when it is unusable as a swap: a name or acronym
    (capitals), a number (digits), no letters at all, or more than `MAX_PHRASE_WORDS` words."""
    term = " ".join(term.split())
    if not term.islower() or _DIGIT.search(term) or term.count(" ") >= MAX_PHRASE_WORDS:
        return None
    return term


def read_mythes(path: str | os.PathLike) -> Iterator[tuple[str, str, str, str]]:
    """``(headword, synonym, pos, relation)`` for every non-antonym entry of a MyThes ``.dat`` file."""
    with open(path, encoding="utf-8", errors="replace") as lines:
        next(lines)  # encoding line
        headword = None
        for line in lines:
            if not line.startswith("("):
                headword = line.split("|", 1)[0]
                continue
            fields = line.rstrip("\n").split("|")
            pos = fields[0].strip("()")
            for field in fields[1:]:
                if field.endswith(" term)"):
                    note = field[field.rindex(" (") :]
                    yield headword, field[: -len(note)], pos, _MYTHES_NOTES.get(note, "related")
                elif not field.endswith("(antonym)"):
                    yield headword, field, pos, "synonym"


def _wordnet_lemmas(line: str) -> list[str]:
    fields = line.split(" ", 4 + 2 * int(line.split(" ", 4)[3], 16))
    words = fields[4:-1:2]
    return [_WORDNET_MARKER.sub("", word).replace("_", " ") for word in words]


def read_wordnet(folder: str | os.PathLike) -> Iterator[tuple[list[str], str]]:
    """``(lemmas, pos)`` for every synset in the WordNet ``data.*`` files of ``folder``."""
    for pos, suffix in _WORDNET_FILES.items():
        with open(Path(folder) / f"data.{suffix}", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.startswith(" "):
                    yield _wordnet_lemmas(line), pos


def read_wordnet_exceptions(folder: str | os.PathLike) -> dict[str, tuple[str, ...]]:
    """Irregular inflected form -> its base forms, from the WordNet ``*.exc`` lists ("geese" -> ("goose",))."""
    irregular: dict[str, tuple[str, ...]] = {}
    for suffix in _WORDNET_FILES.values():
        with open(Path(folder) / f"{suffix}.exc", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                form, *bases = line.split()
                merged = irregular.get(form, ()) + tuple(b.replace("_", " ") for b in bases)
                irregular[form] = tuple(dict.fromkeys(merged))
    return irregular


def read_ppdb(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """``(word, word)`` pairs of a PPDB lexical pair file."""
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2:
                yield parts[0], parts[1]


class Thesaurus:
    """Word or phrase (lower-case) -> synonyms over all senses, each tagged with its sources.

    Entries are symmetric: adding ``a -> b`` also adds ``b -> a`` (a broader term's reverse is
    narrower). Each entry is a bit mask of sources, parts of speech and relations. A thesaurus
    saved with `save` reloads in well under a second: its rows stay in flat arrays and become
    dictionaries only when they are looked up or changed.
    """

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, int]] = {}
        self._frozen_vocab: list[str] = []
        self._frozen_ids: dict[str, int] = {}
        self._indptr = np.zeros(1, dtype=np.int64)
        self._indices = np.zeros(0, dtype=np.int32)
        self._bits = np.zeros(0, dtype=np.uint16)
        self.irregular: dict[str, tuple[str, ...]] = {}
        self.loaded_sources: tuple[str, ...] = ()

    def _row(self, term: str, create: bool = False, keep: bool = True) -> dict[str, int] | None:
        row = self._entries.get(term)
        if row is None and term in self._frozen_ids:
            i = self._frozen_ids[term]
            lo, hi = self._indptr[i], self._indptr[i + 1]
            row = dict(zip([self._frozen_vocab[j] for j in self._indices[lo:hi].tolist()], self._bits[lo:hi].tolist()))
            if keep or create:
                self._entries[term] = row
        elif row is None and create:
            row = self._entries[term] = {}
        return row

    def add(self, term: str, synonym: str, source: str, pos: str | None = None, relation: str = "synonym") -> None:
        """Record ``term`` -> ``synonym`` (and the reverse) from ``source``."""
        self.add_many([(term, synonym, pos, relation)], source)

    def add_many(self, entries: Iterable[tuple[str, str, str | None, str]], source: str) -> None:
        """Record every ``(term, synonym, pos, relation)`` (and its reverse) from ``source``; ``pos`` may be None."""
        if source not in _SOURCE_BIT:
            raise InputError(f"unknown thesaurus source {source!r}; use one of {', '.join(FAMILY_SOURCES)}")
        pos_bits = {None: 0, **_POS_BIT}
        cleaned: dict[str, str | None] = {}
        rows = self._entries
        for term, synonym, pos, relation in entries:
            if pos not in pos_bits:
                raise InputError(f"unknown part of speech {pos!r}; use one of {', '.join(POS)} or None")
            if relation not in _RELATION_BIT:
                raise InputError(f"unknown relation {relation!r}; use one of {', '.join(RELATIONS)}")
            a = cleaned[term] if term in cleaned else cleaned.setdefault(term, clean_term(term))
            b = cleaned[synonym] if synonym in cleaned else cleaned.setdefault(synonym, clean_term(synonym))
            if a is None or b is None or a == b:
                continue
            bits = _SOURCE_BIT[source] | pos_bits[pos]
            row = rows.get(a) or self._row(a, create=True)
            row[b] = row.get(b, 0) | bits | _RELATION_BIT[relation]
            row = rows.get(b) or self._row(b, create=True)
            row[a] = row.get(a, 0) | bits | _RELATION_BIT[_REVERSE[relation]]
        if source not in self.loaded_sources:
            self.loaded_sources += (source,)

    def synonyms(
        self,
        term: str,
        sources: Iterable[str] | None = None,
        pos: str | None = None,
        relations: Iterable[str] | None = None,
    ) -> list[Synonym]:
        """Synonyms of ``term`` (any case), optionally only those from ``sources``, with part of
        speech ``pos`` (synonyms without one, from PPDB, are kept) or in ``relations``."""
        row = self._row(" ".join(term.lower().split()))
        if not row:
            return []
        wanted = self._source_mask(sources)
        wanted_relations = _mask(relations, _RELATION_BIT, _RELATION_MASK, "relation")
        pos_bit = _POS_BIT.get(pos, 0) if pos is not None else 0
        result = []
        for text, bits in row.items():
            if not bits & wanted or not bits & wanted_relations:
                continue
            pos_bits = bits >> _POS_SHIFT & 0xF
            if pos is not None and pos_bits and not pos_bits << _POS_SHIFT & pos_bit:
                continue
            relation_names = _RELATION_NAMES[bits >> _RELATION_SHIFT]
            result.append(Synonym(text, _SOURCE_NAMES[bits & wanted], _POS_NAMES[pos_bits], relation_names))
        return result

    @staticmethod
    def _source_mask(sources: Iterable[str] | None) -> int:
        return _mask(sources, _SOURCE_BIT, _SOURCE_MASK, "thesaurus source")

    def pairs(
        self, sources: Iterable[str] | None = None, relations: Iterable[str] | None = None
    ) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        """Every ``(term, synonym, sources)`` once per direction, optionally only from ``sources`` or in ``relations``."""
        wanted = self._source_mask(sources)
        wanted_relations = _mask(relations, _RELATION_BIT, _RELATION_MASK, "relation")
        for term in self.terms():
            for text, bits in self._row(term, keep=False).items():
                if bits & wanted and bits & wanted_relations:
                    yield term, text, _SOURCE_NAMES[bits & wanted]

    def __contains__(self, term: str) -> bool:
        term = " ".join(term.lower().split())
        return term in self._entries or term in self._frozen_ids

    def __len__(self) -> int:
        return len(self._entries) + sum(1 for term in self._frozen_vocab if term not in self._entries)

    def terms(self) -> Iterator[str]:
        """Every term that has at least one synonym."""
        yield from self._entries
        yield from (term for term in self._frozen_vocab if term not in self._entries)

    def save(self, path: str | os.PathLike) -> None:
        """Write the thesaurus as one ``.npz`` of flat arrays (no pickle), atomically."""
        vocab = list(self.terms())
        ids = {term: i for i, term in enumerate(vocab)}
        indptr, indices, bits = [0], [], []
        for term in vocab:
            row = self._row(term, keep=False)
            indices.extend(ids[text] for text in row)
            bits.extend(row.values())
            indptr.append(len(indices))
        irregular = "\n".join(f"{form}\t{'|'.join(bases)}" for form, bases in self.irregular.items())
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
        np.savez(
            temporary,
            format_version=np.array(CACHE_FORMAT_VERSION),
            vocab=_text_array("\n".join(vocab)),
            indptr=np.array(indptr, dtype=np.int64),
            indices=np.array(indices, dtype=np.int32),
            bits=np.array(bits, dtype=np.uint16),
            irregular=_text_array(irregular),
            sources=_text_array("\n".join(self.loaded_sources)),
        )
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Thesaurus:
        """Read a thesaurus written by `save`."""
        try:
            with np.load(path, allow_pickle=False) as arrays:
                if int(arrays["format_version"]) != CACHE_FORMAT_VERSION:
                    raise InputError(
                        f"thesaurus file {str(path)!r} has format {int(arrays['format_version'])}, expected {CACHE_FORMAT_VERSION}; rebuild it"
                    )
                thesaurus = cls()
                thesaurus._frozen_vocab = _text(arrays["vocab"]).split("\n") if arrays["vocab"].size else []
                thesaurus._indptr, thesaurus._indices, thesaurus._bits = (
                    arrays["indptr"],
                    arrays["indices"],
                    arrays["bits"],
                )
                irregular = _text(arrays["irregular"])
                sources = _text(arrays["sources"])
        except (OSError, KeyError, ValueError) as error:
            raise InputError(f"cannot read thesaurus file {str(path)!r} ({error}); delete it to rebuild") from error
        thesaurus._frozen_ids = {term: i for i, term in enumerate(thesaurus._frozen_vocab)}
        thesaurus.irregular = {
            form: tuple(bases.split("|")) for form, bases in (line.split("\t") for line in irregular.splitlines())
        }
        thesaurus.loaded_sources = tuple(sources.split("\n")) if sources else ()
        return thesaurus


def _text_array(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _text(array: np.ndarray) -> str:
    return array.tobytes().decode("utf-8")


def _names(bits: int, names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for i, name in enumerate(names) if bits >> i & 1)


def _mask(names: Iterable[str] | None, bits: dict[str, int], everything: int, what: str) -> int:
    if names is None:
        return everything
    if isinstance(names, str):
        names = (names,)
    unknown = [name for name in names if name not in bits]
    if unknown:
        raise InputError(f"unknown {what}(s) {unknown}; use some of {', '.join(bits)}")
    return sum(bits[name] for name in set(names))


_SOURCE_NAMES = [_names(bits, FAMILY_SOURCES) for bits in range(1 << len(FAMILY_SOURCES))]
_POS_NAMES = [_names(bits, POS) for bits in range(1 << len(POS))]
_RELATION_NAMES = [_names(bits, RELATIONS) for bits in range(1 << len(RELATIONS))]


def load_thesaurus(
    shared_dir: str | os.PathLike | None = None,
    sources: Sequence[str] = SOURCES,
    cache_dir: str | os.PathLike | None = DEFAULT_CACHE_DIR,
) -> Thesaurus:
    """The merged `Thesaurus` of ``sources`` from ``shared_dir/data/thesaurus`` (default: the shared folder).

    Leave a source out for the leave-one-thesaurus-out experiment: ``sources=("mythes", "wordnet")``.
    Parsing takes several seconds, so the result is cached in ``cache_dir`` (the repository's
    ``build/thesaurus``; None turns the cache off), keyed by the sources and their files' sizes and times.
    """
    wanted = Thesaurus._source_mask(sources)
    sources = tuple(s for s in SOURCES if wanted & _SOURCE_BIT[s])
    if not sources:
        raise InputError(f"sources=(): name at least one of {', '.join(SOURCES)}")
    if wanted != sum(_SOURCE_BIT[s] for s in sources):
        raise InputError(
            f"load_thesaurus reads only {', '.join(SOURCES)}; the families embedding and pps come from training.families.family_thesaurus"
        )
    folder = resolve_shared_dir(shared_dir) / "data" / "thesaurus"
    files = [_existing(folder / name) for source in sources for name in _SOURCE_FILES[source]]
    if cache_dir is None:
        return _parse_thesaurus(folder, sources)
    prefix = "-".join(sources)
    cache = Path(cache_dir) / f"{prefix}-{files_fingerprint(files)}.npz"
    if cache.exists():
        try:
            return Thesaurus.load(cache)
        except InputError:
            pass  # a stale or broken cache is rebuilt below
    thesaurus = _parse_thesaurus(folder, sources)
    for stale in Path(cache_dir).glob(f"{prefix}-*.npz"):
        if re.fullmatch(rf"{re.escape(prefix)}-[0-9a-f]{{12}}\.npz", stale.name):
            stale.unlink(missing_ok=True)
    thesaurus.save(cache)
    return thesaurus


def files_fingerprint(files: Sequence[Path]) -> str:
    stamp = [CACHE_FORMAT_VERSION] + [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha1(repr(stamp).encode()).hexdigest()[:12]


def _parse_thesaurus(folder: Path, sources: Sequence[str]) -> Thesaurus:
    thesaurus = Thesaurus()
    if "mythes" in sources:
        entries = read_mythes(folder / MYTHES_FILE)
        thesaurus.add_many(((h, s, p if p in _POS_BIT else None, r) for h, s, p, r in entries), "mythes")
    if "wordnet" in sources:
        synsets = read_wordnet(folder / WORDNET_DIR)
        pairs = ((a, b, pos, "synonym") for lemmas, pos in synsets for a, b in combinations(lemmas, 2))
        thesaurus.add_many(pairs, "wordnet")
        thesaurus.irregular = read_wordnet_exceptions(folder / WORDNET_DIR)
    if "ppdb" in sources:
        thesaurus.add_many(((a, b, None, "synonym") for a, b in read_ppdb(folder / PPDB_FILE)), "ppdb")
    thesaurus.loaded_sources = tuple(sources)
    return thesaurus


def _existing(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"thesaurus file {str(path)!r} not found; check --shared or SPIN_DETECTOR_SHARED")
    return path
