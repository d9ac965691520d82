"""RunDataFolder: the one holder of the data folder in a crawl, found on the crawler by the spider and the pipelines."""

from __future__ import annotations

import logging

import pytest
from scrapy.utils.test import get_crawler

from sasscrawl.extensions.data_folder import STORE_ERROR, RunDataFolder
from sasscrawl.items import Article
from sasscrawl.mirror import mirror_path
from sasscrawl.store import ARTICLES_FILE, ArticleStore, StoreError, state

ENABLED = {"sasscrawl.extensions.data_folder.RunDataFolder": 50}


def crawler_of(data_dir, extensions=ENABLED):
    crawler = get_crawler(settings_dict={"DATA_DIR": str(data_dir), "EXTENSIONS": extensions})
    crawler._apply_settings()  # makes the extensions
    return crawler


def test_a_crawl_without_it_is_told_so():
    with pytest.raises(RuntimeError, match="RunDataFolder is not enabled in EXTENSIONS"):
        RunDataFolder.of(crawler_of("unused", extensions={}))


def test_a_folder_that_cannot_be_used_is_one_line_and_a_stat_and_is_not_held(tmp_path, caplog):
    holder = ArticleStore(tmp_path)
    try:
        crawler = crawler_of(tmp_path)
        with caplog.at_level(logging.ERROR):
            assert RunDataFolder.of(crawler).open() is None
    finally:
        holder.close()
    assert "another crawl is using DATA_DIR" in crawler.stats.get_value(STORE_ERROR)
    assert [record.getMessage()[:22] for record in caplog.records] == ["Not crawling: another "]
    assert not RunDataFolder.of(crawler).held


def test_a_failure_is_reported_once_and_the_folder_closed_without_a_snapshot(tmp_path, caplog):
    """After a failed write the disk is suspect: articles.jsonl is left as it was, and the lock released."""
    crawler = crawler_of(tmp_path)
    data_folder = RunDataFolder.of(crawler)
    store = data_folder.open()
    before = (tmp_path / ARTICLES_FILE).read_bytes()
    store.save({"articleId": 1, "contentHash": "1"})  # saved, and not in the file until the final snapshot
    with caplog.at_level(logging.ERROR):
        data_folder.failed(StoreError("disk full"), stop=False)
        data_folder.failed(StoreError("disk full again"), stop=False)
    assert crawler.stats.get_value(STORE_ERROR) == "disk full"
    assert [record.getMessage() for record in caplog.records] == ["disk full"]
    data_folder.spider_closed(None, "store_error")
    assert (tmp_path / ARTICLES_FILE).read_bytes() == before
    assert data_folder.held
    ArticleStore(tmp_path).close()  # the lock was released


def test_records_needing_images_are_those_with_a_failed_or_damaged_image(tmp_path, caplog):
    crawler = crawler_of(tmp_path)
    data_folder = RunDataFolder.of(crawler)
    store = data_folder.open()
    url = "http://en.sass.cn/upload/a.jpeg"
    image = {"url": url, "path": mirror_path(url), "sha256": "ab" * 32, "size": 3, "contentType": "image/jpeg",
             "width": 1, "height": 1, "status": "downloaded", "error": None}
    (tmp_path / mirror_path(url)).parent.mkdir(parents=True)
    (tmp_path / mirror_path(url)).write_bytes(b"abc")
    for article_id in (1, 2):
        store.save({"articleId": article_id, "contentHash": str(article_id), "images": [image]})
    store.save({"articleId": 3, "contentHash": "3", "images": [{**image, "url": url + "?3", "status": "failed"}]})
    assert [item["articleId"] for item in data_folder.records_needing_images()] == [3]

    (tmp_path / mirror_path(url)).write_bytes(b"abcd")  # not of its recorded size any more
    with caplog.at_level(logging.WARNING):
        items = list(data_folder.records_needing_images())
    assert [item["articleId"] for item in items] == [1, 2, 3] and all(isinstance(item, Article) for item in items)
    assert items[0]["images"][0]["error"] == "mirrored file has 4 bytes, 3 recorded"
    assert crawler.stats.get_value("sasscrawl/images/damaged") == 1
    assert crawler.stats.get_value("sasscrawl/images/retried_articles") == 4
    assert "1 mirrored image file is missing or damaged" in caplog.text
    data_folder.spider_closed(None, "finished")


def test_a_save_reaches_the_disk_on_the_timer_when_no_other_save_follows(tmp_path, monkeypatch):
    """The last saves before a pause are flushed to the disk by the run's timer, not left for the next save."""
    data_folder = RunDataFolder.of(crawler_of(tmp_path))
    store = data_folder.open()
    try:
        assert data_folder.flushing.running and data_folder.flushing.interval == state.DURABLE_EVERY_SECONDS
        checkpoints = []
        store.state.db.set_trace_callback(lambda sql: checkpoints.append(sql) if "wal_checkpoint" in sql else None)
        monkeypatch.setattr(state, "DURABLE_EVERY_SECONDS", 3600)
        store.save({"articleId": 1, "contentHash": "1"})
        data_folder.flush_if_due()
        assert checkpoints == []  # not due yet
        monkeypatch.setattr(state, "DURABLE_EVERY_SECONDS", 0)
        data_folder.flush_if_due()
        assert len(checkpoints) == 1
    finally:
        data_folder.spider_closed(None, "finished")
    assert not data_folder.flushing.running
