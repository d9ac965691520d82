"""Requests go only where the section lives: off-site images, IDN hosts and path tricks, through the real crawl.

A foreign server (``ForeignSite``, on another 127.0.0.1 port) stands for a cloud metadata service or an
intranet host. The replica's hostile pages point images at it every way a page can (``<img>``, the image
list, ``RelativePath``, a ``//host:port/`` URL, an IDN host) and an article redirects to it; the first
listing page links paths that hide dot segments and escaped separators. The foreign server's request log
must stay empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import CrawlResult, as_a_lenient_server_reads, run_crawl, start_in_process
from sasscrawl.health import EXIT_USAGE
from sasscrawl_replica import ForeignSite, ReplicaServer, RequestRecord, build_site
from sasscrawl_replica.faults import FOREIGN_SECRET, METADATA_PATH

OFF_SITE_IMAGES = ("off_site_image", "off_site_image_list", "off_site_relative_path", "off_site_scheme_relative",
                   "off_site_idn")
SECTION = "103002"


@dataclass
class OffSiteCrawl:
    site: object
    result: CrawlResult
    requests: list[RequestRecord]
    foreign_requests: list[RequestRecord]
    foreign_port: int

    @property
    def foreign(self) -> str:
        return f"http://127.0.0.1:{self.foreign_port}"

    @property
    def foreign_idn(self) -> str:
        return f"http://localhost:{self.foreign_port}"


def crawl_with_a_foreign_host(data_dir: Path, faults, image_hosts=None) -> OffSiteCrawl:
    """Crawl a replica with ``faults`` pointing at a foreign server; ``image_hosts(port)`` gives IMAGE_HOSTS."""
    with ReplicaServer(ForeignSite()) as foreign:
        site = build_site(articles=12, seed=21, quirks=False, faults=faults, foreign_host=f"127.0.0.1:{foreign.port}")
        settings = {"IMAGE_HOSTS": image_hosts(foreign.port)} if image_hosts else None
        with ReplicaServer(site) as server:
            result = run_crawl(server.start_url, data_dir, settings=settings)
            requests = server.requests
        return OffSiteCrawl(site, result, requests, foreign.requests, foreign.port)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> OffSiteCrawl:
    return crawl_with_a_foreign_host(tmp_path_factory.mktemp("data"), {*OFF_SITE_IMAGES, "off_site_redirect",
                                                                       "path_tricks"})


def foreign_images(crawl: OffSiteCrawl) -> list[dict]:
    """Every image entry whose URL names the foreign server, by its address or its IDN name."""
    port = f":{crawl.foreign_port}/"
    return [image for record in crawl.result.records for image in record["images"] if port in image["url"]]


def test_nothing_is_sent_to_a_foreign_host_not_even_for_robots_txt(crawled, fault_tally):
    origin = crawled.requests[0].host
    fault_tally.off_host_requests += len(crawled.foreign_requests) + sum(request.host != origin
                                                                         for request in crawled.requests)
    assert crawled.result.returncode == 0, crawled.result.log[-3000:]
    assert crawled.foreign_requests == []
    assert all(request.host == origin for request in crawled.requests)


def test_nothing_from_a_foreign_host_reaches_the_data_folder_and_the_articles_are_saved(crawled):
    data_dir = crawled.result.data_dir
    for path in data_dir.rglob("*"):
        assert not path.is_file() or FOREIGN_SECRET not in path.read_bytes(), path
    saved = {record["articleId"] for record in crawled.result.records}
    assert {crawled.site.faults.article_ids[name] for name in OFF_SITE_IMAGES} <= saved
    assert crawled.site.faults.article_ids["off_site_redirect"] not in saved  # no valid copy of it arrived
    images = foreign_images(crawled)
    assert len(images) >= len(OFF_SITE_IMAGES)
    for image in images:
        assert image["status"] == "failed" and image["path"] is None and image["sha256"] is None, image
        assert image["error"].startswith("refused as off-site"), image


def test_refusals_are_logged_once_per_host_counted_and_in_the_run_summary(crawled):
    result = crawled.result
    by_address = {image["url"] for image in foreign_images(crawled) if "127.0.0.1" in image["url"]}
    expected = {crawled.foreign: len(by_address) + 1,  # and where the redirect led
                crawled.foreign_idn: 1}
    assert result.summary["refusedHosts"] == expected
    assert result.stat("sasscrawl/requests/off_site") == sum(expected.values())
    for origin in expected:
        assert result.stat(f"sasscrawl/requests/off_site/{origin}") == expected[origin]
        assert len(re.findall(f"Not fetching from {re.escape(origin)}\\b", result.log)) == 1, origin
    assert not re.search(r"Image not mirrored: \S*:" + str(crawled.foreign_port), result.log)  # no line per image


def test_path_tricks_are_never_sent_and_the_print_copy_is_never_fetched(crawled):
    for request in crawled.requests:
        assert not re.search(r"%2e|%2f|%5c|\\|/\.\.?(/|;|$)|;|//", request.path, re.IGNORECASE), request.path
        served = as_a_lenient_server_reads(request.path)
        assert not served.startswith(f"/{SECTION}/print/"), request.path
        assert served == "/robots.txt" or served.startswith((f"/{SECTION}/", "/upload/", "/ui/")), request.path
    article_id = crawled.site.faults.article_ids["path_tricks"]
    record = next(record for record in crawled.result.records if record["articleId"] == article_id)
    trick = next(image for image in record["images"] if "print" in image["url"])
    assert trick["status"] == "failed" and trick["error"].startswith("refused: its path holds"), trick
    assert crawled.result.stat("sasscrawl/requests/unsafe_path") == 1
    assert "which a server may read as another path" in crawled.result.log


def test_image_hosts_lets_the_listed_host_in_and_no_other(tmp_path):
    crawl = crawl_with_a_foreign_host(tmp_path, {"off_site_image", "off_site_idn"},
                                      image_hosts=lambda port: f"img.example.org,127.0.0.1:{port}")
    assert crawl.result.returncode == 0
    assert [request.path for request in crawl.foreign_requests] == ["/robots.txt", METADATA_PATH + "body.jpeg"]
    listed = next(image for image in foreign_images(crawl) if "127.0.0.1" in image["url"])
    assert listed["status"] == "downloaded"
    assert (tmp_path / listed["path"]).read_bytes() == FOREIGN_SECRET + f" {METADATA_PATH}body.jpeg".encode()
    idn = next(image for image in foreign_images(crawl) if "127.0.0.1" not in image["url"])
    assert idn["status"] == "failed" and idn["error"].startswith("refused as off-site")
    assert crawl.result.summary["refusedHosts"] == {crawl.foreign_idn: 1}  # localhost is not 127.0.0.1


def test_a_malformed_image_hosts_entry_stops_the_run_before_any_request(tmp_path, caplog):
    """The spider made in this process: a bad setting takes a bad spider argument's way out (one ``Not crawling``
    line, exit 2, before the first request), which tests/test_crawl_command.py proves in the run's process."""
    started = start_in_process(caplog, {"DATA_DIR": str(tmp_path), "IMAGE_HOSTS": "https://img.example.org/"},
                               start_url="http://127.0.0.1:9/103002/default.aspx")
    assert started.exit_status == EXIT_USAGE and started.requests == []
    assert started.errors == ["Not crawling: IMAGE_HOSTS entry 'https://img.example.org/' is not a host name or "
                              "host:port"]


def test_an_image_refused_as_off_site_is_fetched_by_the_run_after_its_host_is_listed(tmp_path):
    """Two runs: the refused image stays failed, not forgotten, so listing its host in IMAGE_HOSTS fetches it."""
    with ReplicaServer(ForeignSite()) as foreign:
        site = build_site(articles=12, seed=21, quirks=False, faults={"off_site_image"},
                          foreign_host=f"127.0.0.1:{foreign.port}")
        with ReplicaServer(site) as server:
            first = run_crawl(server.start_url, tmp_path)
            refused = [image for record in first.records for image in record["images"]
                       if f":{foreign.port}/" in image["url"]]
            assert foreign.requests == []
            second = run_crawl(server.start_url, tmp_path, settings={"IMAGE_HOSTS": f"127.0.0.1:{foreign.port}"})
        fetched = [request.path for request in foreign.requests]
    assert first.returncode == second.returncode == 0
    assert refused and all(image["status"] == "failed" for image in refused)
    assert fetched == ["/robots.txt", METADATA_PATH + "body.jpeg"]
    later = [image for record in second.records for image in record["images"] if f":{foreign.port}/" in image["url"]]
    assert [image["status"] for image in later] == ["downloaded"] * len(refused)
