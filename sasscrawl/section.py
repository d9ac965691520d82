"""Crawl scope: which URLs belong to the section being crawled.

A section is a folder of the site (``/103002/``). Its article pages are
``<folder><digits>.aspx``; every other page inside the folder (``default.aspx``,
``default.aspx?page=N``, ...) is treated as a listing, since the listing layout
is unknown. Scope is exact: same scheme, host and port, and the same folder.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

ARTICLE_FILE = re.compile(r"(\d{1,12})\.aspx", re.IGNORECASE)


class OutOfScopeStartURL(ValueError):
    """The start URL cannot define a section to crawl."""


def article_id_from_url(url: str) -> int | None:
    """The article id a URL names by its last path segment (``.../5553.aspx``)."""
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    match = ARTICLE_FILE.fullmatch(last)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Section:
    scheme: str
    netloc: str
    folder: str  # "/103002/", always with both slashes

    @classmethod
    def from_start_url(cls, url: str) -> "Section":
        parts = urlsplit(url.strip())
        try:
            parts.port
        except ValueError:
            raise OutOfScopeStartURL(f"start_url has an invalid port: {url!r}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutOfScopeStartURL(f"start_url must be an http(s) URL with a host, got {url!r}")
        folder = parts.path.rsplit("/", 1)[0] + "/"
        if folder == "/":
            raise OutOfScopeStartURL(
                f"start_url must point into a section folder (like /103002/default.aspx), got {url!r}"
            )
        return cls(parts.scheme, parts.netloc.lower(), folder)

    @property
    def id(self) -> str:
        return self.folder.rstrip("/").rsplit("/", 1)[-1]

    @property
    def root(self) -> str:
        return f"{self.scheme}://{self.netloc}/"

    def contains(self, url: str) -> bool:
        return self._path_inside(url) is not None

    def article_url(self, article_id: int) -> str:
        return f"{self.scheme}://{self.netloc}{self.folder}{article_id}.aspx"

    def article_id(self, url: str) -> int | None:
        """The id of an in-scope article URL, whatever its query or fragment; else None."""
        path = self._path_inside(url)
        return None if path is None else self._article_id(path)

    def listing_url(self, url: str) -> str | None:
        """The canonical form of an in-scope listing URL (fragment dropped, query sorted); else None."""
        path = self._path_inside(url)
        if path is None or self._article_id(path) is not None:
            return None
        return _canonical(url)

    def _path_inside(self, url: str) -> str | None:
        """The URL's path if the URL is in the section: same scheme, host and port, and inside the folder."""
        parts = urlsplit(url)
        if parts.scheme == self.scheme and parts.netloc.lower() == self.netloc and parts.path.startswith(self.folder):
            return parts.path
        return None

    def _article_id(self, path: str) -> int | None:
        match = ARTICLE_FILE.fullmatch(path[len(self.folder):])
        return int(match.group(1)) if match else None


_canonical = lru_cache(maxsize=1024)(canonicalize_url)
"""Every article page links to the same few listings: canonicalise each once."""
