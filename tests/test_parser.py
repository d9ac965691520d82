"""The parser against the real saved pages, field by field, with hand-checked values."""

import codecs
import contextlib
import gc
import signal
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest

import itertools

from sasscrawl.parser import (NotAnArticle, Page, _safe_join, parse_article, parse_listing, parse_site_date,
                              safe_http_url, split_authors)
from sasscrawl.schemas import ARTICLE_FIELDS, article_validator
from sasscrawl.section import Section

FIXTURES = Path(__file__).parent / "fixtures"
URL_5554 = "http://en.sass.cn/103002/5554.aspx"
URL_5553 = "http://en.sass.cn/103002/5553.aspx"
DOWNLOADED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
IMG = "http://en.sass.cn/upload/images/2026/2/2/35f89dff-1d5f-4009-ae98-d4ac9fcbad11.00{}.jpeg"
ANJI_CREDIT = "Photo courtesy of the Publicity Department of the CPC Anji County Committee"


@pytest.fixture(scope="module")
def article():
    return parse_article((FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes(), URL_5554, DOWNLOADED)


@pytest.fixture(scope="module")
def truncated_page():
    return Page((FIXTURES / "en.sass.cn_103002_5553.aspx.prefix.xml").read_bytes(), URL_5553)


def test_record_has_exactly_the_schema_fields_in_order_and_validates(article):
    assert tuple(article) == ARTICLE_FIELDS
    assert list(article_validator().iter_errors(article)) == []


def test_identity_and_headlines(article):
    assert article["articleId"] == 5554
    assert article["url"] == URL_5554
    assert article["headline"] == "Collective Prosperity: Zhejiang's Rural Cluster Development Model"
    assert article["alternativeHeadline"] is None
    assert article["inLanguage"] == "en"


def test_dates_keep_the_site_offset_and_the_raw_strings(article):
    assert article["datePublished"] == "2026-01-30T12:00:00+08:00"
    assert article["datePublishedRaw"] == "2026-01-30 12:00"
    assert article["dateCreated"] == "2026-02-02T05:08:00+08:00"
    assert article["dateCreatedRaw"] == "2026-02-02 05:08"
    assert article["dateDownloaded"] == "2026-02-03T04:05:06+00:00"


def test_authors_section_breadcrumbs_source_views(article):
    assert article["authors"] == [{"name": "Liu Ting", "nameRaw": "LIU TING"}]
    assert article["section"] == {"id": "103002", "name": "Commentary"}
    assert article["breadcrumbs"] == [
        {"name": "RESEARCH", "url": "http://en.sass.cn/103/default.aspx"},
        {"name": "Commentary", "url": "http://en.sass.cn/103002/default.aspx"},
    ]
    assert article["source"] == {
        "name": "China Today",
        "url": "http://www.chinatoday.com.cn/ctenglish/2018/et/202601/t20260126_800428888.html",
    }
    assert article["views"] == 92


def test_standfirst_subheadings_and_body_text(article):
    body = article["articleBody"]
    paragraphs = body.split("\n\n")
    assert article["description"] == (
        "By encouraging collaboration, attracting young entrepreneurs, and setting up village-invested "
        "enterprises, rural communities in Zhejiang Province are growing their income streams."
    )
    assert article["subheadings"] == ["Creating Synergy", "Youth Power", "Village Companies"]
    # 1 standfirst + 24 paragraphs + 3 subheadings; the 3 captions are not body text.
    assert len(paragraphs) == 28
    assert paragraphs[0] == article["description"]
    assert paragraphs[5] == "Creating Synergy"
    assert paragraphs[14] == "Youth Power"
    assert paragraphs[22] == "Village Companies"
    # Entities decoded inside the CDATA body; &nbsp; spans normalised away.
    assert "a bed & breakfast (B&B) which received more than 70,000 visitors last year" in paragraphs[1]
    assert paragraphs[1].startswith("“Over the past years, we have seen more and more tourists")
    assert paragraphs[-1].endswith("on the path toward common prosperity.")
    assert "Photo courtesy" not in body and "An aerial view" not in body and "\xa0" not in body
    assert "  " not in body
    assert article["wordCount"] == len(body.split()) == 1328


def test_figures_with_captions_and_credits(article):
    assert article["figures"] == [
        {
            "url": IMG.format(1),
            "caption": "An aerial view of Yucun Village in Tianhuangping Town, Anji County, Huzhou City of Zhejiang Province.",
            "credit": ANJI_CREDIT,
        },
        {
            "url": IMG.format(2),
            "caption": "A stone monument in Yucun bearing the inscription “Lucid waters and lush mountains are invaluable assets.”",
            "credit": "Liu Ting",
        },
        {
            "url": IMG.format(3),
            "caption": "The Skyland Resort in Anji’s Xianxia Town is an immersive fantasy-themed cultural tourism "
            "project developed in the Greater Yucun area.",
            "credit": ANJI_CREDIT,
        },
    ]
    assert article["mainImage"] == {"url": IMG.format(1)}  # the ul list's first entry, made absolute from the site root
    assert article["images"] == [{"url": IMG.format(n)} for n in (1, 2, 3)]


def test_body_html_is_clean_and_structured(article):
    html = article["articleBodyHtml"]
    for banned in ("style=", "<span", "<form", "<script", "&nbsp;", "\xa0"):
        assert banned not in html
    assert html.startswith("<p><strong><em>By encouraging collaboration")
    assert html.count("<h2>") == 3 and "<h2>Creating Synergy</h2>" in html
    assert html.count("<p>") == 25
    assert (
        f'<figure><img src="{IMG.format(1)}" width="600" height="376"><figcaption>An aerial view of Yucun Village in '
        f"Tianhuangping Town, Anji County, Huzhou City of Zhejiang Province. <em>{ANJI_CREDIT}</em></figcaption></figure>"
    ) in html
    assert "bed &amp; breakfast" in html


def test_neighbours_and_content_hash(article):
    assert article["previousArticleId"] == 5553
    assert article["nextArticleId"] == 5556
    again = parse_article(
        (FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes().replace(b"<dd>92</dd>", b"<dd>93</dd>"),
        URL_5554,
    )
    assert again["views"] == 93
    assert again["contentHash"] == article["contentHash"]  # views and download time do not count
    assert len(article["contentHash"]) == 64


def test_truncated_real_page_keeps_what_arrived(truncated_page):
    assert truncated_page.recovered and truncated_page.truncated
    record = truncated_page.article(DOWNLOADED)
    assert record["articleId"] == 5553
    assert record["headline"] == "Investment in people a key policy imperative"
    assert record["datePublished"] == "2026-01-29T12:00:00+08:00"
    assert record["authors"] == [{"name": "Cai Fang", "nameRaw": "Cai Fang"}]
    assert record["source"] == {
        "name": "Chinese Social Sciences Net",
        "url": "http://english.cssn.cn/skw_opinion/202601/t20260128_5971085.shtml",
    }
    paragraphs = record["articleBody"].split("\n\n")
    assert len(paragraphs) == 2
    assert paragraphs[0].startswith("China is placing greater emphasis on optimizing the investment structure")
    assert "improve people's livelihoods" in paragraphs[0]  # &#39; decoded
    assert paragraphs[1].endswith("as part of the overall strategy for economic work in 2026.")
    # What never arrived is null, not invented.
    assert record["dateCreated"] is None and record["views"] is None
    assert record["previousArticleId"] is None and record["nextArticleId"] is None
    assert list(article_validator().iter_errors(record)) == []


def test_links_of_an_article_page_in_scope():
    body = (FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes()
    listing = parse_listing(body, URL_5554, Section.from_start_url("http://en.sass.cn/103002/default.aspx"))
    assert listing.listings == ["http://en.sass.cn/103002/default.aspx"]
    # perv and next (both among the 10 newest), the 10 newest (this page included) and the 10 hottest,
    # each once; no source link, no parent section.
    assert 5553 in listing.articles and 5556 in listing.articles and 5525 in listing.articles
    assert len(listing.articles) == 20
    assert listing.articles[5553] == URL_5553


@pytest.mark.parametrize(
    "raw, names",
    [
        ("LIU TING", ["Liu Ting"]),
        ("Cai Fang", ["Cai Fang"]),
        ("", []),
        ("Wang Li, ZHANG WEI", ["Wang Li", "Zhang Wei"]),
        ("Wang Li; Zhang Wei & Li Na and Chen Jie", ["Wang Li", "Zhang Wei", "Li Na", "Chen Jie"]),
        ("Alexander Andrews", ["Alexander Andrews"]),  # "and" inside a name is not a separator
        ("  Wang\u00a0Li ,", ["Wang Li"]),
    ],
)
def test_split_authors(raw, names):
    assert [author["name"] for author in split_authors(raw)] == names


def page(headline="A headline", h5="Cai Fang", body="<p>Text.</p>", declaration='<?xml version="1.0" encoding="utf-8"?>',
         doctype="", extra=""):
    return (
        f"{declaration}\n{doctype}<html RelativePath=\"/\" class=\"103002\" site=\"103002\"><head><meta id=\"7\" /></head>"
        f"<body><span><a href=\"../103002/default.aspx\">Commentary</a></span><div><h1>{headline}</h1><h2 />"
        f"<h4>2026-01-30 12:00</h4><h5>{h5}</h5><p><![CDATA[<form>{body}</form>]]></p>{extra}</div></body></html>"
    )


def test_bare_ampersand_and_unclosed_tag_are_recovered():
    parsed = Page(page(headline="Tom & Jerry", extra="<dd>12").encode(), "http://x.test/103002/7.aspx")
    assert parsed.recovered
    record = parsed.article(DOWNLOADED)
    assert record["headline"] == "Tom & Jerry"
    assert record["views"] == 12


@pytest.mark.parametrize("encoding", ["gbk", "gb2312"])
def test_declared_chinese_encodings(encoding):
    text = page(headline="上海社会科学院 Commentary", body="<p>社会科学</p>",
                declaration=f'<?xml version="1.0" encoding="{encoding}"?>')
    record = parse_article(text.encode(encoding), "http://x.test/103002/7.aspx")
    assert record["headline"] == "上海社会科学院 Commentary"
    assert record["articleBody"] == "社会科学"


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY")
    doctype = f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    parsed = Page(page(headline="Leak &xxe; here", h5="&xxe;", doctype=doctype).encode(), "http://x.test/103002/7.aspx")
    record = parsed.article()
    assert parsed.doctype_removed
    assert "TOP-SECRET-CANARY" not in str(record)
    assert record["headline"] == "Leak here"


def test_entity_expansion_bomb_is_inert():
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 12))
    parsed = Page(page(headline="Bomb &a11;", doctype=f"<!DOCTYPE html [{entities}]>").encode(), "http://x.test/103002/7.aspx")
    record = parsed.article()
    assert record["headline"] == "Bomb"
    assert len(str(record)) < 10_000


def test_no_headline_is_not_an_article():
    with pytest.raises(NotAnArticle) as error:
        parse_article(page(headline="").encode(), "http://x.test/103002/7.aspx")
    assert error.value.reason == "no_headline"


def test_hostile_body_markup_does_not_survive():
    body = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">there</a> <a href="https://ok.test/x">ok</a></p>'
        '<script>alert("x")</script><p style="text-align:center"><img src="data:image/png;base64,AAAA" onerror="x()"/></p>'
        '<p>Tail\x07 text</p>'
    )
    record = parse_article(page(body=body).encode(), "http://x.test/103002/7.aspx")
    html = record["articleBodyHtml"]
    assert html == '<p>Hi there <a href="https://ok.test/x">ok</a></p>\n<p>Tail text</p>'
    assert record["articleBody"] == "Hi there ok\n\nTail text"
    assert record["figures"] == [] and record["images"] == []


def test_page_that_is_not_xml_gives_its_links_from_html():
    html = b"<html><body><a href='5553.aspx?from=list#top'>a</a><a href='default.aspx?page=2'>next</a></body></html>"
    html += b"<p>stray & unclosed"
    listing = parse_listing(html, "http://en.sass.cn/103002/default.aspx", Section.from_start_url("http://en.sass.cn/103002/default.aspx"))
    assert listing.articles == {5553: URL_5553}
    assert listing.listings == ["http://en.sass.cn/103002/default.aspx?page=2"]


def test_control_characters_from_references_in_body_urls_are_dropped():
    """A reference like &#x1b; inside an img src or a link once crashed the whole page."""
    body = '<p><a href="/x&#1;y">link</a> text</p><p style="text-align:center"><img src="/a&#x1b;b.jpg" alt="x&#1;y"/></p>'
    record = parse_article(page(body=body).encode(), "http://x.test/103002/7.aspx")
    assert record["figures"] == [{"url": "http://x.test/ab.jpg", "caption": None, "credit": None}]
    assert record["articleBodyHtml"] == '<p><a href="http://x.test/xy">link</a> text</p>\n<figure><img src="http://x.test/ab.jpg" alt="xy"></figure>'


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


def test_raw_control_characters_in_the_body_are_gone_before_its_markup_is_read():
    """XML allows U+007F-U+009F raw: a page holding them parses strictly, and the body must read as without them."""
    body = "<p><b>Short head</b>\x7f</p><p>Te<\x85b>xt</b>.</p><p><b><i>Lead?</i></b>\x9b</p>"
    record = parse_article(page(body=body).encode(), "http://x.test/103002/7.aspx")
    assert record["subheadings"] == ["Short head"]
    assert record["articleBodyHtml"] == "<h2>Short head</h2>\n<p>Te<strong>xt</strong>.</p>\n<p><strong><em>Lead?</em></strong></p>"


@pytest.mark.parametrize("raw,parsed", [
    ("2026-01-30 12:00", "2026-01-30T12:00:00+08:00"),
    ("2026-02-02 05:08:09", "2026-02-02T05:08:09+08:00"),
    ("2026/1/3", "2026-01-03T00:00:00+08:00"),
    ("2026-1-3 1:05", "2026-01-03T01:05:00+08:00"),
    ("2026-02-30 12:00", None),
    ("2026-01-30 24:00", None),
    ("30 January 2026", None),
])
def test_site_dates(raw, parsed):
    assert parse_site_date(raw) == parsed


def test_control_characters_made_by_references_in_body_text_are_dropped():
    """The page is well-formed XML, so only the body's HTML parser makes these: the scrub must still see them."""
    record = parse_article(page(body="<p>Con&#x1b;trol &#1;chars&#x7f;.</p>").encode(), "http://x.test/103002/7.aspx")
    assert record["articleBody"] == "Control chars."
    assert record["articleBodyHtml"] == "<p>Control chars.</p>"


# --- hostile pages of issue 11: each once hung or crashed the parser, or misdirected its record -----------


@contextlib.contextmanager
def hang_guard(seconds: int = 60):
    """Turn a parse that never ends into a failure (SIGALRM reaches the regex engine), not a hung suite."""
    def hung(*_):
        raise AssertionError(f"still parsing after {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_comment_holding_a_doctype_and_forty_brackets_does_not_hang():
    """The issue's page: <!DOCTYPE, forty [], and [ --> after the CDATA made the old DOCTYPE regex backtrack forever."""
    body = page(extra="<!-- <!DOCTYPE" + "[]" * 40 + "[ -->").encode()
    with hang_guard():
        record = parse_article(body, "http://x.test/103002/7.aspx")
    assert record["headline"] == "A headline" and record["articleBody"] == "Text."


CRASH_URLS = ("http://[x]/", "//[::1", "http://a]/")


@pytest.mark.parametrize("url", CRASH_URLS)
def test_urls_urllib_refuses_are_no_urls_wherever_they_are(url):
    """As href, src, <li>, perv/next, breadcrumb, stylesheet and RelativePath: each once raised ValueError."""
    text = page(body=f'<p><a href="{url}">link</a> <img src="{url}" /></p>',
                extra=f'<ul><li>{url}</li></ul><a id="perv" href="{url}">p</a><a id="next" href="{url}">n</a>')
    text = text.replace('RelativePath="/"', f'RelativePath="{url}"').replace("../103002/default.aspx", url)
    text = text.replace("?>\n", f"?>\n<?xml-stylesheet type='text/xsl' href='{url}'?>", 1)
    parsed = Page(text.encode(), "http://x.test/103002/7.aspx")
    record = parsed.article(DOWNLOADED)
    assert parsed.stylesheet_url is None and parsed.links() == []
    assert record["articleBodyHtml"] == "<p>link</p>" and record["images"] == [] and record["figures"] == []
    assert record["previousArticleId"] is None and record["nextArticleId"] is None
    assert record["breadcrumbs"] == [{"name": "Commentary", "url": None}]
    assert parsed.identity_conflicts() == [f"RelativePath {url!r}"]
    assert safe_http_url("http://x.test/", url) is None


@pytest.mark.parametrize("encoding", ["hex", "base64", "zlib", "rot13", "idna", "punycode", "uu", "bz2", "undefined"])
def test_a_declared_encoding_that_is_no_text_codec_is_refused(encoding):
    """The issue's minimal page: a non-text codec named on a page that needs repair raised LookupError or UnicodeError."""
    body = f'<?xml version="1.0" encoding="{encoding}"?><html><body><div><h1>Tom & Jerry</h1></div></body></html>'
    parsed = Page(body.encode(), "http://x.test/103002/7.aspx")
    assert parsed.recovered and parsed.encoding_refused
    assert parsed.article(DOWNLOADED)["headline"] == "Tom & Jerry"


@pytest.mark.parametrize("body, declared", [
    (codecs.BOM_UTF16_LE + page(headline="上海 & 社会").replace('"utf-8"', '"gbk"').encode("utf-16-le"), "a BOM"),
    (page(headline="上海 & 社会").replace('"utf-8"', '"gbk"').encode("gbk"), "gbk"),
])
def test_a_page_needing_repair_is_read_in_its_bom_or_declared_text_encoding(body, declared):
    parsed = Page(body, "http://x.test/103002/7.aspx")
    assert parsed.recovered and not parsed.encoding_refused
    assert parsed.article(DOWNLOADED)["headline"] == "上海 & 社会", declared


def test_the_identity_of_an_article_is_its_urls_not_the_pages():
    """The issue's spoof: /103002/9999.aspx saying meta/@id 5554 and site http://evil.test/phish."""
    body = (FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes().replace(b'site="103002"',
                                                                             b'site="http://evil.test/phish"')
    parsed = Page(body, "http://en.sass.cn/103002/9999.aspx")
    record = parsed.article(DOWNLOADED)
    assert record["articleId"] == 9999 and record["url"] == "http://en.sass.cn/103002/9999.aspx"
    assert record["section"] == {"id": "103002", "name": "Commentary"}
    assert parsed.identity_conflicts() == ["meta/@id '5554'", "site 'http://evil.test/phish'"]
    assert parsed.article(DOWNLOADED, URL_5554)["url"] == URL_5554 and parsed.identity_conflicts(URL_5554) == [
        "site 'http://evil.test/phish'"]


@pytest.mark.parametrize("url", ["http://en.sass.cn/103002/default.aspx", "http://en.sass.cn/5554.aspx", "5554.aspx",
                                 "http://[x]/103002/5554.aspx", ""])
def test_a_url_that_names_no_article_gives_no_record(url):
    body = (FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes()
    with pytest.raises(NotAnArticle) as error:
        parse_article(body, url)
    assert error.value.reason == "no_article_id"


def test_the_real_pages_give_their_records_under_their_own_urls(article, truncated_page):
    """The real pages name themselves as their URLs do: nothing disagrees, nothing changes."""
    assert (article["articleId"], article["url"], article["section"]["id"]) == (5554, URL_5554, "103002")
    assert Page((FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes(), URL_5554).identity_conflicts() == []
    assert truncated_page.identity_conflicts() == []
    assert truncated_page.article(DOWNLOADED)["url"] == URL_5553


@pytest.mark.parametrize("extra, body", [
    ("<dd>" + "1" * 5000 + "</dd>", "<p>Text.</p>"),
    ("", '<p style="font-weight:' + "9" * 5000 + '">Text.</p>'),
    ("<dd>&#" + "1" * 5000 + ";&</dd>", "<p>Text.</p>"),
])
def test_numbers_too_long_for_int_are_no_numbers(extra, body):
    """Views, a font weight, a character reference of 5,000 digits: int() refuses them (ValueError)."""
    record = parse_article(page(body=body, extra=extra).encode(), "http://x.test/103002/7.aspx")
    assert record["views"] is None and record["articleBody"] == "Text."


def test_a_body_without_one_element_is_an_empty_body():
    """A CDATA body holding only an unclosed comment: the HTML parser gives no root at all (found by fuzzing)."""
    body = page().replace("<![CDATA[<form><p>Text.</p></form>]]>", "<![CDATA[<!-- never closed]]>").encode()
    record = parse_article(body, "http://x.test/103002/7.aspx")
    assert record["articleBody"] == "" and record["headline"] == "A headline"


def test_long_hrefs_and_styles_are_not_kept_after_their_pages():
    """The issue's 40 pages with fifty 100 kB links each: the join cache once kept them all (200 MB).

    The links, body links, images and styles are read as the parser reads them; the section's own
    canonical-URL cache (sasscrawl/section.py) is not this test's.
    """
    def long_links_page(number: int) -> bytes:
        long = f"{number:02d}" + "x" * 100_000
        links = "".join(f'<a href="{long}{n:02d}">x</a>' for n in range(50))
        body = f'<p style="font-weight:bold;{long}"><a href="{long}">a</a><img src="{long}" /></p>'
        return page(body=body, extra=links).encode()

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(40):
            parsed = Page(long_links_page(number), f"http://en.sass.cn/103002/{number}.aspx")
            assert len(parsed.links()) == 51 and parsed.article(DOWNLOADED)["figures"]  # and the breadcrumb
        del parsed
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 20 * 2**20, f"{kept / 2**20:.0f} MiB kept"
