"""Downloader middlewares: section scope for page requests, and WARC capture.

``SectionScopeMiddleware`` keeps page requests inside the crawled section. It
checks every request before download, redirected ones included, so a redirect
from an in-scope page to another host or section is refused too. Only page
requests (``meta['sasscrawl_page']``) are checked: robots.txt, stylesheets and
the image mirror's requests may go elsewhere by design.
"""

import logging
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from sasscrawl.archive import INDEX_FILE, WARC_FOLDER, WarcArchive

logger = logging.getLogger(__name__)


class OutOfScope(IgnoreRequest):
    """A page request the crawl chose not to make: it leads outside the crawled section."""


class SectionScopeMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        if not request.meta.get("sasscrawl_page"):
            return None
        section = getattr(self.crawler.spider, "section", None)
        if section is None or section.contains(request.url):
            return None
        self.crawler.stats.inc_value("sasscrawl/pages/out_of_scope")
        logger.warning("Not fetching %s: outside the section %s", request.url, section.root + section.folder.lstrip("/"))
        raise OutOfScope(f"outside the crawled section: {request.url}")


class WarcCaptureMiddleware:
    """Writes every response the crawl receives to the WARC archive, as received.

    It sits next to the downloader (a high number in DOWNLOADER_MIDDLEWARES), so
    it sees each response before decompression, redirects or retries change or
    consume it: robots.txt, pages, listings, stylesheets and the image mirror's
    downloads alike. On when the spider's ``archive`` argument or the ``ARCHIVE``
    setting is ``warc``.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.archive = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _open_archive(self) -> WarcArchive | None:
        """This run's archive, opened at its first response once the run holds its data folder.

        A run refused its data folder (locked by another, unwritable) archives nothing.
        """
        spider = self.crawler.spider
        if self.archive is None and getattr(spider, "archive", None) == "warc" and spider.store is not None:
            settings = self.crawler.settings
            self.archive = WarcArchive(settings["DATA_DIR"], max_file_size=settings.getint("WARC_MAX_FILE_SIZE"),
                                       max_record_size=settings.getint("WARC_MAX_RECORD_SIZE"))
        return self.archive

    def process_response(self, request, response):
        if "splash" in request.meta or self._open_archive() is None:  # a Splash rendering is not what the site served
            return response
        host = urlparse_cached(request).netloc
        request_headers = [("Host", host), *_header_pairs(request.headers)]
        response_headers = _header_pairs(response.headers)
        try:
            self.archive.write_exchange(
                url=request.url, method=request.method, request_headers=request_headers, request_body=request.body,
                protocol=response.protocol or "HTTP/1.1", status=response.status, response_headers=response_headers,
                body=response.body, ip_address=str(response.ip_address) if response.ip_address else None,
                moment=datetime.now(timezone.utc),
            )
        except OSError as error:
            self.crawler.stats.inc_value("sasscrawl/warc/failed")
            logger.error("Could not archive %s: %s", request.url, error.strerror or error)
        else:
            self.crawler.stats.inc_value("sasscrawl/warc/records", 2)
            if len(response.body) > self.archive.max_record_size:
                self.crawler.stats.inc_value("sasscrawl/warc/truncated")
                logger.warning("Archived %s truncated to WARC_MAX_RECORD_SIZE (%d of %d bytes)", request.url,
                               self.archive.max_record_size, len(response.body))
        return response

    def spider_closed(self, spider):
        if self.archive is None:
            return
        try:
            self.archive.close()
        except OSError as error:
            self.crawler.stats.inc_value("sasscrawl/warc/close_failed")
            logger.error("Could not finish the WARC archive in %s/%s (its last file or %s): %s",
                         self.crawler.settings["DATA_DIR"], WARC_FOLDER, INDEX_FILE, error.strerror or error)


def _header_pairs(headers) -> list[tuple[str, str]]:
    """Scrapy headers as (name, value) text pairs, a repeated header once per value, as sent."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, values in headers.items() for value in values]
