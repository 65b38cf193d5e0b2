"""Retrieval at scale: query latency, memory and recall of the FAISS indexes `SourceIndex` uses.

For 10k, 100k and 1M source sentences (dim 384, the MiniLM size), it builds the exact inner-product
index (`IndexFlatIP`, the baseline and ground truth) and the inverted-file index over fp16 vectors
(`detector.index.ivf_index`, what `SourceIndex` switches to beyond `IndexSettings.ann_threshold`), then
times single-sentence queries (k=10, one thread, after a warm-up) and measures recall@10 of IVF
against the exact search (for nprobe 16 to 128; `SourceIndex` uses `IndexSettings.ivf_probe`), and how
often the query's original sentence is among the results (exact and IVF). With ``--hnsw`` it also
builds the HNSW graph (M=16, efConstruction=40) that earlier versions used, for comparison.
The vectors are synthetic but shaped like sentence embeddings: sentences cluster around
their article's topic, and each query is a perturbed copy of an indexed sentence (cosine ~0.9, like a
spun sentence against its source). Results go to benchmarks/results/retrieval.json.

Run: ``python benchmarks/retrieval.py`` (about ten minutes on 2 cores; ``--sizes 10000 100000`` for less).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from detector.index import IndexSettings, ivf_index, ivf_lists
from detector.machine import describe_machine

DIM = 384
SENTENCES_PER_ARTICLE = 30
NPROBE_SWEEP = (16, 32, 64, 128)
EF_SEARCH_SWEEP = (64, 256)
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


def measure(n: int, n_queries: int, k: int, rng: np.random.Generator, hnsw: bool = False) -> dict:
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

    ivf, ivf_build = timed(lambda: ivf_index(vectors))
    ivf_row = {"build_s": ivf_build, "bytes": index_bytes(ivf), "lists": ivf_lists(n), "by_nprobe": {}}
    for nprobe in NPROBE_SWEEP:
        ivf.nprobe = nprobe
        ivf_row["by_nprobe"][nprobe] = search_quality(ivf, queries, truth, origins, k)
    row = {"sentences": n, "flat": flat_row, "ivf_sq_fp16": ivf_row}
    del ivf
    if hnsw:
        graph, graph_build = timed_build(make_hnsw, vectors)
        row["hnsw_sq_fp16"] = {"build_s": graph_build, "bytes": index_bytes(graph), "by_ef_search": {}}
        for ef_search in EF_SEARCH_SWEEP:
            graph.hnsw.efSearch = ef_search
            row["hnsw_sq_fp16"]["by_ef_search"][ef_search] = search_quality(graph, queries, truth, origins, k)
    return row


def make_hnsw():
    """The HNSW graph over fp16 vectors of earlier versions (M=16, efConstruction=40)."""
    index = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_fp16, 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    return index


def search_quality(index, queries: np.ndarray, truth: np.ndarray, origins: np.ndarray, k: int) -> dict:
    _, found = index.search(queries, k)
    return {f"recall_at_{k}": recall_at_k(found, truth), f"source_found_at_{k}": origin_found(found, origins),
            **latencies_ms(index, queries, k)}


def timed(make):
    start = time.perf_counter()
    result = make()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--hnsw", action="store_true", help="also build the HNSW graph of earlier versions")
    args = parser.parse_args()
    settings = IndexSettings()
    rng = np.random.default_rng(0)
    rows = []
    for n in args.sizes:
        row = measure(n, args.queries, args.k, rng, args.hnsw)
        rows.append(row)
        print(json.dumps(row))
    report = {
        "benchmark": "retrieval",
        "machine": {
            **describe_machine(),
            "build_threads": faiss.omp_get_max_threads(),
            "query_threads": 1,
        },
        "faiss_version": faiss.__version__,
        "dim": DIM,
        "k": args.k,
        "ivf": {"lists": "4 * sqrt(n), at least 39 vectors per list", "nprobe_used_by_SourceIndex": settings.ivf_probe},
        "target": "median single-sentence query <= 5 ms at 1M sentences",
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
