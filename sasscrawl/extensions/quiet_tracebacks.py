"""Keep expected failures to clear lines, without tracebacks.

Two kinds of log record carry a traceback that helps nobody:

* Scrapy's robots.txt middleware logs a failed robots.txt download with a full
  traceback. An unreachable host (DNS, refused, reset) or a timeout is the
  network's doing (or a mistyped ``start_url``), not a bug, and the message
  already says what happened.
* Spidermon reports a failed monitor with the assertion's traceback. The
  assertion message is the finding; the frames are Spidermon's and ours.

Every other error, and every real bug (an exception that is not an assertion
or a network failure), keeps its traceback.
"""

import logging
import re


from scrapy import signals
from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                               DownloadFailedError, DownloadTimeoutError, ResponseDataLossError)
from twisted.internet import error as twisted_errors
from twisted.web.client import ResponseFailed

from sasscrawl.network import describe_error

# What Scrapy raises for DNS, refused, reset and timed-out connections (and the Twisted errors underneath).
NETWORK_ERRORS = (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError, DownloadFailedError,
                  DownloadTimeoutError, ResponseDataLossError, ConnectionError, TimeoutError,
                  twisted_errors.ConnectError, twisted_errors.ConnectionLost, twisted_errors.DNSLookupError,
                  twisted_errors.TimeoutError, ResponseFailed)
NETWORK_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt",)
ASSERTION_TRACEBACK = re.compile(r"Traceback \(most recent call last\):\n.*?\nAssertionError: ", re.DOTALL)


class _DropNetworkTracebacks(logging.Filter):
    """A robots.txt download that failed on the network: one line that names robots.txt and the cause."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(error := record.exc_info[1], NETWORK_ERRORS):
            record.exc_info = None
            record.exc_text = None
            if isinstance(record.args, dict) and "request" in record.args:
                record.msg = "Could not fetch robots.txt for %(request)s, so crawling as if it allowed all: %(cause)s"
                record.args = {"request": record.args["request"], "cause": describe_error(error)}
        return True


class _DropAssertionTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("[Spidermon]"):
            record.msg = ASSERTION_TRACEBACK.sub("", record.msg)
        return True


class QuietTracebacks:
    def __init__(self, crawler):
        for name in NETWORK_LOGGERS:
            logging.getLogger(name).addFilter(_DropNetworkTracebacks())
        # Spidermon logs its report through the spider's logger, named after the spider.
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        spider.logger.logger.addFilter(_DropAssertionTracebacks())
