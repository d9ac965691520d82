"""A quirk-free replica served from a process of its own, with its responses rendered up front.

The machine has two cores and what is measured is the crawler. So the server runs in another
process (its CPU never shares a GIL with the measurement) and does as little as it can: every
page and image is rendered once before the first crawl, and a request costs only its HTTP
handling. A quirk-free site writes no absolute links, so a response depends on its path alone.
The server's request log, the benchmark's ground truth for what a crawl fetched, is read over a
pipe. A site with long links (``build_site(long_links=True)``) is the exception: its article pages
are half a megabyte each, so they are rendered per request rather than held (a gigabyte for
2,000 articles); it serves the memory benchmark, whose figure is the crawl's peak RSS, not its speed.
"""

from __future__ import annotations

import multiprocessing
import re
from dataclasses import dataclass

from sasscrawl_replica import ReplicaServer, Response, build_site

ROBOTS_PATH = "/robots.txt"
_ARTICLE_PATH = re.compile(r"/\d+/\d+\.aspx")
_IMAGE_PREFIX = "/upload/"
REQUEST_KINDS = ("robots.txt", "listing", "article", "image")


def request_kind(path: str) -> str:
    """What a logged request was for, by its path: one of ``REQUEST_KINDS``."""
    if path == ROBOTS_PATH:
        return "robots.txt"
    if path.startswith(_IMAGE_PREFIX):
        return "image"
    if _ARTICLE_PATH.fullmatch(path.split("?", 1)[0]):
        return "article"
    return "listing"


@dataclass(frozen=True)
class SiteFacts:
    """What a complete crawl of the site needs, per kind of request, and where it starts."""

    start_url: str
    origin: str
    articles: int
    needed: dict[str, int]

    @property
    def minimum_requests(self) -> int:
        return sum(self.needed.values())


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    time: float
    """``time.monotonic()`` in the server process: the clock is system-wide, so comparable here."""


class ServedReplica:
    """``with ServedReplica(articles=2000) as replica:`` a running server; ``replica.facts`` says what it serves.

    ``long_links=True``: every article page carries long links (see ``sasscrawl_replica.site``).
    """

    def __init__(self, articles: int, seed: int = 0, long_links: bool = False):
        self.articles = articles
        self.seed = seed
        self.long_links = long_links
        self.facts: SiteFacts | None = None

    def __enter__(self) -> ServedReplica:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, not a copy of this one
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(self.articles, self.seed, self.long_links, child_end),
                                        name=f"replica-{self.articles}", daemon=True)
        self._process.start()
        child_end.close()
        self.facts = self._pipe.recv()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pipe.send("stop")
        self._process.join(timeout=30)
        self._pipe.close()

    def request_log(self) -> list[LoggedRequest]:
        """Every request received since the last ``clear_log()``, in arrival order."""
        return self._ask("log")

    def clear_log(self) -> None:
        self._ask("clear")

    def _ask(self, command: str):
        self._pipe.send(command)
        return self._pipe.recv()


class _PrerenderedSite:
    """Duck-types ``ReplicaSite`` for ``ReplicaServer``: answers from responses rendered in advance."""

    def __init__(self, site):
        self._site = site
        self.start_path = site.start_path
        self._responses: dict[str, Response] = {}

    def prerender(self, paths: list[str], host: str) -> None:
        self._responses = {path: self._site.response("GET", path, host) for path in paths}

    def response(self, method: str, path: str, host: str) -> Response:
        prerendered = self._responses.get(path) if method == "GET" else None
        return prerendered or self._site.response(method, path, host)


def _serve(articles: int, seed: int, long_links: bool, pipe) -> None:
    """The server process: build, prerender, report the site's facts, then answer commands until told to stop."""
    site = build_site(articles=articles, seed=seed, quirks=False, long_links=long_links)
    prerendered = _PrerenderedSite(site)
    expected = site.expected_article_ids()
    section = site.section
    pages = site.page_count()
    images = sorted({path for spec in site.articles if spec.id in expected for path in spec.image_paths})
    with ReplicaServer(prerendered) as server:  # port 0: a free port
        listings = [site.start_path] + [f"{site.start_path}?page={n}" for n in range(1, pages + 2)]
        article_paths = [f"/{section}/{article_id}.aspx" for article_id in sorted(expected)]
        prerendered.prerender([ROBOTS_PATH, *listings, *([] if long_links else article_paths), *images],
                              f"{server.host}:{server.port}")
        pipe.send(SiteFacts(
            start_url=server.start_url, origin=server.origin, articles=len(expected),
            needed={"robots.txt": 1, "listing": pages, "article": len(expected), "image": len(images)},
        ))
        while True:
            try:
                command = pipe.recv()
            except EOFError:  # the benchmark went away
                return
            if command == "log":
                pipe.send([LoggedRequest(record.path, record.time) for record in server.requests])
            elif command == "clear":
                server.clear_log()
                pipe.send(None)
            else:
                return
