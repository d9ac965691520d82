"""The spider's arguments: one model for the checks, the messages, the shipped JSON Schema and the README's table."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from sasscrawl.arguments import (README_FILE, SCHEMA_FILE, SpiderArgumentError, SpiderArguments, json_schema,
                                 readme_with_table, schema_text)


def test_the_shipped_schema_is_the_models():
    """Run ``python -m sasscrawl.arguments`` after changing the model."""
    assert SCHEMA_FILE.read_text("utf-8") == schema_text()


def test_the_readme_table_is_the_models():
    """Run ``python -m sasscrawl.arguments`` after changing the model."""
    readme = README_FILE.read_text("utf-8")
    assert readme_with_table(readme) == readme


def test_the_schema_takes_what_the_model_takes_and_refuses_unknown_names():
    schema = Draft202012Validator(json_schema())
    for good in ({}, {"refresh": "all"}, {"refresh": 3}, {"archive": "warc", "retry": "failed"},
                 {"start_url": "http://127.0.0.1:8000/103002/default.aspx"}):
        assert not list(schema.iter_errors(good)), good
        SpiderArguments.from_arguments(good)
    for bad in ({"refersh": "all"}, {"refresh": -1}, {"retry": "all"}, {"archive": "zip"}):
        assert list(schema.iter_errors(bad)), bad
        with pytest.raises(SpiderArgumentError):
            SpiderArguments.from_arguments(bad)
    assert set(json.loads(SCHEMA_FILE.read_text("utf-8"))["properties"]) == set(SpiderArguments.model_fields)


def test_text_values_are_read_as_a_person_types_them():
    arguments = SpiderArguments.from_arguments({"start_url": " http://EN.sass.cn:80/103002/default.aspx ",
                                                "refresh": " ALL ", "archive": "WARC", "retry": "failed ",
                                                "_job": "abc123"})
    assert arguments.model_dump() == {"start_url": "http://en.sass.cn/103002/default.aspx", "refresh": "all",
                                      "archive": "warc", "retry": "failed"}
    assert SpiderArguments.from_arguments({"refresh": "12"}).refresh == 12
    assert SpiderArguments.from_arguments({"start_url": "", "refresh": "", "archive": "", "retry": ""}) \
        == SpiderArguments()
    assert SpiderArguments().section.id == "103002"


@pytest.mark.parametrize("given, message", [
    ({"refersh": "all", "colour": "blue", "refresh": "x"},
     "unknown spider argument(s) colour, refersh; known: start_url, refresh, archive, retry"),
    ({"refresh": "some"}, "refresh must be 'all' or a whole number of articles, got 'some'"),
    ({"refresh": "-1"}, "refresh must be 'all' or a whole number of articles, got '-1'"),
    ({"retry": "all"}, "retry must be one of failed, got 'all'"),
    ({"archive": "zip"}, "archive must be one of warc, got 'zip'"),
    ({"start_url": "ftp://en.sass.cn/103002/default.aspx", "refresh": "some"},
     "start_url must be an http(s) URL with a host, got 'ftp://en.sass.cn/103002/default.aspx'"),
    ({"start_url": "http://en.sass.cn/default.aspx"},
     "start_url must point into a section folder (like /103002/default.aspx), got 'http://en.sass.cn/default.aspx'"),
])
def test_the_first_problem_is_the_message(given, message):
    """Unknown names first, then the fields in order: the line a user reads after ``Not crawling:``."""
    with pytest.raises(SpiderArgumentError) as error:
        SpiderArguments.from_arguments(given)
    assert str(error.value) == message
