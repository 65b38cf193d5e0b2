"""Verdict sanity on independent news: BBC articles must not look copied, their shuffled copies must.

300 BBC articles (seeded sample across the five sections) are indexed together. Then:
1. each article is analysed against the index with itself excluded: the verdict must be "original"
   or "related". Other verdicts whose source really is a near-duplicate of the article (the BBC set
   holds a few re-published stories) are listed as true duplicates, not counted as errors; so are
   follow-up stories that lift two or more sentences of ten words or more from an earlier one
   (near-verbatim: 90% of their words in order), which the detector reports as partial reuse;
2. a copy of each article with its sentences shuffled is analysed against the full index: the
   verdict must be "copy" with the article itself (or a true duplicate of it) at rank 1.

Writes benchmarks/results/bbc_verdicts.json with the rates, the confusions and the wall times.

    python benchmarks/bbc_verdicts.py [--shared ../shared] [--articles 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

from detector.api import Detector
from detector.documents import Document, read_documents
from detector.index import SourceIndex
from detector.machine import describe_machine
from detector.text import split_sentences, word_key, words

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "bbc_verdicts.json"
INDEPENDENT_VERDICTS = ("original", "related")
DUPLICATE_SENTENCE_SHARE = 0.5
LIFTED_MIN_WORDS = 10  # a lifted sentence has at least this many words ...
LIFTED_MIN_RATIO = 0.9  # ... and keeps this share of them in order
LIFTED_MIN_SENTENCES = 2  # partial reuse lifts at least this many


def sample_articles(shared: Path, count: int, seed: int) -> tuple[list[Document], list[str]]:
    """A seeded sample of BBC articles (id "section/NNN"), and the files that could not be read."""
    skipped: list[str] = []
    pattern = shared / "data" / "news" / "bbc" / "*" / "*.txt"
    docs = [
        Document(id=f"{Path(d.meta['path']).parent.name}/{d.id}", text=d.text)
        for d in read_documents(pattern, errors=lambda where, why: skipped.append(where))
    ]
    return random.Random(seed).sample(docs, count), skipped


def sentence_keys(text: str) -> set[tuple[str, ...]]:
    """Each content sentence as a tuple of word keys (so case and punctuation do not matter)."""
    return {tuple(word_key(w) for w in words(s.text)) for s in split_sentences(text) if not s.is_boilerplate}


def shared_sentence_share(a: str, b: str) -> float:
    """Share of the shorter text's sentences found verbatim (as word keys) in the other."""
    keys_a, keys_b = sentence_keys(a), sentence_keys(b)
    return len(keys_a & keys_b) / max(1, min(len(keys_a), len(keys_b)))


def lifted_sentences(text: str, source: str) -> int:
    """Sentences of ``text`` (ten words or more) found near-verbatim in ``source``: what a follow-up lifts."""
    source_keys = list(sentence_keys(source))
    count = 0
    for keys in sentence_keys(text):
        if len(keys) >= LIFTED_MIN_WORDS and any(
            SequenceMatcher(None, keys, other, autojunk=False).ratio() >= LIFTED_MIN_RATIO for other in source_keys
        ):
            count += 1
    return count


def shuffled(text: str, rng: random.Random) -> str:
    sentences = [s.text for s in split_sentences(text)]
    rng.shuffle(sentences)
    return "\n".join(sentences)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def run(shared: Path, count: int, seed: int) -> dict:
    detector, load_seconds = timed(Detector.load)
    docs, skipped = sample_articles(shared, count, seed)
    text_of = {doc.id: doc.text for doc in docs}
    index, index_seconds = timed(SourceIndex.build, docs, encoder=detector.encoder)

    own, own_seconds = timed(lambda: list(detector.analyze_many([d.text for d in docs], index=index, exclude_ids=[[d.id] for d in docs])))
    duplicates, reuse, errors = [], [], []
    for doc, report in zip(docs, own):
        if report.verdict in INDEPENDENT_VERDICTS:
            continue
        share = shared_sentence_share(doc.text, text_of[report.source_id]) if report.source_id else 0.0
        lifted = lifted_sentences(doc.text, text_of[report.source_id]) if report.source_id else 0
        case = {"id": doc.id, "verdict": report.verdict, "source_id": report.source_id,
                "coverage": round(report.coverage, 3), "shared_sentences": round(share, 3), "lifted_sentences": lifted}
        if share >= DUPLICATE_SENTENCE_SHARE:
            duplicates.append(case)
        else:
            (reuse if lifted >= LIFTED_MIN_SENTENCES else errors).append(case)
    duplicate_of = {case["id"]: case["source_id"] for case in duplicates}
    duplicate_of.update({case["source_id"]: case["id"] for case in duplicates})

    rng = random.Random(seed)
    copies = [shuffled(doc.text, rng) for doc in docs]
    copied, copy_seconds = timed(lambda: list(detector.analyze_many(copies, index=index)))
    copy_misses = []
    for doc, report in zip(docs, copied):
        top = report.candidates[0][0] if report.candidates else None
        if report.verdict != "copy" or top not in (doc.id, duplicate_of.get(doc.id)):
            copy_misses.append({"id": doc.id, "verdict": report.verdict, "rank1": top, "coverage": round(report.coverage, 3)})

    independent = len(docs) - len(duplicates) - len(reuse)
    return {
        "articles": len(docs),
        "seed": seed,
        "classifier_loaded": detector.scorer is not None,
        "unreadable_files_skipped": skipped,
        "own_verdicts": dict(Counter(r.verdict for r in own)),
        "independent_ok_rate": round((independent - len(errors)) / independent, 4),
        "independent_errors": errors,
        "true_duplicates": duplicates,
        "partial_reuse": reuse,
        "shuffled_copy_verdicts": dict(Counter(r.verdict for r in copied)),
        "shuffled_copy_ok_rate": round(1 - len(copy_misses) / len(docs), 4),
        "shuffled_copy_misses": copy_misses,
        "seconds": {
            "load_detector": round(load_seconds, 2),
            "build_index": round(index_seconds, 2),
            "analyze_own": round(own_seconds, 2),
            "analyze_shuffled": round(copy_seconds, 2),
        },
        "articles_per_second": round(2 * len(docs) / (own_seconds + copy_seconds), 2),
        "machine": describe_machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("SPIN_DETECTOR_SHARED", REPO.parent / "shared")))
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = run(args.shared, args.articles, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    summary = {k: results[k] for k in ("independent_ok_rate", "shuffled_copy_ok_rate", "own_verdicts", "shuffled_copy_verdicts", "seconds")}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
