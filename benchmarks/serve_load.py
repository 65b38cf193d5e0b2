"""The HTTP service under load (issue 38): 16 clients posting single articles against `analyze_many`.

One run, one machine, the shipped model (models/spin-classifier) and one index, built once and cached
in --work: the five seeds and a sample of BBC news. The articles are the five seeds and other BBC
articles, some of them indexed (copies), the rest not. Measured:
1. `Detector.analyze_many` on all the articles in this process (the batch path, the baseline);
2. a real `spin-detect serve` process driven over HTTP by --clients concurrent clients, each posting
   one article a request (POST /v1/analyze) until every article is answered: throughput, and the
   p50 and p99 latency of a request;
3. meanwhile, GET /healthz every 100 ms from a process of its own (so that the clients' own work
   does not weigh on it): its latency while the model is busy.
Each runs --repeats times after a warm-up, the two alternated; the best throughput of each counts. Writes
benchmarks/results/serve_load.json.

    python benchmarks/serve_load.py [--articles 32] [--clients 16] [--index-news 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from detector.machine import describe_machine  # noqa: E402

RESULTS = Path("benchmarks/results/serve_load.json")  # relative to the repository
MODEL = Path("models/spin-classifier")
HEALTH_EVERY_S = 0.1


def corpus(shared: Path, articles: int, index_news: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(sources to index, articles to analyse): the seeds and a seeded sample of BBC news."""
    from training.corpora import read_bbc

    seeds = [{"id": path.stem[:3], "text": path.read_text(encoding="utf-8")} for path in sorted((shared / "seeds").glob("0*.txt"))]
    news = [{"id": article.id, "text": article.text} for article in read_bbc(shared)]
    random.Random(seed).shuffle(news)
    sources = seeds + news[:index_news]
    suspects = seeds + news[index_news - (articles - len(seeds)) // 2 : index_news + (articles - len(seeds) + 1) // 2]
    return sources, suspects[:articles]


def build_index(sources: list[dict], folder: Path) -> Path:
    """The index of ``sources`` in ``folder`` (built once, then reused)."""
    from detector.index import SourceIndex

    if not (folder / "manifest.json").is_file():
        SourceIndex.build(sources).save(folder)
    return folder


def load_batch_path(index_folder: Path, precision: str):
    """The detector and index `analyze_many` runs with, in this process."""
    from detector import Detector, SourceIndex

    detector = Detector.load(REPO / MODEL, precision=precision)
    return detector, SourceIndex.load(index_folder, encoder=detector.encoder)


def batch_run(detector, index, texts: list[str]) -> float:
    """Seconds of `analyze_many` over all ``texts``."""
    start = time.perf_counter()
    list(detector.analyze_many(texts, index=index))
    return time.perf_counter() - start


def start_server(index_folder: Path, port: int, precision: str, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "detector.cli", "serve", "--index", str(index_folder), "--model", str(REPO / MODEL),
               "--port", str(port), "--precision", precision]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the server exited before it was ready")
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the server was not ready within {timeout} s")


def probe_health(url: str, done, latencies) -> None:
    """GET /healthz every `HEALTH_EVERY_S` until ``done`` is set, each latency appended to ``latencies``."""
    import httpx

    with httpx.Client(base_url=url, timeout=60) as client:
        while not done.is_set():
            start = time.perf_counter()
            client.get("/healthz").raise_for_status()
            latencies.append(time.perf_counter() - start)
            time.sleep(HEALTH_EVERY_S)


async def load_run(url: str, texts: list[str], clients: int) -> dict:
    """Every text posted once by ``clients`` concurrent clients; health probed meanwhile."""
    import httpx

    queue: asyncio.Queue = asyncio.Queue()
    for text in texts:
        queue.put_nowait(text)
    latencies = []
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        async def worker() -> None:
            while not queue.empty():
                text = queue.get_nowait()
                start = time.perf_counter()
                response = await client.post("/v1/analyze", json={"text": text})
                response.raise_for_status()
                latencies.append(time.perf_counter() - start)

        with multiprocessing.Manager() as manager:
            done, health = manager.Event(), manager.list()
            prober = multiprocessing.get_context("spawn").Process(target=probe_health, args=(url, done, health))
            prober.start()
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(clients)))
            seconds = time.perf_counter() - start
            done.set()
            prober.join(60)
            health = list(health)
    return {"seconds": seconds, "latencies": latencies, "health": health}


def measure(texts: list[str], index_folder: Path, args) -> tuple[list[float], list[dict]]:
    """Seconds of `analyze_many` and load runs of the server, alternated (ABAB) after a warm-up of
    each, so that whatever else the machine runs weighs on both alike."""
    port = _free_port()
    process = start_server(index_folder, port, args.precision, args.work / "server.log")
    url = f"http://127.0.0.1:{port}"
    try:
        detector, index = load_batch_path(index_folder, args.precision)
        asyncio.run(wait_ready(url, process))
        batch_run(detector, index, texts[: args.clients])
        asyncio.run(load_run(url, texts[: args.clients], args.clients))
        batch_seconds, runs = [], []
        for _ in range(args.repeats):
            batch_seconds.append(batch_run(detector, index, texts))
            runs.append(asyncio.run(load_run(url, texts, args.clients)))
        return batch_seconds, runs
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def milliseconds(values: list[float], share: float) -> float:
    return round(1000 * float(np.quantile(values, share)), 1)


def summary(args, texts: list[str], sources: int, batch_seconds: list[float], runs: list[dict]) -> dict:
    best = min(runs, key=lambda run: run["seconds"])
    batch_rate = len(texts) / min(batch_seconds)
    served_rate = len(texts) / best["seconds"]
    health = [value for run in runs for value in run["health"]]
    return {
        "machine": describe_machine() | {"cores_used": os.cpu_count()},
        "model": str(MODEL), "precision": args.precision,
        "corpus": {"indexed_sources": sources, "articles": len(texts),
                   "characters_mean": round(float(np.mean([len(t) for t in texts])))},
        "clients": args.clients, "repeats": args.repeats,
        "analyze_many": {"articles_per_second": round(batch_rate, 2), "seconds": [round(s, 2) for s in batch_seconds]},
        "server": {"articles_per_second": round(served_rate, 2), "seconds": [round(r["seconds"], 2) for r in runs],
                   "latency_p50_ms": milliseconds(best["latencies"], 0.5),
                   "latency_p99_ms": milliseconds(best["latencies"], 0.99)},
        "share_of_analyze_many": round(served_rate / batch_rate, 3),
        "healthz_under_load": {"checks": len(health), "p50_ms": milliseconds(health, 0.5),
                               "p99_ms": milliseconds(health, 0.99), "max_ms": round(1000 * max(health), 1)},
        "command": "python benchmarks/serve_load.py " + " ".join(sys.argv[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("SPIN_DETECTOR_SHARED", REPO.parent / "shared")))
    parser.add_argument("--work", type=Path, default=REPO / "build" / "serve-load")
    parser.add_argument("--articles", type=int, default=32)
    parser.add_argument("--index-news", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--seed", type=int, default=38)
    parser.add_argument("--out", type=Path, default=REPO / RESULTS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sources, suspects = corpus(args.shared, args.articles, args.index_news, args.seed)
    index_folder = build_index(sources, args.work / f"index-{args.index_news}")
    texts = [item["text"] for item in suspects]
    batch_seconds, runs = measure(texts, index_folder, args)
    results = summary(args, texts, len(sources), batch_seconds, runs)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: results[key] for key in ("analyze_many", "server", "share_of_analyze_many", "healthz_under_load")}, indent=2))


if __name__ == "__main__":
    main()
