"""Keep network failures to one log line each.

Scrapy's robots.txt middleware logs a failed robots.txt download with a full
traceback. An unreachable host or a timeout is the network's doing (or a
mistyped ``start_url``), not a bug, and its message already says what happened:
this filter drops the traceback from such records and leaves every other
error, and every real bug, as it is.
"""

import logging

from scrapy.exceptions import DownloadConnectionRefusedError, DownloadFailedError, DownloadTimeoutError
from twisted.internet import error as twisted_errors

NETWORK_ERRORS = (DownloadFailedError, DownloadConnectionRefusedError, DownloadTimeoutError, ConnectionError,
                  TimeoutError, twisted_errors.ConnectError, twisted_errors.DNSLookupError,
                  twisted_errors.TimeoutError)
NOISY_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt",)


class _DropNetworkTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], NETWORK_ERRORS):
            record.exc_info = None
            record.exc_text = None
        return True


class QuietNetworkErrors:
    def __init__(self):
        self.filter = _DropNetworkTracebacks()
        for name in NOISY_LOGGERS:
            logging.getLogger(name).addFilter(self.filter)

    @classmethod
    def from_crawler(cls, crawler):
        return cls()
