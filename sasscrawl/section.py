"""Crawl scope: the one normal form of a URL, the hosts requests may go to, and the section's pages.

Every URL is judged in its normal form (:func:`normal_url`): what Scrapy would send
(w3lib's ``safe_url_string``: IDNA host, escapes for spaces and non-ASCII, ``\\`` read
as ``/``), then RFC 3986 normalisation (section 6): escapes of unreserved characters
decoded and the others' hex upper-cased, host lower-case without a trailing dot,
default port dropped, dot segments removed (``..;x`` counts as ``..``, as servlet
containers read it), fragment dropped. Scope, robots.txt, the image index and the
mirror all see that one form, so no spelling of a URL can be judged as one
resource and fetched as another.

What normalisation cannot undo is refused (:func:`path_trick`): an escaped ``/``
or ``\\`` (``%2F``, ``%5C``, or escaped twice), a dot segment escaped twice
(``%252E%252E``) or an empty segment (``a//b``) would be read by some servers
(IIS among them) as a path other than the one judged.

Requests go to origins (scheme, host, port): the start URL's, for pages and
images, and for images also the hosts listed in ``IMAGE_HOSTS``
(:class:`ImageHosts`). Hosts compare as spelled after normalisation: ``localhost``
is not ``127.0.0.1``, nor ``2130706433``.

A section is a folder of the site (``/103002/``). Its article pages are
``<folder><digits>.aspx``; every other page inside the folder (``default.aspx``,
``default.aspx?page=N``, ...) is treated as a listing, since the listing layout
is unknown. Scope is exact: the start URL's origin, and the same folder.
"""

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from w3lib.url import canonicalize_url, safe_url_string

_ARTICLE_FILE = re.compile(r"([0-9]{1,12})\.aspx", re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_DOT_SEGMENTS = (".", "..")
_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9_.~-]*"
_PLAIN_URL = re.compile(
    rf"(?P<normal>(?P<origin>https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[1-9][0-9]{{0,4}})?)"
    rf"(?P<path>/(?:{_SEGMENT}(?:/{_SEGMENT})*/?)?)(?:\?[A-Za-z0-9_.~=&+-]+)?)(?:#.*)?", re.DOTALL)
"""A URL that is its own normal form less its fragment, unless its port is the default or its host IDNA."""
_HOST = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]*:[0-9a-f:.]*")
"""A host name or IPv4 address as normal_url leaves it, or an IPv6 address (without its brackets)."""


@dataclass(frozen=True)
class Origin:
    """Where a request goes: scheme, host (ASCII, lower-case, an IPv6 address without brackets) and port."""

    scheme: str
    host: str
    port: int

    @property
    def netloc(self) -> str:
        """The host, with the port only when it is not the scheme's default."""
        return _netloc(self.scheme, self.host, self.port)

    def __str__(self) -> str:
        """``http://127.0.0.1:8000``: the port always written, so two origins never read alike."""
        return f"{self.scheme}://{_netloc(self.scheme, self.host, None)}:{self.port}"


def _netloc(scheme: str, host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"


def normal_url(url: str) -> str:
    """An http(s) URL's normal form (see the module docstring); ValueError when its port is not a port.

    Any other URL is returned as it is: no request goes to one (see ``SectionScopeMiddleware``).
    """
    parts = urlsplit(safe_url_string(url))
    if parts.scheme not in DEFAULT_PORTS:
        return url
    userinfo = parts.netloc.rpartition("@")[0] + "@" if "@" in parts.netloc else ""
    host = _normal_escapes(parts.hostname or "").lower().rstrip(".")
    query = _normal_escapes(parts.query)
    return (f"{parts.scheme}://{userinfo}{_netloc(parts.scheme, host, parts.port)}{_normal_path(parts.path)}"
            + (f"?{query}" if query else ""))


def origin_of(url: str) -> Origin:
    """The origin a request for ``url`` goes to, its port explicit; ValueError when there is none to tell."""
    parts = urlsplit(normal_url(url))
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    return Origin(parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme])


def path_trick(url: str) -> str | None:
    """What in the URL's path a server could read as another path than the one judged; None if nothing.

    A dot segment (``..``, ``.``, also with ``;`` parameters), a ``/`` or ``\\`` hidden in escapes
    (however often escaped), or an empty segment (``a//b``, which many servers read as ``a/b``).
    A normal URL (:func:`normal_url`) has no dot segment left, so in one this finds only what
    normalisation cannot undo.
    """
    segments = urlsplit(url).path.split("/")
    if "" in segments[1:-1]:
        return "an empty segment (//)"
    for segment in segments:
        while True:
            if "/" in segment or "\\" in segment:
                return "a backslash or an escaped / or \\"
            if segment.partition(";")[0] in _DOT_SEGMENTS:
                return "a dot segment"
            if "%" not in segment:
                break
            decoded = unquote(segment)
            if decoded == segment:
                break
            segment = decoded
    return None


def _normal_escapes(text: str) -> str:
    """Escapes of unreserved characters decoded, the others' hex digits upper-cased (RFC 3986 6.2.2.1-2)."""
    if "%" not in text:
        return text

    def normal(escape: re.Match) -> str:
        char = chr(int(escape[1], 16))
        return char if char in _UNRESERVED else "%" + escape[1].upper()

    return _ESCAPE.sub(normal, text)


def _normal_path(path: str) -> str:
    """Escapes normalised, then RFC 3986 remove_dot_segments; ``..;x`` and ``.;x`` count as dot segments."""
    segments = _normal_escapes(path).split("/")[1:]
    kept: list[str] = []
    for position, segment in enumerate(segments, 1):
        dots = segment.partition(";")[0]
        if dots not in _DOT_SEGMENTS:
            kept.append(segment)
            continue
        if dots == ".." and kept:
            kept.pop()
        if position == len(segments):
            kept.append("")  # "/a/b/.." is "/a/": the folder, with its slash
    return "/" + "/".join(kept)


class ImageHosts:
    """The ``IMAGE_HOSTS`` setting: hosts besides the start URL's that images may be fetched from.

    Each entry is a host name or address (``img.example.org``, ``192.0.2.7``, ``[2001:db8::1]``),
    which allows it on the default ports of http and https (80 and 443), or ``host:port``,
    which allows that port, with either scheme. No scheme, path or wildcard: an entry names
    the machine and port a request connects to. Names are normalised as URLs' hosts are
    (IDNA, lower case, no trailing dot), and compared as spelled: ``localhost`` does not
    allow ``127.0.0.1``.
    """

    def __init__(self, entries: list[str] = ()):
        self.allowed: set[tuple[str, int | None]] = set()
        for entry in filter(None, (entry.strip() for entry in entries)):
            as_url = urlsplit(f"http://{entry}/")
            try:
                port = as_url.port
                host = urlsplit(normal_url(f"http://{entry}/")).hostname or ""
            except ValueError:
                raise ValueError(f"IMAGE_HOSTS entry {entry!r} has an invalid port") from None
            if as_url.netloc != entry or "@" in entry or entry.endswith(":") or not _HOST.fullmatch(host):
                raise ValueError(f"IMAGE_HOSTS entry {entry!r} is not a host name or host:port")
            self.allowed.add((host, port))

    def allow(self, origin: Origin) -> bool:
        return ((origin.host, origin.port) in self.allowed
                or ((origin.host, None) in self.allowed and origin.port == DEFAULT_PORTS[origin.scheme]))


class OutOfScopeStartURL(ValueError):
    """The start URL cannot define a section to crawl."""


def article_id_from_path(path: str) -> int | None:
    """The article id a URL's path names by its last segment (``/103002/5553.aspx`` → 5553); else None.

    The one place an id is read from a URL: a segment of 1 to 12 ASCII digits and ``.aspx`` in any
    case. Callers with a whole URL pass ``urlsplit(url).path``; :meth:`Section.article_id` adds that
    the URL is in the section and the segment directly in its folder, :func:`article_identity` what
    the record takes from it.
    """
    match = _ARTICLE_FILE.fullmatch(path, path.rfind("/") + 1)
    return int(match[1]) if match else None


@dataclass(frozen=True)
class Section:
    origin: Origin
    folder: str  # "/103002/", always with both slashes, normal (see normal_url)

    @classmethod
    def from_start_url(cls, url: str) -> "Section":
        try:
            normal = normal_url(url.strip())
        except ValueError:
            raise OutOfScopeStartURL(f"start_url has an invalid port: {url!r}") from None
        try:
            origin = origin_of(normal)
        except ValueError:
            raise OutOfScopeStartURL(f"start_url must be an http(s) URL with a host, got {url!r}") from None
        folder = urlsplit(normal).path.rsplit("/", 1)[0] + "/"
        if folder == "/" or path_trick(normal):
            raise OutOfScopeStartURL(
                f"start_url must point into a section folder (like /103002/default.aspx), got {url!r}"
            )
        return cls(origin, folder)

    @property
    def id(self) -> str:
        return self.folder.rstrip("/").rsplit("/", 1)[-1]

    @property
    def scheme(self) -> str:
        return self.origin.scheme

    @property
    def netloc(self) -> str:
        return self.origin.netloc

    @property
    def root(self) -> str:
        return f"{self.scheme}://{self.netloc}/"

    def on_origin(self, url: str) -> bool:
        """Whether a request for ``url`` goes to the start URL's origin."""
        try:
            return origin_of(url) == self.origin
        except ValueError:
            return False

    def contains(self, url: str) -> bool:
        return self._inside(url) is not None

    def article_url(self, article_id: int) -> str:
        return f"{self.scheme}://{self.netloc}{self.folder}{article_id}.aspx"

    def article_id(self, url: str) -> int | None:
        """The id of an in-scope article URL, whatever its query or fragment; else None."""
        inside = self._inside(url)
        return None if inside is None else self._article_id(inside[1])

    def listing_url(self, url: str) -> str | None:
        """The canonical form of an in-scope listing URL (normal, fragment dropped, query sorted); else None."""
        inside = self._inside(url)
        if inside is None or self._article_id(inside[1]) is not None:
            return None
        return _canonical(inside[0])

    def _inside(self, url: str) -> tuple[str, str] | None:
        """The URL's normal form and path if it is in the section: the start URL's origin, inside the folder.

        Judged on the normal form, so ``/103002/../104/`` is outside; a URL whose path still hides a
        separator or dot segment in escapes (``/103002/x/..%2Fprint/``) is never in scope. Most links
        are plain (see ``_PLAIN_URL``): they are their own normal form, less any fragment, and skip the work.
        """
        plain = _PLAIN_URL.fullmatch(url)
        if plain is None or plain["origin"].endswith((":80", ":443")) or "xn--" in plain["origin"]:
            return self._normal_inside(url)
        if plain["origin"] == self._origin_text and plain["path"].startswith(self.folder):
            return plain["normal"], plain["path"]
        return None

    def _normal_inside(self, url: str) -> tuple[str, str] | None:
        try:
            normal = normal_url(url)
        except ValueError:
            return None
        parts = urlsplit(normal)
        if (parts.scheme == self.scheme and parts.netloc == self.netloc and parts.path.startswith(self.folder)
                and path_trick(normal) is None):
            return normal, parts.path
        return None

    @cached_property
    def _origin_text(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def _article_id(self, path: str) -> int | None:
        """The id of an in-section path (see :func:`article_id_from_path`) whose article file is directly in the folder."""
        return article_id_from_path(path) if path.rfind("/") + 1 == len(self.folder) else None


class ArticleIdentity(NamedTuple):
    article_id: int
    url: str
    section_id: str


def article_identity(url: str) -> ArticleIdentity | None:
    """An article's identity from its URL alone; None if the URL names no article.

    ``http://en.sass.cn/103002/5554.aspx?from=list`` → 5554, ``http://en.sass.cn/103002/5554.aspx``
    (the section's spelling, query and fragment dropped) and ``103002`` (the URL's folder).
    """
    try:
        section = Section.from_start_url(url)
        found = section.article_id(url)
    except ValueError:
        return None
    if found is None:
        return None
    return ArticleIdentity(found, section.article_url(found), section.id)


CACHE_KEY_MAX = 2048
"""Longer URLs are canonicalised every time: a page full of 100 kB links must not stay in memory after it."""
_cached_canonical = lru_cache(maxsize=1024)(canonicalize_url)


def _canonical(url: str) -> str:
    """Every article page links to the same few listings: each is canonicalised once."""
    return canonicalize_url(url) if len(url) > CACHE_KEY_MAX else _cached_canonical(url)
