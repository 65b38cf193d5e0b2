"""Clean wire against clean wire: how often is an independent report called a copy or a paraphrase?

4,500 Reuters-21578 articles from the training files (60 words or more, a seeded sample) are
analysed against an index of 4,000 others from those files. None was written as a copy of another,
but the wire holds real repeats (a story filed again, corrected, cut or updated) and many templated
reports: two companies' earnings tables, two bond issues, two weeks of one statistic, worded alike
with other figures. Each `copy` and `paraphrased` call that the detector made with its template
check off was judged blind, from the two texts alone, by annotators (helper agents, 2026-12-06) in
``benchmarks/data/wire_audit.jsonl``; two more judged a random 60 of sample A again
(``wire_audit_second.jsonl``). Sample A (the first 1,500) was judged by six annotators whose
guideline named earnings tables as an example of other_report; its verdicts, not its judgements,
were seen when the check's bar was set. Sample B (the next 1,500) was judged by six others, with no
example, after the check shipped: the held-out figure for the template check. Sample C (the next
1,500) was judged by six more, with no example, after the word floor for paraphrases (below) was
set, looking at samples A and B: the held-out figure for the shipped detector. The guideline:

    same_report: A and B report the same facts about the same subject (the same company's same
    results, the same bond issue, announcement or data release, with the same figures); one is a
    copy, rewrite, correction, shortened or extended version, or update of the other (the figures
    both give agree). other_report: different facts (another company, bond issue, period, country,
    event), even when the wording or table layout is nearly identical. unsure: cannot tell.

Three detectors analyse the samples: the same model with the template check off
(``min_template_pairs`` and ``min_template_lines`` 0); with the template check (decisions
``.rules10``): paraphrase pairs with the main source that share under a fifth of their figures,
pooled over three pairs or more (`detector.story.figure_overlap`), or two pairs, and half of those
giving figures, keeping the wording with other figures (`detector.story.template_lines`), become
unrelated; and the shipped one (``.rules11``), which also turns them unrelated when the article and
its main source share few of one event's words (`detector.story.word_cosine` under
``min_paraphrase_word_similarity``) and fewer than ``min_story_names`` rare names, figures or
quotations. A `copy` or `paraphrased` call on an ``other_report`` pair is a
false accusation. A call on a pair nobody judged is counted as
unjudged, so a change that makes new calls shows. Writes benchmarks/results/wire_verdicts.json::

    python benchmarks/wire_verdicts.py [--shared ../shared]    # the index is kept in build/wire-eval
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.family_verdicts import read_jsonl  # noqa: E402
from detector.api import Detector  # noqa: E402
from detector.index import SourceIndex  # noqa: E402
from detector.machine import describe_machine  # noqa: E402
from training.corpora import read_reuters  # noqa: E402

AUDIT = REPO / "benchmarks" / "data" / "wire_audit.jsonl"
SECOND = REPO / "benchmarks" / "data" / "wire_audit_second.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "wire_verdicts.json"
INDEX = REPO / "build" / "wire-eval" / "index"
SOURCES, SAMPLE, SEED, MIN_WORDS = 4000, 1500, 7, 60
SAMPLES = ("a", "b", "c")  # SAMPLE suspects each: A seen when the bars were set, B held out for the template check, C for .rules11
SAMPLED = SOURCES + SAMPLE * len(SAMPLES)  # articles the index and the samples take; `wire_story_audit.py` draws after them
ACCUSATIONS = ("copy", "paraphrased")


def shuffled_articles(shared: Path | None) -> list:
    """Training-file Reuters articles of MIN_WORDS or more, shuffled with a fixed seed: the index's
    sources come first, then samples A, B and C, then the suspects of `wire_story_audit.py`."""
    articles = [a for a in read_reuters(shared, held_out=False) if len(a.text.split()) >= MIN_WORDS]
    random.Random(SEED).shuffle(articles)
    return articles


def sample(shared: Path | None) -> tuple[list, list]:
    """The indexed sources and the suspects (samples A, B, C in turn)."""
    articles = shuffled_articles(shared)
    return articles[:SOURCES], articles[SOURCES:SAMPLED]


def load_or_build_index(sources: list, detector: Detector) -> SourceIndex:
    """The index of the sources, built once and kept in build/wire-eval (rebuilt when its ids differ)."""
    if INDEX.is_dir():
        index = SourceIndex.load(INDEX, encoder=detector.encoder)
        if sorted(index.ids) == sorted(a.id for a in sources):
            return index
    index = SourceIndex.build([{"id": a.id, "text": a.text} for a in sources], encoder=detector.encoder, progress=True)
    index.save(INDEX)
    return index


def scored(reports: list, suspects: list, judged: dict) -> dict:
    """Verdict counts, and each accusing call against the judgement of its (article, source) pair."""
    calls = {verdict: Counter() for verdict in ACCUSATIONS}
    for article, report in zip(suspects, reports):
        if report.verdict in ACCUSATIONS:
            calls[report.verdict][judged.get((article.id, report.source_id), "unjudged")] += 1
    false = sum(counts["other_report"] for counts in calls.values())
    return {
        "verdicts": dict(Counter(report.verdict for report in reports)),
        "calls": {verdict: dict(counts) for verdict, counts in calls.items()},
        "precision": {verdict: round(counts["same_report"] / max(1, sum(counts.values())), 4) for verdict, counts in calls.items()},
        "false_accusations": false,
        "false_accusations_per_1000": round(1000 * false / len(reports), 1),
        "unjudged": sum(counts["unjudged"] for counts in calls.values()),
    }


def agreement(audit: list[dict], second: list[dict]) -> dict:
    """Cohen's kappa of the two passes on the pairs both judged."""
    first = {(row["article_id"], row["source_id"]): row["label"] for row in audit}
    pairs = [(first[(row["article_id"], row["source_id"])], row["label"]) for row in second]
    return {"pairs": len(pairs), "agree": sum(a == b for a, b in pairs),
            "kappa": round(float(cohen_kappa_score([a for a, _ in pairs], [b for _, b in pairs])), 4)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=None, help="The shared folder (default: ../shared beside the checkout).")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Results JSON to write.")
    args = parser.parse_args(argv)
    audit = read_jsonl(AUDIT)
    judged = {(row["article_id"], row["source_id"]): row["label"] for row in audit}
    shipped = Detector.load()
    unchecked = shipped.with_verdict_rules(min_template_pairs=0, min_template_lines=0, min_paraphrase_word_similarity=0)
    detectors = {"template_check_off": unchecked, "template_check": shipped.with_verdict_rules(min_paraphrase_word_similarity=0), "shipped": shipped}
    sources, suspects = sample(args.shared)
    started = time.perf_counter()
    index = load_or_build_index(sources, shipped)
    result = {"sources": len(sources), "suspects_per_sample": SAMPLE, "seed": SEED, "audit": str(AUDIT.relative_to(REPO)),
              "labels": {sample: dict(Counter(row["label"] for row in audit if row["sample"] == sample)) for sample in SAMPLES}, "agreement": agreement(audit, read_jsonl(SECOND)),
              "decision_version": shipped.decisions.version, "runs": {}}
    for name, detector in detectors.items():
        reports = list(detector.analyze_many([a.text for a in suspects], index=index))
        result["runs"][name] = {sample: scored(reports[n * SAMPLE:(n + 1) * SAMPLE], suspects[n * SAMPLE:(n + 1) * SAMPLE], judged)
                                for n, sample in enumerate(SAMPLES)}
        print(name, json.dumps(result["runs"][name]), flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"] = describe_machine()
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
