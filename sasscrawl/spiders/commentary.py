"""The ``commentary`` spider: decides what to fetch next; the parser does the reading.

It starts at the section's default page and follows, inside the section only,
listing pages and their pagination, ``perv``/``next`` links and the ``new``/``hot``
lists. Each article is requested once per run by its canonical URL, whatever
spelling led to it.

Pagination is followed from a listing page only when that page showed an
article not yet seen on a listing in this run and not already saved: pages past
the end (empty, or repeating the sidebar lists) end the walk, and on a rerun an
unchanged first page costs one request. Everything the run decides to fetch is
written to the store's frontier first, so a killed run is continued by the next.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timezone

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import deferred_from_coro

from sasscrawl.items import Article
from sasscrawl.parser import NotAnArticle, Page, links_in_scope
from sasscrawl.section import OutOfScopeStartURL, Section
from sasscrawl.store import ArticleStore, StoreError

logger = logging.getLogger(__name__)

ARTICLE_PRIORITY = 10
"""Articles before listings, so the queue stays short whatever the section's size."""

GONE_STATUSES = (404, 410)


class SpiderArgumentError(ValueError):
    pass


def parse_refresh(value: str | None) -> int | str | None:
    """``-a refresh=all`` or ``-a refresh=N`` (the newest N known articles)."""
    if value is None or value == "":
        return None
    if value.strip().lower() == "all":
        return "all"
    if value.strip().isdigit():
        return int(value)
    raise SpiderArgumentError(f"refresh must be 'all' or a whole number of articles, got {value!r}")


class CommentarySpider(scrapy.Spider):
    name = "commentary"
    default_start_url = "http://en.sass.cn/103002/default.aspx"
    arguments = ("start_url", "refresh")
    # Scrapyd passes its job id as a spider argument.
    tolerated_arguments = ("_job",)

    def __init__(self, start_url: str | None = None, refresh: str | None = None, **kwargs):
        unknown = sorted(set(kwargs) - set(self.tolerated_arguments))
        super().__init__(**{key: kwargs[key] for key in kwargs if key not in unknown})
        self.start_url = (start_url or self.default_start_url).strip()
        self.argument_error: str | None = None
        self.store: ArticleStore | None = None
        try:
            if unknown:
                raise SpiderArgumentError(
                    f"unknown spider argument(s) {', '.join(unknown)}; known: {', '.join(self.arguments)}"
                )
            self.section = Section.from_start_url(self.start_url)
            self.refresh = parse_refresh(refresh)
        except (SpiderArgumentError, OutOfScopeStartURL) as error:
            self.argument_error = str(error)
        self.requested_ids: set[int] = set()
        self.requested_listings: set[str] = set()
        self.listed_ids: set[int] = set()
        self.skip_ids: set[int] = set()

    def _open_store(self) -> bool:
        """Open the data folder before anything is fetched; a failure ends the run at once, in one log line."""
        stats = self.crawler.stats
        if self.argument_error:
            stats.set_value("sasscrawl/argument_error", self.argument_error)
            logger.error("Not crawling: %s", self.argument_error)
            return False
        try:
            self.store = ArticleStore(
                self.crawler.settings["DATA_DIR"], snapshot_share=self.crawler.settings.getfloat("SNAPSHOT_SHARE")
            )
        except StoreError as error:
            stats.set_value("sasscrawl/store_error", str(error))
            logger.error("Not crawling: %s", error)
            return False
        return True

    async def start(self):
        if not self._open_store():
            return
        known = self.store.known_ids()
        refresh_ids = set(self.store.newest_ids(None if self.refresh == "all" else self.refresh)) if self.refresh else set()
        gone = self.store.gone_ids() if self.refresh != "all" else set()
        self.skip_ids = (known - refresh_ids) | gone
        self.crawler.stats.set_value("sasscrawl/articles/known_at_start", len(known))
        logger.info(
            "Crawling %s: %d articles already saved, %d to re-check, frontier of %d URLs from earlier runs",
            self.start_url, len(known), len(refresh_ids), len(self.store.pending()),
        )
        yield scrapy.Request(self.start_url, callback=self.parse_page, errback=self.page_failed,
                             dont_filter=True, meta={"sasscrawl_page": True, "start_page": True})
        for request in self._follow(refresh_ids, ()):
            yield request
        for record in self.store.records_with_failed_images():
            self.crawler.stats.inc_value("sasscrawl/images/retried_articles")
            yield Article(record)  # again through the pipelines: the image mirror retries what failed
        pending = self.store.pending()
        for request in self._follow(
            [article_id for _, article_id in pending if article_id is not None],
            [url for url, article_id in pending if article_id is None],
            remember=False,
        ):
            yield request

    def parse_page(self, response):
        stats = self.crawler.stats
        stats.inc_value("sasscrawl/pages/parsed")
        page = Page(response.body, response.url)
        for flag in ("recovered", "truncated", "doctype_removed"):
            if getattr(page, flag):
                stats.inc_value(f"sasscrawl/pages/{flag}")
                logger.warning("Page %s: %s", response.url, flag.replace("_", " "))
        if page.root is None:
            stats.inc_value("sasscrawl/pages/failed")
            stats.inc_value("sasscrawl/pages/rejected/unreadable")
            logger.error("Unreadable page %s: neither XML nor HTML", response.url)
            return
        links = links_in_scope(page.links(), self.section)
        if page.is_article or self.section.article_id(response.url) is not None:
            yield from self._article(page, response)
            listings = links.listings
        else:
            unseen = [i for i in links.articles if i not in self.listed_ids and i not in self.skip_ids]
            self.listed_ids.update(links.articles)
            listings = links.listings if unseen else []
            if not unseen:
                stats.inc_value("sasscrawl/listings/exhausted")
                logger.debug("No unseen article on %s: not following its pagination", response.url)
        yield from self._follow(links.articles, listings)
        if response.meta.get("frontier_url") and response.meta.get("article_id") is None:
            # A listing is done once its links are in the frontier; an article once it is saved.
            with self._storing():
                self.store.finish_pending(response.meta["frontier_url"])

    def _article(self, page: Page, response):
        try:
            record = page.article(datetime.now(timezone.utc))
        except NotAnArticle as error:
            self.crawler.stats.inc_value("sasscrawl/pages/failed")
            self.crawler.stats.inc_value("sasscrawl/articles/failed")
            self.crawler.stats.inc_value(f"sasscrawl/pages/rejected/{error.reason}")
            logger.error("Dropped page %s: %s", response.url, error)
            return
        self.crawler.stats.inc_value("sasscrawl/articles/parsed")
        yield Article(record)

    def _follow(self, article_ids, listing_urls, remember: bool = True):
        """Requests for what has not been requested in this run, written to the frontier first."""
        requests = []
        for article_id in article_ids:
            if article_id in self.requested_ids or article_id in self.skip_ids:
                continue
            self.requested_ids.add(article_id)
            url = self.section.article_url(article_id)
            requests.append((url, article_id))
        for url in listing_urls:
            canonical = self.section.listing_url(url)
            if canonical is None or canonical in self.requested_listings or canonical == self.section.listing_url(self.start_url):
                continue
            self.requested_listings.add(canonical)
            requests.append((canonical, None))
        if remember and requests:
            with self._storing():
                self.store.add_pending(requests)
        for url, article_id in requests:
            self.crawler.stats.inc_value("sasscrawl/articles/requested" if article_id else "sasscrawl/listings/requested")
            yield scrapy.Request(
                url,
                callback=self.parse_page,
                errback=self.page_failed,
                priority=ARTICLE_PRIORITY if article_id else 0,
                meta={"sasscrawl_page": True, "article_id": article_id, "frontier_url": url},
            )

    def page_failed(self, failure):
        request = failure.request
        stats = self.crawler.stats
        article_id = request.meta.get("article_id")
        if failure.check(HttpError) and failure.value.response.status in GONE_STATUSES:
            status = failure.value.response.status
            stats.inc_value(f"sasscrawl/pages/gone/{status}")
            logger.warning("Gone (%d): %s", status, request.url)
            if article_id is not None:
                stats.inc_value("sasscrawl/articles/gone")
                with self._storing():
                    self.store.mark_gone(article_id, status)
            else:
                with self._storing():
                    self.store.finish_pending(request.meta.get("frontier_url", request.url))
        elif failure.check(IgnoreRequest) and not failure.check(HttpError):
            stats.inc_value("sasscrawl/pages/ignored")
            logger.info("Not fetched %s: %s", request.url, failure.value)
            if not request.meta.get("start_page"):
                with self._storing():
                    self.store.finish_pending(request.meta.get("frontier_url", request.url))
        else:
            stats.inc_value("sasscrawl/pages/failed")
            reason = (
                f"HTTP {failure.value.response.status}" if failure.check(HttpError)
                else f"{failure.type.__name__}: {failure.getErrorMessage()}"
            )
            stats.inc_value(f"sasscrawl/pages/failed/{reason.split(':')[0].replace(' ', '_')}")
            if article_id is not None:
                stats.inc_value("sasscrawl/articles/failed")
            logger.error("Failed to fetch %s after retries: %s", request.url, reason)
        if request.meta.get("start_page"):
            stats.set_value("sasscrawl/start_page_failed", 1)

    @contextmanager
    def _storing(self):
        try:
            yield
        except StoreError as error:
            self.store_failed(error)

    def store_failed(self, error: StoreError) -> None:
        """The data folder failed (disk full, permissions): stop cleanly, once, and say why."""
        if self.crawler.stats.get_value("sasscrawl/store_error"):
            return
        self.crawler.stats.set_value("sasscrawl/store_error", str(error))
        logger.error("Stopping the crawl: %s", error)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))

    def closed(self, reason):
        if self.store is not None:
            try:
                # After a failed write the disk is suspect: leave articles.jsonl as it was; the next run catches up.
                self.store.close(snapshot=not self.crawler.stats.get_value("sasscrawl/store_error"))
            except StoreError as error:
                self.crawler.stats.set_value("sasscrawl/store_error", str(error))
                logger.error("%s", error)
