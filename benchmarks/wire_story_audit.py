"""`related` on clean wire, judged blind: a second family for the same-story target, drawn apart from the evaluation.

`same_story_audit.py` judges the article evaluation's and the family set's suspects, whose partners
a generator chose. Here the suspects are 1,691 other Reuters-21578 articles from the training files
(the wire benchmark's shuffle after its index and samples A, B and C: `wire_verdicts.SAMPLED`),
analysed against its index of 4,000 by the detector of decisions ``2026-12-06T070549Z.rules11``.
For each suspect it called `related` or `original`, those of its top two retrieval candidates that
lie where the evidence does not settle the pair (topic similarity 0.45 or more, word similarity
0.1-0.8) make a pair: 2,105 pairs of 1,227 suspects; the others had no such candidate or another
verdict. Every pair was judged blind (2026-12-07) by one of 22 annotators (helper agents, 80-100
pairs each, the two texts alone in an order drawn per pair) under the guideline of
`same_story_audit.py`'s second pass, with no worked example; eight more judged a random 200 of the
first 1,600 again (``wire_story_audit_second.jsonl``).

A suspect counts as `related` when one of its judged pairs is ``same_story``, else `original`; the
detector's verdicts are scored against that, and a `related` call is also checked against the source
it names (``report.story``). Candidates outside the band were not judged: a suspect whose same-story
source lies there counts as `original`. ``evidence_ceiling`` over the judged pairs is the bound of
`same_story_audit.py`; since the band cuts off the pairs the evidence settles, its AUCs are not
comparable with the audit's. The pairs were labelled to train a pair model, which did not ship
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
from benchmarks.wire_verdicts import SAMPLED, SOURCES, load_or_build_index, shuffled_articles  # noqa: E402
from detector.api import Detector  # noqa: E402
from detector.machine import describe_machine  # noqa: E402

AUDIT = REPO / "benchmarks" / "data" / "wire_story_audit.jsonl"
SECOND = REPO / "benchmarks" / "data" / "wire_story_audit_second.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "wire_story_audit.json"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=None, help="The shared folder (default: ../shared beside the checkout).")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Results JSON to write.")
    args = parser.parse_args(argv)
    audit = read_jsonl(AUDIT)
    articles = shuffled_articles(args.shared)
    text = {a.id: a.text for a in articles}
    drawn, indexed = {a.id for a in articles[SAMPLED:]}, {a.id for a in articles[:SOURCES]}
    strays = [row["pair"] for row in audit if row["article_id"] not in drawn or row["partner_id"] not in indexed]
    if strays:
        raise SystemExit(f"{len(strays)} audited pairs (first {strays[0]!r}) are not a suspect drawn after the wire samples and "
                         "an indexed source: is --shared the project's shared folder, and wire_verdicts' shuffle unchanged?")
    detector = Detector.load()
    started = time.perf_counter()
    index = load_or_build_index(articles[:SOURCES], detector)
    pairs_of = defaultdict(list)
    for row in audit:
        pairs_of[row["article_id"]].append(row)
    suspects = [a.id for a in articles[SAMPLED:] if a.id in pairs_of]
    reports = list(detector.analyze_many([text[s] for s in suspects], index=index))
    verdicts = [report.verdict for report in reports]
    same = [{row["partner_id"] for row in pairs_of[s] if row["judgement"] == "same_story"} for s in suspects]
    truth = ["related" if partners else "original" for partners in same]
    named = [(report.story or {}).get("source_id") in partners for report, partners in zip(reports, same) if report.verdict == "related"]
    print(f"{len(suspects)} suspects analysed", flush=True)
    pairs = [{**row, **pair_evidence(detector, index, text[row["article_id"]], row["partner_id"])} for row in audit]
    result = {
        "audit": str(AUDIT.relative_to(REPO)), "second_pass": str(SECOND.relative_to(REPO)),
        "agreement": agreement(audit, read_jsonl(SECOND)), "decision_version": detector.decisions.version,
        "pairs": len(audit), "judgements": dict(Counter(row["judgement"] for row in audit)),
        "suspects": len(suspects), "truth": dict(Counter(truth)),
        "verdicts_by_truth": {label: dict(Counter(v for t, v in zip(truth, verdicts) if t == label)) for label in ("related", "original")},
        "scores": scores(truth, verdicts),
        "related_calls_naming_a_same_story_source": {"named": sum(named), "calls": len(named)},
        "evidence_ceiling": evidence_ceiling(pairs),
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"] = describe_machine()
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("agreement", "truth", "scores", "evidence_ceiling")}, indent=1))
    return result


if __name__ == "__main__":
    main()
