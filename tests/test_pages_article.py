"""The article page: identity from the URL alone, what is not an article, and the record's checks."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from page_fixtures import all_fixtures, article_xml
from sasscrawl.pages.article import ArticlePage, NotAnArticle, parse_article
from sasscrawl.pages.document import Document
from sasscrawl.pages.urls import safe_http_url
from sasscrawl.schemas import article_errors

FIXTURES = Path(__file__).parent / "fixtures"
REAL_PAGE = (FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes()
URL_5554 = "http://en.sass.cn/103002/5554.aspx"
DOWNLOADED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


def test_every_saved_article_gives_a_valid_record():
    records = [fixture.expected_output for fixture in all_fixtures()
               if fixture.page_class is ArticlePage and not fixture.raises]
    assert len(records) > 20 and all(article_errors(record) == [] for record in records)


def test_the_content_hash_is_the_text_not_the_views_or_the_download_time():
    record = parse_article(REAL_PAGE, URL_5554, DOWNLOADED)
    again = parse_article(REAL_PAGE.replace(b"<dd>92</dd>", b"<dd>93</dd>"), URL_5554)
    assert (again["views"], record["views"]) == (93, 92)
    assert again["contentHash"] == record["contentHash"] and len(record["contentHash"]) == 64
    edited = parse_article(REAL_PAGE.replace(b"Creating Synergy", b"Creating Energy"), URL_5554, DOWNLOADED)
    assert edited["contentHash"] != record["contentHash"]


def test_no_headline_is_not_an_article():
    with pytest.raises(NotAnArticle) as error:
        parse_article(article_xml(headline="").encode(), "http://x.test/103002/7.aspx")
    assert error.value.reason == "no_headline"


def test_a_page_neither_xml_nor_html_is_not_an_article():
    document = Document(b"", "http://x.test/103002/7.aspx")
    assert document.root is None
    with pytest.raises(NotAnArticle) as error:
        ArticlePage(document).to_item()
    assert error.value.reason == "not_xml"


def test_the_identity_of_an_article_is_its_urls_not_the_pages():
    """The issue's spoof: /103002/9999.aspx saying meta/@id 5554 and site http://evil.test/phish."""
    body = REAL_PAGE.replace(b'site="103002"', b'site="http://evil.test/phish"')
    document = Document(body, "http://en.sass.cn/103002/9999.aspx")
    page = ArticlePage(document, downloaded_at=DOWNLOADED)
    record = page.to_item()
    assert record["articleId"] == 9999 and record["url"] == "http://en.sass.cn/103002/9999.aspx"
    assert record["section"] == {"id": "103002", "name": "Commentary"}
    assert page.identity_conflicts() == ["meta/@id '5554'", "site 'http://evil.test/phish'"]
    asked_for = ArticlePage(document, URL_5554, DOWNLOADED)
    assert asked_for.to_item()["url"] == URL_5554 and asked_for.identity_conflicts() == ["site 'http://evil.test/phish'"]


@pytest.mark.parametrize("url", ["http://en.sass.cn/103002/default.aspx", "http://en.sass.cn/5554.aspx", "5554.aspx",
                                 "http://[x]/103002/5554.aspx", ""])
def test_a_url_that_names_no_article_gives_no_record(url):
    with pytest.raises(NotAnArticle) as error:
        parse_article(REAL_PAGE, url)
    assert error.value.reason == "no_article_id"


def test_the_real_pages_name_themselves_as_their_urls_do():
    """Nothing disagrees, nothing changes."""
    assert ArticlePage(Document(REAL_PAGE, URL_5554)).identity_conflicts() == []
    prefix = (FIXTURES / "en.sass.cn_103002_5553.aspx.prefix.xml").read_bytes()
    assert ArticlePage(Document(prefix, "http://en.sass.cn/103002/5553.aspx")).identity_conflicts() == []


@pytest.mark.parametrize("extra, body", [
    ("<dd>" + "1" * 5000 + "</dd>", "<p>Text.</p>"),
    ("", '<p style="font-weight:' + "9" * 5000 + '">Text.</p>'),
    ("<dd>&#" + "1" * 5000 + ";&</dd>", "<p>Text.</p>"),
])
def test_numbers_too_long_for_int_are_no_numbers(extra, body):
    """Views, a font weight, a character reference of 5,000 digits: int() refuses them (ValueError)."""
    record = parse_article(article_xml(body=body, extra=extra).encode(), "http://x.test/103002/7.aspx")
    assert record["views"] is None and record["articleBody"] == "Text."


CRASH_URLS = ("http://[x]/", "//[::1", "http://a]/")


@pytest.mark.parametrize("url", CRASH_URLS)
def test_urls_urllib_refuses_are_no_urls_wherever_they_are(url):
    """As href, src, <li>, perv/next, breadcrumb, stylesheet and RelativePath: each once raised ValueError."""
    text = article_xml(body=f'<p><a href="{url}">link</a> <img src="{url}" /></p>',
                       extra=f'<ul><li>{url}</li></ul><a id="perv" href="{url}">p</a><a id="next" href="{url}">n</a>')
    text = text.replace('RelativePath="/"', f'RelativePath="{url}"').replace("../103002/default.aspx", url)
    text = text.replace("?>\n", f"?>\n<?xml-stylesheet type='text/xsl' href='{url}'?>", 1)
    document = Document(text.encode(), "http://x.test/103002/7.aspx")
    page = ArticlePage(document, downloaded_at=DOWNLOADED)
    record = page.to_item()
    assert document.stylesheet_url is None and document.links() == []
    assert record["articleBodyHtml"] == "<p>link</p>" and record["images"] == [] and record["figures"] == []
    assert record["previousArticleId"] is None and record["nextArticleId"] is None
    assert record["breadcrumbs"] == [{"name": "Commentary", "url": None}]
    assert page.identity_conflicts() == [f"RelativePath {url!r}"]
    assert safe_http_url("http://x.test/", url) is None


def test_the_first_perv_and_next_links_with_an_href_name_the_neighbours():
    """As the XPath string(//a[@id=$id]/@href) read them: an earlier link without an href does not count."""
    extra = ('<a id="next">no href</a><a id="perv" href="../103002/41.aspx">p</a><a id="next" href="42.aspx?x=1">n</a>'
             '<a id="perv" href="43.aspx">p</a>')
    record = parse_article(article_xml(extra=extra).encode(), "http://x.test/103002/7.aspx")
    assert (record["previousArticleId"], record["nextArticleId"]) == (41, 42)
