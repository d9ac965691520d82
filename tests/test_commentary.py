"""The real ``scrapy crawl commentary`` against the quirky replica over HTTP on 127.0.0.1.

One crawl of a site full of traps (``quirky_crawl``, conftest), then one assertion per promise.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.http import Request, XmlResponse
from scrapy.utils.test import get_crawler

from sasscrawl.items import Article
from sasscrawl.middlewares import CAPTURED_AT
from sasscrawl.schemas import article_validator
from sasscrawl.spiders.commentary import CommentarySpider


@pytest.fixture(scope="module")
def crawl(quirky_crawl):
    """The session's crawl of the quirky replica (conftest), as these tests unpack it."""
    return quirky_crawl.site, quirky_crawl.server, quirky_crawl.result, quirky_crawl.requests


def by_id(result):
    return {record["articleId"]: record for record in result.records}


def test_every_expected_article_exactly_once(crawl):
    site, _, result, _ = crawl
    ids = [record["articleId"] for record in result.records]
    assert len(ids) == len(set(ids))
    assert set(ids) == site.expected_article_ids()


def test_articles_reachable_only_one_way_are_found(crawl):
    site, _, result, _ = crawl
    found = by_id(result)
    assert site.quirks.only_via_prevnext_id in found
    assert site.quirks.deep_pagination_only_id in found
    assert all(id_ in found for id_ in site.quirks.duplicate_headline_ids)  # same title, two articles


def test_records_are_valid_and_match_the_ground_truth(crawl):
    site, server, result, _ = crawl
    validator = article_validator()
    for record in result.records:
        assert list(validator.iter_errors(record)) == [], record["url"]
        spec = site.article(record["articleId"])
        assert record["url"] == f"{server.origin}/103002/{spec.id}.aspx"
        assert record["headline"] == spec.headline
        assert record["datePublishedRaw"] == spec.date_published
        assert [author["nameRaw"] for author in record["authors"]] == [
            name.strip() for name in _split(spec.authors_raw)
        ]
        expected_body = [block.text for block in site.body_blocks(spec.id) if block.kind != "figure"]
        if site.quirks.bad_inputs["truncated"] != spec.id:
            assert record["articleBody"].split("\n\n") == expected_body, record["url"]
            assert [image["url"] for image in record["images"]] == [
                server.origin + path for path in dict.fromkeys(spec.image_paths)
            ] or record["mainImage"] is None


def _split(raw: str) -> list[str]:
    from sasscrawl.pages.text import split_authors

    return [author["nameRaw"] for author in split_authors(raw)]


def test_no_request_outside_the_section_or_host(crawl):
    site, server, _, requests = crawl
    assert {request.host for request in requests} == {f"127.0.0.1:{server.port}"}
    for request in requests:
        path = urlsplit(request.path).path
        assert path == "/robots.txt" or path.startswith("/103002/") or path.startswith("/upload/"), path
    assert not any(request.path.startswith(f"/{site.quirks.sibling_section}/") for request in requests)
    assert not any(request.path.startswith("/103/") for request in requests)


def test_robots_txt_is_fetched_first_and_obeyed(crawl):
    _, _, result, requests = crawl
    assert requests[0].path == "/robots.txt"
    assert not any("/print/" in request.path for request in requests)
    assert result.stat("robotstxt/forbidden") > 0  # the print links were there and refused


def test_each_article_page_fetched_once_whatever_the_spelling(crawl):
    site, _, _, requests = crawl
    article_paths = [request.path for request in requests if request.path.startswith("/103002/")
                     and request.path.split("/")[-1][:1].isdigit()]
    retried = {f"/103002/{site.quirks.bad_inputs[kind]}.aspx" for kind in ("flaky_503", "always_500", "stall")}
    duplicates = {path for path in article_paths if article_paths.count(path) > 1} - retried
    assert duplicates == set()
    assert all("?" not in path and "#" not in path for path in article_paths)


def test_pagination_past_the_end_is_bounded(crawl):
    site, _, _, requests = crawl
    pages = [parse_qs(urlsplit(request.path).query).get("page", ["1"])[0] for request in requests
             if "default.aspx" in request.path]
    past_the_end = {int(page) for page in pages if int(page) > site.page_count()}
    # The replica links onward forever; one empty page ends the walk.
    assert past_the_end == {site.page_count() + 1}
    assert {str(n) for n in range(1, site.page_count() + 1)} <= set(pages)


def test_declared_content_types_and_encodings_do_not_matter(crawl):
    site, _, result, _ = crawl
    found = by_id(result)
    for kind in ("text_html", "text_plain", "no_content_type", "gbk", "gb2312"):
        id_ = site.quirks.bad_inputs[kind]
        assert found[id_]["headline"] == site.article(id_).headline, kind
    assert any("\u4e00" <= char <= "\u9fff" for char in found[site.quirks.bad_inputs["gbk"]]["headline"])


def test_malformed_xml_is_recovered(crawl):
    site, _, result, _ = crawl
    found = by_id(result)
    for kind in ("bare_ampersand", "unclosed_tags", "truncated"):
        id_ = site.quirks.bad_inputs[kind]
        assert found[id_]["headline"] == site.article(id_).headline, kind
    assert "&" in found[site.quirks.bad_inputs["bare_ampersand"]]["headline"]
    assert result.stat("sasscrawl/pages/recovered") >= 3
    assert result.stat("sasscrawl/pages/truncated") >= 1


def test_a_page_without_headline_is_dropped_with_a_reason(crawl):
    site, _, result, _ = crawl
    assert site.quirks.bad_inputs["no_headline"] not in by_id(result)
    assert result.stat("sasscrawl/pages/rejected/no_headline") == 1
    assert f"{site.quirks.bad_inputs['no_headline']}.aspx: no headline" in result.log


def test_external_entities_are_never_resolved(crawl):
    site, _, result, requests = crawl
    assert not any(request.path == site.quirks.xxe_canary_url_path for request in requests)
    data = (result.data_dir / "articles.jsonl").read_text("utf-8")
    canary = Path(site.quirks.xxe_canary_path).read_text("utf-8")
    assert canary not in data and canary not in result.log
    found = by_id(result)
    for kind in ("xxe_file", "xxe_http", "billion_laughs"):
        assert found[site.quirks.bad_inputs[kind]]["authors"] == []
    assert result.stat("sasscrawl/pages/doctype_removed") == 3


def test_gone_articles_are_logged_and_counted(crawl):
    site, _, result, _ = crawl
    assert result.stat("sasscrawl/pages/gone/404") == 1
    assert result.stat("sasscrawl/pages/gone/410") == 1
    assert "Gone (404): http://127.0.0.1" in result.log


def test_server_errors_and_timeouts_are_retried_then_counted(crawl):
    site, _, result, requests = crawl
    flaky = f"/103002/{site.quirks.bad_inputs['flaky_503']}.aspx"
    broken = f"/103002/{site.quirks.bad_inputs['always_500']}.aspx"
    stalled = f"/103002/{site.quirks.bad_inputs['stall']}.aspx"
    paths = [request.path for request in requests]
    assert site.quirks.bad_inputs["flaky_503"] in by_id(result)
    assert paths.count(broken) == 3 and paths.count(stalled) == 3  # RETRY_TIMES=2
    assert result.stat("sasscrawl/pages/failed/HTTP_500") == 1
    assert result.stat("sasscrawl/pages/failed/DownloadTimeoutError") == 1
    assert "Failed to fetch http://127.0.0.1" in result.log
    assert paths.count(flaky) == 3  # 503, 503, then 200


def test_output_is_utf8_json_lines_without_escapes(crawl):
    _, _, result, _ = crawl
    raw = (result.data_dir / "articles.jsonl").read_bytes()
    assert b"\\u" not in raw
    assert raw.endswith(b"\n") and raw.count(b"\n") == len(result.records)


def test_a_run_of_the_quirky_site_is_healthy_and_says_so(crawl):
    _, _, result, _ = crawl
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback (most recent call last)" not in result.log
    summary = result.summary
    assert summary["articles"]["new"] == len(result.records)
    assert summary["articles"]["failed"] == 3  # no headline, always 500, stall, and nothing else
    assert summary["problems"] == [] and summary["exitStatus"] == 0


def test_routine_events_are_summarised_not_repeated(crawl):
    """Links robots.txt forbids (every listing entry's print link) make one line; Spidermon warns of nothing."""
    _, _, result, _ = crawl
    forbidden = result.stat("robotstxt/forbidden")
    assert forbidden > 10
    lines = [line for line in result.log.splitlines() if "robots.txt forbids" in line or "Not fetched http" in line]
    assert len(lines) == 1 and f"Not fetched: {forbidden} links that robots.txt forbids, such as " in lines[0]
    assert "Deprecat" not in result.log and "[Spidermon] OK" in result.log


# --- the spider on one page, without a crawl ------------------------------------------------

REAL_PAGE = Path(__file__).parent / "fixtures" / "en.sass.cn_103002_5554.aspx.xml"
HOST_URL = "http://h.test/103002/"


@pytest.fixture
def spider(tmp_path):
    crawler = get_crawler(CommentarySpider, {"DATA_DIR": str(tmp_path),
                                             "EXTENSIONS": {"sasscrawl.extensions.data_folder.RunDataFolder": 50}})
    spider = CommentarySpider.from_crawler(crawler, start_url=HOST_URL + "default.aspx")
    crawler._apply_settings()  # makes the extensions, the run's data folder among them
    assert spider._open_store()
    yield spider
    spider.store.close(snapshot=False)


def article_response(spider, article_id: int, body: bytes, earlier_failures: int = 0,
                     captured_at: datetime | None = None) -> XmlResponse:
    """The page of an article the spider asked for, its URL in the frontier as ``_follow`` leaves it, stamped with its
    capture time as the downloader middleware stamps it."""
    url = f"{HOST_URL}{article_id}.aspx"
    spider.store.frontier.add_pending([(url, article_id)])
    request = Request(url, meta={"sasscrawl_page": True, "article_id": article_id, "frontier_url": url,
                                 "earlier_failures": earlier_failures,
                                 CAPTURED_AT: captured_at or datetime.now(timezone.utc)})
    return XmlResponse(url, body=body, request=request)


def test_an_unexpected_error_on_a_page_is_that_pages_counted_failure(spider, monkeypatch, caplog):
    """A parser bug is the page's failure: counted with its reason, one ERROR line, kept in the frontier."""
    class BrokenDocument:
        def __init__(self, body, url):
            raise RuntimeError("boom " + "x" * 10_000)

    response = article_response(spider, 7, REAL_PAGE.read_bytes())
    monkeypatch.setattr("sasscrawl.spiders.commentary.Document", BrokenDocument)
    with caplog.at_level(logging.INFO):
        assert list(spider.parse_page(response)) == []
    stats = spider.crawler.stats
    assert stats.get_value("sasscrawl/pages/rejected/parser_error") == 1
    assert stats.get_value("sasscrawl/pages/failed") == 1 and stats.get_value("sasscrawl/articles/failed") == 1
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert f"Could not read page {HOST_URL}7.aspx: RuntimeError: boom xxx" in errors[0].getMessage()
    assert len(errors[0].getMessage()) < 500
    assert [entry[:3] for entry in spider.store.frontier.pending()] == [(f"{HOST_URL}7.aspx", 7, 1)]


def test_date_downloaded_is_when_the_response_was_captured_not_when_it_was_parsed(spider):
    """The WARC-Date of the capture and the record's dateDownloaded are one time (see WarcCaptureMiddleware)."""
    captured = datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=timezone.utc)
    response = article_response(spider, 5554, REAL_PAGE.read_bytes(), captured_at=captured)
    record = next(item for item in spider.parse_page(response) if isinstance(item, Article))
    assert record["dateDownloaded"] == "2026-01-02T03:04:05+00:00"


def test_the_record_is_the_requested_urls_whatever_the_page_says(spider, caplog):
    """The real page 5554 served at 9999's URL is article 9999 on this host, with a warning that says why."""
    response = article_response(spider, 9999, REAL_PAGE.read_bytes().replace(b'site="103002"',
                                                                             b'site="http://evil.test/phish"'))
    with caplog.at_level(logging.INFO):
        record = next(item for item in spider.parse_page(response) if isinstance(item, Article))
    assert record["articleId"] == 9999 and record["url"] == f"{HOST_URL}9999.aspx"
    assert record["section"]["id"] == "103002"
    assert record["headline"] == "Collective Prosperity: Zhejiang's Rural Cluster Development Model"
    assert spider.crawler.stats.get_value("sasscrawl/pages/identity_mismatch") == 1
    assert spider.crawler.stats.get_value("sasscrawl/articles/served_under_other_id") is None
    warning = next(record.getMessage() for record in caplog.records if "as its URL says" in record.getMessage())
    assert f"{HOST_URL}9999.aspx" in warning and "meta/@id '5554'" in warning
    assert "site 'http://evil.test/phish'" in warning
