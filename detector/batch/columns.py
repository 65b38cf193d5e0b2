"""The Parquet columns of a batch row: one explicit Arrow schema, built from the shipped JSON Schemas, and
the row's conversion to it and back.

The schema is fixed by the options alone, so every chunk of a job has the same column types: an
empty chunk, a resumed run, a row whose report has no sentences. With --details the report is a
nested struct column, as queryable as the other columns (``report.sentences``, ``report.candidates``).
Arrow has no list of mixed types and no object with keys that may be absent, so three JSON shapes
are stored otherwise, and `row_from_parquet` gives the JSON form back (`read_batch_output` calls it):

- a ``[text, score]`` pair (candidates, word scores, flagged words) is a struct ``{text, score}``;
- an object whose keys are counts by name (``relation_counts``, ``evasion``) is a map;
- an object whose keys are optional (``truncation``, ``story``) is a struct with every key, null
  where the JSON form has none.

Example:
    >>> parquet_schema(details=True).field("report").type.field("candidates").type
    ListType(list<item: struct<text: string, score: double>>)
    >>> row_from_parquet({"report": {"truncation": {"article_chars_dropped": None, "sentences_shortened": 2}}})
    {'report': {'truncation': {'sentences_shortened': 2}}}
"""

from __future__ import annotations

from functools import lru_cache

from detector.schema import load_schema

__all__ = ["PAIR_FIELDS", "parquet_schema", "row_from_parquet", "row_to_parquet"]

PAIR_FIELDS = ("text", "score")  # the struct fields of a [text, score] pair
_SCALARS = {"string": "string", "number": "float64", "integer": "int64", "boolean": "bool_"}


@lru_cache(maxsize=2)
def parquet_schema(details: bool):
    """The Arrow schema of a batch output chunk: the batch row's columns, "report" only with `details`."""
    import pyarrow as pa

    row = _root("batch-row")
    return pa.schema([(name, _arrow_type(_resolve(row, node)))
                      for name, node in row.schema["properties"].items() if details or name != "report"])


def row_to_parquet(row: dict) -> dict:
    """The row as `parquet_schema` holds it: [text, score] pairs as structs (the rest Arrow takes as it is)."""
    return _convert(_root("batch-row"), row, to_parquet=True)


def row_from_parquet(row: dict) -> dict:
    """A row read from a Parquet chunk (``Table.to_pylist()``) in its JSON form, which the batch-row schema describes."""
    return _convert(_root("batch-row"), row, to_parquet=False)


class _Node:
    """A schema node, with the document its "#/$defs/..." references point into."""

    def __init__(self, schema: dict, document: dict):
        self.schema = schema
        self.document = document


@lru_cache(maxsize=None)
def _document(name: str) -> dict:
    return load_schema(name)


def _root(name: str) -> _Node:
    return _Node(_document(name), _document(name))


def _resolve(parent: _Node, schema: dict) -> _Node:
    """Follow "$ref" (within the document, or to the report schema by its $id) and unwrap "X or null"."""
    node = _Node(schema, parent.document)
    while True:
        reference = node.schema.get("$ref")
        if reference and reference.startswith("#/$defs/"):
            node = _Node(node.document["$defs"][reference.removeprefix("#/$defs/")], node.document)
        elif reference:  # the one other schema a batch row refers to: the report's
            node = _root("report")
        elif "anyOf" in node.schema and "properties" not in node.schema:
            (choice,) = [option for option in node.schema["anyOf"] if option != {"type": "null"}]
            node = _Node(choice, node.document)
        else:
            return node


def _kind(node: _Node) -> str:
    """struct, map, pair (mixed-type tuple), list, or a scalar type name."""
    schema = node.schema
    types = schema.get("type", "string")  # an enum or a const is a string in our schemas
    kind = next(t for t in ([types] if isinstance(types, str) else types) if t != "null")
    if kind == "object":
        return "struct" if "properties" in schema else "map"
    if kind == "array" and "prefixItems" in schema:
        items = [item.get("type") for item in schema["prefixItems"]]
        return "list" if len(set(items)) == 1 else "pair"
    return "list" if kind == "array" else kind


def _arrow_type(node: _Node):
    import pyarrow as pa

    kind, schema = _kind(node), node.schema
    if kind == "struct":
        return pa.struct([pa.field(key, _arrow_type(_resolve(node, child))) for key, child in schema["properties"].items()])
    if kind == "map":
        return pa.map_(pa.string(), _arrow_type(_resolve(node, schema["additionalProperties"])))
    if kind == "pair":
        items = [_arrow_type(_resolve(node, item)) for item in schema["prefixItems"]]
        return pa.struct([pa.field(key, item) for key, item in zip(PAIR_FIELDS, items, strict=True)])
    if kind == "list":
        return pa.list_(_arrow_type(_resolve(node, schema.get("items") or schema["prefixItems"][0])))
    return getattr(pa, _SCALARS[kind])()


def _convert(node: _Node, value, to_parquet: bool):
    """`value` from the JSON form to the Parquet form (`to_parquet`) or back, walking the schema beside it."""
    if value is None:
        return None
    kind, schema = _kind(node), node.schema
    if kind == "struct":
        required = set(schema.get("required", ()))
        converted = {key: _convert(_resolve(node, schema["properties"][key]), item, to_parquet)
                     for key, item in value.items() if key in schema["properties"]}
        return converted if to_parquet else {key: item for key, item in converted.items() if item is not None or key in required}
    if kind == "map":
        item = _resolve(node, schema["additionalProperties"])
        pairs = value.items() if isinstance(value, dict) else value  # to_pylist() gives a map as (key, value) tuples
        return {key: _convert(item, element, to_parquet) for key, element in pairs}
    if kind == "pair":
        return dict(zip(PAIR_FIELDS, value, strict=True)) if to_parquet else [value[key] for key in PAIR_FIELDS]
    if kind == "list":
        item = _resolve(node, schema.get("items") or schema["prefixItems"][0])
        return [_convert(item, element, to_parquet) for element in value]
    return value
