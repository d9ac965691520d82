"""A page parsed once: strictly when it is well-formed, recovered and flagged when not."""

from pathlib import Path

from sasscrawl.pages.document import Document

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_real_page_parses_strictly_and_its_prefix_is_recovered_and_flagged_truncated():
    page = Document((FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes(), "http://en.sass.cn/103002/5554.aspx")
    assert [getattr(page, flag) for flag in Document.FLAGS] == [False, False, False, False]
    assert page.is_article and page.stylesheet_url == "http://en.sass.cn/ui/templates/normal/view.xsl"
    prefix = Document((FIXTURES / "en.sass.cn_103002_5553.aspx.prefix.xml").read_bytes(),
                      "http://en.sass.cn/103002/5553.aspx")
    assert prefix.recovered and prefix.truncated and prefix.is_article
