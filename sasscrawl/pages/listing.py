"""The listing page: the section's article and listing links a page holds, as fields.

Any page is read as one (the listing layout is unknown): the start page, its pagination, and
every article page, whose perv/next and new/hot links lead on.
"""

from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

from sasscrawl.pages.document import Document
from sasscrawl.section import Section


class ScopedLinks(NamedTuple):
    """The in-scope links among some URLs: article URLs by id (canonical), listing URLs (canonical)."""

    articles: dict[int, str]
    listings: list[str]


class ListingPage:
    """The links of ``document`` inside ``section`` (the crawl's, from its start URL), by kind."""

    def __init__(self, document: Document, section: Section):
        self.document = document
        self.section = section

    def to_item(self) -> dict:
        return {"articles": self.articles(), "listings": self.listings()}

    def articles(self) -> dict[int, str]:
        """The section's articles linked, by id, each at the section's URL for it, in link order."""
        return self._in_scope.articles

    def listings(self) -> list[str]:
        """The section's other pages linked (pagination, the section's own default page), canonical, in link order."""
        return self._in_scope.listings

    @cached_property
    def _in_scope(self) -> ScopedLinks:
        return links_in_scope(self.document.links(), self.section)


def links_in_scope(urls: list[str], section: Section) -> ScopedLinks:
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
    return ScopedLinks(articles, list(listings))
