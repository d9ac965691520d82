"""The schema's one validation: the compiled check must agree with jsonschema on every record."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sasscrawl.pages.article import parse_article
from sasscrawl.schemas import ARTICLE_FIELDS, article_errors, article_validator

PAGE = Path(__file__).parent / "fixtures" / "en.sass.cn_103002_5554.aspx.xml"
RECORD = parse_article(PAGE.read_bytes(), "http://en.sass.cn/103002/5554.aspx")

WRONG_VALUES = (None, "", "x", 0, -1, 1.5, True, [], {}, [None], {"x": 1}, "²", "2026-01-30", "ftp://a/b")


def broken_records():
    """The real page's record with one field removed, or set to a value of another shape, at a time."""
    for field in ARTICLE_FIELDS:
        record = copy.deepcopy(RECORD)
        del record[field]
        yield f"without {field}", record
        for value in WRONG_VALUES:
            record = copy.deepcopy(RECORD)
            record[field] = value
            yield f"{field}={value!r}", record
    for path, value in ((("section", "id"), 7), (("authors", 0, "name"), None), (("images", 0, "url"), "/relative"),
                        (("figures", 0, "caption"), 3), (("breadcrumbs", 0, "extra"), "field")):
        record = copy.deepcopy(RECORD)
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        yield "/".join(map(str, path)), record
    record = copy.deepcopy(RECORD)
    record["unknownField"] = 1
    yield "an unknown field", record


def test_a_parsed_record_is_valid():
    assert article_errors(RECORD) == []


@pytest.mark.parametrize("name,record", list(broken_records()), ids=lambda value: value if isinstance(value, str) else "")
def test_compiled_check_and_jsonschema_agree(name, record):
    explained = list(article_validator().iter_errors(record))
    assert [error.message for error in article_errors(record)] == [error.message for error in explained]


def test_broken_records_are_mostly_invalid():
    """The agreement above must not come from both calling everything valid."""
    verdicts = [bool(article_errors(record)) for _, record in broken_records()]
    assert sum(verdicts) > 0.8 * len(verdicts)


def test_a_value_the_compiled_check_cannot_read_is_judged_by_jsonschema():
    record = copy.deepcopy(RECORD)
    record["headline"] = b"bytes"
    assert [error.message for error in article_errors(record)] == ["b'bytes' is not of type 'string'"]
