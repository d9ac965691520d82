"""The Parquet export read as a researcher would: pandas, DuckDB and datasets, column by column, two runs together.

Those three are imported by the tests that use them, not at collection: every xdist worker collects every module.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from export_fixtures import exported
from harness import run_crawl
from sasscrawl import files
from sasscrawl.exports.arrow import arrow_schema
from sasscrawl.exports.parquet import parquet_export
from sasscrawl.exports.records import RecordReader
from sasscrawl_replica import ReplicaServer, build_site

SITE_TIME = pa.timestamp("us", tz="Asia/Shanghai")


@pytest.fixture(scope="module")
def crawled(exports_crawl):
    assert exports_crawl.result.returncode == 0, exports_crawl.result.log[-3000:]
    return exports_crawl.result


@pytest.fixture(scope="module")
def one_article_run(tmp_path_factory):
    """A run of a one-article site, with no EXPORTS: the Parquet file the card names is written all the same,
    and previousArticleId and nextArticleId are null in its every row."""
    with ReplicaServer(build_site(articles=1, seed=11, quirks=False)) as server:
        result = run_crawl(server.start_url, tmp_path_factory.mktemp("one-article"))
    assert result.returncode == 0, result.log[-3000:]
    return result


def test_pandas_reads_every_column_with_its_declared_type(crawled):
    import pandas as pd

    frame = pd.read_parquet(exported(crawled.data_dir, "articles.parquet"), dtype_backend="pyarrow")
    assert list(frame.columns) == arrow_schema().names
    for field in arrow_schema():
        assert frame[field.name].dtype == pd.ArrowDtype(field.type), field.name
    assert frame["views"].dtype == pd.ArrowDtype(pa.int64())  # never float, although it may be null
    assert frame["previousArticleId"].isna().sum() == 1 and frame["previousArticleId"].dtype == pd.ArrowDtype(pa.int64())
    assert frame["alternativeHeadline"].isna().all()  # null throughout, and still a string column
    assert frame["alternativeHeadline"].dtype == pd.ArrowDtype(pa.string())
    assert frame["datePublished"].dtype == pd.ArrowDtype(SITE_TIME)
    assert frame["dateDownloaded"].dtype == pd.ArrowDtype(pa.timestamp("us", tz="UTC"))
    assert frame["datePublishedRaw"].dtype == pd.ArrowDtype(pa.string())


def test_pandas_gets_the_records_values(crawled):
    import pandas as pd

    frame = pd.read_parquet(exported(crawled.data_dir, "articles.parquet"), dtype_backend="pyarrow")
    assert frame["articleId"].tolist() == [record["articleId"] for record in crawled.records]
    for row, record in zip(frame.to_dict("records"), crawled.records):
        assert row["datePublished"] == pd.Timestamp(record["datePublished"])
        assert row["datePublished"].strftime("%Y-%m-%d %H:%M") == record["datePublishedRaw"]
        assert row["dateDownloaded"] == pd.Timestamp(record["dateDownloaded"])
        assert row["headline"] == record["headline"] and row["articleBody"] == record["articleBody"]
        assert [author["name"] for author in row["authors"]] == [author["name"] for author in record["authors"]]
        assert row["views"] == record["views"]


def test_duckdb_shows_the_site_times_and_declared_types(crawled):
    import duckdb

    path = exported(crawled.data_dir, "articles.parquet")
    with duckdb.connect() as db:
        db.execute("SET TimeZone = 'Asia/Shanghai'")
        types = dict(db.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{path}')").fetchall())
        assert types["articleId"] == types["views"] == types["previousArticleId"] == "BIGINT"
        assert types["datePublished"] == types["dateCreated"] == types["dateDownloaded"] == "TIMESTAMP WITH TIME ZONE"
        assert types["alternativeHeadline"] == types["datePublishedRaw"] == "VARCHAR"
        assert types["snapshot"].startswith("STRUCT(html VARCHAR") and types["images"].endswith(", \"error\" VARCHAR)[]")
        assert types["authors"] == "STRUCT(\"name\" VARCHAR, nameRaw VARCHAR)[]"
        shown = db.execute(f"SELECT articleId, strftime(datePublished, '%Y-%m-%d %H:%M'), datePublishedRaw, "
                           f"strftime(dateCreated, '%Y-%m-%d %H:%M'), dateCreatedRaw FROM '{path}'").fetchall()
    assert len(shown) == len(crawled.records)
    for article_id, published, published_raw, created, created_raw in shown:
        assert (published, created) == (published_raw, created_raw), article_id


def test_datasets_loads_two_runs_files_together_a_column_null_throughout_one(crawled, one_article_run):
    import datasets
    import pandas as pd

    single = pd.read_parquet(exported(one_article_run.data_dir, "articles.parquet"), dtype_backend="pyarrow")
    assert single["previousArticleId"].isna().all() and single["nextArticleId"].isna().all()

    loaded = datasets.load_dataset("parquet", split="train", data_files=[
        str(exported(crawled.data_dir, "articles.parquet")), str(exported(one_article_run.data_dir, "articles.parquet"))])

    assert loaded.num_rows == len(crawled.records) + 1
    assert loaded.features == datasets.Features.from_arrow_schema(arrow_schema())
    assert loaded.features["datePublished"] == datasets.Value("timestamp[us, tz=Asia/Shanghai]")
    assert loaded.features["previousArticleId"] == datasets.Value("int64")
    assert loaded[-1]["previousArticleId"] is None and loaded[0]["articleId"] == crawled.records[0]["articleId"]
    assert loaded[0]["datePublished"] == pd.Timestamp(crawled.records[0]["datePublished"]).to_pydatetime()


def test_a_date_near_midnight_keeps_its_day_and_its_instant(crawled, tmp_path):
    import pandas as pd

    record = {**crawled.records[0], "datePublished": "2026-01-30T00:30:00+08:00", "datePublishedRaw": "2026-01-30 00:30",
              "dateDownloaded": "2026-01-29T16:30:00.250Z"}
    with files.replacing_files() as batch, parquet_export(batch, tmp_path, None) as add:
        (block,) = RecordReader().blocks([json.dumps(record)])
        add(block)
    row = pd.read_parquet(tmp_path / "articles.parquet", dtype_backend="pyarrow").iloc[0]
    assert row["datePublished"].isoformat() == "2026-01-30T00:30:00+08:00"
    assert row["dateDownloaded"] == row["datePublished"] + pd.Timedelta(milliseconds=250)
    assert row["datePublishedRaw"] == "2026-01-30 00:30"  # the page's text, not a date read from it


WRITE_WITHOUT_COMPUTE = """
import json, sys
from pathlib import Path
from sasscrawl import files
from sasscrawl.exports.parquet import parquet_export
from sasscrawl.exports.records import RecordReader
lines = Path(sys.argv[1]).read_text("utf-8").splitlines()
with files.replacing_files() as batch, parquet_export(batch, Path(sys.argv[2]), None) as add:
    for block in RecordReader().blocks(lines):
        add(block)
print("pyarrow.compute" in sys.modules, "pandas" in sys.modules)
"""


def test_writing_the_file_loads_neither_arrow_compute_nor_pandas(crawled, tmp_path):
    """Every run that saves an article writes it: Arrow's compute functions cost 0.04 s to load, pandas more."""
    written = subprocess.run([sys.executable, "-c", WRITE_WITHOUT_COMPUTE, crawled.data_dir / "articles.jsonl", tmp_path],
                             capture_output=True, text=True, timeout=60, check=True)
    assert written.stdout.split() == ["False", "False"], written.stderr
    assert pq.read_table(tmp_path / "articles.parquet").num_rows == len(crawled.records)
