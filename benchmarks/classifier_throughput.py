"""Sentences per second and peak memory of the spin classifier on this machine, per inference path.

Paths, each measured in a fresh process (so that peak memory is its own) on the same sentences:

- ``fp32``: the plain transformers model in full precision (`SpinScorer.load`);
- ``int8``: the same weights with int8 Linear layers (`detector.invariant.RowInt8Linear`; `SpinScorer.load(precision="int8")`,
  `Detector.load(precision="int8")`, `spin-detect ... --precision int8`), with the int8 calibration
  of the model folder;
- ``bf16``: the encoder in bfloat16 (`precision="bf16"`), with the fp32 calibration: fast where the
  CPU has AMX, emulated and slow elsewhere.

``fast_path`` names the one that ``precision="fast"`` (the batch job's default) picks on this machine
(`detector.precision`). ``Detector.load()`` keeps fp32.

Agreement of int8 and bf16 with fp32: share of equal spun/not-spun decisions (each path at its own
threshold), mean and largest absolute difference of the calibrated probability, Pearson correlation,
and the mean absolute difference of the raw (uncalibrated) probability.

Where the time goes, per path: seconds in word tokenisation, subword encoding and the model, and
the model's costliest operators by share of CPU time (`torch.profiler`, one more pass). ``--compare`` adds the int8 path of other model folders (a narrower student, say),
timed in the same run, with their speed relative to this model's int8 path.

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
from detector.precision import fast_precision  # noqa: E402

PATHS = ("fp32", "int8", "bf16")
TOP_OPERATORS = 6
PER_SENTENCE = ("probabilities", "raw_probabilities")  # compared, not written out


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


def measure(
    model: str, precision: str, sentences: list[str], threads: int, batch_size: int, queue
) -> None:
    """Child process: load, warm up, time `predict` over every sentence, report speed, memory, scores."""
    import torch

    from detector.classifier import SpinScorer

    torch.set_num_threads(threads)
    started = time.perf_counter()
    scorer = SpinScorer.load(model)
    scorer.with_precision(precision)
    load_seconds = time.perf_counter() - started
    scorer.predict(sentences[: batch_size * 2], batch_size=batch_size)
    started = time.perf_counter()
    predictions = scorer.predict(sentences, batch_size=batch_size)
    seconds = time.perf_counter() - started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the profiler's own memory
    split, raw = time_split(scorer, sentences, batch_size)
    queue.put({
        "sentences_per_second": len(sentences) / seconds,
        "seconds": seconds,
        "load_seconds": load_seconds,
        "peak_rss_mb": peak_rss_mb,
        "threshold": scorer.threshold,
        "time_split": split,
        "probabilities": [probability for probability, _ in predictions],
        "raw_probabilities": raw.tolist(),
    })


def time_split(scorer, sentences: list[str], batch_size: int) -> tuple[dict, np.ndarray]:
    """One more pass, stage by stage as `SpinScorer.predict` runs them, with the model's top operators.

    Returns the split and the pass's raw (uncalibrated) sentence probabilities.
    """
    from torch.profiler import ProfilerActivity, profile

    from detector.classifier import encode_words
    from detector.text import tokenize

    started = time.perf_counter()
    token_lists = [tokenize(sentence) for sentence in sentences]
    tokenized = time.perf_counter()
    inputs = encode_words(scorer.tokenizer, token_lists, scorer.max_length)
    encoded = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        raw, _ = scorer.score_subwords(inputs, batch_size)
    scored = time.perf_counter()
    operators = profiler.key_averages()
    total = sum(event.self_cpu_time_total for event in operators)
    top = sorted(operators, key=lambda event: -event.self_cpu_time_total)[:TOP_OPERATORS]
    return {
        "tokenize_seconds": tokenized - started,
        "subwords_seconds": encoded - tokenized,
        "model_seconds_profiled": scored - encoded,
        "model_operator_share": {event.key: round(event.self_cpu_time_total / total, 4) for event in top},
    }, raw


def run_path(model: str, precision: str, sentences: list[str], threads: int, batch_size: int) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=measure, args=(model, precision, sentences, threads, batch_size, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def agreement(reference: dict, other: dict) -> dict:
    """How closely ``other``'s calibrated probabilities and decisions follow ``reference``'s.

    ``raw_mean_abs_difference`` compares the uncalibrated probabilities: the model's numerics alone,
    whatever calibration each path applies.
    """
    a, b = np.asarray(reference["probabilities"]), np.asarray(other["probabilities"])
    difference = np.abs(a - b)
    return {
        "decision_agreement": float(np.mean((a >= reference["threshold"]) == (b >= other["threshold"]))),
        "mean_abs_difference": float(difference.mean()),
        "max_abs_difference": float(difference.max()),
        "pearson": float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan"),
        "raw_mean_abs_difference": float(np.abs(np.asarray(reference["raw_probabilities"]) - other["raw_probabilities"]).mean()),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "spin-classifier"))
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--compare", nargs="*", default=[], help="also time the int8 path of these model folders (students, say)"
    )
    parser.add_argument("--shared", default=None, help="shared data folder (default ../shared)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "classifier_throughput.json"))
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sentences = news_sentences(args.sentences, args.shared)
    runs = {name: run_path(args.model, name, sentences, args.threads, args.batch_size) for name in PATHS}
    compared = {folder: run_path(folder, "int8", sentences, args.threads, args.batch_size) for folder in args.compare}
    result = {
        "model": args.model,
        "sentences": len(sentences),
        "mean_words": float(np.mean([len(s.split()) for s in sentences])),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "machine": describe_machine(),
        "fast_path": fast_precision(),
        "paths": {name: {k: v for k, v in run.items() if k not in PER_SENTENCE} for name, run in runs.items()},
        "int8_vs_fp32": agreement(runs["fp32"], runs["int8"]),
        "bf16_vs_fp32": agreement(runs["fp32"], runs["bf16"]),
        "compared_int8": {
            folder: {k: v for k, v in run.items() if k not in PER_SENTENCE}
            | {"speed_vs_int8": run["sentences_per_second"] / runs["int8"]["sentences_per_second"]}
            for folder, run in compared.items()
        },
        "targets": {"sentences_per_second": ">= 300", "peak_rss_mb": "<= 1536"},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, run in (result["paths"] | result["compared_int8"]).items():
        print(f"{name}: {run['sentences_per_second']:.0f} sentences/s, peak {run['peak_rss_mb']:.0f} MB")
    print("int8 vs fp32:", json.dumps(result["int8_vs_fp32"]))
    print("bf16 vs fp32:", json.dumps(result["bf16_vs_fp32"]))
    print("fast path here:", result["fast_path"])
    return result


if __name__ == "__main__":
    main()
