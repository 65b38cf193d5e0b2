"""`spin-detect evaluate`: article verdicts, source retrieval and pair relations against the baselines.

A thin wrapper over `detector.evaluation.evaluate`: prints the summary table (metric, this project,
each baseline) and writes every figure, with bootstrap 95 % intervals, as JSON. The evaluation set
is built beforehand by ``python -m training.build_eval_articles --out build/eval`` (the spinner is
part of ``training``, which ``detector`` never imports). The default paths are relative to the
current directory: run it from the checkout's root, or name ``--data`` and ``--out``.

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(evaluate, ["--help"]).exit_code
    0
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from detector.cli import fail_cleanly
from detector.errors import SpinDetectorError
from detector.evaluation import DEFAULT_DATA, DEFAULT_RESULTS, SAMPLE_ENV, evaluate as run_evaluation, load_eval_data, sample_from_env
from detector.progress import log_progress_to_stderr

__all__ = ["evaluate", "main"]


@click.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=DEFAULT_DATA, show_default=True,
              help="Evaluation set folder, built by `python -m training.build_eval_articles --out <folder>` "
                   "(default relative to the current directory).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_RESULTS, show_default=True,
              help="JSON file for the full results (every figure with its interval, and one record per suspect and pair; "
                   "default relative to the current directory).")
@click.option("--model", type=click.Path(), default=None,
              help="Model folder (default: $SPIN_DETECTOR_MODEL, else the checkout's models/spin-classifier; see "
                   "docs/INSTALL.md); without a trained classifier in it the verdicts rest on the source comparison alone.")
@click.option("--sample", type=click.IntRange(min=1), default=None,
              help=f"Suspects per verdict (and pairs per relation, spun: 3x) for a quick run (default: ${SAMPLE_ENV}, else all).")
@click.option("--distractors", type=click.IntRange(min=0), default=None,
              help="Index at most this many sources that no kept suspect points to (default: all).")
@click.option("--bootstrap", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Bootstrap resamples behind each 95% interval.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap resampling.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bars on stderr over the sources indexed, the articles analysed and the pairs "
                   "compared (default: on a terminal; elsewhere a log line every 30 s).")
@click.pass_context
def evaluate(ctx: click.Context, data_dir: Path, out: Path, model: str | None, sample: int | None,
             distractors: int | None, bootstrap: int, seed: int, progress: bool | None) -> None:
    """Evaluate the detector and the near-duplicate baselines on an article-level evaluation set.

    Every figure is measured on the set's test split (the tune split fits the baselines' thresholds).
    """
    sample = sample if sample is not None else sample_from_env()
    data = load_eval_data(data_dir, sample=sample, distractors=distractors)  # a missing set fails before the model loads
    detector = (ctx.obj or {}).get("detector")
    if detector is None:
        from detector.api import Detector

        detector = Detector.load(model)
    log_progress_to_stderr(progress)
    result = run_evaluation(data, detector, sample=sample, distractors=distractors, bootstrap=bootstrap, seed=seed,
                            progress=progress)
    result.save(out)
    if detector.model_note:
        click.echo(f"note: {detector.model_note}\n")
    click.echo(result.summary_table())
    click.echo(f"\nfull results: {out}")


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m detector.cli.evaluate``: the `spin-detect evaluate` command on its own."""
    try:
        evaluate.main(args=list(argv) if argv is not None else None, prog_name="spin-detect evaluate")
    except SpinDetectorError as error:
        fail_cleanly(error).show()
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
