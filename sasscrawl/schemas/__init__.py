"""The Article record's JSON Schema: the one definition of its fields.

The Scrapy item, the article page's field order, the validation pipeline, ``scrapy reextract``
and the tests all read the field list and the validation from here.
"""

import json
from functools import cache
from importlib.resources import files

import jsonschema_rs
from jsonschema import Draft202012Validator, ValidationError

ARTICLE_SCHEMA: dict = json.loads(files(__package__).joinpath("article.json").read_text("utf-8"))
ARTICLE_FIELDS: tuple[str, ...] = tuple(ARTICLE_SCHEMA["properties"])


@cache
def article_validator() -> Draft202012Validator:
    """A shared validator; building one compiles the schema, so do it once."""
    return Draft202012Validator(ARTICLE_SCHEMA)


@cache
def _article_checker():
    return jsonschema_rs.validator_for(ARTICLE_SCHEMA)


def article_errors(record: dict) -> list[ValidationError]:
    """The record's schema errors; an empty list for a valid record.

    jsonschema-rs (compiled) answers "valid?" in microseconds; an invalid record, or one holding a
    type it does not take, is checked again by jsonschema, whose errors carry the paths and messages
    the pipeline reports. jsonschema alone took about 1 ms a record, 7% of a crawl's CPU. The two
    agree on the JSON types a record is made of (tests/test_schemas.py); jsonschema-rs also takes a
    tuple for an array and a Decimal for a number, which the parser never makes. Neither checks
    ``format`` (an annotation in draft 2020-12), and the schema uses none.
    """
    try:
        if _article_checker().is_valid(record):
            return []
    except (ValueError, ArithmeticError):  # a value it cannot read (bytes, a Decimal NaN, ...)
        pass
    return list(article_validator().iter_errors(record))
