"""The CSV export: one flat row per article, UTF-8 without BOM, RFC 4180, read back by the csv module and pandas.

pandas is imported by the test that uses it, not at collection: every xdist worker collects every module.
"""

from __future__ import annotations

import csv
import io

import pytest

from export_fixtures import exported
from sasscrawl.exports.csv import COLUMNS


@pytest.fixture(scope="module")
def crawled(exports_crawl):
    assert exports_crawl.result.returncode == 0, exports_crawl.result.log[-3000:]
    return exports_crawl.result


def test_rfc_4180_utf_8_without_bom(crawled):
    data = exported(crawled.data_dir, "articles.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and text.count("\r\n") > len(crawled.records)
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert len(rows) == len(crawled.records) + 1 and {len(row) for row in rows} == {len(COLUMNS)}
    body = next(record["articleBody"] for record in crawled.records if '"' in record["articleBody"])
    assert '"' + body.replace('"', '""') + '"' in text  # quoted, its quotes doubled, its line breaks kept


def test_one_flat_row_per_article_lists_joined(crawled):
    with exported(crawled.data_dir, "articles.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == [header for header, _ in COLUMNS]
    assert {"section.id", "section.name", "source.url", "mainImage.url", "snapshot.status"} <= set(rows[0])
    for row, record in zip(rows, crawled.records, strict=True):
        assert row["articleId"] == str(record["articleId"]) and row["articleBody"] == record["articleBody"]
        assert row["authors"] == "; ".join(author["name"] for author in record["authors"])
        assert row["subheadings"] == "; ".join(record["subheadings"])
        assert row["images"] == "; ".join(image["url"] for image in record["images"])
        assert row["source.url"] == ((record["source"] or {}).get("url") or "")
        assert row["alternativeHeadline"] == "" and row["datePublished"] == record["datePublished"]


def test_pandas_reads_it(crawled):
    import pandas as pd

    frame = pd.read_csv(exported(crawled.data_dir, "articles.csv"), encoding="utf-8")
    assert frame["articleId"].tolist() == [record["articleId"] for record in crawled.records]
    assert frame["headline"].tolist() == [record["headline"] for record in crawled.records]
    assert frame["articleBody"].tolist() == [record["articleBody"] for record in crawled.records]
    assert frame["wordCount"].dtype == "int64"
