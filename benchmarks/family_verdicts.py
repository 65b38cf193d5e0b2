"""Article verdicts per substitution family, each judged by a detector that never saw the family.

Leave one family out, at the article level (issue 35). For each family F of
`training.families.FAMILIES` (MyThes, WordNet, PPDB, encoder-embedding neighbours, held-out PPS
tortured phrases), the articles of ``training.build_family_eval`` spun with F alone (light: about
10-15% of the content words, heavy: 30-50%) are analysed, together with every clean kind (copies,
clean newspaper rewrites of the same story, human paraphrase), by a detector that knows nothing of F:

* the classifier is the leave-one-thesaurus-out model trained without F (``build/models/loto/F``,
  `training.loto`) for the three thesauri, and the shipped model for the two families it never
  trained on;
* the synonym table answers from the other thesauri only (`SynonymTable.restricted`);
* the pair decisions are fitted without F's pairs (``training.fit_decisions --exclude-family F``,
  ``build/decisions/F``).

Per family: `spun` recall for light and heavy spins, `copy` recall, and false `spun` on copies,
rewrites and human paraphrase, against the targets. The shipped configuration then runs on the
kinds no family owns: partial reuse, stitched articles (every contributing source found?), articles
absent from the index on indexed topics (`original`?) and same-story articles (`related`?).

``--baseline`` names a results JSON of the release before (the same command run on its code) whose
figures are shown beside these. Writes benchmarks/results/family_verdicts.json::

    python -m training.build_family_eval --out build/family-eval
    for f in mythes wordnet ppdb; do python -m training.fit_decisions --pairs build/family-eval/pairs.jsonl \\
        --model build/models/loto/$f --exclude-family $f --out build/decisions/$f; done
    for f in embedding tortured; do python -m training.fit_decisions --pairs build/family-eval/pairs.jsonl \\
        --model models/spin-classifier --exclude-family $f --out build/decisions/$f; done
    python benchmarks/family_verdicts.py --data build/family-eval
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from detector.api import Detector  # noqa: E402
from detector.decision import DecisionModel  # noqa: E402
from detector.documents import Document  # noqa: E402
from detector.index import SourceIndex  # noqa: E402
from detector.machine import describe_machine  # noqa: E402
from training.families import FAMILIES, classifier_for, held_out_sources  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "family_verdicts.json"
CLEAN_KINDS = ("copy", "rewrite", "human_paraphrase")
SHIPPED_KINDS = ("partial_reuse", "stitched", "absent_same_topic", "related")
TARGETS = {"spun_heavy": 0.95, "spun_light": 0.85, "copy": 0.97, "false_spun": 0.02}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_index(data: Path) -> SourceIndex:
    """The evaluation's source index, built once and kept in ``data/index``."""
    folder = data / "index"
    if (folder / "manifest.json").is_file():
        return SourceIndex.load(folder)
    started = time.perf_counter()
    documents = [Document(row["id"], row["text"], row.get("meta") or {}) for row in read_jsonl(data / "sources.jsonl")]
    index = SourceIndex.build(documents, progress=True)
    index.save(folder)
    print(f"indexed {len(documents):,} sources in {time.perf_counter() - started:.0f} s", flush=True)
    return index


def family_detector(family: str, models: Path, decisions: Path) -> Detector:
    """A detector that never saw ``family``: its classifier, a table without it, pair decisions fitted
    without it; the article verdict's rules are the shipped model's (they are fitted on no family)."""
    model = classifier_for(family)
    folder = REPO / "models" / "spin-classifier" if model == "shipped" else models / family
    fold = replace(DecisionModel.load(decisions / family), verdict=DecisionModel.load().verdict)
    detector = Detector.load(folder, decisions=fold)
    detector.synonyms = detector.synonyms.restricted(held_out_sources(family))
    return detector


def analyse(detector: Detector, index: SourceIndex, suspects: list[dict]) -> list[dict]:
    """One row per suspect: truth, verdict, main source, every contributing source."""
    rows = []
    for suspect, report in zip(suspects, detector.analyze_many([s["text"] for s in suspects], index=index)):
        rows.append({
            "id": suspect["id"], "kind": suspect["kind"], "family": suspect.get("family"), "truth": suspect["truth"],
            "verdict": report.verdict, "source_id": report.source_id, "source_ids": suspect.get("source_ids") or [],
            "sources": [source.id for source in report.sources],
            "swap_share": suspect.get("swap_share"),
        })
    return rows


def _share(rows: list[dict], predicate) -> dict:
    hits = sum(bool(predicate(row)) for row in rows)
    return {"rate": round(hits / len(rows), 4) if rows else None, "hits": hits, "n": len(rows)}


def family_figures(rows: list[dict]) -> dict:
    """Recall of spun (light, heavy) and copy, false spun per clean kind, and whether each target is met."""
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    figures = {
        "spun_light": _share(by_kind["spun_light"], lambda r: r["verdict"] == "spun"),
        "spun_heavy": _share(by_kind["spun_heavy"], lambda r: r["verdict"] == "spun"),
        "copy": _share(by_kind["copy"], lambda r: r["verdict"] == "copy"),
        **{f"false_spun_{kind}": _share(by_kind[kind], lambda r: r["verdict"] == "spun") for kind in CLEAN_KINDS},
        "verdicts": {kind: dict(Counter(r["verdict"] for r in items)) for kind, items in sorted(by_kind.items())},
    }
    figures["targets_met"] = {
        "spun_heavy": figures["spun_heavy"]["rate"] is not None and figures["spun_heavy"]["rate"] >= TARGETS["spun_heavy"],
        "spun_light": figures["spun_light"]["rate"] is not None and figures["spun_light"]["rate"] >= TARGETS["spun_light"],
        "copy": figures["copy"]["rate"] is not None and figures["copy"]["rate"] >= TARGETS["copy"],
        "false_spun": all(
            figures[f"false_spun_{kind}"]["rate"] is not None and figures[f"false_spun_{kind}"]["rate"] <= TARGETS["false_spun"]
            for kind in CLEAN_KINDS
        ),
    }
    return figures


def shipped_figures(rows: list[dict]) -> dict:
    """Partial reuse, stitched articles, absent articles and same-story articles with the shipped detector."""
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    stitched = by_kind["stitched"]
    wanted = sum(len(r["source_ids"]) for r in stitched)
    found = sum(len(set(r["source_ids"]) & set(r["sources"])) for r in stitched)
    return {
        "partial_reuse_right": _share(by_kind["partial_reuse"], lambda r: r["verdict"] == r["truth"]),
        "partial_reuse_verdicts": dict(Counter(f"{r['truth']}->{r['verdict']}" for r in by_kind["partial_reuse"])),
        "stitched_source_recall": {"rate": round(found / wanted, 4) if wanted else None, "hits": found, "n": wanted},
        "stitched_verdict_right": _share(stitched, lambda r: r["verdict"] == r["truth"]),
        "stitched_verdicts": dict(Counter(f"{r['truth']}->{r['verdict']}" for r in stitched)),
        "absent_original": _share(by_kind["absent_same_topic"], lambda r: r["verdict"] == "original"),
        "absent_verdicts": dict(Counter(r["verdict"] for r in by_kind["absent_same_topic"])),
        "related_right": _share(by_kind["related"], lambda r: r["verdict"] == "related"),
        "related_verdicts": dict(Counter(r["verdict"] for r in by_kind["related"])),
    }


def markdown_table(result: dict, baseline: dict | None) -> str:
    """The per-family table, with the baseline's figure in brackets where one is given."""
    columns = ("spun_light", "spun_heavy", "copy", *(f"false_spun_{kind}" for kind in CLEAN_KINDS))
    lines = [
        "| family | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for family, figures in result["families"].items():
        cells = []
        for column in columns:
            cell = f"{figures[column]['rate']:.3f}" if figures[column]["rate"] is not None else "–"
            before = (baseline or {}).get("families", {}).get(family, {}).get(column, {}).get("rate")
            cells.append(cell + (f" ({before:.3f})" if before is not None else ""))
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO / "build" / "family-eval"), help="folder of training.build_family_eval")
    parser.add_argument("--models", default=str(REPO / "build" / "models" / "loto"), help="leave-one-thesaurus-out model folders")
    parser.add_argument("--decisions", default=str(REPO / "build" / "decisions"), help="decisions fitted without each family")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--baseline", help="results JSON of the release before, shown beside these figures")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = Path(args.data)
    suspects = read_jsonl(data / "suspects.jsonl")
    index = load_index(data)
    result = {"data": str(Path(args.data).resolve().relative_to(REPO)) if Path(args.data).resolve().is_relative_to(REPO) else args.data,
              "targets": TARGETS, "families": {}, "rows": {}, "seconds": {}}
    clean = [s for s in suspects if s["kind"] in CLEAN_KINDS]
    for family in args.families:
        begin = time.perf_counter()
        detector = family_detector(family, Path(args.models), Path(args.decisions))
        chosen = [s for s in suspects if s.get("family") == family and s["kind"] in ("spun_light", "spun_heavy")] + clean
        rows = analyse(detector, index, chosen)
        result["families"][family] = family_figures(rows)
        result["rows"][family] = rows
        result["seconds"][family] = round(time.perf_counter() - begin, 1)
        print(f"{family}: {json.dumps({k: v for k, v in result['families'][family].items() if k != 'verdicts'})}", flush=True)
    begin = time.perf_counter()
    shipped = Detector.load()
    rows = analyse(shipped, index, [s for s in suspects if s["kind"] in SHIPPED_KINDS])
    result["shipped"] = shipped_figures(rows)
    result["rows"]["shipped"] = rows
    result["seconds"]["shipped"] = round(time.perf_counter() - begin, 1)
    result["decision_version"] = shipped.decisions.version
    baseline = json.loads(Path(args.baseline).read_text(encoding="utf-8")) if args.baseline else None
    if baseline is not None:
        result["baseline"] = {"path": args.baseline, "families": baseline["families"], "shipped": baseline.get("shipped")}
    result["table"] = markdown_table(result, baseline)
    result["machine"] = describe_machine()
    result["seconds"]["total"] = round(time.perf_counter() - started, 1)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(result["table"])
    print(json.dumps(result["shipped"], indent=1))
    return result


if __name__ == "__main__":
    main()
