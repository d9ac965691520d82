"""The replica must look like the real site and keep the promises crawler tests rely on."""

from __future__ import annotations

import io
import re
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import lxml.html
import pytest
from lxml import etree
from PIL import Image

from sasscrawl_replica import ReplicaServer, build_site
from sasscrawl_replica.images import EXIF_ORIENTATION_TAG, PIXEL_SCALE, declared_size
from sasscrawl_replica.pages import ArticlePage, HotLink, Link, Section, Sidebars, render_article
from sasscrawl_replica.site import LONG_LINK_LENGTH, LONG_LINKS_PER_PAGE

REAL_PAGE = Path(__file__).parent / "fixtures" / "en.sass.cn_103002_5554.aspx.xml"
HOST = "127.0.0.1:8000"
RECOVERING_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def fetch(server, path, method="GET", headers=None):
    """(status, headers, body) of a real request; error statuses are returned, not raised."""
    request = urllib.request.Request(server.url(path), method=method, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def tag_paths(root):
    tree = root.getroottree()
    return [(tree.getpath(element), sorted(element.keys())) for element in root.iter()]


def get(site, path):
    return site.response("GET", path, HOST)


@pytest.fixture(scope="module")
def site():
    return build_site(seed=3)


@pytest.fixture(scope="module")
def server(site):
    with ReplicaServer(site) as running:
        yield running


def test_renderer_reproduces_the_real_page_byte_for_byte():
    raw = REAL_PAGE.read_bytes()
    root = etree.fromstring(raw)
    div = root.find("body/div")

    def link(a):
        return Link(a.get("href"), a.text) if a is not None else None

    page = ArticlePage(
        section=Section("103002", "Commentary", "103", "RESEARCH"),
        article_id=int(root.find("head/meta").get("id")),
        headline=div.findtext("h1"), date_published=div.findtext("h4"), authors=div.findtext("h5"),
        source=link(div.find("a")), body_html=div.findtext("p"), posted=div.findtext("b"),
        views=int(div.findtext("dd")), image_list=tuple(li.text for li in div.findall("ul/li") if li.text),
        previous=link(root.find("body/a[@id='perv']")), next=link(root.find("body/a[@id='next']")),
        sidebars=Sidebars(
            tuple(link(a) for a in root.findall("body/ul[@id='new']/li/a")),
            tuple(HotLink(int(a.get("id")), link(a)) for a in root.findall("body/ul[@id='hot']/li/a")),
        ),
    )
    assert render_article(page).encode() == raw


def test_article_page_has_the_real_page_skeleton(site, server):
    spec = next(a for a in site.articles[10:-1]
                if a.fault is None and a.authors_raw and a.source_url and a.image_paths)
    status, headers, body = fetch(server, f"/103002/{spec.id}.aspx")
    real = REAL_PAGE.read_bytes()

    root = etree.fromstring(body)
    assert status == 200 and headers["Content-Type"] == "text/xml; charset=utf-8"
    assert body.splitlines()[:2] == real.splitlines()[:2]
    assert tag_paths(root) == tag_paths(etree.fromstring(real))
    assert root.find("head/meta").get("id") == str(spec.id)
    assert root.findtext("body/div/h1") == spec.headline
    assert root.findtext("body/div/h4") == spec.date_published
    assert root.findtext("body/div/h5") == spec.authors_raw
    assert root.findtext("body/div/ul/li") == spec.image_paths[0].lstrip("/")


def test_headlines_are_escaped_outside_the_body(site):
    tricky = [a for a in site.articles if a.fault is None and set(a.headline) & set("&'\"")]
    assert site.article(site.quirks.escaped_headline_id) in tricky
    for spec in tricky:
        root = etree.fromstring(get(site, f"/103002/{spec.id}.aspx").body)
        assert root.findtext("body/div/h1") == spec.headline
        assert root.find("head/meta").get("content") == spec.headline + " "


def test_body_ground_truth_matches_the_body_markup(site):
    for spec in site.articles:
        form = lxml.html.fragment_fromstring(site.body_html(spec.id))
        rendered = [p.find("img").get("src") if p.find("img") is not None else " ".join(p.text_content().split())
                    for p in form.findall("p")]
        expected = []
        for block in site.body_blocks(spec.id):
            expected += [block.image, f"{block.text} {block.credit}"] if block.kind == "figure" else [block.text]
        assert rendered == expected
        assert [b.image for b in site.body_blocks(spec.id) if b.image] == list(spec.image_paths)


def test_robots_txt_disallows_print_pages(server):
    status, headers, body = fetch(server, "/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert body == b"User-agent: *\nDisallow: /103002/print/\n"


def test_pagination_runs_past_the_last_article(site, server):
    first_page = etree.fromstring(fetch(server, "/103002/default.aspx")[2])
    last = site.page_count()
    last_page = etree.fromstring(fetch(server, f"/103002/default.aspx?page={last}")[2])
    listed_last = etree.tostring(last_page.find("body/ul[@id='list']")).decode()
    assert f"/{site.quirks.deep_pagination_only_id}.aspx" in listed_last

    for number in (last + 1, last + 7):
        page = etree.fromstring(fetch(server, f"/103002/default.aspx?page={number}")[2])
        assert len(page.find("body/ul[@id='list']")) == 0
        assert page.find("body/div[@id='pager']/a[.='Next']").get("href") == f"default.aspx?page={number + 1}"
        for sidebar in ("new", "hot"):
            xpath = f"body/ul[@id='{sidebar}']"
            assert etree.tostring(page.find(xpath)) == etree.tostring(first_page.find(xpath))
            assert len(page.find(xpath)) == 10


def test_redirect_alias_answers_301(site, server):
    target = site.quirks.link_variety_id
    status, headers, _ = fetch(server, f"/103002/show.aspx?id={target}")
    assert status == 301 and headers["Location"] == f"/103002/{target}.aspx"


def test_request_log_records_host_and_user_agent(server):
    status, headers, body = fetch(server, "/robots.txt?probe=log", headers={"User-Agent": "replica-test/1.0"})
    head_status, head_headers, head_body = fetch(server, "/robots.txt?probe=log", method="HEAD")

    record = next(r for r in server.requests if r.path == "/robots.txt?probe=log")
    assert (record.method, record.host, record.user_agent) == ("GET", f"127.0.0.1:{server.port}", "replica-test/1.0")
    assert server.paths().count("/robots.txt?probe=log") == 2
    assert head_status == status and head_body == b"" and head_headers["Content-Length"] == str(len(body))


@pytest.mark.parametrize("encoding", ["gbk", "gb2312"])
def test_chinese_encoded_pages_decode_to_the_expected_headline(site, server, encoding):
    spec = site.article(site.quirks.bad_inputs[encoding])
    status, headers, body = fetch(server, f"/103002/{spec.id}.aspx")

    assert body.startswith(f'<?xml version="1.0" encoding="{encoding}"?>'.encode())
    assert headers["Content-Type"] == "text/xml"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert etree.fromstring(body).findtext("body/div/h1") == spec.headline
    assert spec.headline.startswith("上海社会科学院")
    if encoding == "gbk":
        assert "镕" in body.decode("gbk")  # in GBK only: decoding as GB2312 would fail


def test_images_decode_with_pillow(site, server):
    exif_status, exif_headers, exif_body = fetch(server, site.quirks.exif_image_path)
    exif_image = Image.open(io.BytesIO(exif_body))
    assert exif_headers["Content-Type"] == "image/jpeg" and exif_image.format == "JPEG"
    assert exif_image.getexif()[EXIF_ORIENTATION_TAG] == 6

    png_headers, png_body = fetch(server, site.quirks.png_image_path)[1:]
    png = Image.open(io.BytesIO(png_body))
    assert png_headers["Content-Type"] == "image/png" and png.mode == "RGBA"
    assert png.getextrema()[3][0] == 0  # some pixels are fully transparent

    special = (site.quirks.exif_image_path, site.quirks.png_image_path)
    plain_path = next(path for a in site.articles for path in a.image_paths if path not in special)
    plain = Image.open(io.BytesIO(fetch(server, plain_path)[2]))
    width, height = declared_size(site.seed, plain_path)
    assert plain.format == "JPEG" and plain.size == (width // PIXEL_SCALE, height // PIXEL_SCALE)
    assert fetch(server, "/upload/images/2026/1/1/missing.001.jpeg")[0] == 404


def test_same_seed_gives_the_same_bytes():
    first, second, other = build_site(seed=11), build_site(seed=11), build_site(seed=12)
    paths = ["/103002/default.aspx", "/103002/default.aspx?page=3", "/103/default.aspx",
             f"/103002/{first.articles[20].id}.aspx", f"/103002/{first.quirks.bad_inputs['gbk']}.aspx",
             first.quirks.exif_image_path, first.quirks.png_image_path]
    for path in paths:
        assert get(first, path) == get(second, path)
    assert get(first, paths[0]).body != get(other, paths[0]).body


def _article_links(site, path):
    """(where, article id) for every link to a section article on the page at ``path``."""
    root = etree.fromstring(get(site, path).body, RECOVERING_PARSER)
    links = []
    for anchor in root.iter("a"):
        target = urlsplit(urljoin(f"http://{HOST}{path}", anchor.get("href"))).path
        match = re.fullmatch(r"/103002/(\d+)\.aspx", target)
        if match:
            parent = anchor.getparent()
            where = anchor.get("id") or (parent.getparent().get("id") if parent.tag == "li" else parent.tag)
            links.append((where, int(match[1])))
    return links


def test_reachability_quirks_hold(site):
    quirks = site.quirks
    last = site.page_count()
    listing_links = {n: _article_links(site, f"/103002/default.aspx?page={n}") for n in range(1, last + 2)}
    article_links = [link for a in site.articles if a.fault is None
                     for link in _article_links(site, f"/103002/{a.id}.aspx")]

    assert all(target != quirks.only_via_prevnext_id for links in listing_links.values() for _, target in links)
    assert {where for where, target in article_links if target == quirks.only_via_prevnext_id} == {"perv", "next"}

    assert [n for n, links in listing_links.items() if ("list", quirks.deep_pagination_only_id) in links] == [last]
    assert all(target != quirks.deep_pagination_only_id for _, target in article_links)
    assert all(target != quirks.deep_pagination_only_id
               for n, links in listing_links.items() if n != last for _, target in links)


def test_listing_links_spell_articles_variously(site):
    body = get(site, "/103002/default.aspx").body.decode()
    target, elsewhere = site.quirks.link_variety_id, site.quirks.other_host_link_id
    for href in (f"../103002/{target}.aspx", f"/103002/{target}.aspx", f"{target}.aspx?from=list",
                 f"../103002/{target}.aspx#comments", f"http://{HOST}/103002/{target}.aspx",
                 f"/103002/show.aspx?id={target}", f"http://localhost:8000/103002/{elsewhere}.aspx",
                 "../103001/default.aspx", f"print/{target}.aspx"):
        assert f'href="{href}"' in body
    assert get(site, "/103001/default.aspx").status == 200
    assert get(site, f"/103001/{site.quirks.sibling_article_ids[0]}.aspx").status == 200
    assert get(site, f"/103002/{site.quirks.sibling_article_ids[0]}.aspx").status == 404


def test_bad_inputs_are_served_as_promised(site, server):
    bad = site.quirks.bad_inputs
    content_types = {"text_html": "text/html; charset=utf-8", "text_plain": "text/plain; charset=utf-8",
                     "no_content_type": None}
    for kind, content_type in content_types.items():
        status, headers, _ = fetch(server, f"/103002/{bad[kind]}.aspx")
        assert (status, headers["Content-Type"]) == (200, content_type)
    for kind, status in {"not_found": 404, "gone": 410, "always_500": 500}.items():
        assert fetch(server, f"/103002/{bad[kind]}.aspx")[0] == status
    assert [fetch(server, f"/103002/{bad['flaky_503']}.aspx")[0] for _ in range(3)] == [503, 503, 200]

    truncated_headers, truncated = fetch(server, f"/103002/{bad['truncated']}.aspx")[1:]
    assert truncated_headers["Content-Length"] == str(len(truncated))
    assert re.search(rb'<!\[CDATA\[.*<p style="line-height:\d$', truncated)
    for kind in ("bare_ampersand", "unclosed_tags", "truncated"):
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(fetch(server, f"/103002/{bad[kind]}.aspx")[2])

    entity_pages = {kind: fetch(server, f"/103002/{bad[kind]}.aspx")[2]
                    for kind in ("xxe_file", "xxe_http", "billion_laughs")}
    assert b'<!ENTITY xxe SYSTEM "file:///etc/hostname">' in entity_pages["xxe_file"]
    assert f'<!ENTITY xxe SYSTEM "{server.origin}/xxe-canary.txt">'.encode() in entity_pages["xxe_http"]
    for kind, body in entity_pages.items():
        root = etree.fromstring(body, RECOVERING_PARSER)
        assert root.findtext("body/div/h1") == site.article(bad[kind]).headline
        assert not root.findtext("body/div/h5")
    assert get(site, "/xxe-canary.txt").status == 200  # served: a resolving crawler would show in the log


def test_expected_article_ids_leave_out_what_cannot_be_scraped(site):
    unscrapable = {site.quirks.bad_inputs[kind] for kind in ("no_headline", "not_found", "gone", "always_500", "stall")}
    assert site.expected_article_ids() == {a.id for a in site.articles} - unscrapable
    assert not build_site(seed=3, stall_seconds=0).quirks.bad_inputs.keys() & {"stall"}


def test_mutations_for_incremental_crawls():
    site = build_site(seed=5)
    previous_newest = site.articles[-1]
    added = site.add_article()
    assert site.articles[-1] is added and added.id > previous_newest.id
    previous_page = get(site, f"/103002/{previous_newest.id}.aspx").body.decode()
    assert f'<a id="next" href="../103002/{added.id}.aspx">' in previous_page
    assert _article_links(site, "/103002/default.aspx")[0] == ("list", added.id)

    page_before = get(site, f"/103002/{added.id}.aspx").body
    site.set_views(added.id, 12345)
    page_after_views = get(site, f"/103002/{added.id}.aspx").body
    before_hot_list = page_before.split(b'<ul id="hot">')[0]
    expected = re.sub(rb"<dd>\d+</dd>", b"<dd>12345</dd>", before_hot_list)
    assert page_after_views.split(b'<ul id="hot">')[0] == expected
    assert b'<a id="12345" href="../103002/%d.aspx">' % added.id in page_after_views

    body_before = site.body_html(added.id)
    site.change_article(added.id)
    assert site.body_html(added.id) != body_before
    assert site.body_html(added.id).encode() in get(site, f"/103002/{added.id}.aspx").body

    site.remove_article(added.id, status=410)
    assert get(site, f"/103002/{added.id}.aspx").status == 410
    assert added.id not in site.expected_article_ids()


def test_clean_site_scales_and_has_no_traps():
    site = build_site(5000, quirks=False)
    assert site.quirks is None and site.page_count() == 500
    last_page = get(site, "/103002/default.aspx?page=500").body.decode()
    assert f'href="../103002/{site.articles[0].id}.aspx"' in last_page and 'id="related"' not in last_page
    assert get(site, f"/103002/print/{site.articles[0].id}.aspx").status == 404
    assert get(site, "/103/default.aspx").status == 200


def test_long_links_are_new_on_every_article_page_and_change_nothing_else():
    """In the section: one listing URL, spelt anew on each page. Out of it: never fetched. The rest: the plain site."""
    plain, long_links = build_site(12, seed=5, quirks=False), build_site(12, seed=5, quirks=False, long_links=True)
    seen, listing_queries = set(), set()
    for spec in long_links.articles:
        path = f"/103002/{spec.id}.aspx"
        page = get(long_links, path).body.decode()
        hrefs = etree.fromstring(page.encode()).xpath('//ul[@id="related"]/li/a/@href')
        assert len(hrefs) == LONG_LINKS_PER_PAGE and min(map(len, hrefs)) >= LONG_LINK_LENGTH
        assert not seen & set(hrefs)
        seen.update(hrefs)
        urls = [urlsplit(urljoin(f"http://{HOST}{path}", href)) for href in hrefs]
        inside = [url for url in urls if url.path.startswith("/103002/")]
        assert len(inside) == LONG_LINKS_PER_PAGE // 2 and {url.path for url in inside} == {"/103002/default.aspx"}
        listing_queries.update(tuple(sorted(parse_qsl(url.query))) for url in inside)
        assert re.sub(r'\n\t*<ul id="related">.*?</ul>', "", page, flags=re.DOTALL) == get(plain, path).body.decode()
    assert len(listing_queries) == 1
    assert get(long_links, "/103002/default.aspx").body == get(plain, "/103002/default.aspx").body


def test_stop_releases_a_stalled_response():
    """A response stalled for an hour is ended by stop(): the client sees its connection closed, unanswered."""
    site = build_site(seed=3, stall_seconds=3600)
    stall_path = f"/103002/{site.quirks.bad_inputs['stall']}.aspx"
    server = ReplicaServer(site).start()
    # The 60 s timeouts only guard against a hang: a stop that waited for the stall would take an hour.
    with socket.create_connection((server.host, server.port), timeout=60) as client:
        client.sendall(f"GET {stall_path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        assert server.wait_for(stall_path, timeout=60)
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        stopping.join(timeout=60)
        assert not stopping.is_alive()
        assert client.recv(1) == b""


def test_the_replica_is_a_distribution_of_its_own_not_part_of_the_crawler():
    """The crawler's wheel ships no HTTP server, XXE payloads or gzip bombs: the replica lives under tests/."""
    import importlib.util

    import sasscrawl_replica

    assert importlib.util.find_spec("sasscrawl.replica") is None
    assert Path(sasscrawl_replica.__file__).parent.parent.name == "replica"
