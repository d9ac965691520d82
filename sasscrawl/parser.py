"""Parse en.sass.cn pages: bytes and a URL in, plain data out.

No Scrapy here, so the parser can be tested on saved pages, reused by offline
re-extraction and benchmarked on its own. A page is an XML document (styled by
client-side XSLT) whose article body is Word-style HTML inside a CDATA section:
it is parsed once as XML, and the body a second time with ``lxml.html``.

Hostile or damaged input is handled here, once, for every caller:

* a DOCTYPE is removed before parsing and the parser never loads DTDs, resolves
  entities or touches the network, so XXE and entity-expansion bombs are inert;
* malformed XML (a bare ``&``, unclosed tags, invalid bytes, a page cut off
  inside the CDATA body) is repaired and parsed in recovery mode, and the
  :class:`Page` says so (``recovered``, ``truncated``) for the caller to count;
* the body HTML is rebuilt from what was read, never copied, so only a small
  set of tags and safe ``http(s)`` URLs can reach ``articleBodyHtml``.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.html import builder as E

from sasscrawl.schemas import ARTICLE_FIELDS
from sasscrawl.section import Section, article_id_from_url

SITE_TZ = timezone(timedelta(hours=8))
"""The site publishes Beijing time without an offset."""

DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d")

_XML_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)
_STRICT_XML = etree.XMLParser(**_XML_PARSER_OPTIONS)
_RECOVERING_XML = etree.XMLParser(recover=True, **_XML_PARSER_OPTIONS)
_HTML = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)

_DOCTYPE = re.compile(rb"<!DOCTYPE(?:[^\[>]|\[.*?\])*>", re.IGNORECASE | re.DOTALL)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_BARE_AMPERSAND = re.compile(r"&(?!(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9._-]*);)")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_WHITESPACE = re.compile(r"\s+")
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


class NotAnArticle(ValueError):
    """The page cannot give an article record; ``reason`` is a short stats-friendly code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def normalise_text(text: str | None) -> str:
    """Collapse whitespace (``&nbsp;`` included) and drop control characters."""
    if not text:
        return ""
    return _WHITESPACE.sub(" ", _CONTROL_CHARS.sub("", text.replace("\xa0", " "))).strip()


def parse_site_date(raw: str) -> str | None:
    """``2026-01-30 12:00`` → ``2026-01-30T12:00:00+08:00``; None when unparseable."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=SITE_TZ).isoformat()
        except ValueError:
            continue
    return None


def split_authors(raw: str) -> list[dict]:
    """The h5 byline as ``[{name, nameRaw}]``; ALL-CAPS names are title-cased."""
    authors = []
    for piece in _AUTHOR_SEPARATORS.split(raw):
        name_raw = normalise_text(piece)
        if name_raw:
            authors.append({"name": name_raw.title() if name_raw.isupper() else name_raw, "nameRaw": name_raw})
    return authors


def content_hash(headline: str, body: str) -> str:
    """What decides whether an article changed: its text, nothing volatile."""
    return hashlib.sha256(f"{normalise_text(headline)}\n{body}".encode("utf-8")).hexdigest()


def safe_http_url(base: str, href: str | None) -> str | None:
    """``href`` made absolute, if it is an http(s) URL; ``javascript:``, ``data:`` and the like give None."""
    href = (href or "").strip()
    if not href:
        return None
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def _is_truncated(body: bytes) -> bool:
    return re.search(rb"</html>\s*$", body[-64:]) is None


def _repair(body: bytes) -> str:
    """Turn damaged page bytes into text that lxml can recover as much as possible from."""
    declared = _DECLARED_ENCODING.match(body)
    encoding = "utf-8"
    if declared:
        try:
            encoding = codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            pass
    text = body.decode(encoding, errors="replace")
    text = _XML_DECLARATION.sub("", text, count=1)
    text = _CONTROL_CHARS.sub("", text)
    head, cdata_open, cdata = text.partition("<![CDATA[")
    if cdata_open:
        if "]]>" not in cdata:
            cdata += "]]>"  # cut off inside the body: keep what arrived
        body_html, close, rest = cdata.partition("]]>")
        text = _BARE_AMPERSAND.sub("&amp;", head) + cdata_open + body_html + close + _BARE_AMPERSAND.sub("&amp;", rest)
    else:
        text = _BARE_AMPERSAND.sub("&amp;", text)
    return text


class Page:
    """A fetched page, parsed once as XML; recovers what it can from damaged bytes."""

    def __init__(self, body: bytes, url: str):
        self.url = url
        self.doctype_removed = False
        self.recovered = False
        self.truncated = False
        body, removed = _DOCTYPE.subn(b"", body)
        self.doctype_removed = removed > 0
        self.root = self._parse(body)

    def _parse(self, body: bytes):
        try:
            return etree.fromstring(body, _STRICT_XML)
        except (etree.XMLSyntaxError, ValueError):
            pass
        self.recovered = True
        self.truncated = _is_truncated(body)
        text = _repair(body)
        try:
            root = etree.fromstring(text, _RECOVERING_XML)
        except (etree.XMLSyntaxError, ValueError):
            root = None
        if root is None:
            # Not XML at all (an HTML listing, say): read it as HTML.
            try:
                root = lxml.html.document_fromstring(text, parser=_HTML)
            except (etree.ParserError, ValueError):
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
        return bool(self.root.xpath("boolean(body/div/h1 | head/meta[@id])"))

    def links(self) -> list[str]:
        """Every ``a/@href`` of the page as an absolute URL, in document order, each once."""
        if self.root is None:
            return []
        seen: dict[str, None] = {}
        for href in self.root.xpath("//*[local-name()='a']/@href"):
            url = safe_http_url(self.url, str(href))
            if url is not None:
                seen.setdefault(url, None)
        return list(seen)

    def article(self, downloaded_at: datetime | None = None) -> dict:
        """The Article record; raises :class:`NotAnArticle` when there is no headline."""
        if self.root is None:
            raise NotAnArticle("not_xml", "the page is neither XML nor HTML")
        return _ArticleExtractor(self).record(downloaded_at or datetime.now(timezone.utc))


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
    articles: dict[int, str] = {}
    listings: dict[str, None] = {}
    for url in urls:
        article_id = section.article_id(url)
        if article_id is not None:
            articles.setdefault(article_id, section.article_url(article_id))
            continue
        listing = section.listing_url(url)
        if listing is not None:
            listings.setdefault(listing, None)
    return Listing(articles, list(listings))


def _text(node) -> str:
    return normalise_text(node.xpath("string()")) if node is not None else ""


def _own_text(node) -> str:
    """The element's own text, without its children's: an unclosed ``<h5>`` must not swallow the page."""
    return normalise_text("".join(node.xpath("text()"))) if node is not None else ""


class _ArticleExtractor:
    def __init__(self, page: Page):
        self.page = page
        self.root = page.root
        self.div = self.root.find("body/div")
        if self.div is None:
            self.div = self.root
        self.site_root = urljoin(page.url, page.relative_path)

    def record(self, downloaded_at: datetime) -> dict:
        headline = _own_text(self.div.find(".//h1"))
        if not headline:
            raise NotAnArticle("no_headline", f"no headline (h1) on {self.page.url}")
        article_id = self._article_id()
        if article_id is None:
            raise NotAnArticle("no_article_id", f"no article id in meta/@id or the URL of {self.page.url}")
        section_id = self.root.get("site") or self.root.get("class") or _section_from_url(self.page.url)
        body = _Body(self._cdata_html(), self.page.url)
        date_published_raw = _own_text(self.div.find(".//h4")) or None
        date_created_raw = _own_text(self.div.find(".//b")) or None
        figures = body.figures
        list_images = self._list_images()
        images = list(dict.fromkeys(list_images + [f["url"] for f in figures]))
        main_image = list_images[0] if list_images else (figures[0]["url"] if figures else None)
        record = {
            "articleId": article_id,
            "url": urljoin(self.site_root, f"{section_id}/{article_id}.aspx"),
            "headline": headline,
            "alternativeHeadline": _own_text(self.div.find(".//h2")) or None,
            "datePublished": parse_site_date(date_published_raw) if date_published_raw else None,
            "datePublishedRaw": date_published_raw,
            "dateCreated": parse_site_date(date_created_raw) if date_created_raw else None,
            "dateCreatedRaw": date_created_raw,
            "authors": split_authors(_own_text(self.div.find(".//h5"))),
            "section": {"id": section_id, "name": self._section_name()},
            "breadcrumbs": self._breadcrumbs(),
            "source": self._source(),
            "views": _int_or_none(_own_text(self.div.find(".//dd"))),
            "description": body.standfirst,
            "articleBody": body.text,
            "articleBodyHtml": body.html,
            "subheadings": body.subheadings,
            "figures": figures,
            "mainImage": {"url": main_image} if main_image else None,
            "images": [{"url": url} for url in images],
            "wordCount": len(body.text.split()),
            "inLanguage": "en",
            "previousArticleId": self._neighbour("perv"),
            "nextArticleId": self._neighbour("next"),
            "dateDownloaded": downloaded_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "contentHash": content_hash(headline, body.text),
        }
        return {field: record[field] for field in ARTICLE_FIELDS}

    def _article_id(self) -> int | None:
        meta_id = _int_or_none(self.root.xpath("string(head/meta/@id)").strip())
        return meta_id if meta_id else article_id_from_url(self.page.url)

    def _cdata_html(self) -> str:
        body_p = self.div.find(".//p")
        return body_p.text or "" if body_p is not None else ""

    def _crumb_links(self):
        return self.root.findall("body/span/a")

    def _section_name(self) -> str | None:
        crumbs = self._crumb_links()
        return _text(crumbs[0]) or None if crumbs else None

    def _breadcrumbs(self) -> list[dict]:
        crumbs = [{"name": _text(a), "url": safe_http_url(self.page.url, a.get("href"))} for a in self._crumb_links()]
        return crumbs[::-1]

    def _source(self) -> dict | None:
        link = self.div.find(".//a")
        if link is None:
            return None
        name, url = _text(link) or None, safe_http_url(self.page.url, link.get("href"))
        return {"name": name, "url": url} if name or url else None

    def _list_images(self) -> list[str]:
        urls = (safe_http_url(self.site_root, _own_text(li)) for li in self.div.xpath(".//ul[not(@id)]/li"))
        return list(dict.fromkeys(url for url in urls if url))

    def _neighbour(self, link_id: str) -> int | None:
        href = self.root.xpath(f"string(//a[@id='{link_id}']/@href)")
        return article_id_from_url(urljoin(self.page.url, href)) if href else None


def _section_from_url(url: str) -> str:
    """The folder an article URL sits in: ``/103002/5554.aspx`` → ``103002``."""
    folders = urlsplit(url).path.split("/")[1:-1]
    return folders[-1] if folders else ""


def _int_or_none(text: str) -> int | None:
    text = text.replace(",", "").strip()
    return int(text) if text.isdigit() else None


# --- the body -----------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """A piece of inline text with the emphasis it is shown with."""

    text: str
    bold: bool
    italic: bool
    href: str | None


@dataclass(frozen=True)
class _Image:
    src: str
    width: str | None
    height: str | None
    alt: str | None


@dataclass
class _Block:
    """A paragraph-level piece of the body: its runs, images and alignment."""

    items: list
    centred: bool
    heading: bool

    @property
    def runs(self) -> list[_Run]:
        return [item for item in self.items if isinstance(item, _Run)]

    @property
    def images(self) -> list[_Image]:
        return [item for item in self.items if isinstance(item, _Image)]

    @property
    def text(self) -> str:
        return normalise_text("".join(run.text for run in self.runs))

    def visible_runs(self) -> list[_Run]:
        return [run for run in self.runs if normalise_text(run.text)]


def _style_of(element) -> dict[str, str]:
    declarations = {}
    for declaration in (element.get("style") or "").split(";"):
        name, _, value = declaration.partition(":")
        if value:
            declarations[name.strip().lower()] = value.strip().lower()
    return declarations


def _weight_is_bold(value: str) -> bool:
    return value in ("bold", "bolder") or (value.isdigit() and int(value) >= 600)


class _Body:
    """The CDATA body HTML, read into blocks and classified the way the site's styles mean it."""

    def __init__(self, html: str, page_url: str):
        self.page_url = page_url
        self.standfirst: str | None = None
        self.subheadings: list[str] = []
        self.figures: list[dict] = []
        texts: list[str] = []
        out: list = []
        blocks = self._blocks(html)
        for index, block in enumerate(blocks):
            text = block.text
            if block.images and not text:
                caption_block = blocks[index + 1] if index + 1 < len(blocks) else None
                caption, credit = self._caption(caption_block)
                for image in block.images:
                    self.figures.append({"url": image.src, "caption": caption, "credit": credit})
                    out.append(self._figure_html(image, caption, credit))
                if caption or credit:
                    caption_block.items = []  # consumed: not body text
                continue
            if not text:
                continue
            visible = block.visible_runs()
            all_bold = bool(visible) and all(run.bold for run in visible)
            all_italic = bool(visible) and all(run.italic for run in visible)
            if self.standfirst is None and not texts and all_bold and all_italic:
                self.standfirst = text
                out.append(E.P(E.STRONG(E.EM(text))))
            elif block.heading or (all_bold and not all_italic and self._short(text)):
                self.subheadings.append(text)
                out.append(E.H2(text))
            else:
                out.append(self._paragraph_html(block.runs))
            texts.append(text)
            for image in block.images:
                self.figures.append({"url": image.src, "caption": None, "credit": None})
                out.append(self._figure_html(image, None, None))
        self.text = "\n\n".join(texts)
        self.html = "\n".join(lxml.html.tostring(element, encoding="unicode") for element in out)

    @staticmethod
    def _short(text: str) -> bool:
        return len(text.split()) <= SUBHEADING_MAX_WORDS and not _SENTENCE_END.search(text)

    def _blocks(self, html: str) -> list[_Block]:
        """Walk the body iteratively (deep nesting must not exhaust the stack) into blocks."""
        html = _CONTROL_CHARS.sub("", html)
        if not html.strip():
            return []
        try:
            root = lxml.html.document_fromstring(html, parser=_HTML)
        except (etree.ParserError, ValueError):
            return []
        container = root.find("body")
        if container is None:
            return []
        blocks: list[_Block] = [_Block([], False, False)]
        # Each stack entry: (bold, italic, href, centred, heading) in force inside an element.
        stack: list[tuple] = [(False, False, None, False, False)]
        skip_depth = 0
        for event, element in etree.iterwalk(container, events=("start", "end")):
            tag = element.tag if isinstance(element.tag, str) else None
            if event == "start":
                if skip_depth or tag is None or tag in _SKIPPED_TAGS:
                    skip_depth += 1
                    continue
                bold, italic, href, centred, heading = stack[-1]
                style = _style_of(element)
                if "font-weight" in style:
                    bold = _weight_is_bold(style["font-weight"])
                if "font-style" in style:
                    italic = style["font-style"] in ("italic", "oblique")
                if tag in ("b", "strong") or tag in _HEADING_TAGS:
                    bold = True
                if tag in ("i", "em", "cite"):
                    italic = True
                if tag == "a":
                    href = safe_http_url(self.page_url, element.get("href"))
                if tag in _BLOCK_TAGS:
                    centred = style.get("text-align", "center" if centred else "") == "center" or (
                        (element.get("align") or "").lower() == "center"
                    )
                    heading = tag in _HEADING_TAGS
                    blocks.append(_Block([], centred, heading))
                stack.append((bold, italic, href, centred, heading))
                if tag == "img":
                    src = safe_http_url(self.page_url, element.get("src"))
                    if src:
                        blocks[-1].items.append(_Image(src, _dimension(element.get("width")),
                                                       _dimension(element.get("height")),
                                                       normalise_text(element.get("alt")) or None))
                elif tag == "br":
                    blocks[-1].items.append(_Run(" ", bold, italic, href))
                if element.text:
                    blocks[-1].items.append(_Run(element.text, bold, italic, href))
            else:
                if skip_depth:
                    skip_depth -= 1
                else:
                    stack.pop()
                    if tag in _BLOCK_TAGS:
                        parent = stack[-1]
                        blocks.append(_Block([], parent[3], parent[4]))
                if element.tail and not skip_depth:
                    bold, italic, href, _, _ = stack[-1]
                    blocks[-1].items.append(_Run(element.tail, bold, italic, href))
        return [block for block in blocks if block.items]

    @staticmethod
    def _caption(block: _Block | None) -> tuple[str | None, str | None]:
        """The centred paragraph after a figure is its caption; a trailing italic part is the credit."""
        if block is None or not block.centred or block.images or not block.text:
            return None, None
        runs = block.visible_runs()
        split = len(runs)
        while split > 0 and runs[split - 1].italic:
            split -= 1
        if split == 0:  # wholly italic: a caption, not a credit
            return block.text, None
        caption = normalise_text("".join(run.text for run in runs[:split]))
        credit = normalise_text(" ".join(run.text for run in runs[split:])) or None
        return caption or None, credit

    @staticmethod
    def _figure_html(image: _Image, caption: str | None, credit: str | None):
        attributes = {"src": image.src}
        for name in ("width", "height", "alt"):
            if getattr(image, name):
                attributes[name] = getattr(image, name)
        parts = [E.IMG(**attributes)]
        if caption or credit:
            figcaption = E.FIGCAPTION(caption or "")
            if credit:
                if caption:
                    figcaption.text += " "
                figcaption.append(E.EM(credit))
            parts.append(figcaption)
        return E.FIGURE(*parts)

    @staticmethod
    def _paragraph_html(runs: list[_Run]):
        """A ``p`` with ``strong``/``em``/``a`` where the emphasis or link covers real text."""
        paragraph = E.P()
        segments: list[list] = []  # [text, bold, italic, href]
        for run in runs:
            text = _CONTROL_CHARS.sub("", run.text.replace("\xa0", " "))
            key = (run.bold, run.italic, run.href) if text.strip() else None
            if segments and (key is None or segments[-1][1:] == list(key)):
                segments[-1][0] += text
            else:
                segments.append([text, *(key or (False, False, None))])
        last = None
        for index, (text, bold, italic, href) in enumerate(segments):
            text = _WHITESPACE.sub(" ", text)
            if index == 0 or (last is not None and last.endswith(" ")):
                text = text.lstrip()
            if index == len(segments) - 1:
                text = text.rstrip()
            if not text:
                continue
            last = text
            if not (bold or italic or href):
                if len(paragraph):
                    paragraph[-1].tail = (paragraph[-1].tail or "") + text
                else:
                    paragraph.text = (paragraph.text or "") + text
                continue
            core = text.strip()
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
            node = E.A(core, href=href) if href else None
            if italic:
                node = E.EM(node) if node is not None else E.EM(core)
            if bold:
                node = E.STRONG(node) if node is not None else E.STRONG(core)
            if lead:
                if len(paragraph):
                    paragraph[-1].tail = (paragraph[-1].tail or "") + lead
                else:
                    paragraph.text = (paragraph.text or "") + lead
            node.tail = trail or None
            paragraph.append(node)
        return paragraph


def _dimension(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if value.isdigit() else None
