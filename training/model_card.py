"""The model card (README.md of a model folder), the one place that writes it.

The card is generated from two records: the training record (``training.json``: data, training runs
and their lineage, validation, calibration) and the evaluation report (``training.evaluate``'s JSON,
e.g. ``benchmarks/results/classifier.json``: the held-out results table, between markers so that a
later evaluation replaces it). ``training.train`` and ``training.average`` write a new card,
``training.calibrate`` rewrites its training part and keeps its evaluation section, and
``training.evaluate --card`` replaces the evaluation section only.

The card opens with Hugging Face metadata (YAML): ``license``, ``pipeline_tag``, ``base_model``,
``datasets`` and a ``model-index`` whose figures are read from the evaluation report
(`MODEL_INDEX_METRICS`), never typed; a card written without a report keeps the ``model-index`` it had
when its evaluation section is kept, as it keeps that section.

Command line (regenerates a card from its two records; ``--check`` only compares)::

    python -m training.model_card --model models/spin-classifier --evaluation benchmarks/results/classifier.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.config import EvalConfig, base_model_name
from training.summary import markdown_summary

__all__ = ["CARD_FILE", "CARD_BEGIN", "CARD_END", "LICENSE", "MODEL_INDEX_METRICS", "PIPELINE_TAG", "TRAINING_DATASETS",
           "model_card", "model_index", "evaluation_section", "render_card", "write_model_card", "main"]

CARD_FILE = "README.md"
CARD_BEGIN, CARD_END = "<!-- evaluation:begin -->", "<!-- evaluation:end -->"
LICENSE = "mit"  # the project's licence (pyproject.toml), which the weights share
PIPELINE_TAG = "text-classification"
TRAINING_DATASETS = (  # the corpora training.build_dataset draws its sentences from
    "BBC News", "Reuters-21578", "MRPC", "STS Benchmark", "Twitter-URL", "ParaSCI",
    "Problematic Paper Screener tortured phrases",
)
# model-index entries: (evaluation set of the report, its name, [(metric path under the set, type, name)])
MODEL_INDEX_METRICS = (
    ("news_spun_20_40", "News sentences, 20-40% of words swapped", [
        ("sentence_f1", "f1", "sentence F1"), ("roc_auc", "roc_auc", "ROC AUC"), ("word_f1", "f1", "word F1")]),
    ("news_spun_05_10", "News sentences, 5-10% of words swapped", [
        ("sentence_f1", "f1", "sentence F1"), ("roc_auc", "roc_auc", "ROC AUC"), ("word_f1", "f1", "word F1")]),
    ("false_positives", "Human paraphrases and clean news", [
        ("paraphrase_human.false_positive_rate", "false_positive_rate", "FPR human paraphrase"),
        ("news_clean.false_positive_rate", "false_positive_rate", "FPR clean news")]),
    ("tortured_pairs", "Tortured-phrase pairs", [("roc_auc", "roc_auc", "ROC AUC")]),
)
_INDEX_KEY = "model-index:"


def model_index(report: dict) -> str:
    """The YAML ``model-index`` block: the model's held-out figures, read from the evaluation report."""
    results = report["systems"]["model"]
    lines = [_INDEX_KEY, "- name: spin-classifier", "  results:"]
    for key, name, metrics in MODEL_INDEX_METRICS:
        lines += [
            "  - task: {type: text-classification, name: Spin detection}",
            f"    dataset: {{name: {json.dumps(name)}, type: {key}, split: test}}",
            "    metrics:",
        ]
        for path, kind, label in metrics:
            value = results[key]
            for part in path.split("."):
                value = value[part]
            value = value["value"] if isinstance(value, dict) else value
            lines.append(f"    - {{type: {kind}, name: {json.dumps(label)}, value: {json.dumps(value)}}}")
    return "\n".join(lines) + "\n"


def model_card(record: dict, report: dict | None = None) -> str:
    """A model card from the training record: what the model is, what it saw, and how it scored
    (``report``, the evaluation report, gives the metadata's ``model-index``)."""
    return _card(record, model_index(report) if report is not None else "")


def _card(record: dict, index: str) -> str:
    args, validation, calibration = record["args"], record["validation"], record["calibration"]
    data_rows = "\n".join(
        f"| {name} | {d['sentences']} | {d['spun']} | {', '.join(f'{k}: {v}' for k, v in d['kinds'].items())} |"
        for name, d in record["data"].items()
    )
    metric_rows = "\n".join(
        f"| {key} | {value:.4f} |"
        for key, value in validation.items()
        if isinstance(value, float) and key not in ("seconds", "train_sentences_per_second")
    )
    decided = record.get("validation_at_threshold", {})
    kind_rows = "\n".join(
        f"| {kind} | {rate:.4f} | {decided.get('spun_rate_by_kind', {}).get(kind, float('nan')):.4f} |"
        for kind, rate in validation.get("spun_rate_by_kind", {}).items()
    )
    return f"""---
license: {LICENSE}
library_name: transformers
pipeline_tag: {PIPELINE_TAG}
base_model: {base_model_name(args["base"])}
datasets: {json.dumps(list(TRAINING_DATASETS))}
tags: [spin-detection, paraphrase, token-classification, text-classification]
language: en
{index}---

# Spin classifier

Fine-tuned from `{base_model_name(args["base"])}` to say whether one English sentence has been put
through an article spinner (context-free thesaurus swaps, tortured phrases) and which words were
swapped. Two heads share the encoder: a word head gives each word a substitution probability, and a
sentence head reads the mean-pooled encoder states together with the pooled word evidence. The
sentence probability is calibrated ({calibration["method"]}) on a held-out split; a sentence is
called spun when its calibrated probability is at least the threshold {calibration["threshold"]:.4f}.

Load it with `detector.classifier.SpinScorer.load(path)` (or `Detector.load(path)`), or without the package
with `transformers.pipeline("spin-detection", model=path, trust_remote_code=True)` (the folder's own code);
`SpinScorer.load(path, precision="bf16")` runs the encoder in bfloat16 with the fp32 calibration (fast on CPUs
with AMX); `SpinScorer.load(path, precision="int8")` gives the int8 CPU path (one scale per output channel), {_int8_note(record)}

## Training data

| split | sentences | spun | kinds |
|---|---|---|---|
{data_rows}

## Training

{record["history"][-1]["epoch"] if record["history"] else 0} epoch(s){_continued(record)} on {record["device"]} (bf16 autocast: {record["autocast_bf16"]}),
batch size {args["batch_size"]}, learning rate {args["lr"]} (heads {args["head_lr"]}), warm-up {args["warmup"]},
word-loss weight {args["word_weight"]}, max length {args["max_length"]} subwords, seed {args["seed"]};
{_wall_time(record)}. Command: `{args.get("command", "")}`. Best epoch by validation {args["select"]}: {record["best_epoch"]}.{_earlier_runs(record)}{_averaged(record)}

## Validation ({"the average" if record.get("averaged_from") else "best epoch"}, raw probability at 0.5)

| metric | value |
|---|---|
{metric_rows}

Share of validation sentences called spun, by kind (raw probability at 0.5; calibrated probability at
the threshold, where precision {decided.get("precision", float("nan")):.4f}, recall {decided.get("recall", float("nan")):.4f}, F1 {decided.get("f1", float("nan")):.4f}):

| kind | raw at 0.5 | calibrated at threshold |
|---|---|---|
{kind_rows}

## Calibration

{calibration["method"]} on {calibration.get("rows", 0)} calibration sentences: Brier score
{calibration.get("brier_before", float("nan")):.4f} before, {calibration.get("brier_after", float("nan")):.4f} after. Threshold
{calibration["threshold"]:.4f} (best F1 with a false-positive rate at most {calibration.get("max_false_positive_rate", 0)}{_per_kind(calibration)}):
F1 {calibration.get("f1", float("nan")):.4f}, precision {calibration.get("precision", float("nan")):.4f},
recall {calibration.get("recall", float("nan")):.4f}, false-positive rate {calibration.get("false_positive_rate", float("nan")):.4f}{_worst_kind(calibration)}.{_word_threshold(calibration)}{_calibration_command(record)}

## Limitations

The spun sentences are synthetic (thesaurus swaps made by `training.spinner`) plus collected
tortured phrases; real spinners with other thesauri, other languages and other domains may score
lower. One sentence is little evidence: article verdicts should rest on many sentences and, where
possible, on the comparison with a source.
"""


def _int8_note(record: dict) -> str:
    int8, full = record.get("int8_calibration"), record["calibration"]
    if not int8:
        return "with its own calibration once\n`training.calibrate` has fitted one (`calibration.json`, key `int8`)."
    return (
        f"with its own calibration (`calibration.json`, key `int8`:\nthreshold {int8['threshold']:.4f}, F1 "
        f"{int8.get('f1', float('nan')):.3f} against {full.get('f1', float('nan')):.3f} at fp32 on the calibration split, "
        "at the same false-positive cap)."
    )


def _continued(record: dict) -> str:
    init = record["args"].get("init")
    return f" continuing the model `{init}` (its runs are listed below)" if init else ""


def _earlier_runs(record: dict) -> str:
    """The chain of runs this model continued, oldest first, as a table: one row per `--init` step."""
    runs, earlier = [], record.get("init_record")
    while earlier:
        runs.append(earlier)
        earlier = earlier.get("init_record")
    if not runs:
        return ""
    steps = []
    for run in reversed(runs):
        steps.append((run["command"], f"{(run['wall_seconds'] or 0) / 60:.0f} min"))
        if run.get("average_command"):
            steps.append((run["average_command"], _average_wall(run)))
    rows = "\n".join(f"| {number} | `{command}` | {wall} |" for number, (command, wall) in enumerate(steps, start=1))
    return f"\n\nThe runs before this one, oldest first, each continuing the one above it:\n\n| run | command | wall time |\n|---|---|---|\n{rows}"


def _averaged(record: dict) -> str:
    """For a `training.average` model: which folders' weights were averaged, and the command."""
    folders = record.get("averaged_from")
    if not folders:
        return ""
    rows = "\n".join(
        f"| `{run['folder']}` | `{run.get('command')}` | {(run.get('wall_seconds') or 0) / 60:.0f} min |" for run in folders
    )
    return (
        "\n\nThe weights are the uniform average of these model folders, the run above being the last "
        f"(`{record.get('average_command')}`, wall time {_average_wall(record)}); the validation figures below are the average's:\n\n"
        f"| folder | command of its last run | wall time |\n|---|---|---|\n{rows}"
    )


def _average_wall(record: dict) -> str:
    """The averaging step's wall time, or "not recorded" for averages made before it was kept."""
    seconds = record.get("average_seconds")
    return "not recorded" if seconds is None else f"{seconds / 60:.1f} min"


def _wall_time(record: dict) -> str:
    last = f"wall time {record.get('wall_seconds', 0) / 60:.1f} min"
    every = record.get("training_seconds_all_runs")
    if every and every > record.get("wall_seconds", 0) + 60:
        return f"{last} for the last run, {every / 60:.0f} min of training over all runs (interrupted and resumed)"
    return last


def _per_kind(calibration: dict) -> str:
    return " on each kind of negative sentence" if "worst_kind_false_positive_rate" in calibration else ""


def _worst_kind(calibration: dict) -> str:
    worst = calibration.get("worst_kind_false_positive_rate")
    parts = [f"{worst:.4f} on the kind flagged most"] if worst is not None else []
    parts += [f"{held['false_positive_rate']:.4f} of {held['rows']} held-out sentences of {name}"
              for name, held in calibration.get("held_out_false_positive_rate", {}).items()]
    return f" ({'; '.join(parts)})" if parts else ""


def _word_threshold(calibration: dict) -> str:
    word = calibration.get("word")
    if not word:
        return ""
    return (
        f"\nA word is called swapped at substitution probability {calibration['word_threshold']:.4f} or more: the best word F1 "
        f"on the spun calibration sentences ({word['words']} words: F1 {word['f1']:.4f}, precision {word['precision']:.4f}, "
        f"recall {word['recall']:.4f})."
    )


def _calibration_command(record: dict) -> str:
    command = record.get("calibration_command")
    return f"\nRe-calibrated by `{command}`." if command else ""


def evaluation_section(report: dict) -> str:
    """The card's evaluation section: the headline table of an evaluation report and the command
    that produced it, between `CARD_BEGIN` and `CARD_END`."""
    command = EvalConfig.from_dict(report["config"]).command()
    return (
        f"{CARD_BEGIN}\n## Evaluation\n\nHeld-out sets (never trained on), bootstrap 95 % intervals in brackets; "
        f"every system at its own threshold for at most {report['config']['max_fpr'] * 100:g}% false positives on "
        f"each kind of negative (clean, paraphrase) of the calibration split. Produced by `{command}` in {report['wall_seconds']:.0f} s.\n\n"
        f"{markdown_summary(report)}\n{CARD_END}\n"
    )


def render_card(record: dict, report: dict | None = None) -> str:
    """The whole card from the training record and, when given, the evaluation report."""
    return _join(model_card(record, report), evaluation_section(report) if report is not None else "")


def write_model_card(
    folder: str | Path, record: dict | None = None, report: dict | None = None, keep_evaluation: bool = True
) -> str:
    """Write ``folder/README.md`` and return its text.

    ``record`` None keeps the card's current training part (a folder without training.json);
    ``report`` None keeps its current evaluation section when ``keep_evaluation``, else drops it.
    """
    path = Path(folder) / CARD_FILE
    text = _updated_card(path.read_text(encoding="utf-8") if path.is_file() else "", record, report, keep_evaluation)
    path.write_text(text, encoding="utf-8")
    return text


def _updated_card(card: str, record: dict | None, report: dict | None, keep_evaluation: bool) -> str:
    """`write_model_card`'s text for a card that read ``card`` before."""
    body, section = _split(card)
    index = _index_of(body)
    if report is not None:
        section, index = evaluation_section(report), model_index(report)
    elif not keep_evaluation:
        section, index = "", ""
    if record is not None:
        body = _card(record, index)
    elif body.startswith("---\n"):  # a card kept as it is: only its model-index is replaced
        body = body.replace(_index_of(body), "", 1) if _index_of(body) else body
        end = body.index("\n---\n", 3) + 1
        body = body[:end] + index + body[end:]
    return _join(body, section)


def _index_of(body: str) -> str:
    """The ``model-index`` block of a card's metadata (it closes the metadata), or ""."""
    if not body.startswith("---\n") or f"\n{_INDEX_KEY}\n" not in body:
        return ""
    start = body.index(f"\n{_INDEX_KEY}\n") + 1
    return body[start : body.index("\n---\n", start) + 1]


def _split(card: str) -> tuple[str, str]:
    """(the card without its evaluation section, the section from its begin marker on)."""
    if CARD_BEGIN not in card:
        return card, ""
    begin = card.index(CARD_BEGIN)
    if CARD_END not in card:
        return card, card[begin:]
    return card[:begin] + card[card.index(CARD_END) + len(CARD_END) :].lstrip("\n"), card[begin:]


def _join(body: str, section: str) -> str:
    return body.rstrip("\n") + "\n\n" + section if section else body


def main(argv: list[str] | None = None) -> int:
    """Command line: regenerate (or with ``--check`` compare) a model card from training.json and an evaluation JSON."""
    parser = argparse.ArgumentParser(prog="python -m training.model_card", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="models/spin-classifier", help="model folder with training.json")
    parser.add_argument("--evaluation", help="evaluation JSON of this model (default: keep the card's evaluation section)")
    parser.add_argument("--check", action="store_true", help="only say whether the card is up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    folder = Path(args.model)
    if not (folder / "training.json").is_file():
        parser.error(f"{folder} has no training.json; a card is generated from the training record that training.train writes")
    record = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    report = json.loads(Path(args.evaluation).read_text(encoding="utf-8")) if args.evaluation else None
    if not args.check:
        write_model_card(folder, record, report)
        return 0
    card = folder / CARD_FILE
    current = card.read_text(encoding="utf-8") if card.is_file() else ""
    expected = _updated_card(current, record, report, keep_evaluation=True)
    print(f"{card} is {'up to date' if current == expected else 'out of date: regenerate it without --check'}")
    return 0 if current == expected else 1


if __name__ == "__main__":
    sys.exit(main())
