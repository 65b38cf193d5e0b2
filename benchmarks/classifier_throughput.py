"""Sentences per second and peak memory of the spin classifier on this machine, per inference path.

Paths, each measured in a fresh process (so that peak memory is its own) on the same sentences:

- ``fp32``: the plain transformers model in full precision (`SpinScorer.load`);
- ``int8``: the same weights with int8 dynamically quantised Linear layers (`SpinScorer.load(quantize=True)`,
  `Detector.load(quantize=True)`, `spin-detect ... --quantize`, the batch job's default): the fast CPU
  path, with the int8 calibration of the model folder. ``Detector.load()`` keeps fp32.

Agreement of int8 with fp32: share of equal spun/not-spun decisions at the model's threshold, mean
and largest absolute difference of the calibrated probability, and Pearson correlation.

Sentences: held-out Reuters news (reut2-016..018), news-length (6-64 words), the first ``--sentences``.

    python benchmarks/classifier_throughput.py --model models/spin-classifier --sentences 2000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detector.machine import describe_machine  # noqa: E402

PATHS = {"fp32": False, "int8": True}


def news_sentences(count: int, shared: str | None) -> list[str]:
    """The first ``count`` usable sentences of the held-out Reuters articles."""
    from detector.text import split_sentences
    from training.build_dataset import usable_sentence
    from training.corpora import read_news

    sentences: list[str] = []
    for article in read_news(shared, held_out=True):
        for segment in split_sentences(article.text):
            if not segment.is_boilerplate and usable_sentence(segment.text):
                sentences.append(segment.text)
                if len(sentences) == count:
                    return sentences
    return sentences


def measure(model: str, quantize: bool, sentences: list[str], threads: int, batch_size: int, queue) -> None:
    """Child process: load, warm up, time `predict` over every sentence, report speed, memory, scores."""
    import torch

    from detector.classifier import SpinScorer

    torch.set_num_threads(threads)
    started = time.perf_counter()
    scorer = SpinScorer.load(model, quantize=quantize)
    load_seconds = time.perf_counter() - started
    scorer.predict(sentences[: batch_size * 2], batch_size=batch_size)
    started = time.perf_counter()
    predictions = scorer.predict(sentences, batch_size=batch_size)
    seconds = time.perf_counter() - started
    queue.put({
        "sentences_per_second": len(sentences) / seconds,
        "seconds": seconds,
        "load_seconds": load_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threshold": scorer.threshold,
        "probabilities": [probability for probability, _ in predictions],
    })


def run_path(model: str, quantize: bool, sentences: list[str], threads: int, batch_size: int) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=measure, args=(model, quantize, sentences, threads, batch_size, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def agreement(reference: dict, other: dict) -> dict:
    """How closely ``other``'s calibrated probabilities and decisions follow ``reference``'s."""
    a, b = np.asarray(reference["probabilities"]), np.asarray(other["probabilities"])
    threshold = reference["threshold"]
    difference = np.abs(a - b)
    return {
        "decision_agreement": float(np.mean((a >= threshold) == (b >= threshold))),
        "mean_abs_difference": float(difference.mean()),
        "max_abs_difference": float(difference.max()),
        "pearson": float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan"),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "spin-classifier"))
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--shared", default=None, help="shared data folder (default ../shared)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "classifier_throughput.json"))
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sentences = news_sentences(args.sentences, args.shared)
    runs = {name: run_path(args.model, quantize, sentences, args.threads, args.batch_size) for name, quantize in PATHS.items()}
    result = {
        "model": args.model,
        "sentences": len(sentences),
        "mean_words": float(np.mean([len(s.split()) for s in sentences])),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "machine": describe_machine(),
        "paths": {name: {k: v for k, v in run.items() if k != "probabilities"} for name, run in runs.items()},
        "int8_vs_fp32": agreement(runs["fp32"], runs["int8"]),
        "targets": {"sentences_per_second": ">= 300", "peak_rss_mb": "<= 1536"},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, run in result["paths"].items():
        print(f"{name}: {run['sentences_per_second']:.0f} sentences/s, peak {run['peak_rss_mb']:.0f} MB")
    print("int8 vs fp32:", json.dumps(result["int8_vs_fp32"]))
    return result


if __name__ == "__main__":
    main()
