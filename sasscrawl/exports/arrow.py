"""The Parquet export's Arrow schema, generated from the record's JSON Schema (``sasscrawl/schemas/article.json``).

The JSON Schema stays the one definition of the record's fields; this module reads it and says
only what JSON cannot: which time zone a date is in. The rules:

- ``integer`` → ``int64``, ``string``/``enum``/``const`` → ``string``; a type that allows
  ``null``, a property not required, and every property of an object that may be null, is
  nullable (Arrow's JSON reader takes a null object's properties for nulls). Ids and counts are
  int64 with nulls, never float.
- A ``$ref`` to ``#/$defs/isoDate`` → a timestamp (microseconds) in the zone :data:`TIME_ZONES`
  names for the field: the site's zone for ``datePublished``/``dateCreated``, UTC for
  ``dateDownloaded``. The ``*Raw`` fields stay strings, as the page has them.
- ``object`` → ``struct`` of its properties in order; ``array`` → ``list`` of its items.

Every column has its declared type whatever the rows hold, so a field null in every row of
one run's file still loads together with another run's.
"""

from __future__ import annotations

from functools import cache

import pyarrow as pa

from sasscrawl.exports.schema import definition
from sasscrawl.schemas import ARTICLE_SCHEMA

SITE_TIME_ZONE = "Asia/Shanghai"
TIME_ZONES = {"datePublished": SITE_TIME_ZONE, "dateCreated": SITE_TIME_ZONE, "dateDownloaded": "UTC"}
"""The zone of each date field's timestamps: the one its ISO 8601 text is written in (see article.json)."""
ISO_DATE_REF = "#/$defs/isoDate"
TIMESTAMP_UNIT = "us"
SCALARS = {"integer": pa.int64(), "string": pa.string(), "number": pa.float64(), "boolean": pa.bool_()}


@cache
def arrow_schema() -> pa.Schema:
    """The Article record as an Arrow schema, field for field in the JSON Schema's order."""
    return pa.schema(_fields(ARTICLE_SCHEMA, path=""))


def _fields(node: dict, path: str, in_nullable: bool = False) -> list[pa.Field]:
    required = set(node.get("required", ()))
    return [_field(name, child, name in required and not in_nullable, f"{path}{name}")
            for name, child in node["properties"].items()]


def _field(name: str, node: dict, required: bool, path: str) -> pa.Field:
    arrow_type, nullable = _type(node, path)
    return pa.field(name, arrow_type, nullable=nullable or not required)


def _type(node: dict, path: str, nullable: bool = False) -> tuple[pa.DataType, bool]:
    """The Arrow type of a JSON Schema node and whether it allows null (``nullable``: a branch of an anyOf with null)."""
    if node.get("$ref") == ISO_DATE_REF:
        if path not in TIME_ZONES:
            raise ValueError(f"{path} is a date: name its time zone in sasscrawl.exports.arrow.TIME_ZONES")
        return pa.timestamp(TIMESTAMP_UNIT, tz=TIME_ZONES[path]), False
    if "$ref" in node:
        return _type(definition(node["$ref"]), path, nullable)
    if "anyOf" in node:
        branches = [branch for branch in node["anyOf"] if branch.get("type") != "null"]
        if len(branches) != 1:
            raise ValueError(f"{path}: anyOf with {len(branches)} non-null branches has no one Arrow type")
        nullable = len(branches) < len(node["anyOf"])
        return _type(branches[0], path, nullable)[0], nullable
    if "enum" in node or "const" in node:
        values = node.get("enum", [node.get("const")])
        if not all(isinstance(value, str) for value in values):
            raise ValueError(f"{path}: only string enums have an Arrow type here")
        return pa.string(), False
    types = node["type"] if isinstance(node["type"], list) else [node["type"]]
    nullable = nullable or "null" in types
    (kind,) = [kind for kind in types if kind != "null"]
    if kind == "object":
        return pa.struct(_fields(node, f"{path}.", in_nullable=nullable)), nullable
    if kind == "array":
        item_type, item_nullable = _type(node["items"], f"{path}[]")
        return pa.list_(pa.field("item", item_type, nullable=item_nullable)), nullable
    return SCALARS[kind], nullable



SHIPPED_SCHEMA = "article.arrow"
"""The schema as shipped beside article.json (``sasscrawl/schemas/``): an Arrow IPC file with no rows, which any
Arrow implementation reads (``pyarrow.ipc.open_file(path).schema``). ``python -m sasscrawl.exports.arrow`` writes it;
tests/test_exports_arrow.py keeps it in step with :func:`arrow_schema`."""


def schema_file_bytes() -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, arrow_schema()):
        pass
    return sink.getvalue().to_pybytes()


if __name__ == "__main__":
    from importlib.resources import files

    target = files("sasscrawl.schemas").joinpath(SHIPPED_SCHEMA)
    target.write_bytes(schema_file_bytes())
    print(f"wrote {target}")
