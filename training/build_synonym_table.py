"""Build the compact synonym table that ships in ``detector/data`` (read by `detector.thesaurus.SynonymTable`).

The merged thesauri hold about 700,000 pairs; the table keeps those whose one side is a lemma of the
news vocabulary (words seen at least ``min_count`` times in BBC and the Reuters training files, and
phrases made of such words), lemmatised on both sides. Clean sources are news, so the source side of
a spun substitution is almost always in that vocabulary, while the spun side may be any rare word.

Run: ``python -m training.build_synonym_table [--shared DIR] [--out detector/data] [--min-count 1]``.
It prints the table's size and its coverage of the substitutions seen in the seed articles.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from detector.text import words
from detector.thesaurus import DATA_DIR, SynonymTable, lemma_pairs, lemma_variants, normalise_term
from training.corpora import read_news
from training.thesauri import SOURCES, Thesaurus, load_thesaurus

__all__ = [
    "SEED_SUBSTITUTIONS",
    "TableReport",
    "build_synonym_table",
    "main",
    "news_vocabulary",
    "restrict_edges",
    "seed_coverage",
    "thesaurus_edges",
]

LICENCES = {
    "wordnet": "WordNet 3.0 licence (Princeton University): free use, copy and distribution with the copyright notice",
    "mythes": "MyThes English thesaurus (LibreOffice mythes-en-us, from WordNet): permissive licence",
    "ppdb": "PPDB 1.0 lexical (Ganitkevitch, Van Durme & Callison-Burch 2013): CC BY 3.0",
}

# (source words, spun words) read by hand off the seed articles: 004 against 000 (moderate) and 002 (heavy).
SEED_SUBSTITUTIONS = [
    ("admit", "confess"), ("members", "participants"), ("relationship", "connection"), ("military", "armed forces"),
    ("role", "function"), ("security", "safety"), ("relationship", "relation"), ("backing", "moving"),
    ("showdown", "face-off"), ("expanding", "broadening"), ("meeting", "conference"), ("strategy", "method"),
    ("document", "file"), ("global", "international"), ("parties", "celebrations"), ("further", "additional"),
    ("expansion", "growth"), ("call on", "get in touch with"), ("approaches", "strategies"), ("respect", "regard"),
    ("interests", "passions"), ("countries", "nations"), ("intensive", "extensive"), ("negotiations", "arrangements"),
    ("capitals", "resources"), ("accused", "implicated"), ("amassing", "accumulating"), ("borders", "boundaries"),
    ("vowed", "sworn"), ("also", "additionally"), ("negative", "unfavorable"), ("said", "stated"),
    ("defence", "protection"), ("including", "consisting of"), ("latest", "most up to date"), ("announce", "reveal"),
    ("visit", "check out"), ("next", "following"), ("counterparts", "equivalents"), ("ahead of", "in advance of"),
    ("evidence", "proof"), ("plan", "strategy"), ("fake", "phony"), ("justify", "validate"), ("attack", "assault"),
    ("spokesperson", "representative"), ("information", "info"), ("fabricate", "produce"), ("provide", "supply"),
    ("repeatedly", "consistently"), ("denied", "rejected"), ("fabrications", "manufactures"), ("obvious", "evident"),
    ("visits", "sees"), ("shore up", "bolster"), ("backing", "support"), ("displays", "screens"),
    ("support", "assistance"), ("situation", "circumstance"), ("believe in", "count on"), ("means", "suggests"),
    ("showdown", "standoff"), ("agreed", "concurred"), ("alliance", "union"), ("admit", "concede"),
    ("members", "individuals"), ("demand", "interest"), ("stop", "quit"), ("expanding", "growing"),
    ("meeting", "gathering"), ("counterpart", "partner"), ("leader", "chief"), ("dignified", "noble"),
    ("strategy", "methodology"), ("document", "record"), ("destabilising", "weakening"), ("role", "job"),
    ("global", "worldwide"), ("parties", "gatherings"), ("oppose", "go against"), ("expansion", "extension"),
    ("abandon", "leave"), ("ideological", "philosophical"), ("era", "period"), ("urging", "asking"),
    ("sovereignty", "sway"), ("other", "different"), ("echoes", "repeated"), ("demands", "requests"),
    ("intensive", "concentrated"), ("negotiations", "dealings"), ("potential", "expected"), ("conflict", "clash"),
    ("accused", "blamed"), ("amassing", "hoarding"), ("borders", "lines"), ("preparation", "anticipation"),
    ("invasion", "intrusion"), ("impose", "force"), ("devastating", "wrecking"), ("released", "delivered"),
    ("criticisms", "reactions"), ("negative", "adverse"), ("impact", "consequence"), ("peace", "harmony"),
    ("stability", "steadiness"), ("region", "area"), ("seriously", "genuinely"), ("concerned", "worried"),
    ("defence", "guard"), ("alliance", "collusion"), ("latest", "most recent"), ("leader", "pioneer"),
    ("announce", "declare"), ("region", "locale"),
]  # fmt: skip


@dataclass
class TableReport:
    """What a build produced: sizes, time and the seed coverage of the table and of the full thesauri."""

    out: str
    terms: int
    pairs: int
    bytes_on_disk: int
    vocabulary: int
    seconds: float
    seed_coverage: float
    seed_coverage_full_thesauri: float
    seed_missing: list[tuple[str, str]]


def news_vocabulary(shared_dir: str | os.PathLike | None = None, min_count: int = 1) -> set[str]:
    """Lower-case words and their lemmas seen at least ``min_count`` times in BBC and Reuters (training files)."""
    counts: Counter[str] = Counter()
    for article in read_news(shared_dir, held_out=False):
        counts.update(normalise_term(word) for word in words(f"{article.title}\n{article.text}") if word.isalpha())
    vocabulary = {word for word, count in counts.items() if count >= min_count}
    return vocabulary | {lemma for word in vocabulary for lemma in lemma_variants(word)}


def _in_vocabulary(term: str, vocabulary: set[str]) -> bool:
    return term in vocabulary if " " not in term else all(word in vocabulary for word in term.split(" "))


def thesaurus_edges(thesaurus: Thesaurus, sources: Sequence[str]) -> dict[tuple[str, str], int]:
    """Every thesaurus pair as lemma pairs, ``{(a, b): source bits}`` with a < b (bit i = ``sources[i]``)."""
    bit = {name: 1 << i for i, name in enumerate(sources)}
    edges: dict[tuple[str, str], int] = {}
    for a, b, names in thesaurus.pairs(sources):
        if a > b:
            continue  # each pair comes once per direction
        bits = sum(bit[name] for name in names)
        for x, y in lemma_pairs(a, b):
            key = (x, y) if x < y else (y, x)
            edges[key] = edges.get(key, 0) | bits
    return edges


def restrict_edges(edges: dict[tuple[str, str], int], vocabulary: set[str]) -> dict[tuple[str, str], int]:
    """The edges with at least one side in ``vocabulary`` (a phrase counts when all its words are)."""
    return {
        pair: bits
        for pair, bits in edges.items()
        if _in_vocabulary(pair[0], vocabulary) or _in_vocabulary(pair[1], vocabulary)
    }


def seed_coverage(
    table: SynonymTable, pairs: Iterable[tuple[str, str]] = SEED_SUBSTITUTIONS
) -> tuple[float, list[tuple[str, str]]]:
    """Share of the ``(source, spun)`` pairs that ``table`` lists as neighbours, and the missing pairs."""
    pairs = list(pairs)
    missing = [(a, b) for a, b in pairs if not table.are_neighbours(a, b)]
    return 1 - len(missing) / len(pairs), missing


def build_synonym_table(
    shared_dir: str | os.PathLike | None = None,
    out: str | os.PathLike = DATA_DIR,
    sources: Sequence[str] = SOURCES,
    min_count: int = 1,
) -> TableReport:
    """Build the table from the thesauri and the news vocabulary, write it into ``out``, report on it."""
    started = time.perf_counter()
    sources = [name for name in SOURCES if name in sources]
    edges = thesaurus_edges(load_thesaurus(shared_dir, sources), sources)
    vocabulary = news_vocabulary(shared_dir, min_count)
    restricted = restrict_edges(edges, vocabulary)
    table = SynonymTable.from_edges(restricted, sources)
    coverage, missing = seed_coverage(table)
    full_coverage, _ = seed_coverage(SynonymTable.from_edges(edges, sources))
    manifest = {
        "licences": {name: LICENCES[name] for name in sources},
        "vocabulary": {
            "corpora": ["bbc", "reuters21578 (reut2-000 to reut2-015)"],
            "min_count": min_count,
            "size": len(vocabulary),
        },
        "seed_coverage": round(coverage, 4),
    }
    table.save(out, manifest)
    size = sum(path.stat().st_size for path in Path(out).glob("synonyms.*"))
    return TableReport(
        str(out), len(table), len(restricted), size, len(vocabulary),
        round(time.perf_counter() - started, 1), round(coverage, 4), round(full_coverage, 4), missing,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> TableReport:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared", default=None, help="shared data folder (default: $SPIN_DETECTOR_SHARED or ../shared)"
    )
    parser.add_argument("--out", default=str(DATA_DIR), help="output folder (default: detector/data)")
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    parser.add_argument("--min-count", type=int, default=1, help="news frequency a word needs to enter the vocabulary")
    args = parser.parse_args(argv)
    report = build_synonym_table(args.shared, args.out, args.sources, args.min_count)
    print(json.dumps(asdict(report), indent=2))
    return report


if __name__ == "__main__":
    main()
