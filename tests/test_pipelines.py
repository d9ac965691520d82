"""Validation and deduplication pipelines on their own, with a real data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from sasscrawl.extensions.data_folder import RunDataFolder
from sasscrawl.items import Article
from sasscrawl.pages.article import parse_article
from sasscrawl.pipelines.deduplicate import DeduplicatePipeline
from sasscrawl.pipelines.validate import ValidatePipeline

PAGE = Path(__file__).parent / "fixtures" / "en.sass.cn_103002_5554.aspx.xml"


@pytest.fixture
def record():
    return parse_article(PAGE.read_bytes(), "http://en.sass.cn/103002/5554.aspx")


@pytest.fixture
def crawler(tmp_path):
    """A crawler whose data folder is open, as the spider leaves it at its start; no spider needed."""
    crawler = get_crawler(settings_dict={"DATA_DIR": str(tmp_path),
                                         "EXTENSIONS": {"sasscrawl.extensions.data_folder.RunDataFolder": 50}})
    crawler._apply_settings()  # makes the extensions
    assert RunDataFolder.of(crawler).open()
    yield crawler
    RunDataFolder.of(crawler).store.close()


def store_of(crawler):
    return RunDataFolder.of(crawler).store


def test_valid_record_passes(crawler, record):
    item = Article(record)
    assert ValidatePipeline.from_crawler(crawler).process_item(item) is item


def test_invalid_record_is_dropped_with_its_reason_and_counted(crawler, record):
    record["datePublished"] = "30 January 2026"
    del record["headline"]
    with pytest.raises(DropItem) as dropped:
        ValidatePipeline.from_crawler(crawler).process_item(Article(record))
    assert "datePublished: Not valid under any schema" in str(dropped.value)
    assert "headline: Missing required field" in str(dropped.value)
    assert crawler.stats.get_value("sasscrawl/articles/invalid") == 1
    assert crawler.stats.get_value("spidermon/validation/fields/errors") == 2  # what the monitor reads


def test_same_article_twice_in_a_run_passes_once(crawler, record):
    pipeline = DeduplicatePipeline.from_crawler(crawler)
    pipeline.process_item(Article(record))
    with pytest.raises(DropItem):
        pipeline.process_item(Article({**record, "url": record["url"] + "?again"}))
    assert crawler.stats.get_value("sasscrawl/articles/duplicate") == 1


def test_saved_article_with_same_text_is_unchanged_but_new_text_passes(crawler, record):
    store = store_of(crawler)
    store.save({**record, "images": [{**image, "status": "downloaded"} for image in record["images"]]})
    with pytest.raises(DropItem):
        DeduplicatePipeline.from_crawler(crawler).process_item(Article({**record, "views": 1000}))
    assert crawler.stats.get_value("sasscrawl/articles/unchanged") == 1
    changed = {**record, "contentHash": "0" * 64}
    assert DeduplicatePipeline.from_crawler(crawler).process_item(Article(changed))["contentHash"] == "0" * 64


def test_saved_article_with_failed_images_passes_again_for_a_retry(crawler, record):
    store_of(crawler).save({**record, "images": [{**record["images"][0], "status": "failed", "error": "HTTP 404"}]})
    item = Article(record)
    assert DeduplicatePipeline.from_crawler(crawler).process_item(item) is item


def test_the_record_validated_is_the_one_saved():
    """Validation sees the record after the image mirror has added its facts, and just before it is written."""
    from sasscrawl import settings

    order = sorted(settings.ITEM_PIPELINES, key=settings.ITEM_PIPELINES.get)
    assert [name.rsplit(".", 1)[-1] for name in order] == [
        "DeduplicatePipeline", "ImageMirrorPipeline", "ValidatePipeline", "WritePipeline"]
