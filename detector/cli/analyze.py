"""`spin-detect analyze`: articles against a source index, as JSON, Markdown or HTML reports.

Example:
    >>> from detector.cli.analyze import analyze_files                          # doctest: +SKIP
    >>> [r.verdict for r in analyze_files(["article.txt"], index_dir="build/index")]  # doctest: +SKIP
    ['spun']
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

import click

from detector.cli import precision_option
from detector.errors import IndexFormatError
from detector.progress import log_progress_to_stderr, track
from detector.report import ArticleReport, render_html, render_markdown

__all__ = ["analyze", "analyze_files", "render_reports"]

FORMATS = ("json", "markdown", "html")


def analyze_files(
    files: Sequence[str],
    index_dir: str | Path | None = None,
    *,
    exclude_self: bool = True,
    detector=None,
    model: str | None = None,
    precision: str = "fp32",
    truncate: bool = False,
    progress: bool | None = False,
    exclude_quotations: bool = False,
) -> list[ArticleReport]:
    """Analyse every article in `files` against the index in `index_dir` (None: classifier alone).

    A .txt file is one article whose id is its file name without extension; JSON lines and Parquet
    files hold one article per record. With `exclude_self`, an indexed source whose id equals the
    article's id is never its candidate (so an article already in the index is not its own source).
    With `truncate`, an article over the detector's size limit is cut and flagged instead of refused,
    whatever its size (a .txt file is read no further than the limit). `precision` is the loaded
    model's (`detector.precision`); a given `detector` keeps its own. `progress` counts the articles
    on stderr (`detector.progress`): True a bar, None a bar on a terminal and elsewhere a line every
    30 s, False (the default) nothing. `exclude_quotations` leaves quoted speech out of the verdicts
    (`Detector.analyze_many`).
    """
    from detector.api import DEFAULT_MAX_CHARS, Detector, article_cut_note
    from detector.documents import read_documents

    max_chars = detector.max_chars if detector is not None else DEFAULT_MAX_CHARS
    documents = [doc for file in files for doc in read_documents(file, max_chars=max_chars, truncate=truncate)]
    if index_dir is not None:
        from detector.index import recover_index

        recover_index(index_dir)  # a save killed between its renames leaves the index beside its path
    if index_dir is not None and not Path(index_dir).is_dir():
        raise IndexFormatError(f"no index folder at {str(index_dir)!r}: build one with `spin-detect index build`")
    if detector is None:
        detector = Detector.load(model, precision=precision, on_oversize="truncate" if truncate else "reject")
    elif truncate:
        detector = copy.copy(detector)
        detector.on_oversize = "truncate"
    source_index = None
    if index_dir is not None:
        from detector.index import SourceIndex

        source_index = SourceIndex.load(index_dir, encoder=detector.encoder)
    exclusions = [(doc.id,) if exclude_self else () for doc in documents]
    analysed = detector.analyze_many(
        [doc.text for doc in documents], index=source_index, exclude_ids=exclusions, exclude_quotations=exclude_quotations
    )
    reports = list(track(analysed, len(documents), progress))
    for doc, report in zip(documents, reports):
        report.article_id = doc.id
        if doc.meta.get("chars_dropped"):
            report.truncation["article_chars_dropped"] = doc.meta["chars_dropped"]
            report.notes.append(article_cut_note(max_chars, doc.meta["chars_dropped"]))
    return reports


def render_reports(reports: Sequence[ArticleReport], output_format: str) -> str:
    """JSON (one object, or an array for several reports), Markdown, or one HTML page."""
    if output_format == "json":
        data = reports[0].to_dict() if len(reports) == 1 else [report.to_dict() for report in reports]
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output_format == "markdown":
        return render_markdown(reports)
    return render_html(reports)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--index", "index_dir", type=click.Path(), default=None,
              help="Source index folder (from `spin-detect index build`). Without it the classifier alone decides.")
@click.option("--exclude-self/--keep-self", default=True, show_default=True,
              help="Leave out of an article's candidates the indexed source whose id equals the article's own id "
                   "(for a .txt file: its name without extension), so an article already in the index is not "
                   "matched with itself.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="json", show_default=True,
              help="json: one object (an array for several files); markdown: a readable report per article; "
                   "html: one self-contained page.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the reports to this file instead of standard output.")
@click.option("--model", type=click.Path(), default=None,
              help="Trained classifier folder (default: $SPIN_DETECTOR_MODEL, else models/spin-classifier if present).")
@precision_option(default="fp32")
@click.option("--truncate", is_flag=True,
              help="Cut an article over the size limit (200,000 characters) at a word boundary and say so in "
                   "its report, instead of refusing it.")
@click.option("--exclude-quotations", is_flag=True,
              help="Leave sentences mostly inside quotation marks out of the verdict and the spin score (shown "
                   "greyed, as boilerplate is): every outlet reporting a story quotes the same words. Off by default.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: on a terminal; elsewhere a log line every 30 s).")
@click.pass_context
def analyze(ctx: click.Context, files: tuple[str, ...], index_dir: str | None, exclude_self: bool,
            output_format: str, out: str | None, model: str | None, precision: str, truncate: bool,
            exclude_quotations: bool, progress: bool | None) -> None:
    """Analyse FILES (articles: .txt, JSON lines or Parquet) for copying, spinning and paraphrase.

    Each article is compared with its closest source in --index: verdict (original, copy, spun,
    paraphrased, related), spin score, source, and the spun sentences with their substitutions.
    """
    log_progress_to_stderr(progress)
    reports = analyze_files(files, index_dir, exclude_self=exclude_self,
                            detector=(ctx.obj or {}).get("detector"), model=model, precision=precision,
                            truncate=truncate, progress=progress, exclude_quotations=exclude_quotations)
    text = render_reports(reports, output_format)
    if out is None:
        click.echo(text, nl=False)
    else:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(reports)} report(s) to {out}", err=True)
