"""The Article record's JSON Schema: the one definition of its fields.

The Scrapy item, the parser's field order, the validation pipeline and the
tests all read the field list from here.
"""

import json
from functools import cache
from importlib.resources import files

from jsonschema import Draft202012Validator

ARTICLE_SCHEMA: dict = json.loads(files(__package__).joinpath("article.json").read_text("utf-8"))
ARTICLE_FIELDS: tuple[str, ...] = tuple(ARTICLE_SCHEMA["properties"])


@cache
def article_validator() -> Draft202012Validator:
    """A shared validator; building one compiles the schema, so do it once."""
    return Draft202012Validator(ARTICLE_SCHEMA)
