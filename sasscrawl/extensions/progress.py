"""Progress while a run goes: a live line on a terminal, periodic log lines otherwise (cron, Scrapyd).

On a terminal the bar shares the stream with the log: a filter on the root log handlers
that write there clears the bar before each log record, and the next tick draws it again
below, so a log line never ends up glued to the bar.
"""

from __future__ import annotations

import logging
import sys

from scrapy import signals
from twisted.internet import task

from sasscrawl.health import ARTICLE_OUTCOMES, SAVED_OUTCOMES

logger = logging.getLogger(__name__)

BAR_WIDTH = 30
CLEAR_LINE = "\r\x1b[K"
ARTICLES_TO_DO = ("sasscrawl/articles/requested", "sasscrawl/articles/retried", "sasscrawl/images/retried_articles")
"""Every article this run takes on: requested for the first time, retried, or sent again for its failed images."""


class _ClearBarBeforeRecords(logging.Filter):
    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True


class Progress:
    def __init__(self, crawler, stream=None):
        self.crawler = crawler
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.interval = 0.5 if self.live else crawler.settings.getfloat("PROGRESS_INTERVAL")
        self.loop = None
        self.shown = False
        self.log_filter = _ClearBarBeforeRecords(self)
        self.handlers: list[logging.Handler] = []
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def counts(self) -> tuple[int, int, int, int]:
        """Articles done, to do (never fewer than done), saved and failed in this run."""
        stats = self.crawler.stats
        done = sum(stats.get_value(f"sasscrawl/articles/{name}", 0) for name in ARTICLE_OUTCOMES)
        to_do = sum(stats.get_value(name, 0) for name in ARTICLES_TO_DO)
        saved = sum(stats.get_value(f"sasscrawl/articles/{name}", 0) for name in SAVED_OUTCOMES)
        return done, max(to_do, done), saved, stats.get_value("sasscrawl/articles/failed", 0)

    def line(self) -> str:
        done, to_do, saved, failed = self.counts()
        share = done / to_do if to_do else 0.0
        filled = int(BAR_WIDTH * share)
        images = self.crawler.stats.get_value("sasscrawl/images/downloaded", 0)
        return (f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{to_do} articles, "
                f"{saved} saved, {failed} failed, {images} images")

    def spider_opened(self, spider):
        if self.live:
            self.handlers = [handler for handler in logging.getLogger().handlers
                             if getattr(handler, "stream", None) is self.stream]
            for handler in self.handlers:
                handler.addFilter(self.log_filter)
        if self.interval > 0:
            self.loop = task.LoopingCall(self.report)
            self.loop.start(self.interval, now=False)

    def report(self):
        if self.live:
            self.stream.write(CLEAR_LINE + self.line())
            self.stream.flush()
            self.shown = True
        else:
            logger.info("Progress: %s", self.line())

    def clear(self):
        """Take the bar off its line, so what is written next starts on a clean one."""
        if self.shown:
            self.shown = False
            self.stream.write(CLEAR_LINE)

    def spider_closed(self, spider, reason):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        for handler in self.handlers:
            handler.removeFilter(self.log_filter)
        if self.live:
            self.stream.write(CLEAR_LINE + self.line() + "\n")
            self.stream.flush()
            self.shown = False
