"""Which text a page's bytes are, when the page needs repair: byte order mark, declaration, UTF-8."""

import codecs
from datetime import datetime, timezone

import pytest

from page_fixtures import article_xml
from sasscrawl.pages.article import ArticlePage, parse_article
from sasscrawl.pages.document import Document

DOWNLOADED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


@pytest.mark.parametrize("encoding", ["gbk", "gb2312"])
def test_declared_chinese_encodings(encoding):
    text = article_xml(headline="上海社会科学院 Commentary", body="<p>社会科学</p>",
                       declaration=f'<?xml version="1.0" encoding="{encoding}"?>')
    record = parse_article(text.encode(encoding), "http://x.test/103002/7.aspx")
    assert record["headline"] == "上海社会科学院 Commentary"
    assert record["articleBody"] == "社会科学"


@pytest.mark.parametrize("encoding", ["hex", "base64", "zlib", "rot13", "idna", "punycode", "uu", "bz2", "undefined"])
def test_a_declared_encoding_that_is_no_text_codec_is_refused(encoding):
    """The issue's minimal page: a non-text codec named on a page that needs repair raised LookupError or UnicodeError."""
    body = f'<?xml version="1.0" encoding="{encoding}"?><html><body><div><h1>Tom & Jerry</h1></div></body></html>'
    document = Document(body.encode(), "http://x.test/103002/7.aspx")
    assert document.recovered and document.encoding_refused
    assert ArticlePage(document, downloaded_at=DOWNLOADED).to_item()["headline"] == "Tom & Jerry"


@pytest.mark.parametrize("body, declared", [
    (codecs.BOM_UTF16_LE + article_xml(headline="上海 & 社会").replace('"utf-8"', '"gbk"').encode("utf-16-le"), "a BOM"),
    (article_xml(headline="上海 & 社会").replace('"utf-8"', '"gbk"').encode("gbk"), "gbk"),
])
def test_a_page_needing_repair_is_read_in_its_bom_or_declared_text_encoding(body, declared):
    document = Document(body, "http://x.test/103002/7.aspx")
    assert document.recovered and not document.encoding_refused
    assert ArticlePage(document, downloaded_at=DOWNLOADED).to_item()["headline"] == "上海 & 社会", declared
