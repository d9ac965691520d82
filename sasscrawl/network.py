"""Downloader middlewares for what servers and networks get wrong, each with a log line and a stat.

``RetryAfterMiddleware`` waits as long as a 429 or 503 asks (within ``RETRY_AFTER_MAX``),
``RedirectLoopMiddleware`` fails a redirect loop at once and in words, and
``RetryingHttpCompressionMiddleware`` retries a body that does not decode as its
Content-Encoding says. Scrapy's own RetryMiddleware still does the retrying and the counting.
"""

from __future__ import annotations

import email.utils
import logging
import time
import zlib
from datetime import timezone
from urllib.parse import urljoin

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached
from w3lib.url import canonicalize_url, safe_url_string

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = (429, 503)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


def retry_after_seconds(value: str, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now`` (a Unix time): delay-seconds or an HTTP date; None if neither."""
    value = value.strip()
    if value.isdecimal():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


class RetryAfterMiddleware:
    """Honour ``Retry-After`` on 429 and 503 answers: hold every request to that host until then.

    A server that says when to come back is asking the crawl to stay away until then, and a
    polite crawler does: Scrapy's RetryMiddleware would retry at once. This middleware sits just
    before it on the way back (a higher number), notes how long the host asked for, and makes
    each later request to that host, the retry included, wait in ``process_request`` until then.
    The wait is capped at ``RETRY_AFTER_MAX`` seconds, so a server asking for a day cannot stall
    an unattended run; the log says when a wait was capped. Nothing is held when no retry is due
    (retries used up, ``dont_retry``) or the header is unreadable.
    """

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX")
        self.max_retry_times = crawler.settings.getint("RETRY_TIMES")
        self.retry_enabled = crawler.settings.getbool("RETRY_ENABLED")
        self.hold_until: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        wait = self.hold_until.get(urlparse_cached(request).netloc, 0.0) - time.monotonic()
        if wait > 0:
            await sleep(wait)
        return None

    def process_response(self, request, response):
        header = response.headers.get("Retry-After")
        if response.status not in RETRY_AFTER_STATUSES or header is None or not self._retry_due(request):
            return response
        asked = retry_after_seconds(header.decode("latin-1"), time.time())
        if asked is None:
            self.stats.inc_value("sasscrawl/retry_after/unreadable")
            logger.warning("Unreadable Retry-After %r from %s: retrying without waiting", header, request.url)
            return response
        wait = min(asked, self.max_wait)
        host = urlparse_cached(request).netloc
        self.hold_until[host] = max(self.hold_until.get(host, 0.0), time.monotonic() + wait)
        self.stats.inc_value("sasscrawl/retry_after/waits")
        if wait < asked:
            self.stats.inc_value("sasscrawl/retry_after/capped")
        logger.info("%s answered %d with Retry-After %s: holding requests to %s for %.1f s%s", request.url,
                    response.status, header.decode("latin-1"), host, wait,
                    f" (capped by RETRY_AFTER_MAX, {asked:.0f} s asked)" if wait < asked else "")
        return response

    def _retry_due(self, request) -> bool:
        limit = request.meta.get("max_retry_times", self.max_retry_times)
        return self.retry_enabled and not request.meta.get("dont_retry") and request.meta.get("retry_times", 0) < limit


class RedirectLoopMiddleware:
    """Fail a redirect back to a URL of its own chain at once, with a log line and a stat.

    Scrapy's RedirectMiddleware would follow it, and the duplicate filter would then drop the
    repeated URL without a word: the page would vanish with no errback and no log line. This
    middleware sits just before RedirectMiddleware on the way back (a higher number).
    """

    def __init__(self, crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        location = response.headers.get("Location")
        if response.status not in REDIRECT_STATUSES or location is None or request.meta.get("dont_redirect"):
            return response
        target = urljoin(request.url, safe_url_string(location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if canonicalize_url(target) not in {canonicalize_url(url) for url in chain}:
            return response
        self.stats.inc_value("sasscrawl/redirect_loops")
        logger.warning("Redirect loop: %s -> %s", " -> ".join(chain), target)
        raise IgnoreRequest(f"redirect loop back to {target}")


class RetryingHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware, retrying a body its Content-Encoding cannot decode.

    A corrupt gzip body is a download gone wrong, like one cut short (which Scrapy retries), but
    the stock middleware raises from ``process_response``, where no retry catches it: the page
    would be lost although the next answer may be fine. Once retries are used up, the error
    reaches the errback as before. A body that inflates past DOWNLOAD_MAXSIZE is still refused.
    """

    def __init__(self, stats=None, *, crawler=None):
        super().__init__(stats, crawler=crawler)
        self.crawler = crawler

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except (OSError, EOFError, zlib.error) as error:
            retry = get_retry_request(request, spider=self.crawler.spider, reason=f"undecodable body: {error}")
            if retry is None:
                raise
            return retry


def describe_failure(failure) -> str:
    """A failed request in a few words for the log and the record: ``HTTP 503``, ``TimeoutError: ...``."""
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return describe_error(failure.value)


def describe_error(error: BaseException) -> str:
    """An exception as ``Name: message``; a lost connection by its causes, not a list of Twisted failures."""
    reasons = getattr(error.__cause__, "reasons", None) or getattr(error, "reasons", None)
    if reasons:  # twisted.web's ResponseFailed and ResponseNeverReceived carry the failures underneath
        return f"{type(error).__name__}: " + "; ".join(reason.getErrorMessage() for reason in reasons)
    return f"{type(error).__name__}: {error}"
