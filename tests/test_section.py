"""Crawl scope: the normal form of URLs, origins and IMAGE_HOSTS, and which URLs are the section's pages."""

from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import as_a_lenient_server_reads
from sasscrawl.section import (ArticleIdentity, ImageHosts, Origin, OutOfScopeStartURL, Section, article_id_from_path,
                               article_identity, normal_url, origin_of, path_trick)

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


@pytest.mark.parametrize("path, article_id", [
    ("/103002/5553.aspx", 5553), ("/a/b/12.ASPX", 12), ("/5553.aspx", 5553), ("5553.aspx", 5553),
    ("/103002/" + "9" * 12 + ".aspx", 999_999_999_999), ("/103002/" + "9" * 13 + ".aspx", None),
    ("/103002/x5553.aspx", None), ("/103002/5553.aspx/", None), ("/103002/5553.aspx;x", None),
    ("/103002/default.aspx", None), ("/103002/\u0661\u0662.aspx", None), ("", None),
])
def test_article_id_from_path_reads_the_last_segment_only(path, article_id):
    assert article_id_from_path(path) == article_id


@pytest.mark.parametrize("url, identity", [
    ("http://en.sass.cn/103002/5554.aspx?from=list#top", ArticleIdentity(5554, "http://en.sass.cn/103002/5554.aspx", "103002")),
    ("http://EN.sass.cn:80/103002/./5554.aspx", ArticleIdentity(5554, "http://en.sass.cn/103002/5554.aspx", "103002")),
    ("http://en.sass.cn/103002/default.aspx", None),
    ("http://en.sass.cn/5554.aspx", None),  # no section folder
    ("http://[x]/103002/5554.aspx", None),
])
def test_an_articles_identity_comes_from_its_url(url, identity):
    assert article_identity(url) == identity

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


# --- the normal form, and what it cannot undo ------------------------------------------------

@pytest.mark.parametrize(
    "url, normal",
    [
        ("http://en.sass.cn/103002/5553.aspx", "http://en.sass.cn/103002/5553.aspx"),
        ("HTTP://EN.sass.cn.:80/103002/./x/../5553.aspx#top", "http://en.sass.cn/103002/5553.aspx"),
        ("http://en.sass.cn/%7e%41%2d/%3b%e4?q=%7e%2f", "http://en.sass.cn/~A-/%3B%E4?q=~%2F"),
        ("http://en.sass.cn/103002/..;/104/default.aspx", "http://en.sass.cn/104/default.aspx"),
        ("http://en.sass.cn/103002/%2e%2E/104/", "http://en.sass.cn/104/"),
        ("http://en.sass.cn/103002/..\\..\\104\\default.aspx", "http://en.sass.cn/104/default.aspx"),
        ("http://en.sass.cn/a/b/..", "http://en.sass.cn/a/"),
        ("http://en.sass.cn", "http://en.sass.cn/"),
        ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:8000/上传/a b.jpg", "http://localhost:8000/%E4%B8%8A%E4%BC%A0/a%20b.jpg"),
        ("https://[::1]:443/x", "https://[::1]/x"),
        ("http://%6c%6fcalhost/x", "http://localhost/x"),
        ("mailto:someone@example.org", "mailto:someone@example.org"),
    ],
)
def test_normal_url(url, normal):
    assert normal_url(url) == normal
    assert normal_url(normal) == normal


@pytest.mark.parametrize(
    "url, trick",
    [
        ("http://h/103002/..%5C..%5C104/default.aspx", "a backslash or an escaped / or \\"),
        ("http://h/103002/x/..%2Fprint/1001.aspx", "a backslash or an escaped / or \\"),
        ("http://h/103002/x/%252e%252e/print/1001.aspx", "a dot segment"),
        ("http://h/103002/x/%25252F/1.aspx", "a backslash or an escaped / or \\"),
        ("http://h/103002/..;/104/default.aspx", "a dot segment"),
        ("http://h/103002/./5553.aspx", "a dot segment"),
        ("http://h/103002//print/1001.aspx", "an empty segment (//)"),
        ("http://h/103002/5553.aspx", None),
        ("http://h/103002/a..b/%25/%3B;x/...", None),
    ],
)
def test_path_trick(url, trick):
    assert path_trick(url) == trick


@pytest.mark.parametrize("url", [
    "http://en.sass.cn/103002/..%5C..%5C104/default.aspx",
    "http://en.sass.cn/103002/..;/104/default.aspx",
    "http://en.sass.cn/103002/x/..%2Fprint/1001.aspx",
    "http://en.sass.cn/103002/%2e%2e/104/default.aspx",
    "http://en.sass.cn/103002/..\\..\\104\\default.aspx",
    "http://en.sass.cn/103002/x/%252e%252e/print/1001.aspx",
    "http://en.sass.cn/103002//print/1001.aspx",
])
def test_paths_that_leave_the_section_or_hide_a_separator_are_not_in_it(url):
    assert SECTION.article_id(url) is None and SECTION.listing_url(url) is None


_PATH_PIECES = st.lists(st.sampled_from(["x", ".", "..", "/", "%", "2", "5", "e", "E", "f", "F", "c", "C", ";", "\\",
                                          "print", "%2e", "%2F", "%5c", "%25", "1.aspx"]), max_size=12).map("".join)


@settings(max_examples=500, deadline=None)
@given(_PATH_PIECES)
def test_a_lenient_server_reads_an_in_scope_url_as_the_path_that_was_judged(path):
    """However a page spells a link, what the section takes in is, to a server that decodes escapes, a path inside
    the folder, and under print/ only when it was judged to be."""
    listing = SECTION.listing_url(f"http://en.sass.cn/103002/{path}")
    if listing is None:
        return
    judged = urlsplit(listing).path
    served = as_a_lenient_server_reads(judged) + "/"
    assert served.startswith("/103002/"), (path, judged, served)
    assert served.lower().startswith("/103002/print/") == (unquote(judged) + "/").lower().startswith("/103002/print/")


# --- origins and IMAGE_HOSTS --------------------------------------------------------------------

def test_hosts_compare_as_spelled_after_idna_case_trailing_dot_and_default_port():
    localhost = origin_of("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/x")
    assert localhost == origin_of("http://LOCALHOST.:80/") == Origin("http", "localhost", 80)
    assert localhost != origin_of("http://127.0.0.1/") and str(localhost) == "http://localhost:80"
    assert origin_of("https://en.sass.cn/") != origin_of("http://en.sass.cn:443/")
    assert origin_of("http://2130706433/") != origin_of("http://127.0.0.1/")  # the same address, not the same name
    section = Section.from_start_url("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:8000/103002/default.aspx")
    assert section.article_id("http://localhost:8000/103002/5.aspx") == 5
    assert section.article_id("http://127.0.0.1:8000/103002/5.aspx") is None
    assert section.on_origin("http://localhost:8000/upload/x.jpg") and not section.on_origin("http://localhost/x")


def test_image_hosts_allow_a_host_on_default_ports_or_host_port_with_either_scheme():
    hosts = ImageHosts(["img.example.org", "ⓒⓓⓝ.example.org.:8080", "[2001:db8::1]", " "])
    assert hosts.allow(origin_of("http://img.example.org/a.jpg")) and hosts.allow(origin_of("https://IMG.example.org/"))
    assert not hosts.allow(origin_of("http://img.example.org:8080/")) and not hosts.allow(origin_of("http://example.org/"))
    assert hosts.allow(origin_of("http://cdn.example.org:8080/")) and hosts.allow(origin_of("https://cdn.example.org:8080/"))
    assert not hosts.allow(origin_of("http://cdn.example.org/"))
    assert hosts.allow(origin_of("https://[2001:db8::1]/")) and not ImageHosts([]).allow(origin_of("http://h/"))


@pytest.mark.parametrize("entry", ["https://img.example.org", "img.example.org/path", "user@img.example.org",
                                   "img.example.org:", "img.example.org:http", "*.example.org", "img example.org"])
def test_image_hosts_entries_that_are_not_a_host_or_host_port_are_refused(entry):
    with pytest.raises(ValueError, match="IMAGE_HOSTS entry"):
        ImageHosts([entry])


_ORIGINS = st.sampled_from(["http://en.sass.cn", "https://en.sass.cn:8080", "http://EN.sass.cn", "http://en.sass.cn:80",
                            "http://en.sass.cn.", "http://xn--bcher-kva.de", "https://en.sass.cn", "http://en.sass.cn:08080",
                            "https://en.sass.cn:443", "http://a-b.c", "http:", ""])
_URL_PIECES = st.lists(st.sampled_from(["/", "103002", "/103002/", "5553.aspx", ".", "..", "a", "~", "-", "_", "%41", "%2F",
                                        "%2e", "?", "page=2", "&", "=", "+", "#", "top", ";", "\\", " ", "é"]),
                       max_size=10).map("".join)


@settings(max_examples=1000, deadline=None)
@given(_ORIGINS, _URL_PIECES)
def test_plain_links_take_a_short_way_to_the_same_answer(origin, rest):
    """The shortcut for plain links must judge exactly as the normal form does."""
    url = origin + rest
    for section in (SECTION, Section.from_start_url("https://en.sass.cn:8080/103002/default.aspx")):
        assert section._inside(url) == section._normal_inside(url), url


def test_only_ascii_digits_name_an_article():
    section = Section.from_start_url("http://h/103002/default.aspx")
    assert section.article_id("http://h/103002/\u0661\u0662.aspx") is None  # Arabic-Indic digits
    assert section.article_id("http://h/103002/12.aspx") == 12


def test_long_listing_urls_are_not_kept_in_the_canonical_cache():
    from sasscrawl import section as module

    section = Section.from_start_url("http://h/103002/default.aspx")
    module._cached_canonical.cache_clear()
    long_listing = "http://h/103002/default.aspx?q=" + "x" * 100_000
    assert section.listing_url(long_listing) is not None
    assert section.listing_url("http://h/103002/default.aspx?page=2") is not None
    assert module._cached_canonical.cache_info().currsize == 1
