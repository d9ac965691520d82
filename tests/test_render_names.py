"""The offline mirror's file names: portable, deterministic, one file per URL."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from sasscrawl.render.names import ASSETS_FOLDER, MAX_NAME_BYTES, asset_file, page_file
from sasscrawl.section import normal_url

PORTABLE = re.compile(r"[A-Za-z0-9._=~@/-]+")
_TEXT = st.text(st.sampled_from("aZ09.-_~%:?@=&+;!/ é中\\#.."), max_size=12)
SEGMENT = _TEXT.map(lambda text: text.replace("/", "").replace("#", "").replace("?", "").replace("\\", ""))


@st.composite
def urls(draw):
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(st.sampled_from(["en.sass.cn", "127.0.0.1:8080", "con", "a.html", "https"]))
    segments = draw(st.lists(SEGMENT, min_size=1, max_size=4))
    query = draw(st.one_of(st.just(""), _TEXT.map(lambda text: "?" + text.replace("#", ""))))
    return f"{scheme}://{host}/{'/'.join(segments)}{query}"


@given(urls(), urls())
@example("http://h/a?q.b", "http://h/a.b?q")
@example("http://h/x.html/a", "http://h/x/a.html")
@example("http://h/a.", "http://h/a")
def test_two_urls_share_a_file_only_when_they_are_one_url(first, second):
    if normal_url(first) != normal_url(second):
        assert page_file(first) != page_file(second)
        assert asset_file(first) != asset_file(second)
    else:
        assert page_file(first) == page_file(second)


@given(urls())
def test_names_are_portable(url):
    for name in (page_file(url), asset_file(url)):
        assert PORTABLE.fullmatch(name), name
        parts = name.split("/")
        assert all(part not in ("", ".", "..") and not part.endswith(".") for part in parts)
        assert all(len(part) <= MAX_NAME_BYTES for part in parts)
        assert not any(re.fullmatch(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", part, re.I) for part in parts)


@given(urls())
def test_pages_end_in_html_and_no_folder_does(url):
    *folders, name = page_file(url).split("/")
    assert name.endswith(".html")
    assert not any(folder.endswith(".html") for folder in folders)
    assert asset_file(url).startswith(f"{ASSETS_FOLDER}/")


def test_a_listing_page_keeps_its_extension_after_the_query():
    listing = "http://en.sass.cn/103002/default.aspx?page=2"
    assert page_file(listing) == "http/en.sass.cn/103002/default@page=2.aspx.html"
    assert page_file("http://127.0.0.1:8080/103002/5554.aspx") == "http/127.0.0.1~3A8080/103002/5554.aspx.html"
    assert asset_file("http://en.sass.cn/ui/css/site.css") == "assets/http/en.sass.cn/ui/css/site.css"


def test_spellings_of_one_url_share_a_file():
    assert page_file("HTTP://EN.SASS.CN:80/103002/%35554.aspx#top") == page_file("http://en.sass.cn/103002/5554.aspx")
