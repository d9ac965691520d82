"""Crawl scope: which URLs are the section's articles and listings."""

import pytest

from sasscrawl.section import OutOfScopeStartURL, Section

SECTION = Section.from_start_url("http://en.sass.cn/103002/default.aspx")


@pytest.mark.parametrize(
    "url, article_id",
    [
        ("http://en.sass.cn/103002/5553.aspx", 5553),
        ("http://EN.sass.cn/103002/5553.aspx?from=hot#top", 5553),
        ("http://en.sass.cn/103002/default.aspx", None),
        ("http://en.sass.cn/103001/5553.aspx", None),  # sibling section
        ("http://en.sass.cn:8080/103002/5553.aspx", None),  # another port is another host
        ("https://en.sass.cn/103002/5553.aspx", None),
        ("http://www.chinatoday.com.cn/103002/5553.aspx", None),
        ("http://en.sass.cn/103002/print/5553.aspx", None),
    ],
)
def test_article_id(url, article_id):
    assert SECTION.article_id(url) == article_id


def test_listing_urls_are_canonical_and_in_scope():
    assert SECTION.listing_url("http://en.sass.cn/103002/default.aspx?page=2&b=1#x") == (
        "http://en.sass.cn/103002/default.aspx?b=1&page=2"
    )
    assert SECTION.listing_url("http://en.sass.cn/103/default.aspx") is None
    assert SECTION.listing_url("http://en.sass.cn/103002/5553.aspx") is None


def test_section_from_start_url():
    section = Section.from_start_url("http://127.0.0.1:8000/mirror/103002/default.aspx")
    assert section.id == "103002"
    assert section.article_url(5) == "http://127.0.0.1:8000/mirror/103002/5.aspx"


@pytest.mark.parametrize("url", ["ftp://en.sass.cn/103002/default.aspx", "http://en.sass.cn/default.aspx", "not a url"])
def test_bad_start_urls_are_refused(url):
    with pytest.raises(OutOfScopeStartURL):
        Section.from_start_url(url)


def test_start_url_with_a_bad_port_is_refused():
    with pytest.raises(OutOfScopeStartURL, match="invalid port"):
        Section.from_start_url("http://en.sass.cn:abc/103002/default.aspx")
