"""JSON Schemas (draft 2020-12) of what spin-detector writes: the article report and the batch row.

The schemas ship as package data (``detector/data/*.schema.json``) so that other tools validate our
output without importing us; `spin-detect schema` prints them. Every report and batch row carries
``"schema_version"``: a minor bump adds keys (a reader of 1.0 reads any 1.x by ignoring keys it does
not know), a major bump removes or renames a key or changes its type or meaning.

Example:
    >>> validate_report({"verdict": "spun"})
    Traceback (most recent call last):
    ...
    detector.errors.InputError: report does not match schema 2.1 at $: 'spin_score' is a required property (`spin-detect schema report` prints the schema)
    >>> report_schema()["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from detector.errors import InputError

__all__ = [
    "SCHEMA_VERSION",
    "SCHEMA_NAMES",
    "load_schema",
    "report_schema",
    "batch_row_schema",
    "validate_report",
    "validate_batch_row",
]

SCHEMA_VERSION = "2.1"  # 2.1 (issue 35): `story` gives its word similarity and words; 2.0 (issue 37): the batch row's `report` is an object
_FILES = {"report": "report.schema.json", "batch-row": "batch_row.schema.json"}
SCHEMA_NAMES = tuple(_FILES)
_MAX_MESSAGE = 300  # characters of the validator's message kept: it can quote a whole sentence object


def load_schema(name: str) -> dict:
    """The schema called `name` ("report" or "batch-row"), read from the package data (a fresh copy)."""
    if name not in _FILES:
        raise InputError(f"no schema called {name!r}: choose one of {', '.join(SCHEMA_NAMES)}")
    return json.loads(_schema_text(name))


def report_schema() -> dict:
    """The JSON Schema of an article report (`ArticleReport.to_dict()`, `spin-detect analyze --format json`)."""
    return load_schema("report")


def batch_row_schema() -> dict:
    """The JSON Schema of one `spin-detect batch` output row, with or without --details."""
    return load_schema("batch-row")


def validate_report(data: Mapping) -> None:
    """Raise `InputError` naming the JSON path of the first problem unless `data` is a valid report.

    `data` is the report as JSON read back, or as `ArticleReport.to_dict()` returns it (tuples count
    as the arrays that JSON writes them as).
    """
    _check("report", data, "report")


def validate_batch_row(row: Mapping) -> None:
    """Raise `InputError` naming the JSON path of the first problem unless `row` is a valid batch row.

    With --details the row's "report" object is checked against the report schema too. A row read from
    a Parquet chunk is checked in its JSON form (`detector.batch.row_from_parquet`, `read_batch_output`).
    """
    _check("batch-row", row, "batch row")


@lru_cache(maxsize=None)
def _schema_text(name: str) -> str:
    return resources.files("detector").joinpath("data", _FILES[name]).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def _validator(name: str):
    """A draft 2020-12 validator of the named schema, which finds the others by their $id (the batch row
    refers to the report); jsonschema loads on first use, not at import."""
    from jsonschema import Draft202012Validator, validators
    from referencing import Registry, Resource

    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "array", lambda _checker, instance: isinstance(instance, (list, tuple))
    )
    schemas = [load_schema(known) for known in SCHEMA_NAMES]
    registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in schemas)
    return validators.extend(Draft202012Validator, type_checker=checker)(load_schema(name), registry=registry)


def _check(name: str, data: object, what: str) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(_validator(name).iter_errors(data))
    if error is None:
        return
    path = error.json_path
    message = " ".join(error.message.split())
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    raise InputError(
        f"{what} does not match schema {SCHEMA_VERSION} at {path}: {message} "
        f"(`spin-detect schema {name}` prints the schema)"
    )
