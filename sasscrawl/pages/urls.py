"""Links as the crawl may follow them: absolute, http(s) only, joined through a cache.

Every page repeats the same relative links (the breadcrumb, perv/next, the new and hot lists, the
folder's images), so joins are cached by what they depend on: for most links, only the folder of
the page's URL (see :func:`_join_base`).
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urljoin, urlparse, urlsplit

from sasscrawl.pages.text import CONTROL_CHARS

JOIN_CACHE_KEY_MAX = 2048
"""Longer joins are not cached: a page full of 100 kB hrefs must not stay in memory after it."""


def safe_http_url(base: str, href: str | None) -> str | None:
    """``href`` made absolute, if it is an http(s) URL; ``javascript:``, ``data:`` and the like give None.

    So do URLs with user info (``http://a@b/``: the host a reader sees is not the one fetched),
    with an invalid port, and URLs urllib cannot read (``http://[x]/``, ``//[::1``): nothing the
    crawl could fetch, or should. Control characters are dropped first, as browsers do.
    """
    href = CONTROL_CHARS.sub("", href).strip() if href else ""
    if not href:
        return None
    try:
        base = _join_base(base, href)
    except ValueError:  # urllib refuses the reference itself
        return None
    if len(base) + len(href) > JOIN_CACHE_KEY_MAX:
        return _safe_join.__wrapped__(base, href)
    return _safe_join(base, href)


@lru_cache(maxsize=4096)
def _safe_join(base: str, href: str) -> str | None:
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
        parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return url


def _join_base(base: str, href: str) -> str:
    """What of ``base`` the join of ``href`` depends on, as the key of the join cache.

    A reference with a path or parameters, as ``urljoin`` reads it, takes only the base's folder
    (``http://h/103002/5554.aspx`` → ``http://h/103002/``), so one cached join serves every page of
    the folder: the same relative links appear on each of them. Any other reference (``?page=2``,
    ``#top``, ``http:``, ``//``) takes the base's last segment or query too: the whole base is the key.
    """
    if "?" in base or "#" in base:
        return base
    plain_path = (":" not in href and href[:1] > " " and href[0] not in "?#;" and not href.startswith("//")
                  and "\t" not in href and "\n" not in href and "\r" not in href)  # urllib drops these anywhere
    if not plain_path:  # a scheme, an authority, parameters or white space: ask urllib
        reference = urlparse(href)
        if not (reference.path or reference.params):
            return base
    authority, slash = base.find("//"), base.rfind("/")
    return base[:slash + 1] if authority >= 0 and slash > authority + 1 else base
