"""Retrieval at scale: query latency, memory and recall of the FAISS indexes `SourceIndex` uses.

For 10k, 100k and 1M source sentences (dim 384, the MiniLM size), it builds the exact inner-product
index (`IndexFlatIP`, the baseline and ground truth) and the HNSW graph over fp16 vectors
(`IndexHNSWSQ`, what `SourceIndex` switches to beyond `IndexSettings.hnsw_threshold`), then times
single-sentence queries (k=10, one thread, after a warm-up) and measures recall@10 of HNSW against the exact
search (for efSearch 32 to 256; `SourceIndex` uses 64), and how often the query's original sentence is among the results (exact and HNSW).
The vectors are synthetic but shaped like sentence embeddings: sentences cluster around
their article's topic, and each query is a perturbed copy of an indexed sentence (cosine ~0.9, like a
spun sentence against its source). Results go to benchmarks/results/retrieval.json.

Run: ``python benchmarks/retrieval.py`` (a few minutes on 2 cores; ``--sizes 10000 100000`` for less).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from detector.index import IndexSettings

DIM = 384
SENTENCES_PER_ARTICLE = 30
EF_SEARCH_SWEEP = (32, 64, 128, 256)
RESULTS = Path(__file__).resolve().parent / "results" / "retrieval.json"


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def synthetic_sentences(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors clustered by article: topic direction plus sentence-specific noise."""
    topics = unit_rows(rng.standard_normal((max(1, n // SENTENCES_PER_ARTICLE), DIM), dtype=np.float32))
    vectors = np.empty((n, DIM), dtype=np.float32)
    for begin in range(0, n, 100_000):
        end = min(n, begin + 100_000)
        owners = np.arange(begin, end) // SENTENCES_PER_ARTICLE % len(topics)
        noise = unit_rows(rng.standard_normal((end - begin, DIM), dtype=np.float32))
        vectors[begin:end] = unit_rows(0.6 * topics[owners] + 0.8 * noise)
    return vectors


def spun_queries(vectors: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Perturbed copies of indexed sentences (cosine about 0.9 to their originals), and the originals' ids."""
    origins = rng.choice(len(vectors), size=count, replace=False)
    noise = unit_rows(rng.standard_normal((count, DIM), dtype=np.float32))
    return unit_rows(0.9 * vectors[origins] + 0.44 * noise).astype(np.float32), origins


def index_bytes(index) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "index.faiss")
        faiss.write_index(index, path)
        return os.path.getsize(path)


def latencies_ms(index, queries: np.ndarray, k: int, warmup: int = 20) -> dict:
    """One query at a time on one thread (concurrent articles use the other cores)."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        for query in queries[:warmup]:
            index.search(query[None, :], k)
        times = []
        for query in queries:
            start = time.perf_counter()
            index.search(query[None, :], k)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        faiss.omp_set_num_threads(threads)
    return {"median_ms": float(np.median(times)), "p99_ms": float(np.percentile(times, 99)), "queries": len(times)}


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact top-k neighbours that the approximate search also returns."""
    hits = sum(len(set(f[f >= 0]) & set(t)) for f, t in zip(found, truth))
    return hits / truth.size


def origin_found(found: np.ndarray, origins: np.ndarray) -> float:
    """Share of queries whose original (the 'source sentence') is among the results."""
    return float(np.mean([origin in row for row, origin in zip(found, origins)]))


def timed_build(make, vectors: np.ndarray):
    start = time.perf_counter()
    index = make()
    index.train(vectors[: min(len(vectors), 100_000)])
    index.add(vectors)
    return index, time.perf_counter() - start


def measure(n: int, settings: IndexSettings, n_queries: int, k: int, rng: np.random.Generator) -> dict:
    vectors = synthetic_sentences(n, rng)
    queries, origins = spun_queries(vectors, n_queries, rng)
    flat, flat_build = timed_build(lambda: faiss.IndexFlatIP(DIM), vectors)
    _, truth = flat.search(queries, k)
    flat_row = {
        "build_s": flat_build,
        "bytes": index_bytes(flat),
        f"source_found_at_{k}": origin_found(truth, origins),
        **latencies_ms(flat, queries, k),
    }
    del flat

    def make_hnsw():
        index = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_fp16, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.ef_construction
        return index

    hnsw, hnsw_build = timed_build(make_hnsw, vectors)
    hnsw_row = {"build_s": hnsw_build, "bytes": index_bytes(hnsw), "by_ef_search": {}}
    for ef_search in EF_SEARCH_SWEEP:
        hnsw.hnsw.efSearch = ef_search
        _, found = hnsw.search(queries, k)
        hnsw_row["by_ef_search"][ef_search] = {
            f"recall_at_{k}": recall_at_k(found, truth),
            f"source_found_at_{k}": origin_found(found, origins),
            **latencies_ms(hnsw, queries, k),
        }
    return {"sentences": n, "flat": flat_row, "hnsw_sq_fp16": hnsw_row}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    settings = IndexSettings()
    rng = np.random.default_rng(0)
    rows = []
    for n in args.sizes:
        row = measure(n, settings, args.queries, args.k, rng)
        rows.append(row)
        print(json.dumps(row))
    report = {
        "benchmark": "retrieval",
        "machine": {
            "cpus": os.cpu_count(),
            "build_threads": faiss.omp_get_max_threads(),
            "query_threads": 1,
            "load_average_at_end": os.getloadavg(),
            "platform": platform.platform(),
        },
        "faiss_version": faiss.__version__,
        "dim": DIM,
        "k": args.k,
        "hnsw": {"M": settings.hnsw_m, "efConstruction": settings.ef_construction, "efSearch": settings.ef_search},
        "target": "median single-sentence query <= 5 ms at 1M sentences",
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
