"""The listing page: any page's links inside the section, by kind."""

from sasscrawl.pages.document import Document
from sasscrawl.pages.listing import ListingPage
from sasscrawl.section import Section

SECTION = Section.from_start_url("http://en.sass.cn/103002/default.aspx")


def test_a_page_that_is_not_xml_gives_its_links_from_html():
    html = b"<html><body><a href='5553.aspx?from=list#top'>a</a><a href='default.aspx?page=2'>next</a></body></html>"
    html += b"<p>stray & unclosed"
    document = Document(html, "http://en.sass.cn/103002/default.aspx")
    assert document.recovered
    listing = ListingPage(document, SECTION)
    assert listing.articles() == {5553: "http://en.sass.cn/103002/5553.aspx"}
    assert listing.listings() == ["http://en.sass.cn/103002/default.aspx?page=2"]
