"""The article page: one method per field of the Article record, the record assembled from them.

The fields are named after the schema's (``datePublished`` → :meth:`ArticlePage.date_published`)
and :meth:`ArticlePage.to_item` calls them in the schema's order
(``sasscrawl.schemas.ARTICLE_FIELDS``), so a new field is a schema property and a method of the
same name in snake case. What several fields share (the body, the identity, the breadcrumb, the image list) is
read once per page.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import cached_property
from urllib.parse import urlsplit

from lxml import etree

from sasscrawl.pages.body import Body
from sasscrawl.pages.document import Document
from sasscrawl.pages.text import content_hash, int_or_none, normalise_text, parse_site_date, shown, split_authors
from sasscrawl.pages.urls import safe_http_url
from sasscrawl.schemas import ARTICLE_FIELDS
from sasscrawl.section import ArticleIdentity, article_id_from_path, article_identity

_STRING = etree.XPath("string()")
_META_ID = etree.XPath("string(head/meta/@id)")
_IMAGE_LIST_ITEMS = etree.XPath(".//ul[not(@id)]/li")
_NEIGHBOUR_LINKS = etree.XPath("//a[@id='perv' or @id='next'][@href]")


class NotAnArticle(ValueError):
    """The page cannot give an article record; ``reason`` is a short stats-friendly code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _method_name(field: str) -> str:
    """``articleBodyHtml`` → ``article_body_html``."""
    return re.sub(r"[A-Z]", lambda capital: "_" + capital[0].lower(), field)


FIELD_METHODS: tuple[tuple[str, str], ...] = tuple((field, _method_name(field)) for field in ARTICLE_FIELDS)
"""Each record field and the :class:`ArticlePage` method that reads it, in the schema's order."""


def _text(node) -> str:
    return normalise_text(_STRING(node)) if node is not None else ""


def _own_text(node) -> str:
    """The element's own text, without its children's: an unclosed ``<h5>`` must not swallow the page."""
    if node is None:
        return ""
    return normalise_text((node.text or "") + "".join(child.tail or "" for child in node))


class ArticlePage:
    """An article page's record, field by field.

    ``article_url`` is the article's own URL (default: the document's), which alone gives the
    record's ``articleId``, ``url`` and ``section.id`` (see :func:`sasscrawl.section.article_identity`):
    the crawl passes the URL it asked for, so a redirect or a page claiming another id cannot move a
    record. ``downloaded_at`` is the fetch time (default: now).
    """

    def __init__(self, document: Document, article_url: str | None = None, downloaded_at: datetime | None = None):
        self.document = document
        self.article_url = article_url or document.url
        self.downloaded_at = downloaded_at or datetime.now(timezone.utc)

    def to_item(self) -> dict:
        """The Article record (a dict in schema field order); raises :class:`NotAnArticle` when the page
        is unreadable, has no headline, or its URL names no article."""
        if self.document.root is None:
            raise NotAnArticle("not_xml", "the page is neither XML nor HTML")
        if not self._headline:
            raise NotAnArticle("no_headline", f"no headline (h1) on {shown(self.document.url)}")
        if self._identity is None:
            raise NotAnArticle("no_article_id", f"no article id in the URL {shown(self.article_url)}")
        return {field: getattr(self, method)() for field, method in FIELD_METHODS}

    def identity_conflicts(self) -> list[str]:
        """What the page says about its own identity that its article URL does not.

        ``meta/@id`` naming another id, a ``site`` attribute naming another section, a
        ``RelativePath`` leading elsewhere than the site's root: each as ``"meta/@id '5554'"``.
        """
        identity, root, url = self._identity, self.document.root, self.document.url
        if root is None or identity is None:
            return []
        conflicts = []
        meta_id = _META_ID(root).strip()
        if meta_id and int_or_none(meta_id) != identity.article_id:
            conflicts.append(f"meta/@id {shown(meta_id)}")
        site = root.get("site")
        if site is not None and site.strip() != identity.section_id:
            conflicts.append(f"site {shown(site)}")
        relative_path = root.get("RelativePath")
        if relative_path is not None and safe_http_url(url, relative_path) != safe_http_url(url, "/"):
            conflicts.append(f"RelativePath {shown(relative_path)}")
        return conflicts

    # --- the fields, in the schema's order ---------------------------------------------------

    def article_id(self) -> int:
        return self._identity.article_id

    def url(self) -> str:
        """The section's spelling of the article URL: no query, no fragment."""
        return self._identity.url

    def headline(self) -> str:
        return self._headline

    def alternative_headline(self) -> str | None:
        return _own_text(self._div.find(".//h2")) or None

    def date_published(self) -> str | None:
        raw = self._date_published_raw
        return parse_site_date(raw) if raw else None

    def date_published_raw(self) -> str | None:
        return self._date_published_raw

    def date_created(self) -> str | None:
        raw = self._date_created_raw
        return parse_site_date(raw) if raw else None

    def date_created_raw(self) -> str | None:
        """When the article was put on the site (the ``b`` after the body)."""
        return self._date_created_raw

    def authors(self) -> list[dict]:
        return split_authors(_own_text(self._div.find(".//h5")))

    def section(self) -> dict:
        """The id from the URL; the name from the breadcrumb's last entry."""
        breadcrumbs = self._breadcrumbs
        return {"id": self._identity.section_id, "name": breadcrumbs[-1]["name"] or None if breadcrumbs else None}

    def breadcrumbs(self) -> list[dict]:
        return self._breadcrumbs

    def source(self) -> dict | None:
        """The original publication: the first link of the article ``div``."""
        link = self._div.find(".//a")
        if link is None:
            return None
        name, url = _text(link) or None, safe_http_url(self.document.url, link.get("href"))
        return {"name": name, "url": url} if name or url else None

    def views(self) -> int | None:
        return int_or_none(_own_text(self._div.find(".//dd")))

    def description(self) -> str | None:
        """The standfirst: a first body paragraph all bold and italic."""
        return self._body.standfirst

    def article_body(self) -> str:
        return self._body.text

    def article_body_html(self) -> str:
        return self._body.html

    def subheadings(self) -> list[str]:
        return self._body.subheadings

    def figures(self) -> list[dict]:
        return self._body.figures

    def main_image(self) -> dict | None:
        """The image list's first entry, else the body's first figure."""
        list_images, figures = self._list_images, self._body.figures
        main_image = list_images[0] if list_images else (figures[0]["url"] if figures else None)
        return {"url": main_image} if main_image else None

    def images(self) -> list[dict]:
        """The image list's and the figures' images, each once, in that order."""
        urls = dict.fromkeys(self._list_images + [figure["url"] for figure in self._body.figures])
        return [{"url": url} for url in urls]

    def snapshot(self) -> None:
        """Filled in by the crawl when it renders the page (Splash), or keeps an earlier snapshot."""
        return None

    def word_count(self) -> int:
        return self._body.word_count

    def in_language(self) -> str:
        return "en"

    def previous_article_id(self) -> int | None:
        return self._neighbour("perv")  # sic: the site spells it so

    def next_article_id(self) -> int | None:
        return self._neighbour("next")

    def date_downloaded(self) -> str:
        return self.downloaded_at.astimezone(timezone.utc).isoformat(timespec="seconds")

    def content_hash(self) -> str:
        return content_hash(self._headline, self._body.text)

    # --- what several fields read ------------------------------------------------------------

    @cached_property
    def _headline(self) -> str:
        return _own_text(self._div.find(".//h1"))

    @cached_property
    def _date_published_raw(self) -> str | None:
        return _own_text(self._div.find(".//h4")) or None

    @cached_property
    def _date_created_raw(self) -> str | None:
        return _own_text(self._div.find(".//b")) or None

    @cached_property
    def _identity(self) -> ArticleIdentity | None:
        return article_identity(self.article_url)

    @cached_property
    def _div(self):
        """The article ``div``; the whole page when there is none."""
        div = self.document.root.find("body/div")
        return self.document.root if div is None else div

    @cached_property
    def _body(self) -> Body:
        body_p = self._div.find(".//p")
        return Body(body_p.text or "" if body_p is not None else "", self.document.url)

    @cached_property
    def _breadcrumbs(self) -> list[dict]:
        """Root first; the page lists the current section first."""
        url = self.document.url
        crumbs = [{"name": _text(a), "url": safe_http_url(url, a.get("href"))}
                  for a in self.document.root.findall("body/span/a")]
        return crumbs[::-1]

    @cached_property
    def _list_images(self) -> list[str]:
        """The ``ul`` image list, relative to the site root the page names; a root it cannot name is its URL's."""
        url = self.document.url
        site_root = safe_http_url(url, self.document.relative_path) or safe_http_url(url, "/") or url
        urls = (safe_http_url(site_root, _own_text(li)) for li in _IMAGE_LIST_ITEMS(self._div))
        return list(dict.fromkeys(url for url in urls if url))

    @cached_property
    def _neighbour_hrefs(self) -> dict[str, str]:
        """The ``href`` of the first ``perv`` and of the first ``next`` link that has one: one pass over the page."""
        hrefs: dict[str, str] = {}
        for link in _NEIGHBOUR_LINKS(self.document.root):
            hrefs.setdefault(link.get("id"), link.get("href"))
        return hrefs

    def _neighbour(self, link_id: str) -> int | None:
        url = safe_http_url(self.document.url, self._neighbour_hrefs.get(link_id))
        return article_id_from_path(urlsplit(url).path) if url else None


def parse_article(body: bytes, url: str, downloaded_at: datetime | None = None) -> dict:
    """An article page's bytes and URL → the Article record (a dict in schema field order)."""
    return ArticlePage(Document(body, url), downloaded_at=downloaded_at).to_item()
