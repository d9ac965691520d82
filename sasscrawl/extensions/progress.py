"""Progress while a run goes: a live line on a terminal, periodic log lines otherwise (cron, Scrapyd)."""

from __future__ import annotations

import logging
import sys

from scrapy import signals
from twisted.internet import task

from sasscrawl.health import ARTICLE_OUTCOMES, SAVED_OUTCOMES

logger = logging.getLogger(__name__)

BAR_WIDTH = 30


class Progress:
    def __init__(self, crawler, stream=None):
        self.crawler = crawler
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.interval = 0.5 if self.live else crawler.settings.getfloat("PROGRESS_INTERVAL")
        self.loop = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def counts(self) -> tuple[int, int, int, int]:
        stats = self.crawler.stats
        requested = stats.get_value("sasscrawl/articles/requested", 0)
        done = sum(stats.get_value(f"sasscrawl/articles/{name}", 0) for name in ARTICLE_OUTCOMES)
        saved = sum(stats.get_value(f"sasscrawl/articles/{name}", 0) for name in SAVED_OUTCOMES)
        return done, requested, saved, stats.get_value("sasscrawl/articles/failed", 0)

    def line(self) -> str:
        done, requested, saved, failed = self.counts()
        share = done / requested if requested else 0.0
        filled = int(BAR_WIDTH * min(share, 1.0))
        images = self.crawler.stats.get_value("sasscrawl/images/downloaded", 0)
        return (f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{requested} articles, "
                f"{saved} saved, {failed} failed, {images} images")

    def spider_opened(self, spider):
        if self.interval > 0:
            self.loop = task.LoopingCall(self.report)
            self.loop.start(self.interval, now=False)

    def report(self):
        if self.live:
            self.stream.write("\r\x1b[K" + self.line())
            self.stream.flush()
        else:
            logger.info("Progress: %s", self.line())

    def spider_closed(self, spider, reason):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.live:
            self.stream.write("\r\x1b[K" + self.line() + "\n")
            self.stream.flush()
