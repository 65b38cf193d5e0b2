"""`related` against a blind same-story audit: does the verdict mean the same event, or the same topic?

The article evaluation (``training.build_eval_articles``) and the family set
(``training.build_family_eval``) label a suspect `related` when it shares a Reuters topic (or BBC
category) and two rare capitalised words with an indexed article, and `original` ("absent") when no
indexed article does. DESIGN.md asks more of `related`: the same event, reported independently.
``benchmarks/data/same_story_audit.jsonl`` holds, for each related or absent suspect of both sets, a
blind judgement of the article against one indexed partner (for a related suspect its anchor; for an
absent one the indexed source sharing the most rare names, numbers and quotations with it, else its
top retrieval candidate): ``same_story``, ``same_topic`` or ``unrelated``. Seven annotators (helper
agents, 2026-12-06) each judged a seventh of the 337 distinct pairs from the two texts alone, with
no label, verdict or score in sight, under this guideline:

    same_story: both report the same specific event or development (the same announcement, data
    release, deal, court case, meeting, match, statement, takeover bid, price change); independent
    reports, updates and follow-ups on that same development count. same_topic: same subject area,
    country, company, person or market, but different specific developments. unrelated: neither.
    Would a news editor say B covers the same news item as A? A passing mention is same_topic.

A second pass under the same guideline with no worked examples, three more annotators on a random
120 of the pairs and five more on the other 217 (2026-12-06), judged every pair again
(``same_story_audit_second.jsonl``); the agreement of the two passes (Cohen's kappa), and the
second scored against the first as the detector is, are in the results.

Here a suspect's audited truth is `related` when its pair is ``same_story`` and `original` otherwise.
The shipped detector analyses the audited suspects against each set's index, and the verdicts are
scored against both truths: the generator's labels and the audit's.

``evidence_ceiling`` asks how far any rule over the detector's same-story evidence could go: for each
distinct audited pair (all splits) it computes the evidence as the detector weighs it (topic and word
similarity, shared marks) and the share of all figures the two texts share, fits a logistic regression
over them, cross-validated with the pairs of one partner in one fold, and reports its AUC, average
precision and best F1 over every threshold, a bound, since that threshold is chosen on the pairs it
scores. Writes benchmarks/results/same_story_audit.json::

    python benchmarks/same_story_audit.py    # needs build/eval and build/family-eval (benchmarks/README.md)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, cohen_kappa_score, f1_score, precision_recall_curve, recall_score, roc_auc_score
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.family_verdicts import load_index, read_jsonl  # noqa: E402
from detector.api import Detector  # noqa: E402
from detector.machine import describe_machine  # noqa: E402
from detector.metrics import bootstrap_interval  # noqa: E402
from detector.story import StoryProfile, mark_name_test, sentence_figures, word_cosine  # noqa: E402
from detector.text import split_sentences  # noqa: E402

AUDIT = REPO / "benchmarks" / "data" / "same_story_audit.jsonl"
SECOND = REPO / "benchmarks" / "data" / "same_story_audit_second.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "same_story_audit.json"
SETS = {"eval": "build/eval", "family": "build/family-eval"}  # the evaluation's test split; the whole family set
VERDICTS = ("related", "original")
EVIDENCE = ("word_similarity", "topic_similarity", "marks", "figure_share")
_YEAR = re.compile(r"(19|20)\d\d")


def _f1(truth: list[str], verdicts: list[str], label: str) -> float:
    return float(f1_score(truth, verdicts, labels=[label], average="macro", zero_division=0.0))


def scores(truth: list[str], verdicts: list[str]) -> dict:
    """F1 of `related` and `original` with bootstrap intervals, and the recall of each."""
    out = {}
    for label in VERDICTS:
        interval = bootstrap_interval(partial(_f1, label=label), truth, verdicts)
        hits = sum(t == v == label for t, v in zip(truth, verdicts))
        out[label] = {"f1": round(interval.value, 4), "low": round(interval.low, 4), "high": round(interval.high, 4),
                      "recall": round(float(recall_score(truth, verdicts, labels=[label], average="macro", zero_division=0.0)), 4),
                      "hits": hits, "n": truth.count(label)}
    return out


def set_figures(rows: list[dict]) -> dict:
    """Label noise (generator label x judgement), then the verdicts scored against both truths."""
    generator = [row["label"] for row in rows]
    audited = ["related" if row["judgement"] == "same_story" else "original" for row in rows]
    verdicts = [row["verdict"] for row in rows]
    confirmed_absent = [row["verdict"] for row in rows if row["label"] == "original" and row["judgement"] != "same_story"]
    return {
        "suspects": len(rows),
        "labels_by_judgement": {label: dict(Counter(r["judgement"] for r in rows if r["label"] == label)) for label in VERDICTS},
        "verdicts_by_judgement": {j: dict(Counter(r["verdict"] for r in rows if r["judgement"] == j))
                                  for j in ("same_story", "same_topic", "unrelated")},
        "generator_labels": scores(generator, verdicts),
        "audited_labels": scores(audited, verdicts),
        "absent_called_original": {
            "generator": round(sum(v == "original" for t, v in zip(generator, verdicts) if t == "original") / generator.count("original"), 4),
            "audit_confirmed": round(confirmed_absent.count("original") / len(confirmed_absent), 4),
            "audit_confirmed_n": len(confirmed_absent),
        },
    }


def agreement(audit: list[dict], second: list[dict]) -> dict:
    """Cohen's kappa of the two passes on the pairs both judged: three-way, and same story or not; and the
    second pass scored as if it were a detector against the first (`related` F1): what a second reader reaches."""
    first = {(row["article_id"], row["partner_id"]): row["judgement"] for row in audit}
    pairs = [(first[(row["article_id"], row["partner_id"])], row["judgement"]) for row in second]
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    story_a, story_b = [x == "same_story" for x in a], [y == "same_story" for y in b]
    second_as_verdicts = scores(["related" if x else "original" for x in story_a], ["related" if y else "original" for y in story_b])
    return {"pairs": len(pairs), "kappa": round(float(cohen_kappa_score(a, b)), 4),
            "kappa_same_story": round(float(cohen_kappa_score(story_a, story_b)), 4),
            "agree_same_story": sum(x == y for x, y in zip(story_a, story_b)),
            "same_story": {"first": sum(story_a), "second": sum(story_b)},
            "second_pass_related_f1": {key: second_as_verdicts["related"][key] for key in ("f1", "low", "high")}}


def figures(sentences: list[str]) -> set[str]:
    """Every figure of a text (`detector.story.sentence_figures`) but bare years and the counts 0-10:
    all a data release's numbers."""
    found = set().union(*map(sentence_figures, sentences))
    return {f for f in found if not _YEAR.fullmatch(f) and not (f.isdigit() and int(f) <= 10)}


def pair_evidence(detector: Detector, index, text: str, partner_id: str) -> dict:
    """The same-story evidence of an article and one indexed source, as `Detector` weighs it for a
    candidate: topic similarity (mean sentence vectors), word similarity (TF-IDF cosine) and shared
    rare marks; and the share of all figures they share (of the text with fewer)."""
    rules = detector.decisions.verdict
    texts = [segment.text for segment in split_sentences(text) if not segment.is_boilerplate]
    source = index.source(partner_id)
    content = [i for i, segment in enumerate(source.segments) if not segment.is_boilerplate]
    told = [source.segments[i].text for i in content]
    topic = index.encoder.encode(texts).mean(axis=0)
    other = source.embeddings[content].mean(axis=0)
    rare = mark_name_test(index, rules.max_story_name_share, rules.min_common_word_sources, rules.min_common_word_share)
    profile, source_profile = StoryProfile.of(texts), StoryProfile.of(told)
    ours, theirs = figures(texts), figures(told)
    return {
        "word_similarity": word_cosine(profile.word_weights(index.word_frequency, len(index)),
                                       source_profile.word_weights(index.word_frequency, len(index))),
        "topic_similarity": float(topic @ other / (np.linalg.norm(topic) * np.linalg.norm(other))),
        "marks": profile.shared(source_profile, rare).count,
        "figure_share": len(ours & theirs) / max(1, min(len(ours), len(theirs))),
    }


def evidence_ceiling(pairs: list[dict]) -> dict:
    """How well the evidence separates same-story pairs: each signal's AUC, and a logistic regression
    over all of them, cross-validated by partner, with its best F1 over thresholds (a bound)."""
    same = np.array([pair["judgement"] == "same_story" for pair in pairs])
    columns = {name: np.array([pair[name] for pair in pairs], dtype=float) for name in EVIDENCE}
    columns["marks"] = np.log1p(columns["marks"])
    groups = [pair["partner_id"] for pair in pairs]
    out = {"pairs": len(pairs), "same_story": int(same.sum()),
           "auc": {name: round(float(roc_auc_score(same, values)), 4) for name, values in columns.items()}, "models": {}}
    for name, used in {"word_similarity": EVIDENCE[:1], "detector_evidence": EVIDENCE[:3], "with_figure_share": EVIDENCE}.items():
        model = make_pipeline(StandardScaler(), LogisticRegression(C=10.0, max_iter=1000))
        features = np.column_stack([columns[column] for column in used])
        scores = cross_val_predict(model, features, same, groups=groups, cv=GroupKFold(5), method="predict_proba")[:, 1]
        precision, recall, _ = precision_recall_curve(same, scores)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        best = int(f1.argmax())
        out["models"][name] = {"evidence": list(used), "auc": round(float(roc_auc_score(same, scores)), 4),
                               "average_precision": round(float(average_precision_score(same, scores)), 4),
                               "best_f1": round(float(f1[best]), 4), "precision_at_best": round(float(precision[best]), 4),
                               "recall_at_best": round(float(recall[best]), 4)}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="Results JSON to write.")
    args = parser.parse_args(argv)
    audit = read_jsonl(AUDIT)
    detector = Detector.load()
    started = time.perf_counter()
    result = {"audit": str(AUDIT.relative_to(REPO)), "second_pass": str(SECOND.relative_to(REPO)),
              "agreement": agreement(audit, read_jsonl(SECOND)), "decision_version": detector.decisions.version, "sets": {}}
    pairs = {}
    for name, folder in SETS.items():
        data = REPO / folder
        suspects = {row["id"]: row for row in read_jsonl(data / "suspects.jsonl")}
        audited = [row for row in audit if row["set"] == name]
        missing = [row["suspect_id"] for row in audited if row["suspect_id"] not in suspects]
        if missing:
            raise SystemExit(f"{folder} lacks {len(missing)} audited suspects (first {missing[0]!r}): rebuild it with the "
                             "command in benchmarks/README.md, whose fixed seeds the audit was made on")
        index = load_index(data)
        rows = [row for row in audited if row["split"] == "test"]
        reports = detector.analyze_many([suspects[row["suspect_id"]]["text"] for row in rows], index=index)
        rows = [{**row, "verdict": report.verdict} for row, report in zip(rows, reports)]
        result["sets"][name] = set_figures(rows)
        for row in audited:
            key = row["article_id"], row["partner_id"]
            if key not in pairs:
                pairs[key] = {**row, **pair_evidence(detector, index, suspects[row["suspect_id"]]["text"], row["partner_id"])}
        print(f"{name}: {len(rows)} suspects", flush=True)
    result["evidence_ceiling"] = evidence_ceiling(list(pairs.values()))
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"] = describe_machine()
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"sets": result["sets"], "evidence_ceiling": result["evidence_ceiling"]}, indent=1))
    return result


if __name__ == "__main__":
    main()
