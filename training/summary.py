"""Headline tables of a classifier evaluation report (``training.evaluate``'s JSON): one row per
metric, one column per system, as plain text for the terminal and as Markdown for the model card."""

from __future__ import annotations

import numpy as np

__all__ = ["SUMMARY_ROWS", "summary_table", "markdown_summary"]

SUMMARY_ROWS = (
    ("spun 20-40% sentence F1", "news_spun_20_40.sentence_f1"),
    ("spun 20-40% ROC AUC", "news_spun_20_40.roc_auc"),
    ("spun 20-40% word F1", "news_spun_20_40.word_f1"),
    ("spun 20-40% recall, 1-2 words swapped", "news_spun_20_40.recall_by_swapped_words.1-2.recall"),
    ("spun 20-40% recall, 3-4 words swapped", "news_spun_20_40.recall_by_swapped_words.3-4.recall"),
    ("spun 20-40% recall, 5+ words swapped", "news_spun_20_40.recall_by_swapped_words.5+.recall"),
    ("spun 5-10% sentence F1", "news_spun_05_10.sentence_f1"),
    ("spun 5-10% ROC AUC", "news_spun_05_10.roc_auc"),
    ("spun 5-10% word F1", "news_spun_05_10.word_f1"),
    ("FPR human paraphrase", "false_positives.paraphrase_human.false_positive_rate"),
    ("FPR clean news", "false_positives.news_clean.false_positive_rate"),
    ("tortured pairs ROC AUC", "tortured_pairs.roc_auc"),
    ("tortured pair accuracy", "tortured_pairs.pair_accuracy"),
    ("seed 000 mean prob", "seeds.mean_probability.000"),
    ("seed 001 mean prob", "seeds.mean_probability.001"),
    ("seed 002 mean prob", "seeds.mean_probability.002"),
    ("seed 003 mean prob", "seeds.mean_probability.003"),
    ("seed 004 mean prob", "seeds.mean_probability.004"),
    ("seed order holds", "seeds.order_holds"),
    ("Brier (test sample)", "calibration.brier"),
)


def _lookup(report: dict, path: str):
    value = report
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _cell(value) -> str:
    if isinstance(value, dict) and "value" in value:
        if np.isnan(value["low"]):
            return f"{value['value']:.3f}"
        return f"{value['value']:.3f} [{value['low']:.3f}, {value['high']:.3f}]"
    if isinstance(value, bool) or value is None:
        return str(value)
    return f"{value:.3f}"


def _summary_rows(report: dict) -> list[tuple[str, list[str]]]:
    """(label, one cell per system) for each headline metric, then F1 at each fixed clean-news FPR."""
    systems = list(report["systems"].values())
    rows = [(label, [_cell(_lookup(system, path)) for system in systems]) for label, path in SUMMARY_ROWS]
    for i, rate in enumerate(report["config"].get("clean_fpr_levels", ())):  # absent from reports before section 7
        for name, label in (("news_spun_20_40", "20-40%"), ("news_spun_05_10", "5-10%")):
            rows.append((f"spun {label} sentence F1 at {rate:.1%} clean-news FPR",
                         [_cell(system["at_clean_fpr"][i][name]["sentence_f1"]) for system in systems]))
    return rows


def summary_table(report: dict) -> str:
    """A plain-text table: one row per headline metric, one column per system."""
    names = list(report["systems"])
    rows = [["metric", *names]] + [[label, *cells] for label, cells in _summary_rows(report)]
    for held_out, section in report.get("loto", {}).items():
        rows.append([f"LOTO without {held_out}: F1 on {held_out}-spun", _cell(section["held_out_thesaurus"]["sentence_f1"]), *[""] * (len(names) - 1)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows)


def markdown_summary(report: dict) -> str:
    """The summary table as Markdown (for the model card and the README), LOTO rows included."""
    names = list(report["systems"])
    lines = [f"| metric | {' | '.join(names)} |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {label} | {' | '.join(cells)} |" for label, cells in _summary_rows(report)]
    for held_out, section in report.get("loto", {}).items():
        seen = ", ".join(f"{name} {_cell(s['roc_auc'])}" for name, s in section.get("seen_thesauri", {}).items())
        lines.append(
            f"| LOTO without {held_out}: ROC AUC on {held_out}-spun (seen: {seen}) | "
            f"{_cell(section['held_out_thesaurus']['roc_auc'])} |" + " |" * (len(names) - 1)
        )
    return "\n".join(lines)

