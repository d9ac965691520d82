"""The run's data folder: opened once for the crawl, shared by the spider and the pipelines, closed at the end.

The spider asks for it (:meth:`RunDataFolder.open`) when its arguments are good, before it
requests anything; the pipelines find it on the crawler (:meth:`RunDataFolder.of`), never
through the spider. A failure of the data folder during the run (disk full, permissions)
is reported here (:meth:`RunDataFolder.failed`): the crawl stops cleanly, once, with the
reason in ``sasscrawl/store_error``, and the exit status says so.

It closes the folder when the spider closes, after the spider has recorded what the next
run needs (the spider's own ``closed`` runs first: it connected to ``spider_closed`` when
it was made, before any extension) and before the monitors judge the run (its place in
EXTENSIONS), so a failure of the final snapshot is part of the verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from sasscrawl.fixity import file_problem
from sasscrawl.items import Article
from sasscrawl.store import ArticleStore, RunChanges, StoreError
from sasscrawl.store.state import DURABLE_EVERY_SECONDS

logger = logging.getLogger(__name__)

STORE_ERROR = "sasscrawl/store_error"


class RunDataFolder:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store: ArticleStore | None = None
        self.held = False
        """Whether this run opened the data folder (it is closed again at the end)."""
        self.changes = RunChanges()
        """The articles this run added, changed and found gone; kept after the folder closes, for the run summary."""
        self.flushing: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @classmethod
    def of(cls, crawler) -> RunDataFolder:
        """The crawl's data folder component; every crawl of this project has one (EXTENSIONS)."""
        component = crawler.get_extension(cls)
        if component is None:
            raise RuntimeError(f"{cls.__module__}.{cls.__name__} is not enabled in EXTENSIONS: a crawl cannot "
                               "save anything without it")
        return component

    @property
    def healthy(self) -> bool:
        return not self.crawler.stats.get_value(STORE_ERROR)

    def open(self) -> ArticleStore | None:
        """Open the data folder before anything is fetched; None, after one ``Not crawling`` line, if it cannot be."""
        settings = self.crawler.settings
        try:
            self.store = ArticleStore(settings["DATA_DIR"], snapshot_share=settings.getfloat("SNAPSHOT_SHARE"))
        except StoreError as error:
            self.crawler.stats.set_value(STORE_ERROR, str(error))
            logger.error("Not crawling: %s", error)
            return None
        self.held = True
        self.changes = self.store.changes
        self.flushing = task.LoopingCall(self.flush_if_due)
        self.flushing.start(DURABLE_EVERY_SECONDS, now=False)
        if self.store.rebuild_skipped:
            self.crawler.stats.set_value("sasscrawl/store/rebuild_skipped_lines", self.store.rebuild_skipped)
        return self.store

    def flush_if_due(self) -> None:
        """On a timer: a save reaches the disk within a second or so even when no other save follows it."""
        if self.store is None or not self.healthy:
            return
        try:
            self.store.flush_if_due()
        except StoreError as error:
            self.failed(error)

    def failed(self, error: StoreError, stop: bool = True) -> None:
        """The data folder failed (disk full, permissions): say why, once, and stop the crawl cleanly."""
        if not self.healthy:
            return
        self.crawler.stats.set_value(STORE_ERROR, str(error))
        if stop:
            logger.error("Stopping the crawl: %s", error)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))
        else:
            logger.error("%s", error)

    def records_needing_images(self) -> Iterator[Article]:
        """The one path of a saved record that still needs image work.

        An image whose download failed, or whose mirrored file is found here gone, a link or
        not of its recorded size (one ``lstat`` per file; ``scrapy verify --repair`` marks the
        files only reading shows wrong), leaves its record saved with that image ``failed``
        (:meth:`ArticleStore.mark_images_damaged`). Each such record comes back once per run,
        from the spider's start, as an item: the item pipelines take it like a fetched article
        (deduplicate lets one copy of an article through per run, the image mirror fetches
        what is not indexed, validate checks the record as it will be saved, write saves it:
        ``updated`` once its images are mirrored, ``unchanged`` when they failed again).
        """
        self._check_mirror()
        for record in self.store.journal.records_with_failed_images():
            self.crawler.stats.inc_value("sasscrawl/images/retried_articles")
            yield Article(record)

    def _check_mirror(self) -> None:
        """Mirrored files gone, replaced or cut since they were written: marked failed in their records."""
        data_dir = Path(self.crawler.settings["DATA_DIR"])
        problems = {url: problem for url, facts in self.store.images.mirrored_images()
                    if (problem := file_problem(data_dir, facts["path"], facts["size"], None, hash_bytes=False))}
        if not problems:
            return
        article_ids = self.store.mark_images_damaged(problems)
        self.crawler.stats.set_value("sasscrawl/images/damaged", len(problems))
        url, problem = next(iter(problems.items()))
        logger.warning("%d mirrored image file%s missing or damaged (%s %s%s): downloading again for %d article%s",
                       len(problems), "s are" if len(problems) > 1 else " is", url, problem,
                       ", ..." if len(problems) > 1 else "", len(article_ids), "" if len(article_ids) == 1 else "s")

    def spider_closed(self, spider, reason):
        if self.flushing is not None and self.flushing.running:
            self.flushing.stop()
        if self.store is None:
            return
        try:
            # After a failed write the disk is suspect: leave articles.jsonl as it was; the next run catches up.
            self.store.close(snapshot=self.healthy)
        except StoreError as error:
            self.failed(error, stop=False)
        self.store = None
