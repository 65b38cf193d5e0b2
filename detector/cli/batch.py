"""`spin-detect batch`: score many articles into a resumable output folder (a thin wrapper over `run_batch`).

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(batch_command, ["--help"]).exit_code
    0
"""

from __future__ import annotations

import click

from detector.batch import DEFAULT_MAX_CHARS, OUTPUT_FORMATS, BatchSummary, run_batch
from detector.batch.progress import BATCH_LOGGER
from detector.cli import precision_option
from detector.progress import log_progress_to_stderr

__all__ = ["batch", "batch_command", "summary_table"]


def summary_table(summary: BatchSummary) -> str:
    """The end-of-run table: articles per verdict, errors, resumed rows, wall time and rate."""
    rows = [(f"verdict {verdict}", str(count)) for verdict, count in summary.verdicts.items()]
    rows += [
        ("articles in output", str(summary.articles)),
        ("scored in this run", str(summary.scored)),
        ("done by earlier runs", str(summary.resumed)),
        ("errors", f"{summary.errors} (duplicate ids: {summary.duplicates})"),
        ("wall time", f"{summary.wall_seconds:.1f} s"),
        ("throughput", f"{summary.articles_per_second:.2f} articles/s ({summary.engine}, {summary.workers} worker(s))"),
        ("output", summary.output),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows) + "\n"


@click.command("batch")
@click.argument("input_path", metavar="INPUT")
@click.option("--out", "-o", "output", required=True, type=click.Path(),
              help="Output folder (created). A .parquet or .jsonl suffix picks the format; rerunning the same "
                   "command resumes the job in it.")
@click.option("--index", "index_dir", type=click.Path(), default=None,
              help="Source index folder (from `spin-detect index build`). Without it the classifier alone decides.")
@click.option("--model", type=click.Path(), default=None,
              help="Trained classifier folder (default: $SPIN_DETECTOR_MODEL, else models/spin-classifier if present).")
@click.option("--id-field", default="id", show_default=True, help="Id column of JSON lines / Parquet input.")
@click.option("--text-field", default="text", show_default=True, help="Text column of JSON lines / Parquet input.")
@click.option("--format", "output_format", type=click.Choice(OUTPUT_FORMATS), default=None,
              help="Output format (default: from the --out suffix, else jsonl).")
@click.option("--details/--no-details", default=False, show_default=True,
              help="Add the full report of each article in a 'report' column: a nested object in JSON lines, "
                   "nested columns in Parquet.")
@click.option("--max-chars", type=click.IntRange(min=1), default=DEFAULT_MAX_CHARS, show_default=True,
              help="Longer articles go to the errors file.")
@click.option("--exclude-self/--keep-self", default=True, show_default=True,
              help="Never match an article with the indexed source of the same id.")
@precision_option(default="fast")
@click.option("--full-precision", is_flag=True, hidden=True, help="Deprecated: use --precision fp32.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this machine's cores; ray: Ray Data over an actor pool (pip install spin-detector[ray]).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="local: worker processes (default 1, whose torch uses every core); ray: actors (default: "
                   "the cluster's CPUs).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Torch intra-op threads per worker (default: the cores shared out between the workers).")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Articles per detector call. Part of the job, like --precision: at int8 it can move a "
                   "verdict, so a resume must keep it.")
@click.option("--exclude-quotations", is_flag=True,
              help="Leave sentences mostly inside quotation marks out of each verdict and spin score, as "
                   "`analyze --exclude-quotations` does. Part of the job: a resume keeps it.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Rows per committed output chunk (a chunk is also committed every 30 s).")
@click.option("--ray-address", default=None, help="Ray cluster to join (default: $RAY_ADDRESS, else a local Ray).")
@click.option("--overwrite", is_flag=True,
              help="Delete an earlier job's output in --out and start over (needed when the index, model or an "
                   "option changed since its rows were scored).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar (default: on a terminal; elsewhere a log line every 30 s).")
@click.pass_context
def batch_command(ctx: click.Context, input_path: str, output: str, index_dir: str | None, model: str | None,
                  id_field: str, text_field: str, output_format: str | None, details: bool, max_chars: int,
                  exclude_self: bool, precision: str, full_precision: bool, engine: str, workers: int | None, threads: int | None, batch_size: int,
                  exclude_quotations: bool, chunk_size: int, ray_address: str | None, overwrite: bool, progress: bool | None) -> None:
    """Analyse every article of INPUT: a folder of .txt, a quoted glob ('crawl/*.jsonl'), JSON lines or Parquet.

    One row per article (id, verdict, spin score, source, similarity, coverage, sentence counts), written
    in committed chunks: kill it at any moment and rerun the same command to finish the job. A rerun
    whose index, model, precision, batch size or other options changed is refused, naming each change
    (--overwrite starts over). Bad records (empty, undecodable, oversized, duplicate ids) go to the
    errors chunks with the reason.
    """
    log_progress_to_stderr(progress, BATCH_LOGGER)
    if full_precision:
        click.echo("warning: --full-precision is deprecated: use --precision fp32", err=True)
        precision = "fp32"
    engine_options = {"address": ray_address, "actors": workers} if engine == "ray" else {}
    try:
        summary = run_batch(
            input_path, output, index=index_dir, detector=(ctx.obj or {}).get("detector"), model=model,
            id_field=id_field, text_field=text_field, output_format=output_format, details=details,
            max_chars=max_chars, exclude_self=exclude_self, precision=precision, workers=workers if engine == "local" else None,
            threads=threads, batch_size=batch_size, exclude_quotations=exclude_quotations, chunk_size=chunk_size, overwrite=overwrite,
            progress=progress, engine=engine, **engine_options,
        )
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: committed rows are kept in {output}; run the same command again to resume", err=True)
        ctx.exit(130)
    click.echo(summary_table(summary), nl=False)


batch = batch_command
