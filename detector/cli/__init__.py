"""`spin-detect`: the command line, one file per command, each a thin wrapper over a function.

Commands are imported lazily, so `spin-detect --help` answers without loading torch. Errors this
library raises on purpose (bad input, broken index or model folder) end the command with exit code 1
and a one-line message on stderr; usage errors end it with exit code 2.

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(main, ["--help"]).exit_code
    0
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from detector.errors import SpinDetectorError
from detector.precision import PRECISIONS

__all__ = ["main", "fail_cleanly", "precision_option"]

# command name -> (module, attribute, one-line help shown by `spin-detect --help`)
COMMANDS = {
    "score": ("detector.cli.score", "score", "Score sentences for spinning with the classifier alone."),
    "index": ("detector.cli.index", "index", "Build or extend a source index."),
    "analyze": ("detector.cli.analyze", "analyze", "Analyse articles against a source index."),
    "batch": ("detector.cli.batch", "batch", "Analyse many articles: resumable, parallel."),
    "evaluate": ("detector.cli.evaluate", "evaluate", "Evaluate verdicts and retrieval against the baselines."),
    "seal-model": ("detector.cli.seal_model", "seal_model", "Record the sha256 of a model folder's files in its manifest."),
    "schema": ("detector.cli.schema", "schema", "Print the JSON Schema of the article report or of a batch row."),
    "serve": ("detector.cli.serve", "serve", "Serve the detector over HTTP (extra: spin-detector[serve])."),
}


def fail_cleanly(error: Exception) -> click.ClickException:
    """A ClickException (exit code 1, one line on stderr) carrying the error's message."""
    message = " ".join(str(error).split()) or type(error).__name__
    return click.ClickException(message)


def precision_option(default: str):
    """The `--precision` option of every command that loads the model, with one help text."""
    return click.option(
        "--precision", type=click.Choice(PRECISIONS), default=default, show_default=True,
        help="Of the classifier and the sentence encoder. bf16: fast on CPUs with AMX, decisions as fp32; "
             "int8: faster than fp32 on any CPU, with the model's int8 calibration (a few decisions differ "
             "from fp32); fast: bf16 with AMX, else int8. Speed and agreement per CPU: benchmarks/README.md.")


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use; our errors become clean exits."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (module, _, _) in COMMANDS.items() if importlib.util.find_spec(module))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or name not in self.list_commands(ctx):
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (SpinDetectorError, OSError) as error:
            raise fail_cleanly(error) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spin-detector", prog_name="spin-detect")
def main() -> None:
    """Find spun content (thesaurus swaps) and machine paraphrase in articles.

    \b
    Typical use:
      spin-detect index build sources/ --out build/index
      spin-detect analyze article.txt --index build/index --format markdown
      spin-detect score sentences.txt

    Exit codes: 0 ok, 1 bad input, index or model (one-line message), 2 usage error.
    """
