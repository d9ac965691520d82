"""Reading the saved records for the exports: what does not fit the schema is skipped, named and counted."""

from __future__ import annotations

import json
import logging

import pytest

from export_fixtures import misfits
from sasscrawl.exports.records import RecordReader


@pytest.fixture(scope="module")
def crawled(exports_crawl):
    assert exports_crawl.result.returncode == 0, exports_crawl.result.log[-3000:]
    return exports_crawl.result


def test_a_record_that_does_not_fit_is_skipped_with_one_warning_and_the_rest_read(crawled, caplog):
    records = crawled.records
    partial, impossible = misfits(records)
    lines = [json.dumps(record) for record in records]
    # All misfits in the first block, so that Arrow refuses it and reads it again line by line.
    lines[1:1] = [json.dumps(partial), "{not json", json.dumps(impossible), "[1, 2]"]
    reader = RecordReader()

    with caplog.at_level(logging.WARNING, logger="sasscrawl.exports.records"):
        blocks = list(reader.blocks(lines))

    ids = [record["articleId"] for block in blocks for record in block.records]
    assert ids == [record["articleId"] for record in records]
    assert [value for block in blocks for value in block.table["articleId"].to_pylist()] == ids
    assert reader.skipped == 4
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 4 and all(warning.startswith("Left out of the exports: article ") for warning in warnings)
    assert f"article {partial['articleId']} does not fit: the record schema rejects it: $: " in warnings[0]
    assert "is a required property" in warnings[0]
    assert warnings[1].startswith("Left out of the exports: article (no articleId) does not fit: not JSON")
    assert "not a JSON object but list" in warnings[2]
    # Arrow's turn comes when the block is read.
    assert f"article {impossible['articleId']} does not fit: Arrow cannot read it" in warnings[3]
    assert "2025-02-30T09:00:00+08:00" in warnings[3]


def test_a_long_wrong_value_is_cut_in_the_warning(crawled, caplog):
    record = {**crawled.records[0], "views": "x" * 10_000}
    reader = RecordReader()
    with caplog.at_level(logging.WARNING, logger="sasscrawl.exports.records"):
        assert [block.records for block in reader.blocks([json.dumps(record)])] == []
    (warning,) = [record.getMessage() for record in caplog.records]
    assert "$.views" in warning and len(warning) < 400 and warning.endswith("…")


def test_a_block_of_misfits_alone_gives_no_block(crawled):
    """Arrow can read none of the lines: no block, not an empty one whose schema would differ from the others'."""
    reader = RecordReader()
    assert list(reader.blocks([json.dumps(misfits(crawled.records)[1])])) == [] and reader.skipped == 1
