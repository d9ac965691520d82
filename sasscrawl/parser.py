"""Parse en.sass.cn pages: bytes and a URL in, plain data out.

No Scrapy here, so the parser can be tested on saved pages, reused by offline
re-extraction and benchmarked on its own. A page is an XML document (styled by
client-side XSLT) whose article body is Word-style HTML inside a CDATA section:
it is parsed once as XML, and the body a second time with lxml's HTML parser.

Hostile or damaged input is handled here, once, for every caller:

* any bytes with any URL give a :class:`Page`, and its article a record or
  :class:`NotAnArticle`, in time linear in the input: no regular expression here
  can backtrack over page content, no URL urllib cannot read raises;
* DOCTYPEs are cut out by a single forward scan before parsing, and the parser
  never loads DTDs, resolves entities or touches the network, so XXE and
  entity-expansion bombs are inert;
* malformed XML (a bare ``&``, unclosed tags, invalid bytes, a page cut off
  inside the CDATA body) is repaired and parsed in recovery mode, and the
  :class:`Page` says so (``recovered``, ``truncated``, ``encoding_refused``) for
  the caller to count;
* an article's identity (id, ``url``, section id) comes from its URL alone: what
  the page says about itself is data, compared and reported, never believed;
* the body HTML is rebuilt from what was read, never copied, so only a small
  set of tags and safe ``http(s)`` URLs can reach ``articleBodyHtml``.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlparse, urlsplit

from lxml import etree

from sasscrawl.schemas import ARTICLE_FIELDS
from sasscrawl.section import Section, article_id_from_path, article_identity

SITE_TZ = timezone(timedelta(hours=8))
"""The site publishes Beijing time without an offset."""

_SITE_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2})")
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d")

_XML_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)
_STRICT_XML = etree.XMLParser(**_XML_PARSER_OPTIONS)
_RECOVERING_XML = etree.XMLParser(recover=True, **_XML_PARSER_OPTIONS)
# lxml.etree's HTML parser, not lxml.html's: plain elements, without a Python class lookup per element.
_HTML = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
_HTML_UTF8 = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, encoding="utf-8")
# Compiled once: the crawl evaluates these on every page.
_LOOKS_LIKE_ARTICLE = etree.XPath("boolean(body/div/h1 | head/meta[@id])")
_ALL_LINKS = etree.XPath("//*[local-name()='a']/@href", smart_strings=False)
_STRING = etree.XPath("string()")
_META_ID = etree.XPath("string(head/meta/@id)")
_IMAGE_LIST_ITEMS = etree.XPath(".//ul[not(@id)]/li")
_LINK_BY_ID = etree.XPath("string(//a[@id=$id]/@href)")

_DECLARATION_MAX = 1024
"""An XML declaration is looked for, and its encoding read, in this many leading bytes only."""
_ENCODING_PSEUDO_ATTRIBUTE = re.compile(rb"""\sencoding\s*=\s*["']([A-Za-z0-9._-]{1,64})["']""")
_NOT_DOCUMENT_ENCODINGS = frozenset(("idna", "punycode"))
"""Text codecs for host names, not documents: their decoders refuse errors="replace", punycode's is quadratic."""
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
"""UTF-32 before UTF-16: the UTF-32-LE mark begins with the UTF-16-LE one."""
_BARE_AMPERSAND = re.compile(r"&(?!(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9._-]*);)")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:[,;&]|\band\b)\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?。:;,]$")

SUBHEADING_MAX_WORDS = 12
"""A bold paragraph longer than this is emphasised prose, not a subheading."""

_SKIPPED_TAGS = frozenset(
    "script style noscript template iframe object embed applet head title select option "
    "button input textarea svg math audio video canvas".split()
)
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li blockquote table tr td th ul ol dl dt dd section article "
    "header footer pre address center form figure figcaption".split()
)
_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_BOLD_TAGS = _HEADING_TAGS | {"b", "strong"}
_ITALIC_TAGS = frozenset(("i", "em", "cite"))


class NotAnArticle(ValueError):
    """The page cannot give an article record; ``reason`` is a short stats-friendly code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def normalise_text(text: str | None) -> str:
    """Collapse whitespace (``&nbsp;`` included) and drop control characters."""
    if not text:
        return ""
    return _squash(_CONTROL_CHARS.sub("", text))


def _squash(text: str) -> str:
    """Runs of white space (``&nbsp;`` included) as one space, trimmed: for text already free of control characters."""
    return " ".join(text.split())


def parse_site_date(raw: str) -> str | None:
    """``2026-01-30 12:00`` → ``2026-01-30T12:00:00+08:00``; None when unparseable."""
    if match := _SITE_DATE.fullmatch(raw):  # the site's own format, without strptime's cost
        try:
            return datetime(*map(int, match.groups()), tzinfo=SITE_TZ).isoformat()
        except ValueError:
            return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=SITE_TZ).isoformat()
        except ValueError:
            continue
    return None


def split_authors(raw: str) -> list[dict]:
    """The h5 byline as ``[{name, nameRaw}]``; ALL-CAPS names are title-cased."""
    authors = []
    for piece in _AUTHOR_SEPARATORS.split(normalise_text(raw)):  # single spaces: the separators' \s* stay linear
        name_raw = normalise_text(piece)
        if name_raw:
            authors.append({"name": name_raw.title() if name_raw.isupper() else name_raw, "nameRaw": name_raw})
    return authors


def content_hash(headline: str, body: str) -> str:
    """What decides whether an article changed: its text, nothing volatile."""
    return hashlib.sha256(f"{normalise_text(headline)}\n{body}".encode("utf-8")).hexdigest()


def safe_http_url(base: str, href: str | None) -> str | None:
    """``href`` made absolute, if it is an http(s) URL; ``javascript:``, ``data:`` and the like give None.

    So do URLs with user info (``http://a@b/``: the host a reader sees is not the one fetched),
    with an invalid port, and URLs urllib cannot read (``http://[x]/``, ``//[::1``): nothing the
    crawl could fetch, or should. Control characters are dropped first, as browsers do.
    """
    href = _CONTROL_CHARS.sub("", href).strip() if href else ""
    if not href:
        return None
    try:
        base = _join_base(base, href)
    except ValueError:  # urllib refuses the reference itself
        return None
    if len(base) + len(href) > JOIN_CACHE_KEY_MAX:
        return _safe_join.__wrapped__(base, href)
    return _safe_join(base, href)


JOIN_CACHE_KEY_MAX = 2048
"""Longer joins are not cached: a page full of 100 kB hrefs must not stay in memory after it."""


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


def _is_truncated(body: bytes) -> bool:
    return not body[-64:].rstrip().endswith(b"</html>")


# --- the DOCTYPE scan -------------------------------------------------------------------
#
# libxml2 never resolves an entity here, but it still reads an internal subset, and its guard
# against entity amplification then ends the parse at a bomb's first reference: the page would
# lose everything after it. So DOCTYPEs go before parsing, found by a forward scan that looks at
# each character once (a regular expression with nested repetition backtracked exponentially).


def _scan_tokens(kind: type) -> dict:
    def token(text: str):
        return text.encode() if kind is bytes else text

    return {
        "doctype": re.compile(token("<!doctype"), re.IGNORECASE),  # a fixed-length literal: linear
        "declaration_stop": re.compile(token(r"""[\[>"']""")),
        "subset_stop": re.compile(token(r"""[\]"'<]""")),
        "comment": token("<!--"), "comment_end": token("-->"), "pi": token("<?"), "pi_end": token("?>"),
        "quotes": (token('"'), token("'")), "open": token("["), "close": token("]"), "end": token(">"),
    }


_SCAN_TOKENS = {bytes: _scan_tokens(bytes), str: _scan_tokens(str)}


def _without_doctypes(data: bytes | str) -> tuple[bytes | str, bool]:
    """``data`` without its DOCTYPE declarations, internal subsets included, and whether it had any.

    Quoted strings, comments and processing instructions inside a declaration are skipped whole,
    so a ``]`` or ``>`` inside them does not end it. A DOCTYPE that never ends is left alone, and
    the scan stops there: whatever follows it was scanned already, and the parser's own options
    still keep its entities unresolved. A byte-level scan cannot see a UTF-16 DOCTYPE; the repair
    path scans the decoded text again.
    """
    tokens = _SCAN_TOKENS[type(data)]
    pieces, position, found = [], 0, False
    while (start := tokens["doctype"].search(data, position)) is not None:
        end = _doctype_end(data, start.end(), tokens)
        if end is None:
            break
        pieces.append(data[position:start.start()])
        position, found = end, True
    if not found:
        return data, False
    pieces.append(data[position:])
    return data[:0].join(pieces), True


def _doctype_end(data: bytes | str, position: int, tokens: dict) -> int | None:
    """Where the DOCTYPE whose keyword ends at ``position`` ends, just after its ``>``; None if it never does."""
    in_subset = False
    while True:
        stop = tokens["subset_stop" if in_subset else "declaration_stop"].search(data, position)
        if stop is None:
            return None
        found = data[stop.start():stop.end()]
        position = stop.end()
        if found in tokens["quotes"]:
            position = data.find(found, position)
            if position < 0:
                return None
            position += 1
        elif found == tokens["open"]:
            in_subset = True
        elif found == tokens["close"]:
            in_subset = False
        elif found == tokens["end"]:
            return position
        elif data.startswith(tokens["comment"], stop.start()) or data.startswith(tokens["pi"], stop.start()):
            closing = tokens["comment_end" if data.startswith(tokens["comment"], stop.start()) else "pi_end"]
            position = data.find(closing, position)
            if position < 0:
                return None
            position += len(closing)


# --- encodings and repair ------------------------------------------------------------------


def _declared_encoding(body: bytes) -> str | None:
    """The encoding named by the XML declaration at the start of ``body``, as written; None without one."""
    head = body[:_DECLARATION_MAX].lstrip()
    if not head.startswith(b"<?xml") or head[5:6] not in (b" ", b"\t", b"\r", b"\n"):
        return None
    end = head.find(b"?>")
    named = _ENCODING_PSEUDO_ATTRIBUTE.search(head, 0, end if end >= 0 else len(head))
    return named[1].decode("ascii") if named else None


def _decode(body: bytes) -> tuple[str, bool]:
    """The page's text, and whether the encoding it declares was refused.

    A byte order mark decides first (as XML says). Then the declared encoding, if Python knows it
    as a text encoding for documents and it decodes the page: ``hex``, ``base64``, ``zlib``,
    ``rot13``, ``idna``, ``punycode`` and the like are refused, and the page is read as UTF-8.
    Bytes that do not decode become U+FFFD.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace"), False
    declared = _declared_encoding(body)
    if declared is None:
        return body.decode("utf-8", errors="replace"), False
    try:
        codec = codecs.lookup(declared)
        if codec._is_text_encoding and codec.name not in _NOT_DOCUMENT_ENCODINGS:
            return body.decode(codec.name, errors="replace"), False
    except (LookupError, ValueError):  # unknown, or a codec that fails on these bytes (UnicodeError)
        pass
    return body.decode("utf-8", errors="replace"), True


def _without_declaration(text: str) -> str:
    """``text`` without a leading XML declaration: lxml refuses text that declares an encoding."""
    head = text[:_DECLARATION_MAX]
    start = len(head) - len(head.lstrip())
    if not text.startswith("<?xml", start) or text[start + 5:start + 6] not in (" ", "\t", "\r", "\n"):
        return text
    end = text.find("?>", start, start + _DECLARATION_MAX)
    return text if end < 0 else text[end + 2:]


def _repair(body: bytes) -> tuple[str, bool]:
    """Turn damaged page bytes into text that lxml can recover as much as possible from.

    Also says whether the declared encoding was refused (see :func:`_decode`).
    """
    text, encoding_refused = _decode(body)
    text = _without_declaration(text)
    text = _without_doctypes(text)[0]  # one the byte-level scan could not see, in UTF-16 say
    text = _CONTROL_CHARS.sub("", text)
    head, cdata_open, cdata = text.partition("<![CDATA[")
    if cdata_open:
        if "]]>" not in cdata:
            cdata += "]]>"  # cut off inside the body: keep what arrived
        body_html, close, rest = cdata.partition("]]>")
        text = _repair_markup(head) + cdata_open + body_html + close + _repair_markup(rest)
    else:
        text = _repair_markup(text)
    return text, encoding_refused


def _repair_markup(text: str) -> str:
    """Escape bare ``&``; a reference to a UTF-16 surrogate (``&#xD800;``) becomes U+FFFD.

    lxml's recovery turns a surrogate reference into bytes that are not UTF-8, and reading that
    text back raises: one such reference would cost the whole page.
    """
    def surrogate_to_replacement(match: re.Match) -> str:
        digits = match[1] or match[2]
        if len(digits.lstrip("0")) > 8:  # no character; and int() refuses 4,300 decimal digits
            return match[0]
        code = int(digits, 16 if match[1] else 10)
        return "\ufffd" if 0xD800 <= code <= 0xDFFF else match[0]

    return _BARE_AMPERSAND.sub("&amp;", _CHARACTER_REFERENCE.sub(surrogate_to_replacement, text))


class Page:
    """A fetched page, parsed once as XML; recovers what it can from damaged bytes."""

    FLAGS = ("recovered", "truncated", "doctype_removed", "encoding_refused")
    """What the caller may count: recovered in recovery mode, cut off before ``</html>``, a DOCTYPE cut
    out, the declared encoding refused (see :func:`_decode`)."""

    def __init__(self, body: bytes, url: str):
        self.url = url
        self.recovered = False
        self.truncated = False
        self.encoding_refused = False
        body, self.doctype_removed = _without_doctypes(body)
        self.root = self._parse(body)

    def _parse(self, body: bytes):
        try:
            return etree.fromstring(body, _STRICT_XML)
        except (etree.XMLSyntaxError, ValueError):
            pass
        self.recovered = True
        self.truncated = _is_truncated(body)
        text, self.encoding_refused = _repair(body)
        try:
            root = etree.fromstring(text, _RECOVERING_XML)
        except (etree.XMLSyntaxError, ValueError):
            root = None
        if root is None:
            # Not XML at all (an HTML listing, say): read it as HTML.
            try:
                root = etree.fromstring(text, _HTML)
            except (etree.LxmlError, ValueError):
                root = None
        return root

    @property
    def relative_path(self) -> str:
        """The site root the ``ul`` image paths are relative to (``html/@RelativePath``)."""
        if self.root is None:
            return "/"
        return self.root.get("RelativePath") or "/"

    @property
    def is_article(self) -> bool:
        """Looks like an article page: it has the article ``div`` with an ``h1`` slot or a ``meta/@id``."""
        if self.root is None:
            return False
        return _LOOKS_LIKE_ARTICLE(self.root)

    @property
    def stylesheet_url(self) -> str | None:
        """The absolute URL of the page's ``xml-stylesheet`` (the XSLT a browser renders it with)."""
        if self.root is None:
            return None
        for node in self.root.itersiblings(preceding=True):
            if isinstance(node, etree._ProcessingInstruction) and node.target == "xml-stylesheet":
                return safe_http_url(self.url, node.get("href"))
        return None

    def links(self) -> list[str]:
        """Every ``a/@href`` of the page as an absolute URL, in document order, each once."""
        if self.root is None:
            return []
        seen: dict[str, None] = {}
        for href in _ALL_LINKS(self.root):
            url = safe_http_url(self.url, href)
            if url is not None:
                seen.setdefault(url, None)
        return list(seen)

    def article(self, downloaded_at: datetime | None = None, url: str | None = None) -> dict:
        """The Article record; raises :class:`NotAnArticle` when there is no headline or no article URL.

        ``url`` is the article's own URL (default: the page's), which alone gives the record's
        ``articleId``, ``url`` and ``section.id`` (see :func:`article_identity`).
        """
        if self.root is None:
            raise NotAnArticle("not_xml", "the page is neither XML nor HTML")
        return _ArticleExtractor(self, url or self.url).record(downloaded_at or datetime.now(timezone.utc))

    def identity_conflicts(self, url: str | None = None) -> list[str]:
        """What the page says about its own identity that its URL (``url``, default the page's) does not.

        ``meta/@id`` naming another id, a ``site`` attribute naming another section, a
        ``RelativePath`` leading elsewhere than the site's root: each as ``"meta/@id '5554'"``.
        """
        identity = article_identity(url or self.url)
        if self.root is None or identity is None:
            return []
        conflicts = []
        meta_id = _META_ID(self.root).strip()
        if meta_id and _int_or_none(meta_id) != identity.article_id:
            conflicts.append(f"meta/@id {_shown(meta_id)}")
        site = self.root.get("site")
        if site is not None and site.strip() != identity.section_id:
            conflicts.append(f"site {_shown(site)}")
        relative_path = self.root.get("RelativePath")
        if relative_path is not None and safe_http_url(self.url, relative_path) != safe_http_url(self.url, "/"):
            conflicts.append(f"RelativePath {_shown(relative_path)}")
        return conflicts


def _shown(value: str, limit: int = 100) -> str:
    """A page's value for a log line: quoted, and cut short if long."""
    return repr(value[:limit] + "…" if len(value) > limit else value)


_XSL_NAMESPACE = "http://www.w3.org/1999/XSL/Transform"


def stylesheet_references(body: bytes, url: str) -> list[str]:
    """What an XSL stylesheet needs to render: imported and included stylesheets, and the
    stylesheets, scripts and images its output links to (static URLs only, absolute, each once)."""
    try:
        root = etree.fromstring(_without_doctypes(body)[0], _RECOVERING_XML)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    hrefs = root.xpath("//xsl:import/@href | //xsl:include/@href", namespaces={"xsl": _XSL_NAMESPACE})
    hrefs += root.xpath("//*[local-name()='link']/@href | //*[local-name()='script']/@src | //*[local-name()='img']/@src")
    urls = (safe_http_url(url, str(href)) for href in hrefs if "{" not in href)
    return list(dict.fromkeys(found for found in urls if found))


@dataclass(frozen=True)
class Listing:
    """The in-scope links of a page: article URLs by id (canonical), listing URLs (canonical)."""

    articles: dict[int, str]
    listings: list[str]


def parse_article(body: bytes, url: str, downloaded_at: datetime | None = None) -> dict:
    """An article page's bytes and URL → the Article record (a dict in schema field order)."""
    return Page(body, url).article(downloaded_at)


def parse_listing(body: bytes, url: str, section: Section) -> Listing:
    """Any page's bytes → the section's article and listing URLs it links to."""
    return links_in_scope(Page(body, url).links(), section)


def links_in_scope(urls: list[str], section: Section) -> Listing:
    """The section's article and listing URLs among ``urls``; a URL the section cannot read is not one of them."""
    articles: dict[int, str] = {}
    listings: dict[str, None] = {}
    for url in urls:
        try:
            article_id = section.article_id(url)
            listing = section.listing_url(url) if article_id is None else None
        except ValueError:  # a lone surrogate, say, that no URL can carry
            continue
        if article_id is not None:
            articles.setdefault(article_id, section.article_url(article_id))
        elif listing is not None:
            listings.setdefault(listing, None)
    return Listing(articles, list(listings))


def _text(node) -> str:
    return normalise_text(_STRING(node)) if node is not None else ""


def _own_text(node) -> str:
    """The element's own text, without its children's: an unclosed ``<h5>`` must not swallow the page."""
    if node is None:
        return ""
    return normalise_text((node.text or "") + "".join(child.tail or "" for child in node))


class _ArticleExtractor:
    def __init__(self, page: Page, article_url: str):
        self.page = page
        self.article_url = article_url
        self.root = page.root
        self.div = self.root.find("body/div")
        if self.div is None:
            self.div = self.root
        # The image list's paths are relative to the site root the page names; a root it cannot name is its URL's.
        self.site_root = safe_http_url(page.url, page.relative_path) or safe_http_url(page.url, "/") or page.url

    def record(self, downloaded_at: datetime) -> dict:
        headline = _own_text(self.div.find(".//h1"))
        if not headline:
            raise NotAnArticle("no_headline", f"no headline (h1) on {_shown(self.page.url)}")
        identity = article_identity(self.article_url)
        if identity is None:
            raise NotAnArticle("no_article_id", f"no article id in the URL {_shown(self.article_url)}")
        body = _Body(self._cdata_html(), self.page.url)
        date_published_raw = _own_text(self.div.find(".//h4")) or None
        date_created_raw = _own_text(self.div.find(".//b")) or None
        figures = body.figures
        breadcrumbs = self._breadcrumbs()
        list_images = self._list_images()
        images = list(dict.fromkeys(list_images + [f["url"] for f in figures]))
        main_image = list_images[0] if list_images else (figures[0]["url"] if figures else None)
        record = {
            "articleId": identity.article_id,
            "url": identity.url,
            "headline": headline,
            "alternativeHeadline": _own_text(self.div.find(".//h2")) or None,
            "datePublished": parse_site_date(date_published_raw) if date_published_raw else None,
            "datePublishedRaw": date_published_raw,
            "dateCreated": parse_site_date(date_created_raw) if date_created_raw else None,
            "dateCreatedRaw": date_created_raw,
            "authors": split_authors(_own_text(self.div.find(".//h5"))),
            "section": {"id": identity.section_id, "name": breadcrumbs[-1]["name"] or None if breadcrumbs else None},
            "breadcrumbs": breadcrumbs,
            "source": self._source(),
            "views": _int_or_none(_own_text(self.div.find(".//dd"))),
            "description": body.standfirst,
            "articleBody": body.text,
            "articleBodyHtml": body.html,
            "subheadings": body.subheadings,
            "figures": figures,
            "mainImage": {"url": main_image} if main_image else None,
            "images": [{"url": url} for url in images],
            "snapshot": None,
            "wordCount": body.word_count,
            "inLanguage": "en",
            "previousArticleId": self._neighbour("perv"),
            "nextArticleId": self._neighbour("next"),
            "dateDownloaded": downloaded_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "contentHash": content_hash(headline, body.text),
        }
        return {field: record[field] for field in ARTICLE_FIELDS}

    def _cdata_html(self) -> str:
        body_p = self.div.find(".//p")
        return body_p.text or "" if body_p is not None else ""

    def _breadcrumbs(self) -> list[dict]:
        """Root first; the page lists the current section first."""
        crumbs = [{"name": _text(a), "url": safe_http_url(self.page.url, a.get("href"))}
                  for a in self.root.findall("body/span/a")]
        return crumbs[::-1]

    def _source(self) -> dict | None:
        link = self.div.find(".//a")
        if link is None:
            return None
        name, url = _text(link) or None, safe_http_url(self.page.url, link.get("href"))
        return {"name": name, "url": url} if name or url else None

    def _list_images(self) -> list[str]:
        urls = (safe_http_url(self.site_root, _own_text(li)) for li in _IMAGE_LIST_ITEMS(self.div))
        return list(dict.fromkeys(url for url in urls if url))

    def _neighbour(self, link_id: str) -> int | None:
        url = safe_http_url(self.page.url, _LINK_BY_ID(self.root, id=link_id))
        return article_id_from_path(urlsplit(url).path) if url else None


def _int_or_none(text: str) -> int | None:
    """A count or id as the page writes it (``1,234``); None for anything else, 19 digits and more included."""
    text = text.replace(",", "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


# --- the body -----------------------------------------------------------------
#
# Made for speed: the body is most of the parser's cost, and the parser runs on every page fetched.
# The walk touches each element once, runs are plain tuples, a block is made only when text or
# an image arrives, and the output is built with lxml's C element factory.


class _Image(NamedTuple):
    src: str
    width: str | None
    height: str | None
    alt: str | None


# A run is a piece of inline text with the emphasis it is shown with: (text, (bold, italic, href)),
# plain tuples because one is made for every text node, and one emphasis is shared by many runs.


class _Block:
    """A paragraph-level piece of the body: its runs, images and alignment; ``text`` and ``words`` once walked."""

    __slots__ = ("centred", "heading", "runs", "images", "is_caption", "text", "words")

    def __init__(self, centred: bool, heading: bool):
        self.centred = centred
        self.heading = heading
        self.runs: list[tuple[str, tuple[bool, bool, str | None]]] = []
        self.images: list[_Image] = []
        self.is_caption = False
        self.text = ""
        self.words = 0

    def visible_runs(self) -> list[tuple[str, tuple[bool, bool, str | None]]]:
        return [run for run in self.runs if not run[0].isspace()]


def _style_flags(style: str) -> tuple[bool | None, bool | None, str | None]:
    """(bold, italic, text-align) that a ``style`` attribute sets, None where it is silent.

    The body repeats a few styles many times, so each distinct one is read once
    (``_cached_style_flags``), unless it is longer than ``STYLE_CACHE_KEY_MAX``: not kept.
    """
    declarations = {}
    for declaration in _CONTROL_CHARS.sub("", style).split(";"):
        name, _, value = declaration.partition(":")
        if value:
            declarations[name.strip().lower()] = value.strip().lower()
    weight, slant = declarations.get("font-weight"), declarations.get("font-style")
    return (
        None if weight is None else weight in ("bold", "bolder") or (_int_or_none(weight) or 0) >= 600,
        None if slant is None else slant in ("italic", "oblique"),
        declarations.get("text-align"),
    )


_cached_style_flags = lru_cache(maxsize=1024)(_style_flags)
STYLE_CACHE_KEY_MAX = 512


_PLAIN = (False, False, None)
_SILENT_STYLE = (None, None, None)
_EMPHASIS_TAGS = _HEADING_TAGS | {"b", "strong", "a"} | _ITALIC_TAGS

_C0_AND_DEL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_NONCHARACTER_UTF8 = re.compile(rb"\xef\xbf[\xbe\xbf]")


def _holds_control_chars(element) -> bool:
    """Whether the text under ``element`` holds a character ``_CONTROL_CHARS`` removes."""
    return _holds_control_bytes(etree.tostring(element, method="text", encoding="utf-8"))


def _holds_control_bytes(data: bytes) -> bool:
    """Whether UTF-8 ``data`` holds a character ``_CONTROL_CHARS`` removes.

    Checked on bytes, several times quicker than a regular expression over the text; the rare
    text that holds one is then scrubbed with the regular expression.
    """
    return (len(data.translate(None, _C0_AND_DEL)) != len(data) or _C1_UTF8.search(data) is not None
            or _NONCHARACTER_UTF8.search(data) is not None)


class _Body:
    """The CDATA body HTML, read into blocks and classified the way the site's styles mean it."""

    def __init__(self, html: str, page_url: str):
        self.page_url = page_url
        self.standfirst: str | None = None
        self.subheadings: list[str] = []
        self.figures: list[dict] = []
        self.word_count = 0
        texts: list[str] = []
        out = etree.Element("div")
        blocks = self._blocks(html)
        for index, block in enumerate(blocks):
            if block.is_caption:
                continue
            text = block.text
            if block.images and not text:
                caption_block = blocks[index + 1] if index + 1 < len(blocks) else None
                caption, credit = self._caption(caption_block)
                for image in block.images:
                    self.figures.append({"url": image.src, "caption": caption, "credit": credit})
                    self._figure_html(out, image, caption, credit)
                if caption or credit:
                    caption_block.is_caption = True  # not body text
                continue
            if not text:
                continue
            visible = block.visible_runs()
            all_bold = bool(visible) and all(emphasis[0] for _, emphasis in visible)
            all_italic = bool(visible) and all(emphasis[1] for _, emphasis in visible)
            if self.standfirst is None and not texts and all_bold and all_italic:
                self.standfirst = text
                _element(_element(_element(out, "p"), "strong"), "em").text = text
            elif block.heading or (all_bold and not all_italic and self._short(block)):
                self.subheadings.append(text)
                _element(out, "h2").text = text
            elif not any(emphasis != _PLAIN for _, emphasis in visible):
                _element(out, "p").text = text  # the usual paragraph: no emphasis, no link
            else:
                self._paragraph_html(out, block.runs)
            texts.append(text)
            self.word_count += block.words
            for image in block.images:
                self.figures.append({"url": image.src, "caption": None, "credit": None})
                self._figure_html(out, image, None, None)
        self.text = "\n\n".join(texts)
        self.html = _serialise(out)

    @staticmethod
    def _short(block: _Block) -> bool:
        return block.words <= SUBHEADING_MAX_WORDS and not _SENTENCE_END.search(block.text)

    def _blocks(self, html: str) -> list[_Block]:
        """Walk the body iteratively (deep nesting must not exhaust the stack) into blocks."""
        if not html or html.isspace():
            return []
        try:
            data = html.encode("utf-8")
            if _holds_control_bytes(data):  # raw ones: XML allows U+007F-U+009F, the markup must not see them
                data = _CONTROL_CHARS.sub("", html).encode("utf-8")
            root = etree.fromstring(data, _HTML_UTF8)
        except (etree.LxmlError, ValueError):
            return []
        container = root.find("body") if root is not None else None  # None: markup without one element
        if container is None:
            return []
        # Character references (&#x1b;) make them again: text must not hold control characters.
        scrub = _CONTROL_CHARS.sub if _holds_control_chars(container) else None
        page_url = self.page_url
        blocks: list[_Block] = []
        block = None  # the block receiving runs; None: the next run or image opens one as `opening` says
        opening = (False, False)  # (centred, heading)
        state = ((False, False, None), False, False)  # ((bold, italic, href), centred, heading) in force
        stack = [state]  # the state inside each open element
        skip_depth = 0
        for event, element in etree.iterwalk(container, events=("start", "end")):
            if event == "start":
                tag = element.tag
                if skip_depth or tag in _SKIPPED_TAGS or tag.__class__ is not str:
                    skip_depth += 1
                    continue
                emphasis, centred, heading = state
                style = element.get("style")
                if not style:
                    weight, slant, align = _SILENT_STYLE
                elif len(style) <= STYLE_CACHE_KEY_MAX:
                    weight, slant, align = _cached_style_flags(style)
                else:
                    weight, slant, align = _style_flags(style)
                if weight is not None or slant is not None or tag in _EMPHASIS_TAGS:
                    bold, italic, href = emphasis
                    if weight is not None:
                        bold = weight
                    if slant is not None:
                        italic = slant
                    if tag in _BOLD_TAGS:
                        bold = True
                    elif tag in _ITALIC_TAGS:
                        italic = True
                    elif tag == "a":
                        href = safe_http_url(page_url, element.get("href"))
                    emphasis = (bold, italic, href)
                if tag in _BLOCK_TAGS:
                    centred = (align == "center" if align is not None else centred) or (
                        (element.get("align") or "").lower() == "center"
                    )
                    heading = tag in _HEADING_TAGS
                    block = None
                    opening = (centred, heading)
                    state = (emphasis, centred, heading)
                elif emphasis is not state[0]:
                    state = (emphasis, centred, heading)
                stack.append(state)
                if tag == "img":
                    src = safe_http_url(page_url, element.get("src"))
                    if src:
                        if block is None:
                            block = _Block(*opening)
                            blocks.append(block)
                        block.images.append(_Image(src, _dimension(element.get("width")),
                                                   _dimension(element.get("height")),
                                                   normalise_text(element.get("alt")) or None))
                elif tag == "br":
                    if block is None:
                        block = _Block(*opening)
                        blocks.append(block)
                    block.runs.append((" ", emphasis))
                text = element.text
            else:
                if skip_depth:
                    skip_depth -= 1
                    if skip_depth:
                        continue
                else:
                    stack.pop()
                    state = stack[-1]
                    if element.tag in _BLOCK_TAGS:
                        block = None
                        opening = state[1:]
                text = element.tail
            if text:
                if block is None:
                    block = _Block(*opening)
                    blocks.append(block)
                block.runs.append((scrub("", text) if scrub else text, state[0]))
        for block in blocks:
            words = "".join([run[0] for run in block.runs]).split()
            block.text = " ".join(words)
            block.words = len(words)
        return blocks

    @staticmethod
    def _caption(block: _Block | None) -> tuple[str | None, str | None]:
        """The centred paragraph after a figure is its caption; a trailing italic part is the credit."""
        if block is None or not block.centred or block.images or not block.text:
            return None, None
        runs = block.visible_runs()
        split = len(runs)
        while split > 0 and runs[split - 1][1][1]:
            split -= 1
        if split == 0:  # wholly italic: a caption, not a credit
            return block.text, None
        caption = _squash("".join(run[0] for run in runs[:split]))
        credit = _squash(" ".join(run[0] for run in runs[split:])) or None
        return caption or None, credit

    @staticmethod
    def _figure_html(out, image: _Image, caption: str | None, credit: str | None) -> None:
        figure = _element(out, "figure")
        attributes = {"src": image.src}
        for name in ("width", "height", "alt"):
            if getattr(image, name):
                attributes[name] = getattr(image, name)
        _element(figure, "img", attributes)
        if caption or credit:
            figcaption = _element(figure, "figcaption")
            figcaption.text = caption or ""
            if credit:
                if caption:
                    figcaption.text += " "
                _element(figcaption, "em").text = credit

    @staticmethod
    def _paragraph_html(out, runs: list[tuple[str, tuple[bool, bool, str | None]]]) -> None:
        """A ``p`` with ``strong``/``em``/``a`` where the emphasis or link covers real text."""
        paragraph = _element(out, "p")
        segments: list[list] = []  # [text, bold, italic, href]
        for text, emphasis in runs:
            key = emphasis if not text.isspace() else None
            if segments and (key is None or tuple(segments[-1][1:]) == key):
                segments[-1][0] += text
            else:
                segments.append([text, *(key or (False, False, None))])
        last = None
        for index, (text, bold, italic, href) in enumerate(segments):
            text = (" " if text[:1].isspace() else "") + _squash(text) + (" " if text[-1:].isspace() else "")
            if index == 0 or (last is not None and last.endswith(" ")):
                text = text.lstrip()
            if index == len(segments) - 1:
                text = text.rstrip()
            if not text:
                continue
            last = text
            if not (bold or italic or href):
                _append_text(paragraph, text)
                continue
            core = text.strip()
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
            if lead:
                _append_text(paragraph, lead)
            node = outer = None
            for tag, applies in (("strong", bold), ("em", italic), ("a", href)):
                if applies:
                    node = _element(node if node is not None else paragraph, tag)
                    outer = node if outer is None else outer
            if href:
                node.set("href", href)
            node.text = core
            outer.tail = trail or None


_element = etree.SubElement


def _append_text(parent, text: str) -> None:
    """Text after ``parent``'s last child, or inside it when it has none."""
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _serialise(wrapper) -> str:
    """The wrapper's children as HTML, one per line, in one serialiser call."""
    if not len(wrapper):
        return ""
    for element in wrapper[:-1]:
        element.tail = "\n"
    html = etree.tostring(wrapper, method="html", encoding="unicode")
    return html[len("<div>"):-len("</div>")]


def _dimension(value: str | None) -> str | None:
    value = _CONTROL_CHARS.sub("", value).strip() if value else ""
    return value if value.isdecimal() else None
