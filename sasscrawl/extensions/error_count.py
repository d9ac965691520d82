"""Count ERROR log lines that nothing else accounts for, for the "unexpected errors" monitor.

The crawl's own modules log errors only together with a stats counter that a
monitor checks (failed pages, dropped records, ...), and Scrapy's retry and
robots.txt middlewares report failures the failed-pages monitor already
covers. Any other ERROR line (a spider or pipeline exception, a library's
complaint) is unexpected: it is counted in ``sasscrawl/log/unexpected_errors``.
"""

import logging

from scrapy import signals

ACCOUNTED_LOGGERS = ("sasscrawl", "spidermon", "scrapy.downloadermiddlewares.retry",
                     "scrapy.downloadermiddlewares.robotstxt")


class _UnexpectedErrorCounter(logging.Handler):
    def __init__(self, stats):
        super().__init__(level=logging.ERROR)
        self.stats = stats
        self.accounted = [logging.Filter(name) for name in ACCOUNTED_LOGGERS]  # each: the logger and its children

    def emit(self, record: logging.LogRecord) -> None:
        if any(accounted.filter(record) for accounted in self.accounted):
            return
        if str(record.msg).startswith("[Spidermon]"):  # its report, logged through the spider's logger
            return
        self.stats.inc_value("sasscrawl/log/unexpected_errors")


class UnexpectedErrorCount:
    def __init__(self, crawler):
        self.handler = _UnexpectedErrorCounter(crawler.stats)
        logging.getLogger().addHandler(self.handler)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def engine_stopped(self):
        logging.getLogger().removeHandler(self.handler)
