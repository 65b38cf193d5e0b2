"""Batch scoring (issue 4): kill -9 and resume, and throughput against an index of 10,000 news articles.

Corpus (seeded, cached in --work): the index holds 10,000 news articles, all of BBC and a sample of
the Reuters-21578 training files; the suspects are news-length (>= 600 characters) articles, a
third exact copies of indexed articles with scraper furniture added, a third spun copies of indexed
articles (`training.spinner.Spinner` over the shared thesauri), a third originals (held-out Reuters
files, not indexed). The detector is what `Detector.load()` gives (the trained classifier once
models/spin-classifier exists).

Measured, in one run, on this machine's cores:
1. throughput on the same suspects: the naive loop (`Detector.analyze`, one article at a time) and
   the batch job's default path, both with the detector and index loaded beforehand; the default
   path again as a command runs it, loading included; and one process with all cores as intra-op
   threads against as many worker processes with one thread each (loading included in both);
2. kill -9 in the middle of a `spin-detect batch` run over all suspects, then the same command again:
   each id must be in the output exactly once, with the verdicts of an uninterrupted run.

Writes benchmarks/results/batch_throughput.json.

    python benchmarks/batch_throughput.py [--sources 10000] [--suspects 2000] [--throughput-articles 400]
    python benchmarks/batch_throughput.py --sources 300 --suspects 60 --throughput-articles 50 --out /tmp/bt.json  # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from detector.batch import cores, default_workers, read_batch_output, run_batch  # noqa: E402
from detector.machine import describe_machine  # noqa: E402
from detector.precision import fast_precision  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "batch_throughput.json"
NEWS_LENGTH = 600
FURNITURE = ("ALSO READ: Markets close higher as oil slips", "Share this article", "Leave a Reply")


# ------------------------------------------------------------------------------------ corpus
def build_corpus(shared: Path, work: Path, sources: int, suspects: int, seed: int) -> tuple[Path, Path]:
    """Write sources.jsonl (the index's articles) and suspects.jsonl (copies, spun copies, originals).

    All of BBC plus a sample of Reuters when `sources` exceeds BBC's 2,225 articles, else a sample of both.
    """
    sources_path, suspects_path = work / "sources.jsonl", work / "suspects.jsonl"
    if sources_path.exists() and suspects_path.exists():
        return sources_path, suspects_path
    from training.corpora import read_bbc, read_reuters
    from training.spinner import Spinner
    from training.thesauri import load_thesaurus

    rng = random.Random(seed)
    bbc = list(read_bbc(shared))
    reuters = [a for a in read_reuters(shared, held_out=False) if len(a.text) >= 200]
    if sources > len(bbc) + len(reuters):
        raise SystemExit(f"--sources {sources}: the news corpus has {len(bbc) + len(reuters)} articles of 200+ characters")
    indexed = bbc + rng.sample(reuters, sources - len(bbc)) if sources >= len(bbc) else rng.sample(bbc + reuters, sources)
    held_out = [a for a in read_reuters(shared, held_out=True) if len(a.text) >= NEWS_LENGTH]
    news_length = [a for a in indexed if len(a.text) >= NEWS_LENGTH]
    third = suspects // 3
    spinner = Spinner(load_thesaurus(shared), rate=(0.2, 0.4), seed=seed)
    rows = [{"id": f"copy-{i:05d}", "text": copied(a.text, rng), "kind": "copy", "of": a.id}
            for i, a in enumerate(rng.sample(news_length, third))]
    rows += [{"id": f"spun-{i:05d}", "text": " ".join(s.text for s in spinner.spin_article(a.text)), "kind": "spun", "of": a.id}
             for i, a in enumerate(rng.sample(news_length, third))]
    rows += [{"id": f"orig-{i:05d}", "text": a.text, "kind": "original", "of": None}
             for i, a in enumerate(rng.sample(held_out, suspects - 2 * third))]
    rng.shuffle(rows)
    work.mkdir(parents=True, exist_ok=True)
    write_jsonl(sources_path, [{"id": a.id, "text": a.text} for a in indexed])
    write_jsonl(suspects_path, rows)
    return sources_path, suspects_path


def copied(text: str, rng: random.Random) -> str:
    """A scraped copy: the article with a line of site furniture before and after."""
    return f"{rng.choice(FURNITURE)}\n\n{text}\n\n{rng.choice(FURNITURE)}"


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build_index(sources_path: Path, work: Path) -> tuple[Path, float | None]:
    """The source index folder (built once, then reused), and its build time when built now."""
    folder, timing = work / "index", work / "index-build.json"
    if folder.is_dir():
        return folder, json.loads(timing.read_text(encoding="utf-8"))["seconds"] if timing.is_file() else None
    from detector.documents import read_documents
    from detector.encoder import SentenceEncoder
    from detector.index import SourceIndex

    start = time.perf_counter()
    index = SourceIndex.build(read_documents(sources_path), encoder=SentenceEncoder.load(), progress=True)
    index.save(folder)
    seconds = time.perf_counter() - start
    timing.write_text(json.dumps({"seconds": seconds}), encoding="utf-8")
    return folder, seconds


# ------------------------------------------------------------------------------------ throughput
def loaded(index_dir: Path, precision: str):
    """A loaded `Detector` at `precision` (`detector.precision`) and the index read with its encoder."""
    from detector.api import Detector
    from detector.index import SourceIndex

    detector = Detector.load(precision=precision)
    return detector, SourceIndex.load(index_dir, encoder=detector.encoder)


def naive_rate(texts: list[str], detector, index) -> dict:
    """`Detector.analyze` one article at a time (after a warm-up), torch with every core."""
    detector.analyze(texts[0], index=index)
    start = time.perf_counter()
    each = [detector.analyze(text, index=index).verdict for text in texts]
    seconds = time.perf_counter() - start
    return {"articles": len(texts), "seconds": round(seconds, 2), "articles_per_second": round(len(texts) / seconds, 3),
            "verdicts": dict(Counter(each)), "classifier_loaded": detector.scorer is not None, "each": each}


def batch_rate(suspects_path: Path, index, out: Path, detector=None, **settings) -> dict:
    """One `run_batch` over the suspects: with a loaded detector and index (start-up excluded, as
    in the naive loop), or from the index folder and model path (start-up included)."""
    shutil.rmtree(out, ignore_errors=True)
    summary = run_batch(suspects_path, out, index=index, detector=detector, progress=False, **settings)
    return {"settings": settings, "start_up_included": detector is None, "articles": summary.scored,
            "seconds": summary.wall_seconds, "articles_per_second": summary.articles_per_second,
            "verdicts": summary.verdicts, "each": {row["id"]: row["verdict"] for row in read_batch_output(out)}}


# ------------------------------------------------------------------------------------ kill -9
def batch_command(suspects_path: Path, index_dir: Path, out: Path, chunk_size: int) -> list[str]:
    """The `spin-detect batch` command line; units no larger than a chunk, so that chunks land one by one."""
    return [sys.executable, "-c", "from detector.cli import main; main()", "batch", str(suspects_path),
            "--out", str(out), "--index", str(index_dir), "--chunk-size", str(chunk_size),
            "--batch-size", str(min(32, chunk_size)), "--no-progress"]


def kill_and_resume(suspects_path: Path, index_dir: Path, work: Path, expected_ids: list[str]) -> dict:
    """Uninterrupted run; then a run killed (SIGKILL) half-way and the same command again."""
    whole, resumed = work / "whole", work / "resumed"
    for folder in (whole, resumed):
        shutil.rmtree(folder, ignore_errors=True)
    command = partial(batch_command, suspects_path, index_dir, chunk_size=max(1, min(100, len(expected_ids) // 10)))
    start = time.perf_counter()
    subprocess.run(command(whole), check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    whole_seconds = time.perf_counter() - start
    process = subprocess.Popen(command(resumed), cwd=REPO, stdout=subprocess.DEVNULL)
    while rows_in(resumed) < len(expected_ids) // 2 and process.poll() is None:
        time.sleep(0.5)
    killed_mid_run = process.poll() is None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    rows_at_kill = rows_in(resumed)
    start = time.perf_counter()
    subprocess.run(command(resumed), check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    rerun_seconds = time.perf_counter() - start
    final = list(read_batch_output(resumed))
    reference = {row["id"]: row["verdict"] for row in read_batch_output(whole)}
    ids = Counter(row["id"] for row in final)
    differing = sorted(row["id"] for row in final if reference.get(row["id"]) != row["verdict"])
    return {
        "articles": len(expected_ids),
        "killed_mid_run": killed_mid_run,
        "rows_committed_at_kill": rows_at_kill,
        "rows_after_rerun": len(final),
        "each_id_exactly_once": sorted(ids) == sorted(expected_ids) and set(ids.values()) == {1},
        "verdicts_equal_uninterrupted_run": not differing,
        "differing_verdicts": differing[:20],
        "uninterrupted_seconds": round(whole_seconds, 1),
        "rerun_seconds": round(rerun_seconds, 1),
    }


def rows_in(folder: Path) -> int:
    return sum(1 for _ in read_batch_output(folder)) if folder.is_dir() else 0


# ------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "batch-bench",
                        help="cache of corpora and indexes, one subfolder per (sources, suspects, seed)")
    parser.add_argument("--sources", type=int, default=10_000, help="news articles in the index")
    parser.add_argument("--suspects", type=int, default=2_000, help="articles of the kill -9 run")
    parser.add_argument("--throughput-articles", type=int, default=400, help="suspects timed by each throughput variant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-kill", action="store_true", help="only the throughput part")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    work = args.work / f"news-{args.sources}-suspects-{args.suspects}-seed-{args.seed}"
    sources_path, suspects_path = build_corpus(args.shared, work, args.sources, args.suspects, args.seed)
    index_dir, index_seconds = build_index(sources_path, work)
    suspects = read_jsonl(suspects_path)
    sample = suspects[: args.throughput_articles]
    sample_path = work / f"sample-{len(sample)}.jsonl"
    write_jsonl(sample_path, sample)
    results = {"machine": describe_machine() | {"cores_used": cores()}, "corpus": corpus_facts(args.sources, suspects, sample, index_seconds)}
    results.update(throughput(sample, sample_path, index_dir, work))
    print(json.dumps(results, indent=2), flush=True)
    if not args.skip_kill:
        results["kill_and_resume"] = kill_and_resume(suspects_path, index_dir, work, [r["id"] for r in suspects])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


def corpus_facts(sources: int, suspects: list[dict], sample: list[dict], index_seconds: float | None) -> dict:
    return {"sources": sources, "suspects": len(suspects), "kinds": dict(Counter(r["kind"] for r in suspects)),
            "mean_suspect_chars": round(sum(len(r["text"]) for r in suspects) / len(suspects)),
            "throughput_articles": len(sample), "index_build_seconds": index_seconds and round(index_seconds, 1)}


def throughput(sample: list[dict], sample_path: Path, index_dir: Path, work: Path) -> dict:
    """The naive loop and the default batch path (precision "fast": bf16 on CPUs with AMX, else int8)
    with the detector loaded beforehand; the batch path at fp32, and at int8 where fast means bf16;
    the default as a command would run it (loading included); and the two ways of using every core.
    Each batch run's verdicts are compared with the naive loop's."""
    n = cores()
    full, full_index = loaded(index_dir, "fp32")
    naive = naive_rate([row["text"] for row in sample], full, full_index)
    rates = {
        "naive_loop": naive,
        "batch_full_precision": batch_rate(sample_path, full_index, work / "bench-fp32", detector=full),
    }
    del full, full_index
    fast, fast_index = loaded(index_dir, "fast")
    rates["batch_default"] = batch_rate(sample_path, fast_index, work / "bench-default", detector=fast)
    del fast, fast_index
    if fast_precision() != "int8":
        int8, int8_index = loaded(index_dir, "int8")
        rates["batch_int8"] = batch_rate(sample_path, int8_index, work / "bench-int8", detector=int8)
        del int8, int8_index
    rates.update({
        "batch_default_with_start_up": batch_rate(sample_path, index_dir, work / "bench-cold"),
        "one_process_all_threads": batch_rate(sample_path, index_dir, work / "bench-threads", workers=1, threads=n),
        "processes_one_thread_each": batch_rate(sample_path, index_dir, work / "bench-procs", workers=n, threads=1),
    })
    naive_verdicts = dict(zip((row["id"] for row in sample), rates["naive_loop"].pop("each")))
    for name, rate in rates.items():
        if name != "naive_loop":
            each = rate.pop("each")
            rate["verdicts_equal_to_naive"] = round(sum(each.get(i) == v for i, v in naive_verdicts.items()) / len(sample), 4)
    naive = rates["naive_loop"]["articles_per_second"]
    threads, processes = (rates[k]["articles_per_second"] for k in ("one_process_all_threads", "processes_one_thread_each"))
    faster = 1 if threads >= processes else n
    return {
        **rates,
        "default_precision": fast_precision(),
        "default_workers": default_workers(),
        "faster_workers": faster,
        "default_is_the_faster": default_workers() == faster,
        "speedup_default_over_naive": round(rates["batch_default"]["articles_per_second"] / naive, 2),
        "speedup_default_with_start_up_over_naive": round(rates["batch_default_with_start_up"]["articles_per_second"] / naive, 2),
        "speedup_full_precision_over_naive": round(rates["batch_full_precision"]["articles_per_second"] / naive, 2),
    }


if __name__ == "__main__":
    main()
