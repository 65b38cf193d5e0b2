"""Every figure of the classifier's model card, for the model and the baselines, as JSON.

Reads the eval sets that ``training.build_dataset`` writes (``<data>/eval/*.parquet``) and scores:

1. held-out news spun at 20-40 % and at 5-10 % (with their clean originals): sentence F1 at the
   model threshold, ROC AUC, and word-level precision/recall/F1 (model only);
2. false-positive rate at the threshold on human paraphrases (MRPC + STS test, paraphrasing side)
   and on clean held-out news;
3. tortured test pairs (each PPS test-half phrase and its expected phrase in one carrier sentence):
   ROC AUC and the share of pairs where the tortured version scores higher;
4. the five seed articles sentence by sentence: mean spun probability per seed, and the check
   002 > 000 > each of 001/003/004 with gaps of at least 0.2;
5. per-thesaurus spun news (one set per source), and with ``--loto-models`` the models trained
   without one thesaurus, each on the set spun with the thesaurus it never saw;
6. calibration on a sample of the test split: Brier score and reliability curve;
7. sentence F1 at thresholds that flag a fixed share of held-out clean news (``--at-clean-fpr``):
   each system's own threshold lands at its own false-positive rate, so comparing two models at
   their thresholds can reward a threshold rather than a better ranking. With ``--reference`` a
   second model (the one shipped, say) is scored in the same run for that comparison.

Baselines (`training.baselines`) are trained on a subsample of the same training split, and their
decision thresholds are chosen on the calibration split by the model's own rule (best F1 with at
most ``--max-fpr`` false positives), so that F1 compares systems at one operating point, not a
careful model against baselines flagging a third of clean news. Every metric carries a bootstrap
95 % interval.

Command line::

    python -m training.evaluate --model models/spin-classifier --data build/dataset \\
        --out benchmarks/results/classifier.json [--loto-models models/loto]

    python -m training.evaluate --model build/models/candidate --reference models/spin-classifier \\
        --baselines none --out candidate.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from detector import metrics
from detector.errors import InputError
from detector.precision import PRECISIONS
from detector.text import split_sentences
from training import corpora
from training.config import BASELINES, CLEAN_FPR_LEVELS, EvalConfig
from training.model_card import write_model_card
from training.summary import markdown_summary, summary_table

__all__ = ["EvalConfig", "Scorer", "TARGETS", "evaluate", "main", "model_scorer", "seed_probabilities",
           "threshold_at_false_positive_rate", "summary_table", "markdown_summary"]

TARGETS = {  # metric path -> (comparison, target) for the model
    "news_spun_20_40.sentence_f1": (">=", 0.95),
    "news_spun_20_40.word_f1": (">=", 0.80),
    "false_positives.paraphrase_human.false_positive_rate": ("<=", 0.03),
    "false_positives.news_clean.false_positive_rate": ("<=", 0.03),
    "tortured_pairs.roc_auc": (">=", 0.90),
    "seeds.order_holds": ("==", True),
}
SEED_GAP = 0.2
THESAURI = ("mythes", "wordnet", "ppdb")


@dataclass
class Scorer:
    """A system under evaluation: sentence probabilities (and word probabilities, when it has them)."""

    name: str
    threshold: float
    predict: Callable[[list[str]], tuple[np.ndarray, list[np.ndarray] | None]]  # sentence probs, word probs or None
    word_threshold: float = 0.5
    cache: dict = field(default_factory=dict, repr=False)

    def score(self, texts: list[str]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Probabilities for ``texts``, computed once per distinct list."""
        key = tuple(texts)
        if key not in self.cache:
            self.cache[key] = self.predict(list(texts))
        return self.cache[key]


def model_scorer(path: str | os.PathLike, name: str = "model", batch_size: int = 64, precision: str = "fp32") -> Scorer:
    """A `Scorer` over a saved `SpinScorer` folder at `precision`: calibrated sentence and word probabilities."""
    from detector.classifier import SpinScorer

    spin_scorer = SpinScorer.load(path, precision=precision)

    def predict(texts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        results = spin_scorer.predict(texts, batch_size=batch_size)
        return np.array([p for p, _ in results]), [np.array([w for _, w in words]) for _, words in results]

    return Scorer(name, spin_scorer.threshold, predict, spin_scorer.word_threshold)


def _estimator_scorer(name: str, estimator, calibration: dict[str, list], max_fpr: float) -> Scorer:
    """A baseline `Scorer` whose threshold is chosen on ``calibration`` as the model's is (`choose_threshold`)."""
    from training.calibrate import choose_threshold

    predict = lambda texts: (estimator.predict_proba(texts)[:, 1], None)  # noqa: E731
    threshold, _ = choose_threshold(
        predict(calibration["text"])[0], np.asarray(calibration["label"]), max_fpr, calibration.get("kind")
    )
    return Scorer(name, threshold, predict)


# --- data ----------------------------------------------------------------------------------------

def read_eval_set(data: Path, name: str, max_rows: int | None = None) -> dict[str, list]:
    """Columns of ``<data>/eval/<name>.parquet`` as lists (the first ``max_rows`` rows)."""
    path = data / "eval" / f"{name}.parquet"
    if not path.is_file():
        raise InputError(f"eval set {path} not found; build it with `python -m training.build_dataset --out {data}`")
    table = pq.read_table(path)
    if max_rows is not None:
        table = table.slice(0, max_rows)
    return table.to_pydict()


def _sample_split(path: Path, rows: int, seed: int) -> dict[str, list]:
    if not path.is_file():
        raise InputError(f"dataset split {path} not found; build it with `python -m training.build_dataset`")
    table = pq.read_table(path, columns=["text", "label", "kind"])
    if table.num_rows > rows:
        table = table.take(np.sort(np.random.default_rng(seed).choice(table.num_rows, size=rows, replace=False)))
    return table.to_pydict()


def seed_sentences(shared: str | None) -> dict[str, list[str]]:
    """The non-boilerplate, non-heading sentences of each seed article, keyed "000" ... "004"."""
    folder = corpora.resolve_shared_dir(shared) / "seeds"
    seeds = {}
    for path in sorted(folder.glob("0*.txt")):
        segments = split_sentences(path.read_text(encoding="utf-8"))
        seeds[path.name[:3]] = [s.text for s in segments if not s.is_boilerplate and not s.is_heading]
    if not seeds:
        raise InputError(f"no seed articles (0*.txt) in {folder}")
    return seeds


# --- sections ------------------------------------------------------------------------------------

def _interval(metric, *arrays, config: EvalConfig) -> dict:
    return metrics.bootstrap_interval(metric, *arrays, n=config.bootstrap, seed=config.seed).to_dict()


def spun_section(scorer: Scorer, rows: dict[str, list], config: EvalConfig) -> dict:
    """Sentence F1 / AUC / AP at the threshold, and word scores on the spun rows when the scorer has them."""
    labels = np.array(rows["label"], dtype=int)
    probabilities, words = scorer.score(rows["text"])
    threshold = scorer.threshold
    section = {
        "rows": int(labels.size),
        "spun_rows": int(labels.sum()),
        "sentence_f1": _interval(lambda y, p: metrics.f1_at_threshold_score(y, p, threshold), labels, probabilities, config=config),
        "roc_auc": _interval(metrics.sentence_roc_auc_score, labels, probabilities, config=config),
        "average_precision": _interval(metrics.sentence_average_precision_score, labels, probabilities, config=config),
        "recall_at_threshold": metrics.recall_at_threshold_score(labels, probabilities, threshold) if labels.any() else None,
        "recall_by_swapped_words": recall_by_swapped_words(labels, probabilities, rows["word_labels"], threshold),
    }
    if words is not None:
        spun = [i for i, label in enumerate(labels) if label]
        word_labels, word_scores = [rows["word_labels"][i] for i in spun], [words[i] for i in spun]
        cut = scorer.word_threshold
        pooled = metrics.word_precision_recall_f1(word_labels, word_scores, cut)
        word_f1 = lambda labels, scores: metrics.word_f1_score(labels, scores, cut)  # noqa: E731
        section.update({
            "word_threshold": cut,
            "word_precision": pooled.precision,
            "word_recall": pooled.recall,
            "word_f1": _interval(word_f1, word_labels, word_scores, config=config),
            "word_f1_all_rows": metrics.word_f1_score(rows["word_labels"], words, cut),
        })
    return section


SWAP_COUNT_GROUPS = {"0": (0, 0), "1-2": (1, 2), "3-4": (3, 4), "5+": (5, None)}  # "0": a phrase shortened to its own word


def recall_by_swapped_words(
    labels: np.ndarray, probabilities: np.ndarray, word_labels: list, threshold: float
) -> dict[str, dict]:
    """Recall at the threshold of the spun rows grouped by how many words were swapped: where the misses are."""
    spun = labels == 1
    counts = np.array([int(np.sum(row)) for row in word_labels])[spun]
    found = probabilities[spun] >= threshold
    groups = {}
    for name, (low, high) in SWAP_COUNT_GROUPS.items():
        member = (counts >= low) & (counts <= (np.inf if high is None else high))
        groups[name] = {
            "rows": int(member.sum()),
            "share_of_spun_rows": float(member.mean()) if spun.any() else None,
            "recall": float(found[member].mean()) if member.any() else None,
        }
    return groups


def false_positive_section(scorer: Scorer, rows: dict[str, list], config: EvalConfig) -> dict:
    """False-positive rate at the threshold, overall and per source corpus."""
    labels = np.zeros(len(rows["text"]), dtype=int)
    probabilities, _ = scorer.score(rows["text"])
    threshold = scorer.threshold
    fpr = lambda y, p: metrics.false_positive_rate_loss(y, p, threshold)  # noqa: E731
    sources = np.array(rows.get("source") or [""] * labels.size)
    section = {"rows": int(labels.size), "false_positive_rate": _interval(fpr, labels, probabilities, config=config)}
    for source in sorted(set(sources) - {""}):
        chosen = sources == source
        section[f"false_positive_rate_{source}"] = fpr(labels[chosen], probabilities[chosen])
    return section


def tortured_section(scorer: Scorer, rows: dict[str, list], config: EvalConfig) -> dict:
    """AUC over the tortured/expected carriers and the share of pairs ranked the right way round."""
    labels = np.array(rows["label"], dtype=int)
    probabilities, _ = scorer.score(rows["text"])
    pairs: dict[str, dict[int, float]] = {}
    for pair_id, label, probability in zip(rows["pair_id"], labels, probabilities):
        pairs.setdefault(pair_id, {})[int(label)] = float(probability)
    complete = [p for p in pairs.values() if len(p) == 2]
    return {
        "pairs": len(complete),
        "roc_auc": _interval(metrics.sentence_roc_auc_score, labels, probabilities, config=config),
        "pair_accuracy": float(np.mean([p[1] > p[0] for p in complete])) if complete else None,
        "recall_at_threshold": metrics.recall_at_threshold_score(labels, probabilities, scorer.threshold) if labels.any() else None,
    }


def seed_probabilities(scorer: Scorer, seeds: dict[str, list[str]]) -> dict:
    """Mean spun probability per seed and whether 002 > 000 > each of 001/003/004 by at least `SEED_GAP`."""
    means = {name: float(np.mean(scorer.score(sentences)[0])) if sentences else 0.0 for name, sentences in seeds.items()}
    holds = None
    if {"000", "001", "002", "003", "004"} <= set(means):
        clean_top = max(means["001"], means["003"], means["004"])
        holds = bool(means["002"] - means["000"] >= SEED_GAP and means["000"] - clean_top >= SEED_GAP)
    return {"mean_probability": means, "sentences": {k: len(v) for k, v in seeds.items()}, "order_holds": holds}


def calibration_section(scorer: Scorer, rows: dict[str, list], config: EvalConfig) -> dict:
    """Brier score and reliability curve of the sentence probability on a sample of the test split."""
    labels = np.array(rows["label"], dtype=int)
    probabilities, _ = scorer.score(rows["text"])
    curve = metrics.reliability_curve(labels, probabilities, n_bins=10)
    return {
        "rows": int(labels.size),
        "brier": _interval(metrics.sentence_brier_loss, labels, probabilities, config=config),
        "reliability": asdict(curve),
    }


def threshold_at_false_positive_rate(negatives: np.ndarray, rate: float) -> float:
    """A threshold (flagging ``p >= threshold``) that flags at most ``rate`` of ``negatives``.

    It is the k-th highest negative score, k = floor(rate * n), as the thresholds of a ROC curve are
    scores; when ties at the cut would flag more than k it is raised past them, so a scorer that gives
    most negatives one value (the phrase lookup gives clean news 0) is not credited with flagging
    everything at a 2% rate.
    """
    ordered = np.sort(np.asarray(negatives, dtype=float))[::-1]
    allowed = int(np.floor(rate * ordered.size + 1e-9))
    if allowed == 0:
        return float(np.nextafter(ordered[0], np.inf))
    threshold = ordered[allowed - 1]
    if np.sum(ordered >= threshold) > allowed:  # ties straddle the cut: raise the threshold past them
        threshold = np.nextafter(threshold, np.inf)
    return float(threshold)


def at_clean_fpr_section(scorer: Scorer, sets: dict[str, dict], config: EvalConfig) -> list[dict]:
    """Spun-set F1 and recall, and paraphrase FPR, at the thresholds flagging each share of held-out clean news.

    The threshold flags at most ``rate`` of the system's clean-news probabilities
    (`threshold_at_false_positive_rate`), so two systems are compared at the same false-positive
    rate on clean news whatever their calibration says.
    """
    clean, _ = scorer.score(sets["news_clean"]["text"])
    paraphrase, _ = scorer.score(sets["paraphrase_human"]["text"])
    spun = {name: (np.array(sets[name]["label"], dtype=int), scorer.score(sets[name]["text"])[0])
            for name in ("news_spun_20_40", "news_spun_05_10")}
    levels = []
    for rate in config.clean_fpr_levels:
        threshold = threshold_at_false_positive_rate(clean, rate)
        level = {
            "clean_fpr": rate,
            "threshold": threshold,
            "news_clean_false_positive_rate": metrics.false_positive_rate_loss(np.zeros(clean.size, dtype=int), clean, threshold),
            "paraphrase_false_positive_rate": metrics.false_positive_rate_loss(np.zeros(paraphrase.size, dtype=int), paraphrase, threshold),
        }
        for name, (labels, probabilities) in spun.items():
            level[name] = {
                "sentence_f1": metrics.f1_at_threshold_score(labels, probabilities, threshold),
                "recall": metrics.recall_at_threshold_score(labels, probabilities, threshold) if labels.any() else None,
            }
        levels.append(level)
    return levels


def system_report(scorer: Scorer, sets: dict[str, dict], seeds: dict[str, list[str]], config: EvalConfig) -> dict:
    """Every section for one system."""
    report = {
        "threshold": scorer.threshold,
        "news_spun_20_40": spun_section(scorer, sets["news_spun_20_40"], config),
        "news_spun_05_10": spun_section(scorer, sets["news_spun_05_10"], config),
        "false_positives": {name: false_positive_section(scorer, sets[name], config) for name in ("paraphrase_human", "news_clean")},
        "tortured_pairs": tortured_section(scorer, sets["tortured_pairs"], config),
        "seeds": seed_probabilities(scorer, seeds),
        "per_thesaurus": {name.removeprefix("news_spun_"): spun_section(scorer, rows, config)
                          for name, rows in sets.items() if name.removeprefix("news_spun_") in THESAURI},
        "calibration": calibration_section(scorer, sets["calibration_sample"], config),
        "at_clean_fpr": at_clean_fpr_section(scorer, sets, config),
    }
    return report


def loto_section(loto_models: Path, sets: dict[str, dict], config: EvalConfig) -> dict:
    """Each model trained without one thesaurus (subfolder named by it), on the set spun with that thesaurus."""
    section = {}
    for folder in sorted(p for p in loto_models.iterdir() if p.is_dir()):
        held_out = folder.name
        if f"news_spun_{held_out}" not in sets:
            raise InputError(f"--loto-models subfolder {folder.name!r} names no thesaurus; use one of mythes, wordnet, ppdb")
        scorer = model_scorer(folder, name=f"loto-{held_out}", batch_size=config.batch_size)
        seen = [name for name in THESAURI if name != held_out and f"news_spun_{name}" in sets]
        section[held_out] = {
            "held_out_thesaurus": spun_section(scorer, sets[f"news_spun_{held_out}"], config),
            "seen_thesauri": {name: spun_section(scorer, sets[f"news_spun_{name}"], config) for name in seen},
            "clean_news_false_positives": false_positive_section(scorer, sets["news_clean"], config),
        }
    return section


# --- baselines -----------------------------------------------------------------------------------

def train_baselines(config: EvalConfig, data: Path) -> list[Scorer]:
    """Fit the chosen baselines on a subsample of the training split; thresholds from the calibration split."""
    from training.baselines import FrozenEmbeddingBaseline, TfidfLogisticBaseline, TorturedPhraseLookup

    if not config.baselines:
        return []
    train = _sample_split(data / "train.parquet", config.baseline_train, config.seed)
    calibration = _sample_split(data / "calibration.parquet", config.baseline_train, config.seed)
    scorers = []
    for name in config.baselines:
        started = time.time()
        if name == "lookup":
            train_half, _ = corpora.split_tortured_phrases(corpora.read_tortured_phrases(config.shared), seed=_dataset_seed(data))
            estimator = TorturedPhraseLookup(phrases=train_half).fit()
        elif name == "tfidf":
            estimator = TfidfLogisticBaseline().fit(train["text"], train["label"])
        else:
            estimator = FrozenEmbeddingBaseline(batch_size=config.batch_size).fit(train["text"], train["label"])
        _log(f"baseline {name} fitted in {time.time() - started:.0f}s")
        scorers.append(_estimator_scorer(name, estimator, calibration, config.max_fpr))
    return scorers


def _dataset_seed(data: Path) -> int:
    card = data / "card.json"
    return int(json.loads(card.read_text())["config"]["seed"]) if card.is_file() else 0


# --- run -----------------------------------------------------------------------------------------

EVAL_SETS = ("news_spun_20_40", "news_spun_05_10", "news_clean", "paraphrase_human", "tortured_pairs")


def targets_report(report: dict) -> dict:
    """Each target of `TARGETS`, the model's value and whether it is met."""
    out = {}
    for path, (comparison, target) in TARGETS.items():
        value = report
        for part in path.split("."):
            value = value[part]
        value = value["value"] if isinstance(value, dict) else value
        met = None if value is None else {">=": value >= target, "<=": value <= target, "==": value == target}[comparison]
        out[path] = {"value": value, "target": f"{comparison} {target}", "met": met}
    return out


def evaluate(config: EvalConfig) -> dict:
    """Run every section for the model and the baselines; write and return the JSON report."""
    unknown = set(config.baselines) - set(BASELINES)
    if unknown:
        raise InputError(f"unknown baselines {sorted(unknown)}; choose from {', '.join(BASELINES)}")
    if not all(0 < rate < 1 for rate in config.clean_fpr_levels):
        raise InputError(f"--at-clean-fpr rates must lie strictly between 0 and 1, got {list(config.clean_fpr_levels)}")
    started, data = time.time(), Path(config.data)
    sets = {name: read_eval_set(data, name, config.max_rows) for name in EVAL_SETS}
    sets.update({f"news_spun_{s}": read_eval_set(data, f"news_spun_{s}", config.max_rows)
                 for s in THESAURI if (data / "eval" / f"news_spun_{s}.parquet").is_file()})
    sets["calibration_sample"] = _sample_split(data / "test.parquet", config.calibration_rows, config.seed)
    seeds = seed_sentences(config.shared)
    systems = {}
    reference = (
        [model_scorer(config.reference, name="reference", batch_size=config.batch_size, precision=config.precision)]
        if config.reference
        else []
    )
    for scorer in [model_scorer(config.model, batch_size=config.batch_size, precision=config.precision), *reference, *train_baselines(config, data)]:
        systems[scorer.name] = system_report(scorer, sets, seeds, config)
        _log(f"{scorer.name} evaluated ({time.time() - started:.0f}s)")
    report = {
        "config": {**asdict(config), "baselines": list(config.baselines), "clean_fpr_levels": list(config.clean_fpr_levels)},
        "dataset_card": _card_summary(data),
        "targets": targets_report(systems["model"]),
        "systems": systems,
    }
    if config.loto_models:
        report["loto"] = loto_section(Path(config.loto_models), sets, config)
    report["wall_seconds"] = round(time.time() - started, 1)
    out = Path(config.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _card_summary(data: Path) -> dict:
    card = data / "card.json"
    if not card.is_file():
        return {}
    saved = json.loads(card.read_text())
    return {"config": saved.get("config"), "rows": {split: info["rows"] for split, info in saved.get("splits", {}).items()}}


def _log(message: str) -> None:
    print(f"[evaluate] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> EvalConfig:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="models/spin-classifier", help="SpinScorer model folder")
    parser.add_argument("--data", default="build/dataset", help="folder written by training.build_dataset")
    parser.add_argument("--out", default="benchmarks/results/classifier.json")
    parser.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated subset of lookup,tfidf,embedding, or 'none'")
    parser.add_argument("--baseline-train", type=int, default=20_000, help="training rows for the baselines")
    parser.add_argument("--calibration-rows", type=int, default=5_000, help="test-split rows for the calibration section")
    parser.add_argument("--loto-models", default=None, help="folder of models trained without one thesaurus, subfolders named by it")
    parser.add_argument("--bootstrap", type=int, default=1_000, help="bootstrap resamples per interval")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared", default=None, help="shared data folder (seeds, PPS list)")
    parser.add_argument("--max-rows", type=int, default=None, help="rows per eval set (smoke runs)")
    parser.add_argument("--card", action="store_true", help="also write the table into the model folder's README.md")
    parser.add_argument("--max-fpr", type=float, default=0.03, help="false-positive cap of the baselines' thresholds on the calibration split")
    parser.add_argument("--at-clean-fpr", default=",".join(f"{r:g}" for r in CLEAN_FPR_LEVELS),
                        help="comma-separated shares of held-out clean news flagged, for F1 at equal false-positive rate")
    parser.add_argument("--reference", default=None, help="a second SpinScorer folder (e.g. the shipped model) scored in the same run")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32",
                        help="run the model and the reference at this precision (int8 with its own calibration)")
    args = parser.parse_args(argv)
    baselines = () if args.baselines == "none" else tuple(b.strip() for b in args.baselines.split(",") if b.strip())
    try:
        levels = tuple(float(r) for r in args.at_clean_fpr.split(",") if r.strip())
    except ValueError:
        parser.error(f"--at-clean-fpr takes comma-separated numbers such as 0.02,0.03, got {args.at_clean_fpr!r}")
    return EvalConfig(args.model, args.data, args.out, baselines, args.baseline_train, args.calibration_rows, args.loto_models,
                      args.bootstrap, args.batch_size, args.seed, args.shared, args.max_rows, args.card, args.max_fpr,
                      levels, args.reference, args.precision)


def main(argv: list[str] | None = None) -> dict:
    config = parse_args(argv)
    report = evaluate(config)
    print(summary_table(report))
    print(f"written to {config.out} in {report['wall_seconds']} s")
    if config.card:
        write_model_card(config.model, report=report)
    return report


if __name__ == "__main__":
    main()
