"""DOCTYPEs are cut out before parsing: entities stay unresolved, bombs inert, and the scan never hangs."""

import contextlib
import signal

from page_fixtures import article_xml
from sasscrawl.pages.article import ArticlePage, parse_article
from sasscrawl.pages.document import Document


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY")
    doctype = f'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    document = Document(article_xml(headline="Leak &xxe; here", h5="&xxe;", doctype=doctype).encode(),
                        "http://x.test/103002/7.aspx")
    record = ArticlePage(document).to_item()
    assert document.doctype_removed
    assert "TOP-SECRET-CANARY" not in str(record)
    assert record["headline"] == "Leak here"


def test_entity_expansion_bomb_is_inert():
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 12))
    document = Document(article_xml(headline="Bomb &a11;", doctype=f"<!DOCTYPE html [{entities}]>").encode(),
                        "http://x.test/103002/7.aspx")
    record = ArticlePage(document).to_item()
    assert record["headline"] == "Bomb"
    assert len(str(record)) < 10_000


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
    body = article_xml(extra="<!-- <!DOCTYPE" + "[]" * 40 + "[ -->").encode()
    with hang_guard():
        record = parse_article(body, "http://x.test/103002/7.aspx")
    assert record["headline"] == "A headline" and record["articleBody"] == "Text."
