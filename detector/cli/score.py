"""`spin-detect score`: the classifier's spun probability for sentences, one per line.

Example:
    >>> from detector.cli.score import read_sentences
    >>> read_sentences(["First sentence.\\n", "\\n", "Second one.\\n"])
    ['First sentence.', 'Second one.']
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from detector.cli import precision_option
from detector.errors import InputError
from detector.report import SentenceScore

__all__ = ["score", "score_sentences_in", "read_sentences", "format_table", "format_jsonl"]


def read_sentences(lines: Iterable[str]) -> list[str]:
    """Non-blank lines, stripped: one sentence each."""
    return [line.strip() for line in lines if line.strip()]


def _read_lines(path: str) -> list[str]:
    """Lines of a UTF-8 file, or of stdin for '-'."""
    if path == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
        where = "standard input"
    else:
        file = Path(path)
        if not file.is_file():
            raise InputError(f"no such file: {path!r}: give a text file with one sentence per line, or '-' for stdin")
        data, where = file.read_bytes(), repr(path)
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InputError(f"{where} is not UTF-8 text (undecodable byte at offset {error.start}): save it as UTF-8") from None


def score_sentences_in(
    path: str, detector=None, model: str | None = None, precision: str = "fp32"
) -> list[SentenceScore]:
    """Score the sentences of a file ('-' for stdin), one per line, with the classifier alone."""
    sentences = read_sentences(_read_lines(path))
    if detector is None:
        from detector.api import Detector

        detector = Detector.load(model, precision=precision)
    return detector.score_sentences(sentences)


def format_table(scores: list[SentenceScore], top_words: int = 3) -> str:
    """A plain-text table: probability, flag, the most suspicious words, the sentence."""
    lines = [f"{'p(spun)':>7}  {'spun':<4}  {'top words':<32}  sentence"]
    for item in scores:
        words = sorted(item.word_scores, key=lambda pair: -pair[1])[:top_words]
        shown = ", ".join(f"{w} {p:.2f}" for w, p in words)
        lines.append(f"{item.spun_probability:>7.3f}  {'yes' if item.is_spun else 'no':<4}  {shown:<32}  {item.text}")
    return "\n".join(lines)


def format_jsonl(scores: list[SentenceScore]) -> str:
    """One JSON object per sentence."""
    return "\n".join(
        json.dumps(
            {"text": s.text, "spun_probability": s.spun_probability, "is_spun": s.is_spun,
             "word_scores": [list(pair) for pair in s.word_scores], "swapped_words": s.swapped_words},
            ensure_ascii=False,
        )
        for s in scores
    )


@click.command()
@click.argument("file", default="-", metavar="[FILE]")
@click.option("--format", "output_format", type=click.Choice(["table", "jsonl"]), default="table", show_default=True,
              help="table: probability, flag, top words and sentence; jsonl: one JSON object per sentence.")
@click.option("--model", type=click.Path(), default=None,
              help="Trained classifier folder (default: $SPIN_DETECTOR_MODEL, else models/spin-classifier).")
@precision_option(default="fp32")
@click.option("--quantize", is_flag=True, hidden=True, help="Deprecated: use --precision int8.")
@click.pass_context
def score(ctx: click.Context, file: str, output_format: str, model: str | None, precision: str, quantize: bool) -> None:
    """Score sentences for spinning, with no source: the classifier alone.

    FILE holds one sentence per line (blank lines skipped); '-' or no FILE reads standard input.
    Needs a trained classifier.
    """
    if quantize:
        click.echo("warning: --quantize is deprecated: use --precision int8", err=True)
        precision = "int8"
    scores = score_sentences_in(file, detector=(ctx.obj or {}).get("detector"), model=model, precision=precision)
    text = format_table(scores) if output_format == "table" else format_jsonl(scores)
    if text:
        click.echo(text)
