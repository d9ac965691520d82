"""The offline mirror in a real browser: Debian's headless Chromium opens it from the disk, with no network."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import lxml.html
import pytest

from render_helpers import CHROMIUM_OFFLINE, normalised, shows_body
from sasscrawl.render import INDEX_FILE
from sasscrawl.render.names import page_file
from sasscrawl_replica import build_site

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed "
                                                          "(.ci/run installs it)")


def open_in_chromium(page: Path, tmp_path: Path) -> tuple[lxml.html.HtmlElement, list[str]]:
    """The DOM Chromium builds from ``page``, and every URL the page made it request through its network stack.

    Chromium's net log lists each request with the site it was made for; a file:// page's are
    ``file://``. Files it reads from the disk are not network requests and are not in it.
    """
    net_log = tmp_path / f"{page.stem}.netlog.json"
    completed = subprocess.run(
        [CHROMIUM, *CHROMIUM_OFFLINE, f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={net_log}",
         "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requested = [event["params"]["url"] for event in log["events"]
                 if event["type"] == start_job and "file://" in event["params"].get("network_isolation_key", "")]
    return lxml.html.document_fromstring(completed.stdout), requested


def test_the_net_log_shows_what_a_file_page_requests(serve, tmp_path):
    """The check below can fail: a page that does load something from the network is caught."""
    server = serve(build_site(articles=1, seed=1, quirks=False))
    page = tmp_path / "online.html"
    page.write_text(f'<html><body><img src="{server.url("/ui/images/logo.png")}">online</body></html>')
    _, requested = open_in_chromium(page, tmp_path)
    assert requested == [server.url("/ui/images/logo.png")]


def test_chromium_shows_the_index_offline(archived_crawl, tmp_path):
    site = archived_crawl.result.data_dir / "site"
    dom, requested = open_in_chromium(site / INDEX_FILE, tmp_path)
    assert requested == []
    listed = dom.xpath("//ul[@class='list']/li/a")
    assert len(listed) >= 10
    for link in listed:
        assert (site / unquote(link.get("href"))).is_file()
    pager = {link.text: link.get("href") for link in dom.xpath("//p[@class='pager']/a")}
    assert (site / unquote(pager["Next"])).is_file()
    headlines = {normalised(record["headline"]) for record in archived_crawl.result.records}
    assert {normalised(link.text_content()) for link in listed} <= headlines


def test_chromium_shows_an_article_offline_with_its_neighbours(archived_crawl, tmp_path):
    site = archived_crawl.result.data_dir / "site"
    record = archived_crawl.result.records[len(archived_crawl.result.records) // 2]
    page = site / page_file(record["url"])
    dom, requested = open_in_chromium(page, tmp_path)
    assert requested == []
    assert normalised(dom.xpath("string(//h1)")) == normalised(record["headline"])
    body = dom.body
    for element in body.iter("p", "div", "li", "h1", "figure", "br"):
        element.tail = "\n" + (element.tail or "")
    assert shows_body(normalised(body.text_content()), record["articleBody"])
    neighbours = {link.get("class"): link.get("href") for link in dom.xpath("//a[@class='perv' or @class='next']")}
    assert set(neighbours) == {"perv", "next"}
    for href in neighbours.values():
        assert (page.parent / unquote(href)).resolve().is_file(), href
    assert dom.xpath("//link[@rel='stylesheet']/@href") and all(
        (page.parent / unquote(href)).resolve().is_file() for href in dom.xpath("//link[@rel='stylesheet']/@href"))
