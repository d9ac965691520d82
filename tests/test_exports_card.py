"""The dataset card a run writes: a Hugging Face card that datasets loads with its declared features.

``datasets`` is imported by the tests that use it, not at collection: every xdist worker collects every module.
"""

from __future__ import annotations

import pytest
import yaml

from sasscrawl.exports.arrow import arrow_schema
from sasscrawl.exports.card import hf_features, schema_version
from sasscrawl.exports.dataset import write_dataset
from sasscrawl.version import installed_version


@pytest.fixture(scope="module")
def crawled(exports_crawl):
    assert exports_crawl.result.returncode == 0, exports_crawl.result.log[-3000:]
    return exports_crawl.result


def card(data_dir) -> tuple[dict, str]:
    _, header, body = (data_dir / "README.md").read_text("utf-8").split("---\n", 2)
    return yaml.safe_load(header), body


def test_features_are_what_datasets_writes_for_the_parquet_schema():
    import datasets

    assert hf_features(arrow_schema()) == datasets.Features.from_arrow_schema(arrow_schema())._to_yaml_list()


def test_datasets_loads_the_folder_with_the_declared_features(crawled):
    import datasets

    loaded = datasets.load_dataset(str(crawled.data_dir), split="train")
    assert loaded.features == datasets.Features.from_arrow_schema(arrow_schema())
    assert loaded.features["dateDownloaded"] == datasets.Value("timestamp[us, tz=UTC]")
    assert loaded["articleId"] == [record["articleId"] for record in crawled.records]


def test_the_header_names_the_parquet_file_and_its_schema(crawled):
    header, _ = card(crawled.data_dir)
    assert header["language"] == ["en"] and header["license"] == "other"
    assert header["pretty_name"] == "Commentary articles of " + crawled.records[0]["url"].split("/")[2]
    assert header["source_url"] == crawled.records[0]["url"].rsplit("/", 1)[0] + "/default.aspx"
    assert header["configs"] == [{"config_name": "default",
                                  "data_files": [{"split": "train", "path": "exports/articles.parquet"}]}]
    assert header["dataset_info"]["features"] == hf_features(arrow_schema())
    assert header["dataset_info"]["splits"] == [{"name": "train", "num_examples": len(crawled.records)}]


def test_the_body_gives_the_provenance(crawled):
    _, body = card(crawled.data_dir)
    records = crawled.records
    dates = sorted(record["datePublished"][:10] for record in records)
    authors = {author["name"] for record in records for author in record["authors"]}
    assert f"Articles published from {dates[0]} to {dates[-1]}" in body
    assert (f"Counts: {len(records)} articles, {len(authors)} distinct authors, "
            f"{sum(len(record['images']) for record in records)} images, 0 superseded versions") in body
    assert f"Crawls: 1; the first started {crawled.summary['startedAt']}" in body
    assert f"Crawler: sasscrawl {installed_version('sasscrawl')}; record schema {schema_version()}" in body
    for shown in ("| `exports/articles.sqlite` |", "| `exports/articles.csv` |", "| `articles.jsonl` |",
                  "pd.read_parquet(", "SET TimeZone", "datasets.load_dataset(", "datasette exports/articles.sqlite",
                  "@misc{sass_commentary"):
        assert shown in body
    assert "| `versions.jsonl` |" not in body  # no file, no row


def test_a_folder_with_no_article_yet_gets_a_card_of_the_default_section(tmp_path):
    for folder in ("site", "snapshots", "warc"):
        (tmp_path / folder).mkdir()
    write_dataset(tmp_path, [], ())
    header, body = card(tmp_path)
    assert header["source_url"] == "http://en.sass.cn/103002/default.aspx"
    assert header["dataset_info"]["splits"] == [{"name": "train", "num_examples": 0}]
    assert "Counts: 0 articles" in body and "None" not in body
    assert "# Commentary articles of en.sass.cn" in body
    assert all(f"| `{folder}/` |" in body for folder in ("site", "snapshots", "warc"))
    assert "| `images/` |" not in body  # no folder, no row
    assert (tmp_path / "exports" / "articles.parquet").is_file()
