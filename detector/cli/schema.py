"""`spin-detect schema`: print the JSON Schema of the article report or of a batch row.

Example:
    >>> from click.testing import CliRunner
    >>> '"$id": "urn:spin-detector:schema:batch-row:2.1"' in CliRunner().invoke(schema, ["batch-row"]).output
    True
"""

from __future__ import annotations

import json

import click

from detector.schema import SCHEMA_NAMES, load_schema

__all__ = ["schema"]


@click.command()
@click.argument("name", type=click.Choice(SCHEMA_NAMES), default="report")
def schema(name: str) -> None:
    """Print the JSON Schema (draft 2020-12) of NAME: "report" (`analyze --format json`, the default)
    or "batch-row" (a line of `batch` JSON lines output).

    Both carry "schema_version"; validate an output against the schema of its own version.
    """
    click.echo(json.dumps(load_schema(name), ensure_ascii=False, indent=2))
