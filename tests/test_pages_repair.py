"""Damaged pages are repaired and recovered, and say so."""

from datetime import datetime, timezone

from page_fixtures import article_xml
from sasscrawl.pages.article import ArticlePage
from sasscrawl.pages.document import Document

DOWNLOADED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


def test_bare_ampersand_and_unclosed_tag_are_recovered():
    document = Document(article_xml(headline="Tom & Jerry", extra="<dd>12").encode(), "http://x.test/103002/7.aspx")
    assert document.recovered
    record = ArticlePage(document, downloaded_at=DOWNLOADED).to_item()
    assert record["headline"] == "Tom & Jerry"
    assert record["views"] == 12
