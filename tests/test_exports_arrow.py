"""The Arrow schema is the JSON Schema's fields, typed as the issue asks: checked against article.json itself."""

from __future__ import annotations

import pyarrow as pa
import pytest

from importlib.resources import files

from sasscrawl.exports.arrow import SHIPPED_SCHEMA, arrow_schema
from sasscrawl.schemas import ARTICLE_FIELDS, ARTICLE_SCHEMA

SITE_TIME = pa.timestamp("us", tz="Asia/Shanghai")


def test_every_json_schema_field_is_a_column_in_its_order():
    assert arrow_schema().names == list(ARTICLE_FIELDS)


@pytest.mark.parametrize("name, arrow_type, nullable", [
    ("articleId", pa.int64(), False), ("views", pa.int64(), True), ("wordCount", pa.int64(), False),
    ("previousArticleId", pa.int64(), True), ("nextArticleId", pa.int64(), True),
    ("datePublished", SITE_TIME, True), ("dateCreated", SITE_TIME, True),
    ("dateDownloaded", pa.timestamp("us", tz="UTC"), False),
    ("datePublishedRaw", pa.string(), True), ("dateCreatedRaw", pa.string(), True),
    ("alternativeHeadline", pa.string(), True), ("inLanguage", pa.string(), False),
    ("subheadings", pa.list_(pa.field("item", pa.string(), nullable=False)), False),
    ("mainImage", pa.struct([pa.field("url", pa.string())]), True),  # a null object's properties may be null
])
def test_a_column_has_the_type_the_issue_asks_for(name, arrow_type, nullable):
    field = arrow_schema().field(name)
    assert (field.type, field.nullable) == (arrow_type, nullable)


def test_nested_objects_are_structs_with_the_json_schema_properties():
    images = arrow_schema().field("images").type.value_type
    assert [child.name for child in images] == list(ARTICLE_SCHEMA["properties"]["images"]["items"]["properties"])
    assert images.field("size").type == pa.int64() and images.field("error").type == pa.string()
    snapshot = arrow_schema().field("snapshot").type
    assert [child.name for child in snapshot] == ["html", "png", "status", "error"]


def test_the_schema_shipped_beside_the_json_schema_is_the_one_the_export_writes():
    """sasscrawl/schemas/article.arrow is made by ``python -m sasscrawl.exports.arrow``: run it after changing
    article.json or the rules in sasscrawl/exports/arrow.py."""
    shipped = pa.ipc.open_file(pa.BufferReader(files("sasscrawl.schemas").joinpath(SHIPPED_SCHEMA).read_bytes()))
    assert shipped.num_record_batches == 0
    assert shipped.schema.equals(arrow_schema(), check_metadata=True)
