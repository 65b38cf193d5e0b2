"""Writes notebooks/evaluation.ipynb from the cells below and, with --execute, runs it in place.

The committed notebook holds the outputs of the full run: after ``spin-detect evaluate`` has written
benchmarks/results/evaluation.json, run ``python notebooks/make_notebook.py --execute`` from the
repository root (leave $SPIN_EVAL_SAMPLE unset). CI runs the notebook on a small sample instead
(tests/test_notebook.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOK = Path(__file__).resolve().parent / "evaluation.ipynb"
REPO = NOTEBOOK.parent.parent
CELL_TIMEOUT = 1800  # seconds per cell: the full run scores every eval sentence

CELLS = [
    ("md", """# spin-detector: evaluation

What the detector gets right and wrong, next to plain near-duplicate baselines. Every figure comes
from `detector.evaluation` (the JSON that `spin-detect evaluate` writes) and `detector.metrics`;
intervals are bootstrap 95 % intervals. The evaluation sets never overlap what the shipped model
trained on (held-out Reuters files, the BBC test split, the test parts of MRPC, STS and ParaSCI).

`SPIN_EVAL_SAMPLE` sets the sample size (suspects per verdict); unset, the notebook shows the full run."""),
    ("code", """import os

SAMPLE = int(os.environ["SPIN_EVAL_SAMPLE"]) if os.environ.get("SPIN_EVAL_SAMPLE") else None  # None: the full run"""),
    ("code", """import json
import sys
from pathlib import Path

REPO = Path.cwd() if (Path.cwd() / "detector").is_dir() else Path.cwd().parent
sys.path[:0] = [str(REPO), str(REPO / "notebooks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

%matplotlib inline
from IPython.display import HTML, Markdown, display

import evaluation_inputs as inputs
import plots
from detector import Detector, SourceIndex
from detector.evaluation import summary_table

detector = Detector.load()
print(detector)
print(detector.model_note or "classifier loaded")"""),
    ("md", """## The seeds

The five reference articles analysed against an index of the two clean seeds (003 and 004), as the
README's main command does. Each report shows the verdict, the source, and the spun sentences
beside their source sentence with the swapped words highlighted."""),
    ("code", """SHARED = Path(os.environ.get("SPIN_DETECTOR_SHARED") or REPO.parent / "shared")
seeds = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("0*.txt"))}
seed_index = SourceIndex.build([{"id": name, "text": seeds[name]} for name in ("003", "004")], encoder=detector.encoder)
reports = list(detector.analyze_many(list(seeds.values()), index=seed_index, exclude_ids=[[name] for name in seeds]))
display(Markdown("| seed | verdict | spin score | source | coverage |\\n|---|---|---|---|---|\\n" + "\\n".join(
    f"| {name} | {r.verdict} | {r.spin_score:.2f} | {r.source_id} | {r.coverage:.2f} |" for name, r in zip(seeds, reports))))"""),
    ("code", """for name, report in zip(seeds, reports):
    display(Markdown(f"### Seed {name}"), HTML(report.to_html()))"""),
    ("md", """## Article verdicts

Suspects of each verdict (copies: verbatim, shuffled, lost punctuation and case, boilerplate added,
partial; spun: light, heavy, partial; paraphrased; related; original) analysed against an index of
clean sources with `Detector.analyze_many`. The baselines pick the source with the highest MinHash
Jaccard (word trigrams) or TF-IDF cosine and put thresholds on that one number, fitted on the tune
split. All figures are on the test split."""),
    ("code", """result = inputs.article_result(detector, SAMPLE)
print(f"{result['data']['suspects']} suspects, {result['data']['sources']} indexed sources, sample={result['data']['sample']}")
display(Markdown(summary_table(result)))"""),
    ("md", """### Confusion matrices

Rows are the true verdict, columns the predicted one. A single similarity number cannot tell a spun
copy from a light copy, nor a related article from an original one; the detector's sentence
alignment and pair relations can."""),
    ("code", """plots.confusion_matrices(result);"""),
    ("md", """### Spin score per kind of suspect

The article spin score should be high for spun suspects (rising with the swap rate) and near zero
for copies, paraphrases and independent text."""),
    ("code", """plots.spin_score_by_variant(result);"""),
    ("md", """## Spinners the detector never saw (leave one family out)

Articles spun with one substitution family alone (MyThes, WordNet, PPDB, nearest neighbours in the
encoder's word embeddings, held-out tortured phrases), each judged by a detector that never saw that
family: a classifier trained without it, a synonym table without it and pair decisions fitted
without it. Recall of `spun` for light and heavy spins, of `copy` for copies, and false `spun` on
copies, clean rewrites of the same story and human paraphrase; the release before in brackets.
Written by `benchmarks/family_verdicts.py` (see its docstring for the commands)."""),
    ("code", """family_json = REPO / "benchmarks" / "results" / "family_verdicts.json"
if family_json.is_file():
    families = json.loads(family_json.read_text())
    display(Markdown(families["table"]))
    display(Markdown("| shipped detector | rate | hits / n |\\n|---|---|---|\\n" + "\\n".join(
        f"| {name} | {value['rate']:.3f} | {value['hits']} / {value['n']} |"
        for name, value in families["shipped"].items() if isinstance(value, dict) and "rate" in value)))
else:
    print("no family results yet: run benchmarks/family_verdicts.py")"""),
    ("md", """## Same story or same topic: the blind audit

Both sets label an article `related` for a shared topic and two rare names. Each related and absent
suspect was judged blind against one indexed partner (same story, same topic or unrelated); the
shipped verdicts scored against the generator's labels and against the audit. Written by
`benchmarks/same_story_audit.py` (its docstring has the guideline)."""),
    ("code", """audit_json = REPO / "benchmarks" / "results" / "same_story_audit.json"
if audit_json.is_file():
    audit = json.loads(audit_json.read_text())
    rows = [f"| {name} | {truth} | {figures[key]['related']['f1']:.3f} | {figures[key]['original']['f1']:.3f} |"
            for name, figures in audit["sets"].items()
            for truth, key in (("generator", "generator_labels"), ("audit", "audited_labels"))]
    display(Markdown("| set | truth | F1 related | F1 original |\\n|---|---|---|---|\\n" + "\\n".join(rows)))
    print("annotation passes agree:", audit["agreement"])
else:
    print("no audit results yet: run benchmarks/same_story_audit.py")"""),
    ("md", """## Clean wire against clean wire

Three samples of 1,500 Reuters articles of the training files (C held out from the shipped rules' design)
analysed against an index of 4,000 others: every `copy` and `paraphrased` call was judged blind, the same report or another one (another company's earnings
table, another bond issue, another week). A call on another report is a false accusation. Written by
`benchmarks/wire_verdicts.py`, with the template check off, with it on (decisions `.rules10`) and with the shipped detector,
which also asks a paraphrase to share its source's event words."""),
    ("code", """if (REPO / "benchmarks" / "results" / "wire_verdicts.json").is_file():
    from benchmarks.tables import wire_verdicts

    display(Markdown(wire_verdicts()))  # the table benchmarks/README.md shows
else:
    print("no wire results yet: run benchmarks/wire_verdicts.py")"""),
    ("md", """## Baselines

Article verdicts (above) and, when `python -m training.evaluate` has written
`benchmarks/results/classifier.json`, the sentence-level baselines: tortured-phrase lookup, TF-IDF +
logistic regression and logistic regression on frozen MiniLM embeddings."""),
    ("code", """classifier_json = REPO / "benchmarks" / "results" / "classifier.json"
if classifier_json.is_file():
    from training.evaluate import summary_table as classifier_table

    print(classifier_table(json.loads(classifier_json.read_text())))
else:
    print("no sentence-level results yet: run python -m training.evaluate")"""),
    ("md", """## Sentences: ROC and precision-recall per swap rate

Spun sentences of each swap-rate bin against all human sentences (clean news and human
paraphrases). Low swap rates are the hard case: one or two swapped words in a long sentence."""),
    ("code", """scores = inputs.sentence_scores(detector, result, SAMPLE)
print(f"{scores.origin}; score: {scores.score_name}")
plots.curves_by_rate(scores);"""),
    ("md", """### Score against swap rate

How the score grows with the share of swapped words; human text should stay near the bottom."""),
    ("code", """plots.score_by_rate(scores);"""),
    ("md", """### Calibration

A calibrated probability of 0.7 means that 70 % of the sentences given it are spun. The Brier score
is the mean squared error of the probability (lower is better)."""),
    ("code", """if scores.is_probability:
    plots.calibration(scores)
else:
    print("no trained classifier loaded: the spin strength is not a probability, so there is nothing to calibrate")"""),
    ("md", """## Throughput

This run's timings, and the speed and memory figures of every benchmark under `benchmarks/results/`
(on the machine that ran them: see the JSON files for their cores and load)."""),
    ("code", """rows = inputs.benchmark_figures(result)
display(Markdown("| source | figure | value |\\n|---|---|---|\\n" + "\\n".join(f"| {f} | {k} | {v:,.3f} |" for f, k, v in rows)))"""),
]


def build() -> nbformat.NotebookNode:
    """The notebook, without outputs."""
    cells = [new_markdown_cell(text) if kind == "md" else new_code_cell(text) for kind, text in CELLS]
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number:02d}"  # stable ids: regenerating the notebook changes no more than its cells
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def execute(notebook: nbformat.NotebookNode, timeout: int = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Run every cell with the current Python's kernel, from the repository root; a failing cell raises."""
    from nbclient import NotebookClient

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    return notebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--execute", action="store_true", help="run the notebook and keep its outputs ($SPIN_EVAL_SAMPLE sets the sample)")
    args = parser.parse_args(argv)
    notebook = build()
    if args.execute:
        execute(notebook)
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {NOTEBOOK}")


if __name__ == "__main__":
    main()
