"""Fit the `DecisionModel` of a classifier: the pair relation from all the evidence, as versioned JSON.

Reads the fitting pairs of ``training.build_family_eval`` (``pairs.jsonl``: sentences from the
training split of the news, spun by every substitution family; copies; human paraphrases from the
paraphrase corpora's training parts, near copies included; hard unrelated pairs), scores their
suspect sides with the classifier in ``--model``, and fits two multinomial logistic regressions
(scikit-learn) on `detector.relation.pair_features`: one over every feature and one over the
source comparison alone. ``decisions.json`` goes into the model folder (or ``--out``).

No dictionary may stand in for the spinner it describes: for the regression that reads the
classifier, each spun pair's thesaurus evidence is looked up in the synonym table *without its own
family*, as it would be for a spinner whose dictionary the project never saw, so the fit cannot
learn that table membership means spun. The source-only regression has no other evidence of a
thesaurus swap than the table, so it reads the whole table (of the fold).
``--exclude-family F`` leaves family F's pairs out and looks every swap up in a table without F:
the decisions for the leave-one-family-out evaluation of F (`benchmarks/family_verdicts.py`).

    python -m training.fit_decisions --pairs build/family-eval/pairs.jsonl --model models/spin-classifier
    python -m training.fit_decisions --pairs build/family-eval/pairs.jsonl --model build/models/loto/ppdb \\
        --exclude-family ppdb --out build/decisions/ppdb
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.preprocessing import StandardScaler

from detector.align import similarity_matrix
from detector.classifier import SpinScorer
from detector.decision import DecisionModel, PairModel, VerdictRules
from detector.encoder import SentenceEncoder
from detector.errors import InputError, ModelFormatError
from detector.relation import CLASSIFIER_FEATURES, PAIR_FEATURES, RELATIONS, pair_features
from detector.thesaurus import SynonymTable
from training.families import FAMILIES, held_out_sources

__all__ = ["fit_decision_model", "main", "pair_rows", "read_pairs"]


def read_pairs(path: str | Path) -> list[dict]:
    """The fitting pairs (one JSON object a line: source, suspect, relation, family)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no pairs file at {str(path)!r}: build it with python -m training.build_family_eval")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    unknown = {row.get("relation") for row in rows} - set(RELATIONS)
    if unknown:
        raise InputError(f"{path}: unknown relations {sorted(map(str, unknown))}; expected {RELATIONS}")
    return rows


def pair_rows(
    pairs: Sequence[dict],
    scorer: SpinScorer | None,
    encoder: SentenceEncoder,
    table: SynonymTable,
    exclude_family: str | None = None,
    batch_size: int = 64,
) -> tuple[list[dict[str, float]], list[dict[str, float]], list[str]]:
    """Features of each pair the fold may see (family ``exclude_family`` left out), with the swaps
    looked up without the pair's own family and in the fold's whole table, and the relations."""
    held = set(table.source_names)
    allowed = held & set(held_out_sources(exclude_family)) if exclude_family else held
    pairs = [p for p in pairs if not exclude_family or p.get("family") != exclude_family]
    sentences = list(dict.fromkeys(s for p in pairs for s in (p["source"], p["suspect"])))
    started = time.perf_counter()
    vectors = encoder.encode(sentences, batch_size=batch_size)
    row = {sentence: i for i, sentence in enumerate(sentences)}
    suspects = list(dict.fromkeys(p["suspect"] for p in pairs))
    scores = dict(zip(suspects, scorer.predict(suspects, batch_size=batch_size))) if scorer is not None else {}
    print(f"encoded {len(sentences):,} sentences and scored {len(suspects):,} in {time.perf_counter() - started:.0f} s", flush=True)
    tables: dict[frozenset, SynonymTable] = {}
    unseen, whole, labels = [], [], []
    threshold = scorer.word_threshold if scorer is not None else 0.5
    for pair in pairs:
        own = held & set(held_out_sources(pair["family"])) if pair.get("family") else held
        a, b = row[pair["source"]], row[pair["suspect"]]
        similarity = min(1.0, float(
            similarity_matrix([pair["suspect"]], vectors[b : b + 1], [pair["source"]], vectors[a : a + 1])[0, 0]
        ))
        probability, words = scores.get(pair["suspect"], (None, None))
        for sources, out in ((frozenset(allowed & own), unseen), (frozenset(allowed), whole)):
            if sources not in tables:
                tables[sources] = table.restricted(sources)
            out.append(pair_features(pair["source"], pair["suspect"], similarity, tables[sources], probability, words, threshold))
        labels.append(pair["relation"])
    return unseen, whole, labels


def _fit(features: list[dict[str, float]], labels: list[str], names: Sequence[str], seed: int) -> tuple[PairModel, str]:
    x = np.array([[f[name] for name in names] for f in features])
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    standard = (x - scaler.mean_) / scale
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=seed).fit(standard, labels)
    order = [list(model.classes_).index(name) for name in RELATIONS]
    report = classification_report(labels, model.predict(standard), digits=3)
    pair_model = PairModel(
        features=tuple(names),
        mean=tuple(float(v) for v in scaler.mean_),
        scale=tuple(float(v) for v in scale),
        coef=tuple(tuple(float(v) for v in model.coef_[i]) for i in order),
        intercept=tuple(float(model.intercept_[i]) for i in order),
    )
    return pair_model, report


def fit_decision_model(
    features: list[dict[str, float]],
    source_features: list[dict[str, float]],
    labels: list[str],
    *,
    verdict: VerdictRules | None = None,
    fitted_on: dict | None = None,
    seed: int = 0,
) -> tuple[DecisionModel, dict[str, str]]:
    """Both regressions fitted on the same pairs (``source_features`` for the source-only one), and
    their training-set classification reports."""
    missing = set(RELATIONS) - set(labels)
    if missing:
        raise InputError(f"the fitting pairs hold no {sorted(missing)} pair: every relation needs examples")
    with_classifier, report_all = _fit(features, labels, PAIR_FEATURES, seed)
    source_names = [name for name in PAIR_FEATURES if name not in CLASSIFIER_FEATURES]
    source_only, report_source = _fit(source_features, labels, source_names, seed)
    version = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    model = DecisionModel(
        version=version,
        classes=RELATIONS,
        with_classifier=with_classifier,
        source_only=source_only,
        verdict=verdict or VerdictRules(),
        fitted_on=fitted_on or {},
    )
    return model, {"with_classifier": report_all, "source_only": report_source}


def main(argv: Sequence[str] | None = None) -> DecisionModel:
    parser = argparse.ArgumentParser(prog="python -m training.fit_decisions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", required=True, help="pairs.jsonl of training.build_family_eval")
    parser.add_argument("--model", required=True, help="classifier folder whose probabilities the decisions read")
    parser.add_argument("--out", help="folder for decisions.json (default: the model folder)")
    parser.add_argument("--exclude-family", choices=FAMILIES, help="leave this family out (leave-one-family-out fold)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    scorer = SpinScorer.load(args.model)
    pairs = [p for p in read_pairs(args.pairs) if not args.exclude_family or p.get("family") != args.exclude_family]
    features, source_features, labels = pair_rows(pairs, scorer, SentenceEncoder.load(), SynonymTable.load(), args.exclude_family)
    out = Path(args.out or args.model)
    try:
        earlier = DecisionModel.load(out)  # refitting keeps the rules written there
        verdict, support = earlier.verdict, earlier.spun_min_support
    except ModelFormatError:
        verdict, support = VerdictRules(), DecisionModel.spun_min_support
    fitted_on = {
        "pairs": str(args.pairs),
        "model": str(args.model),
        "excluded_family": args.exclude_family,
        "counts": dict(Counter(f"{label}/{pair.get('family') or '-'}" for label, pair in zip(labels, pairs))),
        "thesaurus_evidence": "with_classifier: each spun pair looked up in the table without its own family; "
        "source_only: in the fold's whole table",
    }
    model, reports = fit_decision_model(features, source_features, labels, verdict=verdict, fitted_on=fitted_on, seed=args.seed)
    model = replace(model, spun_min_support=support, fitted_on={**fitted_on, "seconds": round(time.perf_counter() - started, 1)})
    path = model.save(out)
    for name, report in reports.items():
        print(f"{name} (fitting pairs):\n{report}")
    print(f"wrote {path} (version {model.version}) in {time.perf_counter() - started:.0f} s")
    return model


if __name__ == "__main__":
    main()
