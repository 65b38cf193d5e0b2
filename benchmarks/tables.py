"""The documents' result tables, rendered from `benchmarks/results/*.json`: one source per figure.

A table sits in README.md or benchmarks/README.md between ``<!-- table:NAME -->`` and
``<!-- /table -->``. ``python benchmarks/tables.py`` rewrites every such block from its JSON;
``--check`` changes nothing and exits 1 when a block differs from what the JSON gives (the test
`tests/test_docs_tables.py` runs the same check), so a figure is never copied by hand.

Example:
    >>> print(markdown_table(["path", "sentences/s"], [["fp32", "187"]]))
    | path | sentences/s |
    |---|---|
    | fp32 | 187 |
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

__all__ = ["DOCUMENTS", "RESULTS", "TABLES", "main", "markdown_table", "render_document", "stale_tables", "update_tables"]

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path("benchmarks/results")  # relative to the repository
DOCUMENTS = (Path("README.md"), Path("benchmarks/README.md"))
BLOCK = re.compile(r"<!-- table:(?P<name>[\w-]+) -->\n.*?<!-- /table -->", re.DOTALL)

VERDICTS = ("copy", "spun", "paraphrased", "related", "original")
EVALUATION_SYSTEMS = {"detector": "this project", "minhash": "MinHash near-duplicate", "tfidf_cosine": "TF-IDF cosine"}
CLASSIFIER_SYSTEMS = {"model": "this model", "lookup": "tortured-phrase lookup", "tfidf": "TF-IDF + LR",
                      "embedding": "MiniLM embedding + LR"}
THESAURI = {"mythes": "MyThes", "wordnet": "WordNet", "ppdb": "PPDB"}
THROUGHPUT_FILES = ("classifier_throughput", "classifier_throughput_vnni", "classifier_throughput_vnni_before",
                    "classifier_throughput_avx2")
BATCH_FILES = ("batch_throughput", "batch_throughput_avx2")
BATCH_PATHS = {
    "naive_loop": "naive loop, `Detector.analyze` one article at a time (fp32)",
    "batch_default": "batch default (1 process, all cores as threads, `--precision fast`)",
    "batch_int8": "batch `--precision int8`",
    "batch_full_precision": "batch `--precision fp32`",
    "batch_default_with_start_up": "batch default as a command runs it (loading included)",
    "one_process_all_threads": "1 process x all cores as threads (loading included)",
    "processes_one_thread_each": "1 process per core x 1 thread (loading included)",
}
FAMILY_KINDS = ("spun_light", "spun_heavy", "copy", "false_spun_copy", "false_spun_rewrite", "false_spun_human_paraphrase")


# --- formatting --------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def result(name: str) -> dict:
    """The JSON of `benchmarks/results/<name>.json`, read once per run."""
    return json.loads((REPO / RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table: the header, the separator, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def num(value: float, digits: int = 3) -> str:
    """A figure with a fixed number of decimals."""
    return f"{value:.{digits}f}"


def interval(figure: dict) -> str:
    """A bootstrap figure as 'value [low, high]'."""
    return f"{figure['value']:.3f} [{figure['low']:.3f}, {figure['high']:.3f}]"


def f1_interval(figure: dict) -> str:
    """An F1 with its bootstrap interval (`benchmarks.same_story_audit.scores`) as 'f1 [low, high]'."""
    return f"{num(figure['f1'])} [{num(figure['low'])}, {num(figure['high'])}]"


def percent(share: float, digits: int = 1) -> str:
    """A share as a percentage."""
    return f"{100 * share:.{digits}f}%"


def joined(*cells: str) -> str:
    """Several figures in one cell."""
    return " / ".join(cells)


def machine(name: str) -> str:
    """The CPU of a result file and its vector extensions, as its `machine` block records them."""
    block = result(name)["machine"]
    return f"{block['cpu_model']} ({', '.join(block['vector_extensions'])})"


# --- article evaluation (evaluation.json) ----------------------------------------------------------------


def _evaluation_rows(full: bool) -> list[tuple[str, Callable[[dict], str]]]:
    rows = [("article macro-F1", lambda s: interval(s["macro_f1"]))]
    rows += [(f"F1 {verdict}", lambda s, v=verdict: num(s["f1"][v]["value"])) for verdict in VERDICTS]
    groups = ("copy+spun", "paraphrased") if full else ("copy+spun",)
    for group in groups:
        rows.append((f"source retrieval accuracy @1, {group}", lambda s, g=group: num(s["retrieval"][g]["at_1"]["value"])))
    return rows


def evaluation_table(full: bool) -> str:
    """Article verdicts of the detector and the near-duplicate baselines on held-out news."""
    data = result("evaluation")
    systems = data["articles"]["systems"]
    rows = [[label, *(cell(systems[name]) for name in EVALUATION_SYSTEMS)] for label, cell in _evaluation_rows(full)]
    audited = result("same_story_audit")["sets"]["eval"]["audited_labels"]
    rows.insert(len(VERDICTS) + 1, ["F1 related / original, against the blind same-story audit",
                                    f"{num(audited['related']['f1'])} / {num(audited['original']['f1'])}", "–", "–"])
    rows.append(["sentence-pair macro-F1 (copy / spun / paraphrase / unrelated)", interval(data["pairs"]["macro_f1"]), "–", "–"])
    wire = result("wire_verdicts")["runs"]["shipped"]["c"]
    rows.append(["clean wire called `copy` or `paraphrased` of another report, per 1,000 (held-out, blind-judged)",
                 num(wire["false_accusations_per_1000"], 1), "–", "–"])
    if full:
        rows.append(["articles analysed per second", num(data["throughput"]["articles_per_second"], 1), "–", "–"])
    return markdown_table(["metric", *EVALUATION_SYSTEMS.values()], rows)


def evaluation_confusion() -> str:
    """The detector's confusion matrix: rows the truth, columns the verdict."""
    confusion = result("evaluation")["articles"]["systems"]["detector"]["confusion"]
    rows = [[truth, *map(str, counts)] for truth, counts in zip(confusion["labels"], confusion["matrix"])]
    return markdown_table(["truth", *confusion["labels"]], rows)


# --- sentence classifier (classifier*.json) ------------------------------------------------------------


def _at_clean_fpr(system: dict, set_name: str) -> str:
    return joined(*(num(level[set_name]["sentence_f1"]) for level in system["at_clean_fpr"]))


def _recall_by_swaps(system: dict) -> str:
    return joined(*(num(system["news_spun_20_40"]["recall_by_swapped_words"][group]["recall"]) for group in ("1-2", "3-4", "5+")))


def _seed_means(system: dict, seeds: Sequence[str]) -> str:
    return joined(*(num(system["seeds"]["mean_probability"][seed]) for seed in seeds))


def _classifier_rows(levels: str) -> list[tuple[str, Callable[[dict], str], bool]]:
    """(label, cell, model only): the rows of the classifier table."""
    return [
        ("spun 20-40%, sentence ROC AUC", lambda s: num(s["news_spun_20_40"]["roc_auc"]["value"]), False),
        ("spun 20-40%, sentence F1", lambda s: num(s["news_spun_20_40"]["sentence_f1"]["value"]), False),
        (f"spun 20-40%, sentence F1 with {levels} of held-out clean news flagged", lambda s: _at_clean_fpr(s, "news_spun_20_40"), False),
        ("spun 20-40%, recall by words swapped: 1-2 / 3-4 / 5+", _recall_by_swaps, False),
        ("spun 20-40%, word F1 (at the word threshold)", lambda s: num(s["news_spun_20_40"]["word_f1"]["value"]), True),
        ("spun 5-10%, sentence ROC AUC / F1", lambda s: joined(num(s["news_spun_05_10"]["roc_auc"]["value"]),
                                                               num(s["news_spun_05_10"]["sentence_f1"]["value"])), False),
        ("spun 5-10%, word F1", lambda s: num(s["news_spun_05_10"]["word_f1"]["value"]), True),
        ("false positives, human paraphrase (MRPC + STS test)",
         lambda s: num(s["false_positives"]["paraphrase_human"]["false_positive_rate"]["value"]), False),
        ("false positives, clean held-out news", lambda s: num(s["false_positives"]["news_clean"]["false_positive_rate"]["value"]), False),
        ("tortured phrases (unseen test half), ROC AUC", lambda s: num(s["tortured_pairs"]["roc_auc"]["value"]), False),
        ("Brier score (test sample)", lambda s: num(s["calibration"]["brier"]["value"]), False),
        ("seeds, mean spun probability 000 / 002", lambda s: _seed_means(s, ("000", "002")), False),
        ("seeds, mean spun probability 001 / 003 / 004", lambda s: _seed_means(s, ("001", "003", "004")), False),
    ]


def classifier_table() -> str:
    """The shipped classifier against the baselines on the held-out sentence sets, with the model's intervals."""
    systems = result("classifier")["systems"]
    model = systems["model"]
    levels = joined(*(percent(level["clean_fpr"], 1).replace(".0%", "%") for level in model["at_clean_fpr"]))
    intervals = {"spun 20-40%, sentence ROC AUC": interval(model["news_spun_20_40"]["roc_auc"]),
                 "spun 20-40%, sentence F1": interval(model["news_spun_20_40"]["sentence_f1"]),
                 "false positives, human paraphrase (MRPC + STS test)":
                     interval(model["false_positives"]["paraphrase_human"]["false_positive_rate"]),
                 "false positives, clean held-out news": interval(model["false_positives"]["news_clean"]["false_positive_rate"])}
    rows = []
    for label, cell, model_only in _classifier_rows(levels):
        cells = [intervals.get(label, cell(model))]
        cells += ["–" if model_only else cell(systems[name]) for name in list(CLASSIFIER_SYSTEMS)[1:]]
        rows.append([label, *cells])
    return markdown_table(["metric", *CLASSIFIER_SYSTEMS.values()], rows)


def classifier_targets() -> str:
    """The classifier's figures against the project's targets, as `training.evaluate` checks them."""
    targets = result("classifier")["targets"]
    rows = [[f"`{name}`", num(float(t["value"])) if not isinstance(t["value"], bool) else str(t["value"]).lower(),
             t["target"], "yes" if t["met"] else "**no**"] for name, t in targets.items()]
    return markdown_table(["figure", "value", "target", "met"], rows)


def classifier_precision() -> str:
    """The shipped classifier at each inference precision, each at its own calibration, on the same sets."""
    runs = {"fp32": "classifier", "bf16": "classifier_bf16", "int8": "classifier_int8"}
    rows = []
    for label, name in runs.items():
        model = result(name)["systems"]["model"]
        spun, light, negatives = model["news_spun_20_40"], model["news_spun_05_10"], model["false_positives"]
        rows.append([f"{label} (`{name}.json`)", num(model["threshold"]), num(spun["sentence_f1"]["value"]), num(spun["roc_auc"]["value"]),
                     num(spun["word_f1"]["value"]), num(light["sentence_f1"]["value"]),
                     num(negatives["paraphrase_human"]["false_positive_rate"]["value"]),
                     num(negatives["news_clean"]["false_positive_rate"]["value"]), num(model["tortured_pairs"]["roc_auc"]["value"])])
    header = ["precision (results)", "threshold", "20-40% F1", "20-40% AUC", "20-40% word F1", "5-10% F1",
              "FPR human paraphrase", "FPR clean news", "tortured AUC"]
    return markdown_table(header, rows)


def classifier_loto() -> str:
    """Leave one thesaurus out: ROC AUC of a model that never saw a thesaurus, on its spins and on the others'."""
    data = result("classifier")
    shipped = data["systems"]["model"]["per_thesaurus"]
    rows = []
    for name, run in data["loto"].items():
        seen = ", ".join(f"{THESAURI[other]} {num(figures['roc_auc']['value'])}" for other, figures in run["seen_thesauri"].items())
        rows.append([THESAURI[name], num(run["held_out_thesaurus"]["roc_auc"]["value"]), seen,
                     num(run["clean_news_false_positives"]["false_positive_rate"]["value"], 4),
                     num(shipped[name]["roc_auc"]["value"])])
    header = ["thesaurus never seen", "AUC on its spins", "AUC on the two it saw", "FPR clean news", "shipped model, AUC on its spins"]
    return markdown_table(header, rows)


# --- speed (classifier_throughput*.json, batch_throughput*.json) ------------------------------------------


def classifier_throughput() -> str:
    """Sentences per second and peak memory of each precision, one row per machine and run."""
    rows = []
    for name in THROUGHPUT_FILES:
        data = result(name)
        paths = data["paths"]
        speed = {p: paths[p]["sentences_per_second"] for p in ("fp32", "int8", "bf16")}
        rows.append([f"`{name}.json`", machine(name), data["fast_path"], joined(*(num(v, 0) for v in speed.values())),
                     joined(num(speed["int8"] / speed["fp32"], 2) + "x", num(speed["bf16"] / speed["fp32"], 2) + "x"),
                     joined(*(num(paths[p]["peak_rss_mb"], 0) for p in speed)),
                     joined(percent(data["int8_vs_fp32"]["decision_agreement"], 2), percent(data["bf16_vs_fp32"]["decision_agreement"], 2)),
                     joined(num(data["int8_vs_fp32"]["pearson"]), num(data["bf16_vs_fp32"]["pearson"], 5))])
    header = ["results", "CPU (vector extensions)", "`fast` picks", "fp32 / int8 / bf16 sentences/s", "int8 / bf16 vs fp32",
              "peak MB fp32 / int8 / bf16", "equal decisions to fp32: int8 / bf16", "Pearson with fp32: int8 / bf16"]
    return markdown_table(header, rows)


def classifier_shallower() -> str:
    """int8 speed of the shipped model cut to its first N encoder layers (a student's speed, not its accuracy)."""
    rows = []
    for name in THROUGHPUT_FILES:
        data = result(name)
        for path, figures in data.get("shallower_int8", {}).items():
            layers = path.removeprefix("int8_first_").removesuffix("_layers")
            rows.append([f"`{name}.json`", layers, num(figures["sentences_per_second"], 0), num(data["paths"]["int8"]["sentences_per_second"], 0)])
    return markdown_table(["results", "encoder layers kept", "int8 sentences/s", "all six layers, int8"], rows)


def batch_throughput() -> str:
    """Articles per second of the naive loop and the batch job's paths, one column pair per machine."""
    rows = []
    for key, label in BATCH_PATHS.items():
        cells = []
        for name in BATCH_FILES:
            data = result(name)
            if key not in data:
                cells += ["–", "–"]
                continue
            run, naive = data[key], data["naive_loop"]["articles_per_second"]
            cells.append(f"{num(run['articles_per_second'], 1)} ({num(run['articles_per_second'] / naive, 1)}x)")
            cells.append(percent(run["verdicts_equal_to_naive"], 1) if "verdicts_equal_to_naive" in run else "–")
        rows.append([label, *cells])
    header = ["path"]
    for name in BATCH_FILES:
        header += [f"`{name}.json`: articles/s (vs naive), `fast` = {result(name)['default_precision']}", "verdicts equal to naive"]
    return markdown_table(header, rows)


def batch_machines() -> str:
    """The machine, index and crash test of each batch benchmark run."""
    rows = []
    for name in BATCH_FILES:
        data = result(name)
        kill = data["kill_and_resume"]
        rows.append([f"`{name}.json`", machine(name), f"{data['corpus']['sources']:,}", num(data["corpus"]["index_build_seconds"], 1),
                     f"{kill['rows_committed_at_kill']:,} of {kill['articles']:,}",
                     "yes" if kill["each_id_exactly_once"] and kill["verdicts_equal_uninterrupted_run"] else "no",
                     joined(num(kill["uninterrupted_seconds"], 1), num(kill["rerun_seconds"], 1))])
    header = ["results", "CPU (vector extensions)", "sources indexed", "index build s", "rows committed at kill -9",
              "each id once, verdicts as uninterrupted", "uninterrupted / rerun s"]
    return markdown_table(header, rows)


def batch_before_after() -> str:
    """Articles per second of one batch benchmark run on the code before a change and after it."""
    data = result("batch_throughput_before_after")
    repeats = data.get("repeats", [])
    rows = [[BATCH_PATHS[key], num(data["before"][key]["articles_per_second"], 2), num(data["after"][key]["articles_per_second"], 2),
             f"{100 * change:+.1f}%", *([", ".join(f"{100 * run[key]:+.1f}%" for run in repeats)] if repeats else [])]
            for key, change in data["change"].items()]
    after = f"after ({data['after_code']})" if "after_code" in data else "after"
    header = ["path", f"before ({data['before_code']}): articles/s", f"{after}: articles/s", "change"]
    return markdown_table(header + (["change in each of the pairs run"] if repeats else []), rows)


# --- verdict benchmarks (family_verdicts.json, bbc_verdicts.json) ----------------------------------------


def family_verdicts() -> str:
    """Leave one family out: the share of each kind of article judged right, the release before in brackets."""
    data = result("family_verdicts")
    before = data["baseline"]["families"]
    rows = [[family, *(f"{num(figures[kind]['rate'], 2)} ({num(before[family][kind]['rate'], 2)})" for kind in FAMILY_KINDS)]
            for family, figures in data["families"].items()]
    targets = data["targets"]
    header = ["family never seen", f"spun light (>= {targets['spun_light']})", f"spun heavy (>= {targets['spun_heavy']})",
              f"copy (>= {targets['copy']})", f"copy called spun (<= {targets['false_spun']})", "rewrite called spun",
              "human paraphrase called spun"]
    return markdown_table(header, rows)


def family_shipped() -> str:
    """Partial reuse, stitched, absent and same-story articles judged by the shipped model."""
    shipped = result("family_verdicts")["shipped"]
    rows = [[key.replace("_", " "), num(figures["rate"], 3), f"{figures['hits']} of {figures['n']}"]
            for key, figures in shipped.items() if isinstance(figures, dict) and "rate" in figures]
    return markdown_table(["articles", "share right", "count"], rows)


def bbc_verdicts() -> str:
    """300 BBC articles indexed together, each analysed with itself excluded, and a shuffled copy of each."""
    data = result("bbc_verdicts")
    own = ", ".join(f"{verdict} {count}" for verdict, count in data["own_verdicts"].items())
    rows = [["articles", str(data["articles"])], ["verdicts, each against the others", own],
            ["lifting nothing and `original` or `related`", percent(data["independent_ok_rate"])],
            ["true re-published duplicates (listed apart)", str(len(data["true_duplicates"]))],
            ["follow-ups lifting sentences (listed apart)", str(len(data["partial_reuse"]))],
            ["shuffled copies `copy` with the right source at rank 1", percent(data["shuffled_copy_ok_rate"])],
            ["articles analysed per second", num(data["articles_per_second"], 2)], ["CPU", machine("bbc_verdicts")]]
    return markdown_table(["figure", "value"], rows)


def wire_verdicts() -> str:
    """Clean wire against clean wire: the accusing calls against a blind judgement, template check off, on, and shipped."""
    data = result("wire_verdicts")
    samples = {"a": "A (seen)", "b": "B (seen for `.rules11`)", "c": "C (held out)"}
    runs = {"template_check_off": "template check off", "template_check": "template check (`.rules10`)", "shipped": "shipped"}
    rows = []
    for sample, sample_label in samples.items():
        for name, label in runs.items():
            run = data["runs"][name][sample]
            calls = run["calls"]
            rows.append([sample_label, label, ", ".join(f"{verdict} {count}" for verdict, count in run["verdicts"].items()),
                         *(f"{sum(calls[v].values())} ({calls[v].get('other_report', 0)} other report)" for v in ("copy", "paraphrased")),
                         num(run["false_accusations_per_1000"], 1)])
    agree = data["agreement"]
    header = ["sample", "detector", f"verdicts of {data['suspects_per_sample']:,} articles", "`copy` calls", "`paraphrased` calls",
              "false accusations per 1,000 articles"]
    return markdown_table(header, rows) + (f"\n\nThe two annotation passes on sample A agree on {agree['agree']} of {agree['pairs']} "
                                           f"pairs (Cohen's kappa {num(agree['kappa'])}).")


def same_story_audit() -> str:
    """`related` and `original` scored against the generator's labels and against the blind same-story audit."""
    data = result("same_story_audit")["sets"]
    names = {"eval": "article evaluation (test split)", "family": "family set"}
    rows = []
    for name, figures in data.items():
        story = figures["labels_by_judgement"]["related"].get("same_story", 0)
        related = sum(figures["labels_by_judgement"]["related"].values())
        for truth, key, absent in (("generator's labels", "generator_labels", "generator"),
                                   ("audited labels", "audited_labels", "audit_confirmed")):
            labels = figures[key]
            rows.append([names[name], truth, f1_interval(labels["related"]), f1_interval(labels["original"]),
                         num(figures["absent_called_original"][absent]), f"{story} of {related}" if key == "generator_labels" else "–"])
    header = ["set", "truth", "F1 related", "F1 original", "absent called `original`", "generator `related` judged same story"]
    agree = result("same_story_audit")["agreement"]
    ceiling = agree["second_pass_related_f1"]
    return (markdown_table(header, rows) + f"\n\nThe two annotation passes agree on {agree['agree_same_story']} of {agree['pairs']} "
            f"pairs, same story or not (Cohen's kappa {num(agree['kappa_same_story'])}; three-way {num(agree['kappa'])}). "
            f"Scored against the first pass as a detector would be, the second pass has `related` F1 {num(ceiling['f1'])} "
            f"[{num(ceiling['low'])}, {num(ceiling['high'])}] ({agree['same_story']['first']} and {agree['same_story']['second']} "
            "pairs called the same story): what a second reader reaches.")


def same_story_ceiling() -> str:
    """How well the same-story evidence separates the audited pairs: each signal, and a regression over them."""
    data = result("same_story_audit")["evidence_ceiling"]
    names = {"word_similarity": "word similarity (TF-IDF cosine)", "topic_similarity": "topic similarity (mean sentence vectors)",
             "marks": "shared rare names, figures and quotations", "figure_share": "share of all figures shared"}
    rows = [[names[name], num(auc), "–", "–"] for name, auc in data["auc"].items()]
    for name, label in (("word_similarity", "regression over word similarity alone"), ("detector_evidence", "regression over the first three"),
                        ("with_figure_share", "regression over all four")):
        model = data["models"][name]
        rows.append([label, num(model["auc"]), num(model["average_precision"]),
                     f"{num(model['best_f1'])} (precision {num(model['precision_at_best'])}, recall {num(model['recall_at_best'])})"])
    header = ["evidence", "AUC", "average precision", "best F1 over thresholds"]
    return markdown_table(header, rows) + f"\n\n{data['pairs']} distinct audited pairs, {data['same_story']} of them the same story."


def wire_story_audit() -> str:
    """`related` on clean wire suspects judged blind against their two nearest sources, and the evidence bound there."""
    data = result("wire_story_audit")
    figures, ceiling, agree = data["scores"], data["evidence_ceiling"], data["agreement"]
    rows = [[f"shipped verdict, {label} (per suspect)", f1_interval(figures[label]), f"{figures[label]['hits']} of {figures[label]['n']}"]
            for label in ("related", "original")]
    names = {"word_similarity": "word similarity", "topic_similarity": "topic similarity", "marks": "shared rare marks",
             "figure_share": "share of figures shared"}
    rows += [[f"pair evidence: {names[name]}", f"AUC {num(auc)}", "–"] for name, auc in ceiling["auc"].items()]
    best = ceiling["models"]["with_figure_share"]
    rows.append(["pair evidence: regression over all four", f"AUC {num(best['auc'])}; best F1 per pair over thresholds (a bound) "
                 f"{num(best['best_f1'])}", "–"])
    header = ["what", "F1 [95% interval] or AUC", "right"]
    named = data["related_calls_naming_a_same_story_source"]
    return (markdown_table(header, rows) + f"\n\n{data['suspects']:,} suspects ({data['truth'].get('related', 0)} with a same-story pair), "
            f"{data['pairs']:,} judged pairs; {named['named']} of the {named['calls']} `related` calls name a source judged the same "
            f"story. The two passes agree on {agree['agree_same_story']} of {agree['pairs']} pairs, same story "
            f"or not (Cohen's kappa {num(agree['kappa_same_story'])}); scored against the first, the second pass has `related` F1 "
            f"{num(agree['second_pass_related_f1']['f1'])} [{num(agree['second_pass_related_f1']['low'])}, "
            f"{num(agree['second_pass_related_f1']['high'])}] per pair. The pairs lie where the evidence does not settle them (topic "
            "similarity 0.45 or more, word similarity 0.1-0.8), so their AUCs are not comparable with the audit's.")


# --- index and memory (retrieval.json, memory_large_article.json) -----------------------------------------


def retrieval() -> str:
    """Single-sentence query latency and recall of the exact and the IVF index, by collection size."""
    data = result("retrieval")
    probe = str(data["ivf"]["nprobe_used_by_SourceIndex"])
    rows = []
    for size in data["results"]:
        flat, ivf = size["flat"], size["ivf_sq_fp16"]
        used = ivf["by_nprobe"][probe]
        rows.append([f"{size['sentences']:,}", f"{num(flat['median_ms'], 1)} ms",
                     f"{num(used['median_ms'], 2)} / {num(used['p99_ms'], 2)} ms", f"{ivf['bytes'] / 1e6:.0f} MB",
                     num(ivf["build_s"], 1), percent(used["source_found_at_10"], 0), num(used["recall_at_10"], 2)])
    header = ["source sentences", "exact search median", f"IVF (nprobe {probe}) median / p99", "IVF memory", "IVF build s",
              "source sentence in the top 10", "recall@10 vs exact"]
    return markdown_table(header, rows)


def memory_large_article() -> str:
    """Time and peak memory of `Detector.analyze` on a 10 MB article under each oversize policy."""
    rows = []
    for case in result("memory_large_article")["cases"]:
        outcome = case["error"].split(":")[0] if "error" in case else f"{case['verdict']}, {case['sentences']:,} sentences"
        rows.append([case["case"], f"{case['max_chars']:,}", num(case["seconds"], 2), num(case["peak_rss_mb"], 1),
                     num(case["growth_mb"], 1), outcome])
    return markdown_table(["case", "max_chars", "seconds", "peak MB", "growth MB", "outcome"], rows)


def serve_load() -> str:
    """The HTTP service with concurrent single-article clients against `analyze_many` in the same run."""
    data = result("serve_load")
    server, batch, health = data["server"], data["analyze_many"], data["healthz_under_load"]
    row = [str(data["clients"]), num(batch["articles_per_second"], 2), num(server["articles_per_second"], 2),
           percent(data["share_of_analyze_many"], 0), f"{server['latency_p50_ms'] / 1000:.2f} s",
           f"{server['latency_p99_ms'] / 1000:.2f} s", f"{num(health['p50_ms'], 1)} / {num(health['p99_ms'], 1)} / {num(health['max_ms'], 0)} ms"]
    header = ["clients", "`analyze_many` articles/s", "server articles/s", "server / `analyze_many`", "p50 latency",
              "p99 latency", "`/healthz` p50 / p99 / max under load"]
    return markdown_table(header, [row])


TABLES: dict[str, Callable[[], str]] = {
    "headline": lambda: evaluation_table(full=False),
    "evaluation": lambda: evaluation_table(full=True),
    "evaluation-confusion": evaluation_confusion,
    "classifier": classifier_table,
    "classifier-targets": classifier_targets,
    "classifier-precision": classifier_precision,
    "classifier-loto": classifier_loto,
    "classifier-throughput": classifier_throughput,
    "classifier-shallower": classifier_shallower,
    "batch-throughput": batch_throughput,
    "batch-machines": batch_machines,
    "batch-before-after": batch_before_after,
    "family-verdicts": family_verdicts,
    "family-shipped": family_shipped,
    "bbc-verdicts": bbc_verdicts,
    "same-story-audit": same_story_audit,
    "same-story-ceiling": same_story_ceiling,
    "wire-verdicts": wire_verdicts,
    "wire-story-audit": wire_story_audit,
    "retrieval": retrieval,
    "memory-large-article": memory_large_article,
    "serve-load": serve_load,
}


# --- documents ------------------------------------------------------------------------------------------


def render_document(text: str) -> str:
    """The text with every table block replaced by the table its JSON gives."""
    def block(match: re.Match) -> str:
        name = match["name"]
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r} in a '<!-- table:... -->' marker; known: {', '.join(TABLES)}")
        return f"<!-- table:{name} -->\n{TABLES[name]()}\n<!-- /table -->"

    return BLOCK.sub(block, text)


def stale_tables(root: Path = REPO) -> list[str]:
    """'document: table' for each table block of the documents that differs from its JSON (empty: all current)."""
    stale = []
    for document in DOCUMENTS:
        text = (root / document).read_text(encoding="utf-8")
        current = {m["name"]: m[0] for m in BLOCK.finditer(text)}
        fresh = {m["name"]: m[0] for m in BLOCK.finditer(render_document(text))}
        stale += [f"{document}: {name}" for name in current if current[name] != fresh[name]]
    return stale


def update_tables(root: Path = REPO) -> list[str]:
    """Rewrite the table blocks of the documents from the JSON; returns 'document: table' for each one changed."""
    stale = stale_tables(root)
    for document in {entry.split(": ")[0] for entry in stale}:
        path = root / document
        path.write_text(render_document(path.read_text(encoding="utf-8")), encoding="utf-8")
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    """Update the tables in place, or with --check report the stale ones and exit 1."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 if a table differs from its JSON.")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_tables()
        for entry in stale:
            print(f"stale table {entry}: run `python benchmarks/tables.py` to rewrite it from the JSON", file=sys.stderr)
        return 1 if stale else 0
    for entry in update_tables():
        print(f"rewrote {entry}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
