"""At the end of each crawl: the dataset card, the Parquet file it names, and the ``EXPORTS`` formats.

``EXPORTS`` (a list: ``-s EXPORTS=sqlite,csv``) names the formats written to ``DATA_DIR/exports``
besides the Parquet file, which the card always needs (:mod:`sasscrawl.exports.dataset`). A bad
format name refuses the run before anything is fetched (exit status 2), as a bad setting does.

It runs while the run still holds the data folder (it is connected before
:class:`~sasscrawl.extensions.data_folder.RunDataFolder`, which closes it), reading the journal the
run just wrote, and only in a run that held the folder and was not interrupted and whose writes
did not fail: an interrupted run stops promptly and the next one writes the card; after a failed
write the disk is suspect. A failure to write the exports is the data folder's failure (exit 3),
reported once as ``sasscrawl/store_error``; what was saved is untouched.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.exceptions import CloseSpider

from sasscrawl.exports import parse_formats
from sasscrawl.extensions.data_folder import RunDataFolder
from sasscrawl.health import SETTING_ERROR
from sasscrawl.store import StoreError

logger = logging.getLogger(__name__)

SHUTDOWN = "shutdown"
"""Scrapy's finish reason when SIGTERM or SIGINT stopped the run."""


class DatasetExport:
    def __init__(self, crawler):
        self.crawler = crawler
        self.setting_error: str | None = None
        self.formats: tuple[str, ...] = ()
        try:
            self.formats = parse_formats(crawler.settings.getlist("EXPORTS"))
        except ValueError as error:
            self.setting_error = f"EXPORTS setting: {error}"
            crawler.signals.connect(self.refuse_run, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def refuse_run(self, spider):
        """Close the spider before its first request: a usage error (exit 2), like a bad spider argument."""
        self.crawler.stats.set_value(SETTING_ERROR, self.setting_error)
        logger.error("Not crawling: %s", self.setting_error)
        raise CloseSpider("setting_error")

    def spider_closed(self, spider, reason):
        data_folder = RunDataFolder.of(self.crawler)
        stats = self.crawler.stats.get_stats()
        if self.setting_error or data_folder.store is None or not data_folder.healthy or reason == SHUTDOWN:
            return
        from sasscrawl.exports.dataset import write_dataset  # pyarrow is loaded here, at the end, not at start-up

        started = time.monotonic()
        store = data_folder.store
        try:
            written = write_dataset(store.data_dir, store.journal.lines(), self.formats,
                                    crawl_started=stats.get("start_time"))
        except OSError as error:
            data_folder.failed(StoreError(f"cannot write the exports and the dataset card: {error.filename or ''} "
                                          f"({error.strerror or error}); the saved articles are untouched"),
                               stop=False)
            return
        self.crawler.stats.set_value("sasscrawl/exports/files", len(written))
        logger.info("Dataset card and exports written in %.1f s: %s", time.monotonic() - started,
                    ", ".join(str(path.relative_to(store.data_dir)) for path in written))
