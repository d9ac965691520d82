"""Downloader middlewares: the crawl's scope for every request, and WARC capture.

``SectionScopeMiddleware`` checks every request before it is sent, redirected
ones included (a redirect comes back through it as a new request). It runs
before Scrapy's RobotsTxtMiddleware, so a refused request costs no robots.txt
either. In order:

1. A path that hides a separator or dot segment (:func:`sasscrawl.section.path_trick`)
   is refused: the server could read it as another path than the one scope and
   robots.txt judged. The spider and the image mirror send only normal URLs, so
   only a redirect or a stray spelling gets here. Logged per URL,
   ``sasscrawl/requests/unsafe_path``.
2. A request to any origin but the start URL's (or, for anything but a page, a
   host in ``IMAGE_HOSTS``) is refused as off-site: robots.txt, images and
   assets included. Logged once per origin per run, counted in
   ``sasscrawl/requests/off_site`` and ``sasscrawl/requests/off_site/<origin>``
   (``http://host:port``), which the run summary lists as ``refusedHosts``.
3. A page request (``meta['sasscrawl_page']``) outside the section is refused
   (``sasscrawl/pages/out_of_scope``).

Splash's rendering request goes to the ``SPLASH_URL`` the user set; the page it
renders was checked on its way in.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from sasscrawl.section import origin_of, path_trick
from sasscrawl.store.layout import INDEX_FILE, WARC_FOLDER
from sasscrawl.version import installed_version

logger = logging.getLogger(__name__)

OFF_SITE = "sasscrawl/requests/off_site"
"""The count of requests refused as off-site; ``OFF_SITE + "/" + origin`` counts them per origin."""


class OutOfScope(IgnoreRequest):
    """A request the crawl chose not to make: it leads outside the crawl's scope. The message says why."""


class SectionScopeMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.refused_origins: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        spider = self.crawler.spider
        section = getattr(spider, "section", None)
        if section is None or request.meta.get("_splash_processed"):
            return None  # no crawl (bad arguments: nothing is requested), or the rendering sent to SPLASH_URL
        stats = self.crawler.stats
        if trick := path_trick(request.url):
            stats.inc_value("sasscrawl/requests/unsafe_path")
            logger.warning("Not fetching %s: its path holds %s, which a server may read as another path",
                           request.url, trick)
            raise OutOfScope(f"refused: its path holds {trick}")
        page = request.meta.get("sasscrawl_page")
        try:
            origin = origin_of(request.url)
            allowed = origin == section.origin or (not page and spider.image_hosts.allow(origin))
            label = str(origin)
        except ValueError:  # not http(s), or no host to tell
            parts = urlparse_cached(request)
            allowed, label = False, f"{parts.scheme}://{parts.netloc}"
        if not allowed:
            stats.inc_value(OFF_SITE)
            stats.inc_value(f"{OFF_SITE}/{label}")
            if label not in self.refused_origins:
                self.refused_origins.add(label)
                logger.warning("Not fetching from %s, first %s: off-site (not the start URL's origin%s); "
                               "later requests to it are counted in the run summary, not logged",
                               label, request.url, "" if page else " nor in IMAGE_HOSTS")
            raise OutOfScope(f"refused as off-site: {label} is not the start URL's origin"
                             + ("" if page else " nor in IMAGE_HOSTS"))
        if page and not section.contains(request.url):
            stats.inc_value("sasscrawl/pages/out_of_scope")
            logger.warning("Not fetching %s: outside the section %s", request.url, section.root + section.folder.lstrip("/"))
            raise OutOfScope(f"outside the crawled section: {request.url}")
        return None


WARC_RECORDS = "sasscrawl/warc/records"
"""The count of WARC records this run wrote (two per response: the request and the response or revisit)."""
WARC_FAILED = "sasscrawl/warc/failed"
"""The count of responses that could not be written to the archive: holes in it."""
WARC_CLOSE_FAILED = "sasscrawl/warc/close_failed"
"""Set when the archive could not be finished: its last WARC file not flushed and closed, or its index not written."""

CAPTURED_AT = "sasscrawl_captured_at"
"""``response.meta`` key: when the response was received (an aware UTC datetime), set by :class:`WarcCaptureMiddleware`."""


class WarcCaptureMiddleware:
    """Stamps every response with its capture time, and writes it to the WARC archive as received.

    It sits next to the downloader (a high number in DOWNLOADER_MIDDLEWARES), so
    it sees each response before decompression, redirects or retries change or
    consume it: robots.txt, pages, listings, stylesheets and the image mirror's
    downloads alike. The time it stamps (``response.meta[CAPTURED_AT]``) is the
    archive's ``WARC-Date`` and the article's ``dateDownloaded``: one capture time,
    so ``scrapy reextract`` gives the crawl's record. Archiving is on when the
    spider's ``archive`` argument or the ``ARCHIVE`` setting is ``warc``.

    Headers are archived as the server sent them, none added: a response without a
    Content-Type is recorded without one, although a replay tool then serves it as it
    guesses (the site's XML as unstyled HTML): the archive is the evidence of what was
    served, and a header it made up would be taken for the server's. Revisits: see
    :class:`sasscrawl.archive.ArchivedPayloads` (stat ``sasscrawl/warc/revisits``).
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.archive = None
        self.archive_closed = False
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @classmethod
    def of(cls, crawler) -> WarcCaptureMiddleware | None:
        """The crawl's instance, among the downloader's middlewares; None where DOWNLOADER_MIDDLEWARES leaves it out."""
        return next((middleware for middleware in crawler.engine.downloader.middleware.middlewares
                     if isinstance(middleware, cls)), None)

    def _open_archive(self):
        """This run's archive, opened at its first response once the run holds its data folder.

        A run refused its data folder (locked by another, unwritable) archives nothing. Only a run
        that archives imports the archive's code (warcio, cdxj-indexer).
        """
        spider = self.crawler.spider
        if self.archive is None and getattr(spider, "archive", None) == "warc" and spider.store is not None:
            from sasscrawl.archive import WarcArchive

            settings = self.crawler.settings
            self.archive = WarcArchive(settings["DATA_DIR"], max_file_size=settings.getint("WARC_MAX_FILE_SIZE"),
                                       max_record_size=settings.getint("WARC_MAX_RECORD_SIZE"),
                                       info=warcinfo(settings, spider))
        return self.archive

    def process_response(self, request, response):
        moment = request.meta[CAPTURED_AT] = datetime.now(timezone.utc)
        if "splash" in request.meta or self._open_archive() is None:  # a Splash rendering is not what the site served
            return response
        host = urlparse_cached(request).netloc
        request_headers = [("Host", host), *_header_pairs(request.headers)]
        response_headers = _header_pairs(response.headers)
        stats = self.crawler.stats
        try:
            revisit = self.archive.write_exchange(
                url=request.url, method=request.method, request_headers=request_headers, request_body=request.body,
                protocol=response.protocol or "HTTP/1.1", status=response.status, response_headers=response_headers,
                body=response.body, ip_address=str(response.ip_address) if response.ip_address else None,
                moment=moment,
            )
        except OSError as error:
            stats.inc_value(WARC_FAILED)
            logger.error("Could not archive %s: %s", request.url, error.strerror or error)
        else:
            stats.inc_value(WARC_RECORDS, 2)
            if revisit:
                stats.inc_value("sasscrawl/warc/revisits")
            if len(response.body) > self.archive.max_record_size:
                stats.inc_value("sasscrawl/warc/truncated")
                logger.warning("Archived %s truncated to WARC_MAX_RECORD_SIZE (%d of %d bytes)", request.url,
                               self.archive.max_record_size, len(response.body))
        return response

    def close_archive(self) -> bool:
        """Close and index this run's archive, once; whether it holds records of this run and is whole.

        :class:`sasscrawl.extensions.close_archive.CloseArchive` calls it before the monitors judge
        the run, so that a failure here is part of the verdict; ``spider_closed`` calls it again (then
        it only answers), which closes the archive of a crawl whose EXTENSIONS leave that out.
        """
        stats = self.crawler.stats
        if self.archive is not None and not self.archive_closed:
            self.archive_closed = True
            try:
                self.archive.close()
            except OSError as error:
                stats.inc_value(WARC_CLOSE_FAILED)
                logger.error("Could not finish the WARC archive in %s/%s (its last file or %s): %s",
                             self.crawler.settings["DATA_DIR"], WARC_FOLDER, INDEX_FILE, error.strerror or error)
        return bool(stats.get_value(WARC_RECORDS)) and not stats.get_value(WARC_CLOSE_FAILED)

    def spider_closed(self, spider):
        self.close_archive()


def warcinfo(settings, spider) -> dict[str, str]:
    """What each WARC file's ``warcinfo`` record says about the crawl that wrote it (empty fields are left out).

    ``isPartOf`` defaults to the section the crawl was given, by its folder's id and URL
    (``Section 103002 of en.sass.cn (http://en.sass.cn/103002/)``): the site names its sections
    nowhere a crawl reads, and the spider's name is the same whatever section ``start_url`` names.
    """
    section = spider.section
    return {
        "software": f"sasscrawl/{installed_version('sasscrawl')} (Scrapy {installed_version('scrapy')}, "
                    f"warcio {installed_version('warcio')})",
        "http-header-user-agent": settings.get("USER_AGENT"),
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "operator": settings.get("WARC_OPERATOR"),
        "isPartOf": settings.get("WARC_IS_PART_OF")
        or f"Section {section.id} of {section.netloc} ({section.root}{section.folder.lstrip('/')})",
    }


def _header_pairs(headers) -> list[tuple[str, str]]:
    """Scrapy headers as (name, value) text pairs, a repeated header once per value, as sent."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, values in headers.items() for value in values]
