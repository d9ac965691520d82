"""The CDATA body: rebuilt from what was read, so only a few tags and safe URLs, and never a control character."""

from lxml import etree

from page_fixtures import all_fixtures, article_xml
from sasscrawl.pages.article import ArticlePage, parse_article

ALLOWED_TAGS = {"p", "h2", "strong", "em", "a", "figure", "img", "figcaption"}


def test_every_saved_body_is_clean_html_of_the_allowed_tags():
    """Every article page saved, hostile ones included: no style, span, form, script or &nbsp; survives."""
    articles = [fixture for fixture in all_fixtures() if fixture.page_class is ArticlePage and not fixture.raises]
    assert len(articles) > 20
    for fixture in articles:
        record = fixture.expected_output
        html = record["articleBodyHtml"]
        for banned in ("style=", "<span", "<form", "<script", "&nbsp;", "\xa0", "javascript:"):
            assert banned not in html, (fixture.name, banned)
        tags = {element.tag for element in etree.fromstring(f"<div>{html}</div>", etree.HTMLParser()).iter()}
        assert tags - {"html", "body", "div"} <= ALLOWED_TAGS, fixture.name
        assert record["wordCount"] == len(record["articleBody"].split()), fixture.name


def test_hostile_body_markup_does_not_survive():
    body = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">there</a> <a href="https://ok.test/x">ok</a></p>'
        '<script>alert("x")</script><p style="text-align:center"><img src="data:image/png;base64,AAAA" onerror="x()"/></p>'
        '<p>Tail\x07 text</p>'
    )
    record = parse_article(article_xml(body=body).encode(), "http://x.test/103002/7.aspx")
    html = record["articleBodyHtml"]
    assert html == '<p>Hi there <a href="https://ok.test/x">ok</a></p>\n<p>Tail text</p>'
    assert record["articleBody"] == "Hi there ok\n\nTail text"
    assert record["figures"] == [] and record["images"] == []


def test_control_characters_from_references_in_body_urls_are_dropped():
    """A reference like &#x1b; inside an img src or a link once crashed the whole page."""
    body = '<p><a href="/x&#1;y">link</a> text</p><p style="text-align:center"><img src="/a&#x1b;b.jpg" alt="x&#1;y"/></p>'
    record = parse_article(article_xml(body=body).encode(), "http://x.test/103002/7.aspx")
    assert record["figures"] == [{"url": "http://x.test/ab.jpg", "caption": None, "credit": None}]
    assert record["articleBodyHtml"] == '<p><a href="http://x.test/xy">link</a> text</p>\n<figure><img src="http://x.test/ab.jpg" alt="xy"></figure>'


def test_raw_control_characters_in_the_body_are_gone_before_its_markup_is_read():
    """XML allows U+007F-U+009F raw: a page holding them parses strictly, and the body must read as without them."""
    body = "<p><b>Short head</b>\x7f</p><p>Te<\x85b>xt</b>.</p><p><b><i>Lead?</i></b>\x9b</p>"
    record = parse_article(article_xml(body=body).encode(), "http://x.test/103002/7.aspx")
    assert record["subheadings"] == ["Short head"]
    assert record["articleBodyHtml"] == "<h2>Short head</h2>\n<p>Te<strong>xt</strong>.</p>\n<p><strong><em>Lead?</em></strong></p>"


def test_control_characters_made_by_references_in_body_text_are_dropped():
    """The page is well-formed XML, so only the body's HTML parser makes these: the scrub must still see them."""
    record = parse_article(article_xml(body="<p>Con&#x1b;trol &#1;chars&#x7f;.</p>").encode(), "http://x.test/103002/7.aspx")
    assert record["articleBody"] == "Control chars."
    assert record["articleBodyHtml"] == "<p>Control chars.</p>"


def test_a_body_without_one_element_is_an_empty_body():
    """A CDATA body holding only an unclosed comment: the HTML parser gives no root at all (found by fuzzing)."""
    body = article_xml().replace("<![CDATA[<form><p>Text.</p></form>]]>", "<![CDATA[<!-- never closed]]>").encode()
    record = parse_article(body, "http://x.test/103002/7.aspx")
    assert record["articleBody"] == "" and record["headline"] == "A headline"
