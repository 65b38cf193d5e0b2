"""`related` on clean wire, judged blind: a second family for the same-story target, drawn apart from the evaluation.

`same_story_audit.py` judges the article evaluation's and the family set's suspects, whose partners
a generator chose. Here the suspects are 1,691 other Reuters-21578 articles from the training files
(the wire benchmark's shuffle after its samples A, B and C: `wire_verdicts.shuffled_articles`),
analysed against its index of 4,000. For every suspect the shipped detector (decisions ``.rules11``,
2026-12-07) called `related` or `original`, each of its two best retrieval candidates on its topic
(topic similarity 0.45 or more, word similarity 0.1-0.8: where the evidence does not settle it) is
a pair: 2,105 pairs, of which a seeded 1,600 were judged blind by sixteen annotators (helper agents,
100 pairs each, the two texts alone, the texts' order drawn per pair) under the guideline of
`same_story_audit.py`'s second pass, with no worked example. A random 200 were judged again by eight
more (``wire_story_audit_second.jsonl``).

A suspect's truth is `related` when one of its judged pairs is ``same_story``, else `original`; the
shipped detector's verdicts are scored against it. ``evidence_ceiling`` over the judged pairs is the
bound of `same_story_audit.py`. These pairs are why a learned pair model was tried and did not ship
(docs/experiments.md, "Issue 35, ninth session"). Writes benchmarks/results/wire_story_audit.json::

    python benchmarks/wire_story_audit.py [--shared ../shared]    # the index is kept in build/wire-eval
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.family_verdicts import read_jsonl  # noqa: E402
from benchmarks.same_story_audit import agreement, evidence_ceiling, pair_evidence, scores  # noqa: E402
from benchmarks.wire_verdicts import SAMPLE, SAMPLES, SOURCES, load_or_build_index, shuffled_articles  # noqa: E402
from detector.api import Detector  # noqa: E402
from detector.machine import describe_machine  # noqa: E402

AUDIT = REPO / "benchmarks" / "data" / "wire_story_audit.jsonl"
SECOND = REPO / "benchmarks" / "data" / "wire_story_audit_second.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "wire_story_audit.json"
FIRST_SUSPECT = SOURCES + SAMPLE * len(SAMPLES)  # after the wire benchmark's samples


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=None, help="The shared folder (default: ../shared beside the checkout).")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Results JSON to write.")
    args = parser.parse_args(argv)
    audit = read_jsonl(AUDIT)
    articles = shuffled_articles(args.shared)
    text = {a.id: a.text for a in articles}
    missing = [row["article_id"] for row in audit if row["article_id"] not in text or row["partner_id"] not in text]
    if missing:
        raise SystemExit(f"{len(missing)} audited articles (first {missing[0]!r}) are not in the Reuters training files: "
                         "is --shared the project's shared folder?")
    detector = Detector.load()
    started = time.perf_counter()
    index = load_or_build_index(articles[:SOURCES], detector)
    pairs_of = defaultdict(list)
    for row in audit:
        pairs_of[row["article_id"]].append(row)
    suspects = [a.id for a in articles[FIRST_SUSPECT:] if a.id in pairs_of]
    reports = detector.analyze_many([text[s] for s in suspects], index=index)
    verdicts = [report.verdict for report in reports]
    truth = ["related" if any(row["judgement"] == "same_story" for row in pairs_of[s]) else "original" for s in suspects]
    print(f"{len(suspects)} suspects analysed", flush=True)
    pairs = [{**row, **pair_evidence(detector, index, text[row["article_id"]], row["partner_id"])} for row in audit]
    result = {
        "audit": str(AUDIT.relative_to(REPO)), "second_pass": str(SECOND.relative_to(REPO)),
        "agreement": agreement(audit, read_jsonl(SECOND)), "decision_version": detector.decisions.version,
        "pairs": len(audit), "judgements": dict(Counter(row["judgement"] for row in audit)),
        "suspects": len(suspects), "truth": dict(Counter(truth)),
        "verdicts_by_truth": {label: dict(Counter(v for t, v in zip(truth, verdicts) if t == label)) for label in ("related", "original")},
        "scores": scores(truth, verdicts),
        "evidence_ceiling": evidence_ceiling(pairs),
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"] = describe_machine()
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("agreement", "truth", "scores", "evidence_ceiling")}, indent=1))
    return result


if __name__ == "__main__":
    main()
