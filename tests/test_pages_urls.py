"""Links made absolute, http(s) only, through a join cache that must not change a URL nor keep a long one."""

import gc
import itertools
import tracemalloc
from datetime import datetime, timezone

import pytest

from page_fixtures import article_xml
from sasscrawl.pages.article import ArticlePage
from sasscrawl.pages.document import Document
from sasscrawl.pages.urls import _safe_join, safe_http_url

DOWNLOADED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)

BASES = ("http://en.sass.cn/103002/5554.aspx", "http://en.sass.cn/103002/", "http://en.sass.cn", "http://en.sass.cn/",
         "http://en.sass.cn/103002/default.aspx?page=2", "http://en.sass.cn/a/b;p=1/c.aspx#top", "https://h:8080/a/b/c",
         "http://h/a/b;p", "http://h/a/b/..", "http://h/a/b/.")
HREFS = ("5553.aspx", "../103002/5553.aspx", "/103/default.aspx", "?page=3", "#top", "", ".", "..", "./x", "../../x",
         "//other/x", "http://other/x", "http:x", ";x", "a/b/../c", "x?y#z", " upload/a b.jpg", "default.aspx?page=2",
         "http:", "HTTP:", "//", "http:?page=2", "//?x", ";", ";?x", ";#x", " ?x", "\t#x", "\x01?x", "https:",
         "/\t/?q", "/\n/", "/\r/#x", "a\tb")


@pytest.mark.parametrize("base,href", list(itertools.product(BASES, HREFS)))
def test_cached_joins_are_urljoin(base, href):
    """The join cache is keyed on the base's folder where only that matters: it must not change a single URL."""
    scrubbed = href.replace("\x01", "").strip()
    assert safe_http_url(base, href) == (_safe_join.__wrapped__(base, scrubbed) if scrubbed else None)


def test_long_hrefs_and_styles_are_not_kept_after_their_pages():
    """The issue's 40 pages with fifty 100 kB links each: the join cache once kept them all (200 MB).

    The links, body links, images and styles are read as the page objects read them (the join cache here,
    the body's style cache in sasscrawl/pages/body.py); the section's own canonical-URL cache
    (sasscrawl/section.py) is not this test's.
    """
    def long_links_page(number: int) -> bytes:
        long = f"{number:02d}" + "x" * 100_000
        links = "".join(f'<a href="{long}{n:02d}">x</a>' for n in range(50))
        body = f'<p style="font-weight:bold;{long}"><a href="{long}">a</a><img src="{long}" /></p>'
        return article_xml(body=body, extra=links).encode()

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(40):
            document = Document(long_links_page(number), f"http://en.sass.cn/103002/{number}.aspx")
            assert len(document.links()) == 51  # and the breadcrumb
            assert ArticlePage(document, downloaded_at=DOWNLOADED).to_item()["figures"]
        del document
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 20 * 2**20, f"{kept / 2**20:.0f} MiB kept"
