"""The page objects against inputs nobody would write: generated (Hypothesis) and mutated from the real page.

The promise under test (sasscrawl/pages/__init__.py): any bytes with any URL give a record or
``NotAnArticle``, in time linear in the input, and the link and URL helpers never raise. Two kinds
of input:

- Hypothesis drives ``ArticlePage``, ``ListingPage``/``links_in_scope``, ``safe_http_url`` and
  ``stylesheet_references`` with arbitrary bytes, arbitrary URLs and hrefs, and XML-ish pages built
  from the real page's grammar out of hostile pieces;
- a seeded mutation corpus of the real page 5554: byte flips, truncation at every kind of point,
  tags repeated 1,000 times, huge attributes, deep nesting inside the CDATA body, the declared
  encoding of every codec Python knows, byte order marks, UTF-16/32 bodies, pathological DOCTYPEs.

The default run tries over 2,000 inputs and reports the slowest per MB in the terminal summary;
``-m slow`` tries over 20,000 and asserts that none takes more than 1 s per MB (at least 1 s).
Either way the fault suite's tally counts the inputs tried, those over that budget as hangs, and
those that raised anything but NotAnArticle as crashes.
"""

from __future__ import annotations

import codecs
import encodings.aliases
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sasscrawl.pages.article import ArticlePage, NotAnArticle
from sasscrawl.pages.document import Document
from sasscrawl.pages.listing import ListingPage, links_in_scope
from sasscrawl.pages.stylesheet import stylesheet_references
from sasscrawl.pages.urls import safe_http_url
from sasscrawl.schemas import ARTICLE_FIELDS, article_errors
from sasscrawl.section import Section

REAL_PAGE = (Path(__file__).parent / "fixtures" / "en.sass.cn_103002_5554.aspx.xml").read_bytes()
URL = "http://en.sass.cn/103002/5554.aspx"
SECTION = Section.from_start_url("http://en.sass.cn/103002/default.aspx")
DOWNLOADED = datetime(2026, 2, 3, tzinfo=timezone.utc)
SECONDS_PER_MB = 1.0
MIN_BUDGET_SECONDS = 1.0
"""The slow run's budget per input: 1 s per MB, and at least 1 s (a tiny input's time is mostly overhead)."""

CRASH_URLS = ("http://[x]/", "//[::1", "http://a]/", "http://[::1", "http://[::1]:99999/", "http://a:b@c/",
              "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", "//\u3002/", "http://xn--/", "http://\u0661\u0662/", "[", "]", "//",
              "http://%zz/", "javascript:alert(1)", "http:\\\\a\\b", "\x00http://a/", "h\ttp://a/")
CODECS = sorted(set(encodings.aliases.aliases.values()) | {
    "hex", "base64", "zlib", "rot13", "bz2", "uu", "quopri", "idna", "punycode", "undefined", "unicode_escape",
    "raw_unicode_escape", "utf-7", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
    "utf-32-be", "no-such-codec", "x" * 64})
"""Every codec Python knows, the non-text ones and those for host names included, and two it does not."""


# --- the input runner -------------------------------------------------------------------------


def read_everything(body: bytes, url: str) -> None:
    """All the page objects give for one page; the only exception allowed is NotAnArticle."""
    document = Document(body, url)
    assert all(urlsplit(link).scheme in ("http", "https") for link in document.links())
    ListingPage(document, SECTION).to_item()
    document.stylesheet_url
    page = ArticlePage(document, downloaded_at=DOWNLOADED)
    page.identity_conflicts()
    try:
        record = page.to_item()
    except NotAnArticle:
        return
    assert tuple(record) == ARTICLE_FIELDS
    assert article_errors(record) == [], article_errors(record)[0].message


class Timings:
    """Inputs tried, those over budget and those that crashed, and the slowest for its size: for the summary,
    the fault suite's tally and the slow run's budget."""

    def __init__(self):
        self.inputs = 0
        self.over_budget = 0
        self.crashes = 0
        self.slowest: tuple[float, str, int, float] = (0.0, "", 0, 0.0)  # (share of budget, name, bytes, s)

    @contextmanager
    def trying(self):
        """One input: counted, and counted as a crash if the code under test raised (a failed check is none)."""
        self.inputs += 1
        try:
            yield
        except AssertionError:
            raise
        except Exception:
            self.crashes += 1
            raise

    def run(self, name: str, body: bytes, url: str = URL) -> float:
        """Read ``body`` once; the share of its budget it took."""
        started = time.perf_counter()
        with self.trying():
            read_everything(body, url)
            stylesheet_references(body, url)
        seconds = time.perf_counter() - started
        share = seconds / max(MIN_BUDGET_SECONDS, len(body) / 1e6 * SECONDS_PER_MB)
        self.over_budget += share > 1.0
        if share > self.slowest[0]:
            self.slowest = (share, name, len(body), seconds)
        return share

    def summary(self) -> str:
        share, name, size, seconds = self.slowest
        return (f"{self.inputs} inputs tried; the slowest for its size: {name} "
                f"({size:,} bytes, {seconds * 1000:.1f} ms: {share * SECONDS_PER_MB:.4f} s per MB, "
                f"sizes under 1 MB counted as 1 MB)")


@pytest.fixture(scope="module")
def timings(fuzz_report, fault_tally):
    timings = Timings()
    yield timings
    fuzz_report.append(timings.summary())
    fault_tally.fuzz_inputs += timings.inputs
    fault_tally.hangs += timings.over_budget
    fault_tally.crashes += timings.crashes


# --- Hypothesis: generated inputs ---------------------------------------------------------------

urls = st.one_of(
    st.text(max_size=200),
    st.sampled_from(CRASH_URLS),
    st.builds(lambda scheme, host, path: f"{scheme}{host}{path}",
              st.sampled_from(["http://", "https://", "//", "HTTP://", "ftp://", "", "http:", "http:///"]),
              st.text(alphabet="[]:@.%-_~aZ09ⓛ\u3002 \t\x00", max_size=30),
              st.text(alphabet="/.?#;%&=[]\\ax5\u00e9 ", max_size=60)),
)
HOSTILE_TEXT = st.text(alphabet=st.one_of(st.sampled_from("<>&;#x[]]-!?'\"/= \t\n\x00\x7f\x85\ufffe"),
                                          st.characters()), max_size=80)
DOCTYPES = st.one_of(
    st.just(""),
    st.builds(lambda n, tail: "<!DOCTYPE" + "[]" * n + tail, st.integers(0, 60),
              st.sampled_from(["[ -->", ">", "[", "]>", "", "\"", "'"])),
    st.builds(lambda inside: f"<!DOCTYPE html [{inside}]>", HOSTILE_TEXT),
    st.builds(lambda inside: f"<!-- <!DOCTYPE {inside} -->", HOSTILE_TEXT),
    st.sampled_from(['<!DOCTYPE html [<!ENTITY a "' + "A" * 5000 + '">]>',
                     '<!DOCTYPE html [<!ENTITY a0 "lol">' + "".join(
                         f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 12)) + "]>"]),
)
BODY_HTML = st.lists(st.one_of(
    st.sampled_from(["<p>", "</p>", "<b>", "<i>", "<span style=\"font-weight:bold\">", "</span>", "<br>",
                     "<p style=\"text-align:center\">", "<div>", "]]>", "<![CDATA[", "<script>", "<!--",
                     "<p style=\"font-weight:" + "9" * 5000 + "\">", "&#" + "1" * 5000 + ";", "&#xD800;"]),
    st.builds(lambda url: f'<a href="{url}">link</a>', urls),
    st.builds(lambda url: f'<img src="{url}" width="1" />', urls),
    HOSTILE_TEXT,
), max_size=20).map("".join)


@st.composite
def xml_pages(draw) -> bytes:
    """A page in the real page's grammar, every slot filled from hostile pieces, in a drawn encoding."""
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-32", "gbk", "latin-1", "utf-7", "cp037"]))
    declared = draw(st.one_of(st.just(encoding), st.sampled_from(CODECS)))
    declaration = draw(st.sampled_from([f'<?xml version="1.0" encoding="{declared}"?>', "", "<?xml", "  <?xml ?>"]))
    text, url = (lambda: draw(HOSTILE_TEXT)), (lambda: draw(urls))
    page = (
        f"{declaration}\n<?xml-stylesheet type='text/xsl' href='{url()}'?>{draw(DOCTYPES)}"
        f'<html RelativePath="{url()}" class="{text()}" site="{text()}"><head><meta id="{text()}" /></head>'
        f'<body><span><a href="{url()}">{text()}</a></span><div><h1>{text()}</h1><h4>{text()}</h4>'
        f"<h5>{text()}</h5><a href=\"{url()}\">{text()}</a><p><![CDATA[{draw(BODY_HTML)}]]></p><b>{text()}</b>"
        f"<dd>{text()}</dd><ul><li>{url()}</li><li>{text()}</li></ul></div>"
        f'<a id="perv" href="{url()}">p</a><a id="next" href="{url()}">n</a>{text()}</body></html>'
    )
    return page.encode(encoding, errors="replace")


FUZZ_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                             HealthCheck.function_scoped_fixture],
                     database=None)
DEFAULT_EXAMPLES, SLOW_EXAMPLES = 300, 2500


def generated_inputs_test(examples: int):
    """The Hypothesis tests, with ``examples`` each: the default run's and the slow run's differ only in that."""

    @settings(max_examples=examples, **FUZZ_SETTINGS)
    @given(body=st.one_of(st.binary(max_size=2000), xml_pages()), url=urls)
    def pages(timings, budget, body, url):
        budget(timings.run("generated page", body, url))

    @settings(max_examples=examples, **FUZZ_SETTINGS)
    @given(base=urls, href=st.one_of(urls, st.none()))
    def safe_urls(timings, budget, base, href):
        with timings.trying():
            url = safe_http_url(base, href)
        if url is not None:
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and parts.hostname and "@" not in parts.netloc
            parts.port

    @settings(max_examples=examples, **FUZZ_SETTINGS)
    @given(hrefs=st.lists(urls, max_size=20), body_prefix=st.binary(max_size=200))
    def listings(timings, budget, hrefs, body_prefix):
        anchors = "".join(f'<a href="{href}">x</a>' for href in hrefs)
        body = body_prefix + f"<html><body>{anchors}</body></html>".encode("utf-8", "replace")
        with timings.trying():
            links_in_scope(hrefs, SECTION)
            articles = ListingPage(Document(body, SECTION.root + "103002/default.aspx"), SECTION).articles()
        assert all(SECTION.article_id(url) == article_id for article_id, url in articles.items())

    @settings(max_examples=examples, **FUZZ_SETTINGS)
    @given(hrefs=st.lists(urls, max_size=10), url=urls)
    def stylesheets(timings, budget, hrefs, url):
        xsl = ('<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
               + "".join(f'<xsl:import href="{href}"/><img src="{href}"/>' for href in hrefs) + "</xsl:stylesheet>")
        with timings.trying():
            found = stylesheet_references(xsl.encode("utf-8", "replace"), url)
        assert all(urlsplit(reference).scheme in ("http", "https") for reference in found)

    return pages, safe_urls, listings, stylesheets


@pytest.fixture
def budget(request):
    """In the slow run, an input over its time budget fails; in the default run, timings are only reported."""
    slow = request.node.get_closest_marker("slow") is not None

    def check(share: float) -> None:
        assert not slow or share <= 1.0, f"over budget: {share:.2f} of {SECONDS_PER_MB} s per MB"
    return check


(test_generated_pages, test_safe_http_url_gives_none_or_an_http_url, test_listing_links_never_raise,
 test_stylesheet_references_never_raise) = generated_inputs_test(DEFAULT_EXAMPLES)
(test_generated_pages_slow, test_safe_http_url_slow, test_listing_links_slow,
 test_stylesheet_references_slow) = (pytest.mark.slow(test) for test in generated_inputs_test(SLOW_EXAMPLES))


# --- the mutation corpus ----------------------------------------------------------------------------

TRUNCATION_MARKS = (b"<?xml", b"encoding=", b"?>", b"<html", b'RelativePath="', b"<meta", b"<h1>", b"</h1>",
                    b"<![CDATA[", b"&#39;", b"&nbsp;", b"style=\"", b"]]>", b"<li>", b'id="perv"', b"</html>")


def mutations(rng: random.Random, flips: int) -> Iterator[tuple[str, bytes]]:
    """The real page, damaged every way the module docstring lists; ``flips`` byte-flip variants."""
    page = REAL_PAGE
    for n in range(flips):
        damaged = bytearray(page)
        for _ in range(rng.choice((1, 2, 8, 64))):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        yield f"byte flips #{n}", bytes(damaged)
    for mark in TRUNCATION_MARKS:  # cut just before, inside and just after each kind of point
        at = page.index(mark)
        for cut in (at, at + 1, at + len(mark) // 2, at + len(mark)):
            yield f"truncated at {mark!r}+{cut - at}", page[:cut]
    multibyte = page.index("“".encode())
    yield "truncated inside a multibyte character", page[:multibyte + 1]
    for cut in range(0, len(page), max(1, len(page) // 200)):
        yield f"truncated at byte {cut}", page[:cut]
    for tag in (b"<h1>", b"</h1>", b"<p>", b"<![CDATA[", b"]]>", b"<li>", b"<a ", b"</div>", b"<html ", b"<?xml ",
                b"<span ", b"<dd>"):
        yield f"{tag!r} x1000", page.replace(tag, tag * 1000, 1)
    for size in (10_000, 1_000_000, 5_000_000):
        yield f"RelativePath of {size:,} bytes", page.replace(b'RelativePath="/"', b'RelativePath="' + b"/a" * (size // 2) + b'"', 1)
        yield f"href of {size:,} bytes", page.replace(b'href="', b'href="http://en.sass.cn/' + b"x" * size, 1)
        yield f"style of {size:,} bytes", page.replace(b'style="', b'style="font-weight:bold;' + b"a:b;" * (size // 4), 1)
        yield f"meta id of {size:,} digits", page.replace(b'<meta id="5554"', b'<meta id="' + b"9" * size + b'"', 1)
    for depth in (1_000, 100_000):
        for tag in (b"div", b"b", b"table"):
            nested = b"<" + tag + b">" * 1 + (b"<" + tag + b">") * depth + b"deep" + (b"</" + tag + b">") * depth
            yield f"<{tag.decode()}> nested {depth:,} deep in the CDATA", page.replace(b"<![CDATA[", b"<![CDATA[" + nested, 1)
    yield "fifty 100 kB hrefs", page.replace(b"<ul id=\"new\">", b"".join(
        b'<a href="' + bytes([97 + n % 26]) * 100_000 + b'">x</a>' for n in range(50)) + b'<ul id="new">', 1)
    text = page.decode("utf-8")
    for name in CODECS:
        declared = text.replace('encoding="utf-8"', f'encoding="{name}"', 1)
        yield f"declared {name}", declared.encode("utf-8")
        yield f"declared {name}, a bare &", declared.replace("&amp;", "&", 1).encode("utf-8")
        try:
            if codecs.lookup(name)._is_text_encoding:
                yield f"encoded in {name}", declared.encode(name, errors="xmlcharrefreplace")
        except (LookupError, UnicodeError, ValueError):
            pass
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
                      (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be")):
        yield f"{name} body after its BOM", bom + text.encode(name)
        yield f"{name} body after its BOM, a bare &", bom + text.replace("&amp;", "&", 1).encode(name)
        yield f"{name} body without a BOM", text.encode(name)
        yield f"{name} BOM on a UTF-8 body", bom + page
    for name, doctype in pathological_doctypes():
        yield f"DOCTYPE: {name}", page.replace(b"<html ", doctype + b"<html ", 1)
        yield f"DOCTYPE in the CDATA: {name}", page.replace(b"<![CDATA[", b"<![CDATA[" + doctype, 1)
        yield f"DOCTYPE in a comment after the body: {name}", page.replace(b"]]></p>", b"]]></p><!-- " + doctype + b" -->", 1)


def pathological_doctypes() -> Iterator[tuple[str, bytes]]:
    yield "<!DOCTYPE + []x40 + [ -->", b"<!DOCTYPE" + b"[]" * 40 + b"[ -->"
    for n in (40, 10_000):
        yield f"[]x{n} unterminated", b"<!DOCTYPE" + b"[]" * n + b"["
        yield f"[x{n}", b"<!DOCTYPE " + b"[" * n
        yield f"]x{n}", b"<!DOCTYPE " + b"]" * n
        yield f"quotes x{n}", b"<!DOCTYPE html [" + b"\"'" * n
        yield f"comments x{n}", b"<!DOCTYPE html [" + b"<!-- ] > -->" * n + b"]>"
        yield f"unclosed comment after {n} declarations", b"<!DOCTYPE html [" + b'<!ENTITY a "b">' * n + b"<!--"
        yield f"{n} DOCTYPEs", b"<!DOCTYPE html>" * n
        yield f"{n} unterminated DOCTYPEs", b"<!DOCTYPE [" * n
    yield "billion laughs", b'<!DOCTYPE html [<!ENTITY a0 "lol">' + b"".join(
        f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">'.encode() for i in range(1, 12)) + b"]>"
    yield "external entity", b'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    yield "parameter entities", b'<!DOCTYPE html [<!ENTITY % a SYSTEM "http://127.0.0.1:1/x.dtd"> %a;]>'
    yield "PI holding ]>", b"<!DOCTYPE html [<?pi ]> ?>]>"


def run_corpus(timings: Timings, budget, seed: int, flips: int) -> int:
    tried = 0
    for name, body in mutations(random.Random(seed), flips):
        budget(timings.run(name, body))
        tried += 1
    return tried


def test_mutations_of_the_real_page(timings, budget):
    assert run_corpus(timings, budget, seed=0, flips=1_500) >= 2_000


@pytest.mark.slow
def test_mutations_of_the_real_page_slow(timings, budget):
    assert sum(run_corpus(timings, budget, seed=seed, flips=2_000) for seed in range(1, 9)) >= 20_000
