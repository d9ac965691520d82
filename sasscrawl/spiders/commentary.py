"""The ``commentary`` spider: decides what to fetch next; the page objects (``sasscrawl.pages``) do the reading.

It starts at the section's default page and follows, inside the section only,
listing pages and their pagination, ``perv``/``next`` links and the ``new``/``hot``
lists. Each article is requested once per run by its canonical URL, whatever
spelling led to it.

Pagination is followed from a listing page only when that page showed an
article not yet seen on a listing in this run and not already saved: pages past
the end (empty, or repeating the sidebar lists) end the walk, and on a rerun an
unchanged first page costs one request. Everything the run decides to fetch is
written to the store's frontier first, so a killed run is continued by the next.
A listing page left in the frontier means an earlier walk was cut short: that
run walks the pagination to its end whatever is saved, since articles saved
meanwhile through perv/next would otherwise end the walk before the older pages.

An article is known by the URL the spider asked for, never by what its page says
(see ``_article``), and a page that makes the spider's own code fail is that page's
failure, counted and retried on the next run like any other, never the run's.
A page that failed in consecutive runs is chronic: it is fetched again only when
its back-off says so (see :class:`sasscrawl.store.frontier.FrontierEntry`), or on every run
with ``-a retry=failed`` or ``-a refresh=...``, and then with one retry, not
RETRY_TIMES. Until then it counts as failing (``sasscrawl/articles/chronic``).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from sasscrawl.arguments import TOLERATED, SpiderArgumentError, SpiderArguments, parse_archive
from sasscrawl.extensions.data_folder import RunDataFolder
from sasscrawl.items import Article
from sasscrawl.store.layout import WARC_FOLDER
from sasscrawl.middlewares import CAPTURED_AT, OutOfScope
from sasscrawl.network import describe_failure
from sasscrawl.pages.article import ArticlePage, NotAnArticle
from sasscrawl.pages.document import Document
from sasscrawl.pages.listing import ListingPage
from sasscrawl.pages.stylesheet import stylesheet_references
from sasscrawl.section import ImageHosts, normal_url
from sasscrawl.setting_names import misspelt_settings
from sasscrawl.snapshots import SnapshotFailed, failed_snapshot, store_snapshot
from sasscrawl.store import CHRONIC_AFTER_FAILURES, ArticleStore, FrontierEntry, StoreError

logger = logging.getLogger(__name__)

ARTICLE_PRIORITY = 10
"""Articles before listings, so the queue stays short whatever the section's size."""

GONE_STATUSES = (404, 410)
ROBOTS_FORBIDDEN = "Forbidden by robots.txt"
"""The reason Scrapy's RobotsTxtMiddleware gives when it refuses a request."""


ERROR_MESSAGE_MAX = 300
"""An unexpected error's message is cut to this in the log: a hostile page can make it huge."""
CHRONIC_RETRY_TIMES = 1
"""Retries within a run for a chronic page: it is known to fail, so the run does not wait on it four times."""


class CommentarySpider(scrapy.Spider):
    name = "commentary"

    def __init__(self, **kwargs):
        """Arguments are checked here (see :mod:`sasscrawl.arguments`); a bad one ends the run at its start."""
        super().__init__(**{name: kwargs.pop(name) for name in TOLERATED if name in kwargs})
        self.argument_error: str | None = None
        try:
            self.arguments = SpiderArguments.from_arguments(kwargs)
        except SpiderArgumentError as error:
            self.argument_error = str(error)
            self.arguments = SpiderArguments.model_construct()
            self.section = None
        else:
            self.section = self.arguments.section
        self.start_url = self.arguments.start_url
        self.data_folder: RunDataFolder | None = None
        self.store: ArticleStore | None = None
        self.archive: str | None = None
        self.image_hosts = ImageHosts()
        self.snapshots = False
        self.known_at_start: set[int] = set()
        self.earlier_failures: dict[str, int] = {}
        self.requested_assets: set[str] = set()
        self.requested_ids: set[int] = set()
        self.requested_listings: set[str] = set()
        self.listed_ids: set[int] = set()
        self.skip_ids: set[int] = set()
        self.resume_walk = False
        self.robots_forbidden: list[str] = []
        self.chronic_pages: list[dict] = []

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        logger.info("DATA_DIR is %s", os.path.realpath(crawler.settings["DATA_DIR"]))  # first: Scrapyd's job log names it
        spider.snapshots = bool(crawler.settings.get("SPLASH_URL"))
        spider.argument_error = spider.argument_error or misspelt_settings(crawler.settings)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        if not spider.argument_error:
            try:
                spider.archive = spider.arguments.archive or parse_archive(crawler.settings.get("ARCHIVE"))
                spider.image_hosts = ImageHosts(crawler.settings.getlist("IMAGE_HOSTS"))
            except SpiderArgumentError as error:
                spider.argument_error = f"ARCHIVE setting: {error}"
            except ValueError as error:
                spider.argument_error = str(error)
        return spider

    def _open_store(self) -> bool:
        """Have the run's data folder opened before anything is fetched; False (after one log line) when the run
        cannot go on: a bad argument or setting, or a data folder that cannot be used."""
        if self.argument_error:
            self.crawler.stats.set_value("sasscrawl/argument_error", self.argument_error)
            logger.error("Not crawling: %s", self.argument_error)
            return False
        self.data_folder = RunDataFolder.of(self.crawler)
        self.store = self.data_folder.open()
        return self.store is not None

    def log(self, message, level=logging.DEBUG, **kwargs):
        """Spidermon reports through the deprecated ``Spider.log()``: the same, without the deprecation warning."""
        self.logger.log(level, message, **kwargs)

    async def start(self):
        if not self._open_store():
            return
        known = self.store.journal.known_ids()
        refresh = self.arguments.refresh
        refresh_ids = set(self.store.journal.newest_ids(None if refresh == "all" else refresh)) if refresh else set()
        if self.archive:
            refresh_ids |= self._articles_cut_in_archive()
        gone = self.store.frontier.gone_ids() if refresh != "all" else set()
        self.skip_ids = (known - refresh_ids) | gone
        self.known_at_start = known
        self.crawler.stats.set_value("sasscrawl/articles/known_at_start", len(known))
        pending = []
        for entry in self.store.frontier.pending():
            if entry.article_id in self.skip_ids:  # saved since (or gone): an interrupted refresh left it behind
                self.store.frontier.finish_article(entry.article_id)
            else:
                pending.append(entry)
        pending = self._hold_back_chronic(pending, self.store.frontier.begin_run())
        self.resume_walk = any(entry.article_id is None for entry in pending) or self.store.frontier.full_walk_due
        self.earlier_failures = {entry.url: entry.failures for entry in pending if entry.failures}
        chronic = sum(self.crawler.stats.get_value(f"sasscrawl/{kind}/chronic", 0) for kind in ("articles", "listings"))
        logger.info(
            "Crawling %s: %d articles already saved, %d to re-check, frontier of %d URLs from earlier runs%s%s",
            self.start_url, len(known), len(refresh_ids), len(pending),
            f" and {chronic} chronic pages not due for a retry (-a retry=failed retries them now)" if chronic else "",
            "; resuming an interrupted walk of the pagination" if self.resume_walk else "",
        )
        if (start_listing := self.section.listing_url(self.start_url)) is not None:
            self.requested_listings.add(start_listing)  # requested just below: never again as a link
        yield scrapy.Request(self.start_url, callback=self.parse_page, errback=self.page_failed,
                             dont_filter=True, meta={"sasscrawl_page": True, "start_page": True})
        for request in self._follow(refresh_ids, ()):
            yield request
        for item in self.data_folder.records_needing_images():
            yield item
        for request in self._follow(
            [entry.article_id for entry in pending if entry.article_id is not None],
            [entry.url for entry in pending if entry.article_id is None],
            remember=False,
        ):
            yield request

    def _articles_cut_in_archive(self) -> set[int]:
        """Articles whose archived response a kill or power cut left incomplete: fetched again, archived whole."""
        from sasscrawl.archive import damaged_records  # only runs that archive pay for the import

        article_ids = set()
        for damaged in damaged_records(Path(self.crawler.settings["DATA_DIR"]) / WARC_FOLDER):
            self.crawler.stats.inc_value("sasscrawl/warc/cut_records")
            article_id = self.section.article_id(damaged.url) if damaged.url else None
            logger.warning("WARC file %s is cut at offset %d%s: left out of the index%s", damaged.path.name,
                           damaged.offset, f" ({damaged.url})" if damaged.url else "",
                           "; fetching the article again" if article_id is not None else "")
            if article_id is not None:
                article_ids.add(article_id)
        return article_ids
    def _hold_back_chronic(self, pending: list[FrontierEntry], run: int) -> list[FrontierEntry]:
        """The frontier entries to fetch in run number ``run``: all but the chronic pages not yet due again.

        Those held back are not fetched even when a link leads to them, and a listing held
        back does not make the run walk the pagination again.
        """
        now = time.time()
        retry_all = self.arguments.retry == "failed" or bool(self.arguments.refresh)
        held = [] if retry_all else [entry for entry in pending if not entry.due(run, now)]
        for entry in held:
            if entry.article_id is not None:
                self.skip_ids.add(entry.article_id)
            else:
                self.requested_listings.add(entry.url)
        articles = sum(entry.article_id is not None for entry in held)
        self.crawler.stats.set_value("sasscrawl/articles/chronic", articles)
        self.crawler.stats.set_value("sasscrawl/listings/chronic", len(held) - articles)
        held_urls = {entry.url for entry in held}
        return [entry for entry in pending if entry.url not in held_urls]

    def parse_page(self, response):
        """Read a page; an unexpected error on the way is the page's failure (``pages/rejected/parser_error``).

        The error is logged in one line, its type and message, without a traceback: a page that
        breaks the parser is bad input like any other, and stays in the frontier to be retried.
        """
        try:
            yield from self._read_page(response)
        except StoreError as error:
            self.store_failed(error)
        except Exception as error:  # whatever a hostile page provokes must not end the run
            self.crawler.stats.inc_value("sasscrawl/pages/rejected/parser_error")
            message = str(error)
            message = message if len(message) <= ERROR_MESSAGE_MAX else message[:ERROR_MESSAGE_MAX] + "…"
            self._page_failed(response.request, f"Could not read page {response.url}: {type(error).__name__}: {message}")

    def _read_page(self, response):
        stats = self.crawler.stats
        document = Document(response.body, response.url)
        for flag in Document.FLAGS:
            if getattr(document, flag):
                stats.inc_value(f"sasscrawl/pages/{flag}")
                logger.warning("Page %s: %s", response.url, flag.replace("_", " "))
        if document.root is None:
            stats.inc_value("sasscrawl/pages/rejected/unreadable")
            self._page_failed(response.request, f"Unreadable page {response.url}: neither XML nor HTML")
            return
        if self.archive and document.stylesheet_url:
            yield from self._archive_assets([document.stylesheet_url])
        listing = ListingPage(document, self.section)
        article_id = response.meta.get("article_id")
        if article_id is None:  # the start page, or a listing-looking URL that redirected to an article's
            article_id = self.section.article_id(response.url)
        as_listing = article_id is None
        if not as_listing:
            yield from self._article(document, response, article_id)
            listings = listing.listings()
        else:
            stats.inc_value("sasscrawl/pages/parsed")
            unseen = [i for i in listing.articles()
                      if i not in self.listed_ids and (self.resume_walk or i not in self.skip_ids)]
            self.listed_ids.update(listing.articles())
            listings = listing.listings() if unseen else []
            if not unseen:
                stats.inc_value("sasscrawl/listings/exhausted")
                logger.debug("No unseen article on %s: not following its pagination", response.url)
        yield from self._follow(listing.articles(), listings)
        if response.meta.get("frontier_url") and (as_listing or response.meta.get("article_id") is None):
            # A listing is done once its links are in the frontier (whatever the URL looked like, and also
            # when a listing-looking URL led to an article); an article page once its article is saved.
            self.store.frontier.finish_pending(response.meta["frontier_url"])

    def _article(self, document: Document, response, article_id: int):
        """The article at the section's URL for ``article_id``, whatever the page says it is.

        The id was asked for (or read from the URL that answered), so the record's ``articleId``,
        ``url`` and ``section.id`` are that URL's: a page cannot overwrite another article or point
        its record at another host. What the page claims otherwise (``meta/@id``, ``site``,
        ``RelativePath``) is logged and counted in ``sasscrawl/pages/identity_mismatch``.
        """
        page = ArticlePage(document, self.section.article_url(article_id), response.meta[CAPTURED_AT])
        try:
            record = page.to_item()
        except NotAnArticle as error:
            self.crawler.stats.inc_value(f"sasscrawl/pages/rejected/{error.reason}")
            self._page_failed(response.request, f"Dropped page {response.url}: {error}")
            return
        self.crawler.stats.inc_value("sasscrawl/pages/parsed")
        self.crawler.stats.inc_value("sasscrawl/articles/parsed")
        if conflicts := page.identity_conflicts():
            self.crawler.stats.inc_value("sasscrawl/pages/identity_mismatch")
            logger.warning("Page %s saved as article %d, as its URL says, although its %s", response.url,
                           article_id, " and its ".join(conflicts))
        if record["articleId"] in self.known_at_start:
            record["snapshot"] = (self.store.journal.record(record["articleId"]) or {}).get("snapshot")
        elif self.snapshots:
            yield self._snapshot_request(record)
            return
        yield Article(record)

    def _snapshot_request(self, record: dict):
        """A new article is first rendered through Splash; the record waits for it in the request."""
        from sasscrawl.splash_compat import SplashRequest  # scrapy-splash: imported by runs with SPLASH_URL only

        return SplashRequest(
            record["url"], callback=self.snapshot_rendered, errback=self.snapshot_failed, endpoint="render.json",
            args={"html": 1, "png": 1, "wait": self.crawler.settings.getfloat("SPLASH_WAIT"),
                  "timeout": self.crawler.settings.getfloat("SPLASH_TIMEOUT")},
            priority=ARTICLE_PRIORITY + 1,
            meta={"article": record, "max_retry_times": 1},
        )

    def snapshot_rendered(self, response):
        record = response.meta["article"]
        try:
            record["snapshot"] = store_snapshot(self.crawler.settings["DATA_DIR"], record["articleId"],
                                                response.data.get("html"), response.data.get("png"))
        except SnapshotFailed as error:
            return self._without_snapshot(record, str(error))
        self.crawler.stats.inc_value("sasscrawl/snapshots/rendered")
        return Article(record)

    def snapshot_failed(self, failure):
        return self._without_snapshot(failure.request.meta["article"], describe_failure(failure))

    def _without_snapshot(self, record: dict, reason: str):
        """Splash down, slow or failing: the article is saved all the same, its snapshot marked failed."""
        self.crawler.stats.inc_value("sasscrawl/snapshots/failed")
        logger.warning("No snapshot of %s: %s", record["url"], reason)
        record["snapshot"] = failed_snapshot(reason)
        return Article(record)

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
            if canonical is None or canonical in self.requested_listings:
                continue
            self.requested_listings.add(canonical)
            if len(canonical) > self.crawler.settings.getint("URLLENGTH_LIMIT"):
                # Scrapy would drop the request, and the frontier would keep it for every later run.
                self.crawler.stats.inc_value("sasscrawl/listings/too_long")
                logger.debug("Not following a listing URL of %d characters (URLLENGTH_LIMIT): %.200s...",
                             len(canonical), canonical)
                continue
            requests.append((canonical, None))
        if remember and requests:
            self.store.frontier.add_pending(requests)
        for url, article_id in requests:
            earlier_failures = self.earlier_failures.get(url, 0)
            kind = "articles" if article_id is not None else "listings"
            # A retry of a page known to fail is not a new attempt: "no article parsed" must not count it.
            self.crawler.stats.inc_value(f"sasscrawl/{kind}/{'retried' if earlier_failures else 'requested'}")
            meta = {"sasscrawl_page": True, "article_id": article_id, "frontier_url": url,
                    "earlier_failures": earlier_failures}
            if earlier_failures >= CHRONIC_AFTER_FAILURES:
                meta["max_retry_times"] = CHRONIC_RETRY_TIMES
            yield scrapy.Request(
                url,
                callback=self.parse_page,
                errback=self.page_failed,
                priority=ARTICLE_PRIORITY if article_id is not None else 0,
                meta=meta,
            )

    def _archive_assets(self, urls):
        """The site's XSL stylesheets and what they use, once per run, so the archive can render its pages."""
        for url in urls:
            if not self.section.on_origin(url) or (url := normal_url(url)) in self.requested_assets:
                continue
            self.requested_assets.add(url)
            self.crawler.stats.inc_value("sasscrawl/archive/assets_requested")
            callback = self.parse_stylesheet if urlsplit(url).path.lower().endswith(".xsl") else None
            yield scrapy.Request(url, callback=callback or self.asset_fetched, errback=self.asset_failed,
                                 meta={"archive_asset": True})

    def parse_stylesheet(self, response):
        yield from self._archive_assets(stylesheet_references(response.body, response.url))

    def asset_fetched(self, response):
        """Nothing to parse: the WARC middleware has archived it."""
        return None

    def asset_failed(self, failure):
        self.crawler.stats.inc_value("sasscrawl/archive/assets_failed")
        logger.warning("Could not archive %s: %s", failure.request.url, failure.getErrorMessage())

    def _page_failed(self, request, message: str) -> None:
        """Count and log a page that gave nothing, and remember the failure in the frontier.

        Every failing article page counts in ``sasscrawl/articles/failed``, which the verdict
        weighs against the section (:func:`sasscrawl.health.failed_pages_problem`); a listing
        page other than the start page in ``sasscrawl/listings/failed``. A page that already
        failed in earlier runs is logged as a warning, not an error, and counted in
        ``sasscrawl/pages/failed_again`` instead of ``sasscrawl/pages/failed``.
        """
        stats = self.crawler.stats
        if request.meta.get("article_id") is not None:
            stats.inc_value("sasscrawl/articles/failed")
        elif not request.meta.get("start_page"):  # the start page has a rule of its own
            stats.inc_value("sasscrawl/listings/failed")
        earlier = request.meta.get("earlier_failures", 0)
        if earlier:
            stats.inc_value("sasscrawl/pages/failed_again")
            logger.warning("%s (failing since %d earlier run%s)", message, earlier, "" if earlier == 1 else "s")
        else:
            stats.inc_value("sasscrawl/pages/failed")
            logger.error("%s", message)
        if request.meta.get("frontier_url"):
            self.store.frontier.record_failure(request.meta["frontier_url"])

    def page_failed(self, failure):
        request = failure.request
        stats = self.crawler.stats
        article_id = request.meta.get("article_id")
        start_page = request.meta.get("start_page")
        robots_forbidden = failure.check(IgnoreRequest) and str(failure.value) == ROBOTS_FORBIDDEN
        if start_page:
            # One line, in its own words: the run cannot go on without the start page.
            if failure.check(HttpError):
                reason = f"answered {failure.value.response.status}"
            elif robots_forbidden:
                reason = "is forbidden by robots.txt"
            elif failure.check(OutOfScope):
                reason = f"was not fetched: {failure.value}"
            else:
                reason = f"could not be fetched: {describe_failure(failure)}"
            stats.set_value("sasscrawl/start_page_failed", reason)
            logger.error("The start page %s %s", request.url, reason)
        elif failure.check(HttpError) and failure.value.response.status in GONE_STATUSES:
            status = failure.value.response.status
            stats.inc_value(f"sasscrawl/pages/gone/{status}")
            logger.warning("Gone (%d): %s", status, request.url)
            if article_id is not None:
                stats.inc_value("sasscrawl/articles/gone")
                self.store.mark_gone(article_id, status)
            else:
                self.store.frontier.finish_pending(request.meta.get("frontier_url", request.url))
        elif failure.check(OutOfScope) or robots_forbidden:
            # Chosen not to fetch. Any other IgnoreRequest (a redirect loop, too many redirects, a body
            # inflating past DOWNLOAD_MAXSIZE) is a failure, below.
            stats.inc_value("sasscrawl/pages/ignored")
            if robots_forbidden:
                logger.debug("Not fetched %s: %s", request.url, failure.value)
                self.robots_forbidden.append(request.url)  # summed up in one line when the run ends
            else:
                redirected = request.meta.get("redirect_urls")
                logger.info("Not fetched %s%s: %s", request.url,
                            f" (redirected from {redirected[0]})" if redirected else "", failure.value)
            self.store.frontier.finish_pending(request.meta.get("frontier_url", request.url))
        else:
            reason = describe_failure(failure)
            stats.inc_value(f"sasscrawl/pages/failed/{reason.split(':')[0].replace(' ', '_')}")
            self._page_failed(request, f"Failed to fetch {request.url} after retries: {reason}")

    def request_dropped(self, request):
        """A redirect to a page this run already requested is dropped by Scrapy's duplicate filter.

        That other request accounts for the page, so the URL that redirected (an alias such as
        ``show.aspx?id=N``) is done: it must not stay in the frontier and look like an interrupted walk.
        """
        if self.store is not None and request.meta.get("redirect_urls") and request.meta.get("frontier_url"):
            self.crawler.stats.inc_value("sasscrawl/pages/redirected_to_known")
            self.store.frontier.finish_pending(request.meta["frontier_url"])

    def _record_section_state(self) -> None:
        """What the verdict needs beyond this run: the chronic pages, and how fresh the data is."""
        stats = self.crawler.stats
        self.chronic_pages = []
        frontier = self.store.frontier
        for entry in frontier.chronic_pages():
            next_run, next_time = entry.next_retry() or (frontier.run, time.time())
            self.chronic_pages.append({
                "url": entry.url, "articleId": entry.article_id, "failures": entry.failures,
                "nextRetryInRuns": max(next_run - (frontier.run or 0), 0),
                "nextRetryBy": datetime.fromtimestamp(next_time, timezone.utc).isoformat(timespec="seconds"),
            })
        if (newest := self.store.journal.newest_date_published()) is not None:
            stats.set_value("sasscrawl/articles/newest_published_at", newest.timestamp())
        if (last_new := self.store.journal.last_new_article_at()) is not None:
            stats.set_value("sasscrawl/articles/last_new_at", last_new)

    def store_failed(self, error: StoreError) -> None:
        """The data folder failed while reading a page: the run's data folder stops the crawl (see RunDataFolder)."""
        self.data_folder.failed(error)

    def closed(self, reason):
        """What the next run needs, recorded before the data folder closes (RunDataFolder closes it after this)."""
        if self.robots_forbidden:
            logger.info("Not fetched: %d links that robots.txt forbids, such as %s", len(self.robots_forbidden),
                        self.robots_forbidden[0])
        if self.store is None:
            return
        try:
            if reason == "finished" and self.resume_walk and self.data_folder.healthy:
                self.store.frontier.full_walk_done()
            self._record_section_state()
        except StoreError as error:
            self.data_folder.failed(error, stop=False)
