"""A deterministic replica of en.sass.cn's Commentary section, for tests and benchmarks.

The live site is unreachable, so the crawler is tested against this replica, served over real
HTTP by ``sasscrawl_replica.server.ReplicaServer``. ``build_site()`` generates ground truth
(``ArticleSpec``s, oldest first); pages are rendered at request time from it, so absolute links
can use the request's origin and mutations show up on the next request.

Site layout (section "103002" unless ``build_site(section=...)``; parent = first 3 digits):

- ``/103002/default.aspx`` and ``/103002/default.aspx?page=N``: listing, newest first,
  ``page_size`` per page. Pagination never ends: every page past the last article is an empty
  ``<ul id="list" />`` whose pager still links to page N+1 and whose new/hot lists are unchanged.
- ``/103002/<id>.aspx`` (any query string is ignored): article, in the real page format,
  ``text/xml; charset=utf-8``.
  ``perv``/``next`` link to the nearest older/newer article of the same section's chain, as the
  real 5554 links to 5553/5556 (ids skipped belong to other sections); the oldest chain member
  has no ``perv`` element, the newest no ``next`` element. The chain holds the ``in_chain``
  articles that answer 200. ``<ul id="new">``: the 10 newest, ``<ul id="hot">``: the 10 most
  viewed (``@id`` = views, ties newest first) among ``in_sidebars`` articles that answer 200.
- ``/103/default.aspx``: the parent section (RESEARCH), linking to its sections.
- ``/upload/images/Y/M/D/<uuid>.00N.jpeg`` (or ``.png``): real images (see images.py).
- ``/robots.txt``: ``Disallow: /103002/print/``.

With ``quirks=True`` (``site.quirks`` is a ``SiteQuirks``; None otherwise) the site adds:

1. ``only_via_prevnext_id``: not listed, not in new/hot; reachable only through perv/next.
2. ``deep_pagination_only_id``: the oldest article, on the last non-empty listing page only;
   no perv/next/new/hot link points to it.
3. Link spellings (``LINK_SPELLINGS``): listing page N writes its entries with spelling
   ``LISTING_SPELLINGS[(N-1) % 5]``; every listing page's ``<ul id="related">`` links
   ``link_variety_id`` in all six, including ``/103002/show.aspx?id=ID`` which answers 301
   to ``/103002/ID.aspx``.
4. Sibling section ``sibling_section`` ("103001", named Reports) with ``sibling_article_ids``,
   served at ``/103001/default.aspx`` and ``/103001/<id>.aspx`` and linked from the related
   list; the breadcrumb links the parent ``/103/default.aspx``. Their ids interleave with the
   section's, which is why section ids have gaps.
5. The related list links ``other_host_link_id`` and listing page 2 through the other host
   name of the same server: ``localhost`` if the request came to ``127.0.0.1``, else
   ``127.0.0.1`` (same port).
6. Every listing entry has a ``print/<id>.aspx`` link (served, disallowed by robots.txt).
7. ``exif_image_path`` is a quality-95 JPEG with an EXIF Orientation tag; ``png_image_path``
   an RGBA PNG with transparent pixels.
8. ``bad_inputs`` maps each kind in ``BAD_INPUTS`` to an article id. All are listed; they stay
   out of new/hot; those answering 200 are in the perv/next chain. ``duplicate_headline_ids``
   are two ordinary articles with one headline; ``escaped_headline_id`` has ``&``, ``'`` and
   ``"`` in its headline (escaped as ``&amp;``/``&quot;`` where XML needs it).

``expected_article_ids()`` is what a correct crawl of the section must output: every section
article that answers 200 (at least eventually, so ``flaky_503`` counts) and has a headline,
except ``stall``. So it includes text_html, text_plain, no_content_type, gbk, gb2312,
bare_ampersand, unclosed_tags, truncated (its headline precedes the cut), flaky_503, xxe_file,
xxe_http and billion_laughs (their ``<h5>`` holds only the entity reference, so the expected
``authors_raw`` is ""), plus both reachability quirks; it excludes no_headline, not_found,
gone, always_500, stall and anything ``remove_article()`` removed.

``build_site(long_links=True)`` gives every article page a ``<ul id="related">`` of
``LONG_LINKS_PER_PAGE`` relative links of at least ``LONG_LINK_LENGTH`` characters, new on every
page: half are ``default.aspx`` in the section folder with the same ``LONG_QUERY_PARAMETERS`` long
query parameters in an order of the page's own (so all of them name one listing URL, fetched
once), half lead out of the section (``../archive/...``, never fetched). A crawl of it fetches what
a crawl of the plain site fetches, plus that one listing; what differs is the strings it reads,
for the benchmark of memory held by caches keyed by them.

``build_site(faults=...)`` adds the fault and attack mode, with or without quirks: network
faults and hostile pages by name, each article fault on an extra article of its own, the ground
truth in ``site.faults`` (see ``faults``). ``expected_article_ids()`` then also leaves out the
fault articles no valid copy of is ever served, and includes the other id that serves the
duplicate_urls article's page (an article is the one its URL names).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import random
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from . import content, images, stylesheets
from . import faults as fault_mode
from .faults import FAULTS, FaultPlan
from .pages import (
    PRINT_STYLESHEET, ArticlePage, Element, HotLink, Link, ListingEntry, ListingPage, Section, Sidebars, el,
    escape_text, render_article, render_listing,
)
from .wire import XML_CONTENT_TYPE, Response, status_page, text_response, xml_response

LAST_PUBLICATION_DATE = dt.date(2026, 1, 30)
FIRST_ARTICLE_ID = 1000
SIDEBAR_LENGTH = 10
SIBLING_SECTION_SIZE = 5
MIN_ARTICLES_WITH_QUIRKS = 12
PARENT_NAME = "RESEARCH"
SECTION_NAME = "Commentary"
SIBLING_NAME = "Reports"
ESCAPED_HEADLINE = 'China\'s R&D push: "quality" over quantity'
XXE_CANARY_URL_PATH = "/xxe-canary.txt"
XXE_CANARY_TEXT = "sasscrawl replica XXE canary: an entity was resolved\n"

LINK_SPELLINGS = ("relative", "site_absolute", "bare_query", "fragment", "absolute", "redirect_alias")
LISTING_SPELLINGS = LINK_SPELLINGS[:5]

BAD_INPUTS = (
    "text_html", "text_plain", "no_content_type", "gbk", "gb2312", "bare_ampersand", "unclosed_tags",
    "truncated", "no_headline", "xxe_file", "xxe_http", "billion_laughs", "not_found", "gone",
    "flaky_503", "always_500", "stall",
)
FLAKY_FAILURES = 2
LONG_LINKS_PER_PAGE = 50
LONG_LINK_LENGTH = 10_240
LONG_QUERY_PARAMETERS = 10
DEFAULT_STALL_SECONDS = 30.0

_HEADLINE_OVERRIDES = {
    "gbk": "上海社会科学院 Commentary test",
    "gb2312": "上海社会科学院 GB2312 Commentary test",
    "bare_ampersand": "Tom & Jerry: what rivals learn from cooperation",
    "no_headline": "",
}
_HEADLINE_OVERRIDES.update(fault_mode.HEADLINE_OVERRIDES)
_AUTHORS_OVERRIDES = {"unclosed_tags": "Cai Fang", "xxe_file": "", "xxe_http": "", "billion_laughs": "",
                      **fault_mode.AUTHORS_OVERRIDES}
_STATUS_OVERRIDES = {"not_found": 404, "gone": 410, "always_500": 500}
# Chinese paragraphs for the GBK/GB2312 pages; "镕" exists in GBK but not in GB2312.
_CHINESE_PARAGRAPHS = {
    "gbk": ("上海社会科学院成立于1958年，是中国最早建立的社会科学研究机构之一。朱镕基曾多次到访。",),
    "gb2312": ("上海社会科学院是中国重要的社会科学研究机构，致力于经济、社会和文化研究。",),
}

_LISTING_PATH = re.compile(r"/(\d+)/default\.aspx")
_ARTICLE_PATH = re.compile(r"/(\d+)/(\d+)\.aspx")
_PRINT_PATH = re.compile(r"/(\d+)/print/(\d+)\.aspx")
_ALIAS_PATH = re.compile(r"/(\d+)/show\.aspx")


@dataclass
class ArticleSpec:
    """Ground truth for one article; the site mutates it, tests read it.

    ``date_published`` and ``posted`` are raw page strings ("YYYY-MM-DD 12:00", "YYYY-MM-DD
    HH:MM"); ``image_paths`` are site-absolute, in body order (the page's ``<ul>`` repeats the
    first, relative). ``status`` is what the page answers (200, or 404/410 once removed, 500
    for always_500). ``fault`` names its bad-input kind, if any. ``revision`` counts
    ``change_article`` calls.
    """

    id: int
    section: str
    headline: str
    date_published: str
    posted: str
    authors_raw: str
    source_name: str | None
    source_url: str | None
    image_paths: tuple[str, ...]
    views: int
    listed: bool = True
    in_chain: bool = True
    in_sidebars: bool = True
    status: int = 200
    fault: str | None = None
    revision: int = 0


@dataclass(frozen=True)
class SiteQuirks:
    """Ids and paths of the traps a quirky site contains (see the module docstring)."""

    only_via_prevnext_id: int
    deep_pagination_only_id: int
    duplicate_headline_ids: tuple[int, int]
    escaped_headline_id: int
    link_variety_id: int
    other_host_link_id: int
    sibling_section: str
    sibling_article_ids: tuple[int, ...]
    exif_image_path: str
    png_image_path: str
    bad_inputs: dict[str, int]
    stall_seconds: float
    xxe_canary_path: str
    xxe_canary_url_path: str = XXE_CANARY_URL_PATH


@dataclass(frozen=True)
class _SectionIndex:
    chain: list[ArticleSpec]
    chain_ids: list[int]
    listed_newest_first: list[ArticleSpec]
    sidebars: Sidebars


@dataclass
class _Plan:
    section: str
    fault: str | None = None
    min_images: int = 0
    date: dt.date = LAST_PUBLICATION_DATE


class ReplicaSite:
    """The generated site: ground truth, mutations for incremental-crawl tests, and responses.

    Thread-safe: the server calls ``response()`` from many threads while a test mutates.
    """

    def __init__(self, *, seed: int, section: Section, sibling: Section | None, parent: Section,
                 specs: list[ArticleSpec], quirks: SiteQuirks | None, page_size: int,
                 rng: random.Random, headlines_taken: set[str], faults: FaultPlan | None = None,
                 long_links: bool = False):
        self.seed = seed
        self.long_links = long_links
        self.section = section.id
        self.page_size = page_size
        self.quirks = quirks
        self.faults = faults
        self.start_path = f"/{section.id}/default.aspx"
        self._sections = {s.id: s for s in (section, sibling) if s}
        self._parent = parent
        self._rng = rng
        self._headlines_taken = headlines_taken
        self._lock = threading.RLock()
        self._by_id = {spec.id: spec for spec in specs}
        self._by_section = {sid: [s for s in specs if s.section == sid] for sid in self._sections}
        self._image_paths = {path for spec in specs for path in spec.image_paths}
        self._answers: dict[tuple, int] = {}
        self._image_faults: dict[str, tuple[int, float]] = {}
        self._indexes: dict[str, _SectionIndex] = {}

    # Ground truth ------------------------------------------------------------------------

    @property
    def articles(self) -> list[ArticleSpec]:
        """The crawled section's articles, oldest first."""
        with self._lock:
            return list(self._by_section[self.section])

    def article(self, article_id: int) -> ArticleSpec:
        """Any section's article by id; KeyError if there is none."""
        with self._lock:
            return self._by_id[article_id]

    def expected_article_ids(self) -> set[int]:
        """Ids a correct crawl must output (rules in the module docstring)."""
        with self._lock:
            ids = {a.id for a in self._by_section[self.section]
                   if a.status == 200 and a.headline and a.fault != "stall"
                   and (a.fault not in FAULTS or FAULTS[a.fault].saved)}
            if self.faults and self.faults.duplicate_id is not None:
                ids.add(self.faults.duplicate_id)  # its own URL's article, although another's page
            return ids

    def page_count(self) -> int:
        """Number of non-empty listing pages of the crawled section."""
        with self._lock:
            listed = len(self._index(self.section).listed_newest_first)
        return -(-listed // self.page_size)

    def body_blocks(self, article_id: int) -> tuple[content.Block, ...]:
        """What a correct body parser extracts from the article's CDATA, block by block."""
        return self._body(self.article(article_id))[0]

    def body_html(self, article_id: int) -> str:
        return self._body(self.article(article_id))[1]

    # Mutations -----------------------------------------------------------------------------

    def add_article(self) -> ArticleSpec:
        """Publish a new newest article the day after the current newest one."""
        with self._lock:
            newest = self._by_section[self.section][-1]
            plan = _Plan(self.section, date=dt.date.fromisoformat(newest.date_published[:10]) + dt.timedelta(days=1))
            article_id = max(self._by_id) + self._rng.randint(1, 3)
            spec = _generate_article(self._rng, article_id, plan, self._headlines_taken)
            self._by_id[spec.id] = spec
            self._by_section[self.section].append(spec)
            self._image_paths.update(spec.image_paths)
            self._indexes.clear()
            return spec

    def change_article(self, article_id: int) -> None:
        """Rewrite the body text (same images); nothing else on any page changes."""
        with self._lock:
            self._by_id[article_id].revision += 1

    def set_views(self, article_id: int, views: int) -> None:
        """Change only the view count (its ``<dd>``, and the hot lists that rank it)."""
        with self._lock:
            self._by_id[article_id].views = views
            self._indexes.clear()

    def fail_image(self, path: str, status: int = 404, stall_seconds: float = 0.0) -> None:
        """Make an image answer ``status`` (after ``stall_seconds``) until :meth:`restore_image`."""
        with self._lock:
            self._image_faults[path] = (status, stall_seconds)

    def restore_image(self, path: str) -> None:
        with self._lock:
            self._image_faults.pop(path, None)

    def remove_article(self, article_id: int, status: int = 404) -> None:
        """Make the page answer ``status`` (404 or 410).

        It drops out of perv/next and new/hot but stays on the listing (like the not_found and
        gone bad inputs), so a re-crawl meets the error.
        """
        if status not in (404, 410):
            raise ValueError(f"status must be 404 or 410, not {status}")
        with self._lock:
            self._by_id[article_id].status = status
            self._indexes.clear()

    # Serving ---------------------------------------------------------------------------------

    def response(self, method: str, path_with_query: str, host: str) -> Response:
        """Answer one request; ``host`` is the request's Host header (for absolute links)."""
        if method not in ("GET", "HEAD"):
            return status_page(405, [("Allow", "GET, HEAD")])
        url = urlsplit(path_with_query)
        with self._lock:
            return self._route(url.path, parse_qs(url.query), host, path_with_query)

    def _count(self, key: tuple) -> int:
        """Count one more answer for ``key`` (an article, image or listing page); the count, from 1."""
        self._answers[key] = self._answers.get(key, 0) + 1
        return self._answers[key]

    def _route(self, path: str, query: dict[str, list[str]], host: str, path_with_query: str) -> Response:
        if path in stylesheets.ASSETS:
            content_type, data = stylesheets.ASSETS[path]
            return Response(200, [("Content-Type", content_type)], data)
        if path == "/robots.txt":
            return text_response(f"User-agent: *\nDisallow: /{self.section}/print/\n")
        if path in self._image_faults:
            status, stall_seconds = self._image_faults[path]
            return dataclasses.replace(status_page(status), delay=stall_seconds)
        if path in self._image_paths:
            content_type, data = images.render_image(
                self.seed, path, exif_orientation=bool(self.quirks) and path == self.quirks.exif_image_path)
            served = Response(200, [("Content-Type", content_type)], data)
            if self.faults and path == self.faults.flaky_image_path:
                return fault_mode.image_response(self._count(("image", path)), served)
            return served
        if self.faults and "escaping_images" in self.faults.names and fault_mode.HOSTILE_IMAGE_MARKER in path:
            return fault_mode.hostile_image(self.seed, path_with_query)
        if self.faults and "image_url_spellings" in self.faults.names and fault_mode.SPELLING_IMAGE_MARKER in path:
            return fault_mode.hostile_image(self.seed, path_with_query)
        if self.faults and path == fault_mode.EVIL_DTD_PATH:
            return fault_mode.evil_dtd(host)
        if self.quirks and path == XXE_CANARY_URL_PATH:
            return text_response(XXE_CANARY_TEXT)
        if match := _LISTING_PATH.fullmatch(path):
            return self._listing_response(match[1], query, host)
        if match := _ARTICLE_PATH.fullmatch(path):
            article_id = int(match[2])
            if self.faults and article_id == self.faults.duplicate_id:
                article_id = self.faults.article_ids["duplicate_urls"]
            spec = self._by_id.get(article_id)
            if spec and spec.section == match[1]:
                return self._article_response(spec, host, query)
        if self.quirks and (match := _PRINT_PATH.fullmatch(path)):
            spec = self._by_id.get(int(match[2]))
            if spec and spec.section == match[1] == self.section:
                return self._print_response(spec)
        if self.quirks and (match := _ALIAS_PATH.fullmatch(path)):
            spec = self._by_id.get(int(query["id"][0])) if query.get("id", [""])[0].isdecimal() else None
            if spec and spec.section == match[1]:
                return status_page(301, [("Location", f"/{spec.section}/{spec.id}.aspx")])
        return status_page(404)

    def _article_response(self, spec: ArticleSpec, host: str, query: dict[str, list[str]]) -> Response:
        if spec.status != 200:
            return status_page(spec.status)
        answer = self._count(("article", spec.id))
        if spec.fault == "flaky_503" and answer <= FLAKY_FAILURES:
            return status_page(503)
        xml = render_article(self._article_page(spec))
        if self.faults and spec.fault in FAULTS:
            return fault_mode.article_response(self.faults, spec.fault, xml, answer, query,
                                               f"/{spec.section}/{spec.id}.aspx", host, _other_host(host))
        return _deliver(spec, xml, host, self.quirks)

    def _print_response(self, spec: ArticleSpec) -> Response:
        """The printer-friendly copy: the article's data in the article format, faults left out."""
        if spec.status != 200:
            return status_page(spec.status)
        return xml_response(render_article(self._article_page(spec), stylesheet=PRINT_STYLESHEET))

    def _article_page(self, spec: ArticleSpec) -> ArticlePage:
        index = self._index(spec.section)
        older = bisect.bisect_left(index.chain_ids, spec.id)
        newer = bisect.bisect_right(index.chain_ids, spec.id)
        source = Link(spec.source_url, spec.source_name) if spec.source_url else None
        return ArticlePage(
            section=self._sections[spec.section], article_id=spec.id, headline=spec.headline,
            date_published=spec.date_published, authors=spec.authors_raw, source=source,
            body_html=self._body(spec)[1], posted=spec.posted, views=spec.views,
            image_list=tuple(path.lstrip("/") for path in spec.image_paths[:1]),
            previous=_chain_link(index.chain[older - 1]) if older else None,
            next=_chain_link(index.chain[newer]) if newer < len(index.chain) else None,
            sidebars=index.sidebars,
            related=_long_links(self.seed, spec.id) if self.long_links else (),
        )

    def _body(self, spec: ArticleSpec) -> tuple[tuple[content.Block, ...], str]:
        rng = random.Random(f"{self.seed}:body:{spec.id}:{spec.revision}")
        blocks = content.body_blocks(rng, spec.image_paths, _CHINESE_PARAGRAPHS.get(spec.fault, ()))
        sizes = {path: images.declared_size(self.seed, path) for path in spec.image_paths}
        return blocks, content.body_html(rng, blocks, sizes)

    def _listing_response(self, section_id: str, query: dict[str, list[str]], host: str) -> Response:
        if section_id == self._parent.id:
            entries = tuple(ListingEntry(Link(f"../{s.id}/default.aspx", s.name)) for s in self._sections.values())
            page = ListingPage(self._parent, entries, pager=(), related=(), sidebars=None)
            return xml_response(render_listing(page))
        if section_id not in self._sections:
            return status_page(404)
        number = query.get("page", ["1"])[0]
        if not number.isdecimal() or int(number) < 1:
            return status_page(404)
        number = int(number)
        index = self._index(section_id)
        on_page = index.listed_newest_first[(number - 1) * self.page_size:number * self.page_size]
        faulty = bool(self.faults) and section_id == self.section
        answer = self._count(("listing", section_id, number))
        if faulty and not on_page and "pagination_repeats_last" in self.faults.names:
            last = -(-len(index.listed_newest_first) // self.page_size)
            on_page = index.listed_newest_first[(last - 1) * self.page_size:last * self.page_size]
        quirky = bool(self.quirks) and section_id == self.section
        spelling = LISTING_SPELLINGS[(number - 1) % len(LISTING_SPELLINGS)] if quirky else "relative"
        entries = tuple(
            ListingEntry(Link(_href(section_id, spec.id, spelling, host), spec.headline),
                         spec.date_published[:10], f"print/{spec.id}.aspx" if quirky else None)
            for spec in on_page
        )
        related = self._related_links(host) if quirky else ()
        if faulty:
            related += fault_mode.listing_links(self.faults, section_id, number, answer, host, _other_host(host))
            self._vanish(on_page)
        page = ListingPage(self._sections[section_id], entries, _pager(number), related, index.sidebars)
        response = xml_response(render_listing(page))
        return fault_mode.listing_response(self.faults, number, answer, response) if faulty else response

    def _vanish(self, listed: list[ArticleSpec]) -> None:
        """The vanishing fault articles just listed answer 404/410 from now on."""
        for spec in listed:
            if spec.fault in fault_mode.VANISHING_STATUS and spec.status == 200:
                spec.status = fault_mode.VANISHING_STATUS[spec.fault]
                self._indexes.clear()

    def _related_links(self, host: str) -> tuple[Link, ...]:
        quirks = self.quirks
        target = self._by_id[quirks.link_variety_id]
        elsewhere = self._by_id[quirks.other_host_link_id]
        sibling = self._by_id[quirks.sibling_article_ids[0]]
        other_origin = f"http://{_other_host(host)}"
        return (
            *(Link(_href(self.section, target.id, spelling, host), target.headline) for spelling in LINK_SPELLINGS),
            Link(f"{other_origin}/{self.section}/{elsewhere.id}.aspx", elsewhere.headline),
            Link(f"{other_origin}/{self.section}/default.aspx?page=2", f"More {SECTION_NAME}"),
            Link(f"../{quirks.sibling_section}/default.aspx", SIBLING_NAME),
            Link(f"../{quirks.sibling_section}/{sibling.id}.aspx", sibling.headline),
        )

    def _index(self, section_id: str) -> _SectionIndex:
        """Link structure of a section, cached until the next mutation."""
        if section_id not in self._indexes:
            specs = self._by_section[section_id]
            chain = [s for s in specs if s.in_chain and s.status == 200]
            featured = [s for s in specs if s.in_sidebars and s.status == 200]
            hottest = sorted(featured, key=lambda s: (-s.views, -s.id))[:SIDEBAR_LENGTH]
            sidebars = Sidebars(
                newest=tuple(_chain_link(s) for s in reversed(featured[-SIDEBAR_LENGTH:])),
                most_viewed=tuple(HotLink(s.views, _chain_link(s)) for s in hottest),
            )
            listed = [s for s in reversed(specs) if s.listed]
            self._indexes[section_id] = _SectionIndex(chain, [s.id for s in chain], listed, sidebars)
        return self._indexes[section_id]


def build_site(articles: int = 30, seed: int = 0, section: str = "103002", quirks: bool = True, *,
               page_size: int = 10, stall_seconds: float = DEFAULT_STALL_SECONDS, xxe_canary_path: str = "/etc/hostname",
               faults: Iterable[str] = (), foreign_host: str | None = None,
               last_published: dt.date = LAST_PUBLICATION_DATE, long_links: bool = False) -> ReplicaSite:
    """Generate a replica of ``articles`` ordinary articles, plus the bad inputs if ``quirks``.

    Same arguments, same site, byte for byte. Cheap enough for 5,000 articles: only metadata is
    generated here; bodies, pages and images are rendered per request.
    ``stall_seconds`` falsy leaves the stall article out. ``faults`` switches on fault-mode faults
    by name (see ``faults.FAULTS``): one extra article per article fault; ``stall_seconds`` is
    then also the stall_once fault's stall, ``xxe_canary_path`` the file hostile pages try to leak, and
    ``foreign_host`` (``host:port`` of a ``faults.ForeignSite`` server) where off-site URLs point.
    ``last_published`` is the newest article's publication date (a fresh or a long-frozen site).
    ``long_links`` puts long links on every article page (see the module docstring).
    """
    if articles < (MIN_ARTICLES_WITH_QUIRKS if quirks else 1):
        raise ValueError(f"need at least {MIN_ARTICLES_WITH_QUIRKS if quirks else 1} articles")
    if page_size < 1:
        raise ValueError("page_size must be positive")
    rng = random.Random(seed)
    parent_id = section[:3]
    main = Section(section, SECTION_NAME, parent_id, PARENT_NAME)
    sibling_id = "103001" if section != "103001" else "103003"
    sibling = Section(sibling_id, SIBLING_NAME, parent_id, PARENT_NAME) if quirks else None
    bad_inputs = [kind for kind in BAD_INPUTS if kind != "stall" or stall_seconds] if quirks else []
    switched_on = frozenset(faults)
    if unknown := switched_on - FAULTS.keys():
        raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
    article_faults = [name for name in FAULTS if name in switched_on and FAULTS[name].target == fault_mode.ARTICLE]

    plans = [_Plan(section) for _ in range(articles)]
    if quirks:
        plans[-1].min_images = plans[-4].min_images = 1  # the EXIF and PNG articles of _arrange_quirks
        plans[2:2] = [_Plan(section, fault=kind) for kind in bad_inputs]
    plans[2:2] = [_Plan(section, fault=name, min_images=int(name == "flaky_image")) for name in article_faults]
    if quirks:
        for k in range(SIBLING_SECTION_SIZE, 0, -1):
            plans.insert(k * len(plans) // (SIBLING_SECTION_SIZE + 1), _Plan(sibling.id))
    _assign_dates(rng, plans, last_published)

    taken: set[str] = set()
    article_id = FIRST_ARTICLE_ID
    specs = []
    for plan in plans:
        article_id += rng.randint(1, 3)
        specs.append(_generate_article(rng, article_id, plan, taken))
    site_quirks = None
    if quirks:
        site_quirks = _arrange_quirks(
            [s for s in specs if s.section == section and s.fault is None],
            [s for s in specs if s.section == sibling.id],
            {s.fault: s.id for s in specs if s.fault in BAD_INPUTS}, stall_seconds, xxe_canary_path)
    fault_plan = None
    if switched_on:
        carriers = {s.fault: s for s in specs if s.fault in FAULTS}
        fault_plan = FaultPlan(
            names=switched_on,
            article_ids={name: spec.id for name, spec in carriers.items()},
            duplicate_id=fault_mode.DUPLICATE_ID_OFFSET + carriers["duplicate_urls"].id
            if "duplicate_urls" in carriers else None,
            flaky_image_path=carriers["flaky_image"].image_paths[0] if "flaky_image" in carriers else None,
            canary_path=xxe_canary_path,
            stall_seconds=stall_seconds or DEFAULT_STALL_SECONDS,
            foreign_host=foreign_host,
            spoofed_id=next(s.id for s in reversed(specs) if s.section == section and s.fault is None)
            if "identity_spoof" in carriers else None,
        )
    return ReplicaSite(seed=seed, section=main, sibling=sibling, parent=Section(parent_id, PARENT_NAME),
                       specs=specs, quirks=site_quirks, page_size=page_size, rng=rng, headlines_taken=taken,
                       faults=fault_plan, long_links=long_links)


def _assign_dates(rng: random.Random, plans: list[_Plan], last_published: dt.date) -> None:
    """Newest on ``last_published``, then back about one day per article."""
    day = last_published
    for plan in reversed(plans):
        plan.date = day
        day -= dt.timedelta(days=rng.choice((0, 1, 1, 1, 1, 2)))


def _generate_article(rng: random.Random, article_id: int, plan: _Plan, headlines_taken: set[str]) -> ArticleSpec:
    date = plan.date
    posted_day = date + dt.timedelta(days=rng.randint(0, 3))
    image_count = max(plan.min_images, rng.choice((0, 0, 1, 1, 2, 3)))
    batch = uuid.UUID(int=rng.getrandbits(128), version=4)
    folder = f"/upload/images/{posted_day.year}/{posted_day.month}/{posted_day.day}"
    source = content.source(rng, date.year, date.month, date.day)
    fault = plan.fault
    return ArticleSpec(
        id=article_id,
        section=plan.section,
        headline=_HEADLINE_OVERRIDES.get(fault, content.headline(rng, headlines_taken)),
        date_published=f"{date:%Y-%m-%d} 12:00",
        posted=f"{posted_day:%Y-%m-%d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        authors_raw=_AUTHORS_OVERRIDES.get(fault, content.authors(rng)),
        source_name=source[0] if source else None,
        source_url=source[1] if source else None,
        image_paths=tuple(f"{folder}/{batch}.{n:03d}.jpeg" for n in range(1, image_count + 1)),
        views=int(rng.lognormvariate(4.2, 0.8)),
        in_sidebars=fault is None,
        in_chain=fault not in fault_mode.VANISHING_STATUS,
        status=_STATUS_OVERRIDES.get(fault, 200),
        fault=fault,
    )


def _arrange_quirks(ordinary: list[ArticleSpec], siblings: list[ArticleSpec], bad_inputs: dict[str, int],
                    stall_seconds: float, xxe_canary_path: str) -> SiteQuirks:
    """Give ordinary articles their quirk roles (positions chosen so no two roles collide)."""
    deep, via_prevnext = ordinary[0], ordinary[len(ordinary) // 2]
    deep.in_chain = deep.in_sidebars = False
    via_prevnext.listed = via_prevnext.in_sidebars = False
    original, duplicate = ordinary[3], ordinary[5]
    duplicate.headline = original.headline
    escaped = ordinary[1]
    escaped.headline = ESCAPED_HEADLINE
    exif_article, png_article = ordinary[-1], ordinary[-4]
    png_path = png_article.image_paths[-1].removesuffix(".jpeg") + ".png"
    png_article.image_paths = (*png_article.image_paths[:-1], png_path)
    return SiteQuirks(
        only_via_prevnext_id=via_prevnext.id,
        deep_pagination_only_id=deep.id,
        duplicate_headline_ids=(original.id, duplicate.id),
        escaped_headline_id=escaped.id,
        link_variety_id=ordinary[-2].id,
        other_host_link_id=ordinary[-3].id,
        sibling_section=siblings[0].section,
        sibling_article_ids=tuple(s.id for s in siblings),
        exif_image_path=exif_article.image_paths[0],
        png_image_path=png_path,
        bad_inputs=bad_inputs,
        stall_seconds=stall_seconds,
        xxe_canary_path=xxe_canary_path,
    )


def _chain_link(spec: ArticleSpec) -> Link:
    return Link(f"../{spec.section}/{spec.id}.aspx", spec.headline)


def _long_links(seed: int, article_id: int) -> tuple[Link, ...]:
    """An article page's long links (see the module docstring): in the section and out of it, in turns."""
    rng = random.Random(f"{seed}:long links:{article_id}")
    value = "x" * (LONG_LINK_LENGTH // LONG_QUERY_PARAMETERS)
    parameters = [f"p{n}={value}" for n in range(LONG_QUERY_PARAMETERS)]
    links = []
    for n in range(LONG_LINKS_PER_PAGE // 2):
        rng.shuffle(parameters)
        links.append(Link("default.aspx?" + "&".join(parameters), SECTION_NAME))
        links.append(Link(f"../archive/{article_id}/{n}.aspx?ref={value * LONG_QUERY_PARAMETERS}", "Archive"))
    return tuple(links)


def _href(section_id: str, article_id: int, spelling: str, host: str) -> str:
    """One of the ``LINK_SPELLINGS`` of an article link, as written on a listing page."""
    return {
        "relative": f"../{section_id}/{article_id}.aspx",
        "site_absolute": f"/{section_id}/{article_id}.aspx",
        "bare_query": f"{article_id}.aspx?from=list",
        "fragment": f"../{section_id}/{article_id}.aspx#comments",
        "absolute": f"http://{host}/{section_id}/{article_id}.aspx",
        "redirect_alias": f"/{section_id}/show.aspx?id={article_id}",
    }[spelling]


def _other_host(host: str) -> str:
    """The same server under its other name: 127.0.0.1 <-> localhost, port kept."""
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    return ("127.0.0.1" if name == "localhost" else "localhost") + colon + port


def _pager(number: int) -> tuple[Element, ...]:
    """First / Previous / current / Next: always a Next, hence pagination without end."""
    links = [el("a", "First", href="default.aspx")]
    if number > 1:
        links.append(el("a", "Previous", href=f"default.aspx?page={number - 1}"))
    links += [el("span", str(number)), el("a", "Next", href=f"default.aspx?page={number + 1}")]
    return tuple(links)


def _deliver(spec: ArticleSpec, xml: str, host: str, quirks: SiteQuirks | None) -> Response:
    """Serve a well-formed article page, damaged the way its bad-input kind says."""
    match spec.fault:
        case "text_html":
            return xml_response(xml, content_type="text/html; charset=utf-8")
        case "text_plain":
            return text_response(xml)
        case "no_content_type":
            return Response(200, [], xml.encode())
        case "gbk" | "gb2312":
            declared = xml.replace('encoding="utf-8"', f'encoding="{spec.fault}"', 1)
            return Response(200, [("Content-Type", "text/xml")], declared.encode(spec.fault, "xmlcharrefreplace"))
        case "bare_ampersand":
            return xml_response(xml.replace(escape_text(spec.headline), spec.headline))
        case "unclosed_tags":
            return xml_response(xml.replace("</h5>", "", 1))
        case "truncated":
            return Response(200, [("Content-Type", XML_CONTENT_TYPE)], _cut_inside_body(xml.encode()))
        case "xxe_file":
            entity = f'<!ENTITY xxe SYSTEM "{Path(quirks.xxe_canary_path).as_uri()}">'
            return xml_response(fault_mode.with_doctype(xml, _internal_subset(entity), "&xxe;"))
        case "xxe_http":
            entity = f'<!ENTITY xxe SYSTEM "http://{host}{XXE_CANARY_URL_PATH}">'
            return xml_response(fault_mode.with_doctype(xml, _internal_subset(entity), "&xxe;"))
        case "billion_laughs":
            names = ["lol"] + [f"lol{n}" for n in range(1, 10)]
            entities = ['<!ENTITY lol "lol">'] + [
                f'<!ENTITY {name} "{f"&{smaller};" * 10}">' for smaller, name in zip(names, names[1:])]
            return xml_response(fault_mode.with_doctype(xml, _internal_subset("\n".join(entities)), "&lol9;"))
        case "stall":
            return xml_response(xml, delay=quirks.stall_seconds)
    return xml_response(xml)


def _internal_subset(declarations: str) -> str:
    return f"<!DOCTYPE html [\n{declarations}\n]>"


def _cut_inside_body(data: bytes) -> bytes:
    """Cut like the real 5553 prefix: inside a body paragraph's style, halfway through the body."""
    body_start = data.index(b"<![CDATA[")
    middle = (body_start + data.index(b"]]>")) // 2
    paragraph = data.rindex(b'<p style="line-height:', body_start, middle)
    return data[:paragraph + len(b'<p style="line-height:') + 1]

