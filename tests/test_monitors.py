"""Each Spidermon monitor fails on a replica built to trip it, and passes on the normal one."""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import time
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from harness import PROJECT_ROOT, run_crawl
from sasscrawl import settings
from sasscrawl.pages.article import parse_article
from sasscrawl_replica import ReplicaServer, build_site
from sasscrawl_replica.site import LAST_PUBLICATION_DATE
from sasscrawl.store import LAST_NEW_ARTICLE, STATE_FILE

ARTICLE_PATH = re.compile(r"^/103002/\d+\.aspx$")


class ChangedLayout:
    """The replica with every article page rewritten, as a redesign of the site would."""

    def __init__(self, site, rewrite):
        self._site = site
        self._rewrite = rewrite

    def __getattr__(self, name):
        return getattr(self._site, name)

    def response(self, method, path, host):
        response = self._site.response(method, path, host)
        if response.status == 200 and ARTICLE_PATH.match(urlsplit(path).path):
            return dataclasses.replace(response, body=self._rewrite(response.body))
        return response


def byline_renamed(body: bytes) -> bytes:
    return re.sub(rb"<(/?)h5\b", rb"<\1h6", body)


def body_moved_out_of_cdata_p(body: bytes) -> bytes:
    return re.sub(rb"<p>(<!\[CDATA\[.*?\]\]>)</p>", rb"<section>\1</section>", body, flags=re.DOTALL)


def headline_gone(body: bytes) -> bytes:
    return re.sub(rb"<h1>.*?</h1>", b"<h1 />", body)


def perv_to_id_zero(body: bytes) -> bytes:
    return re.sub(rb'id="perv" href="[^"]*"', b'id="perv" href="../103002/0.aspx"', body)


def bylines_renamed_and_bodies_moved(body: bytes) -> bytes:
    return body_moved_out_of_cdata_p(byline_renamed(body))


def failed_monitors(result) -> list[str]:
    return result.stats.get("sasscrawl/monitors/failed", [])


def build_monitored_site():
    """20 articles: enough for the field coverage rules that judge a share of the articles."""
    return build_site(articles=20, seed=12, quirks=False)


@pytest.fixture
def site():
    return build_monitored_site()


def test_monitors_pass_on_the_normal_replica(clean_crawl):
    result = clean_crawl.result
    assert result.returncode == 0
    assert result.stats["sasscrawl/monitors/ran"] is True
    assert failed_monitors(result) == []
    assert "[Spidermon] OK" in result.log


@pytest.mark.parametrize("rewrite, lost, kept", [(byline_renamed, "authors", "articleBody"),
                                                  (body_moved_out_of_cdata_p, "articleBody", "authors")])
def test_each_layout_change_takes_its_own_field_and_not_the_other(site, rewrite, lost, kept):
    """Each rewrite alone empties its field and leaves the other: the crawl below, with both, stands for one crawl of
    each (the coverage monitor counts each field on its own)."""
    spec = site.articles[0]
    url = f"http://127.0.0.1/103002/{spec.id}.aspx"
    page = site.response("GET", f"/103002/{spec.id}.aspx", "127.0.0.1").body
    before, after = parse_article(page, url), parse_article(rewrite(page), url)
    assert before[lost] and not after[lost]
    assert after[kept] == before[kept] and before[kept]


@pytest.fixture(scope="module")
def layout_changed(tmp_path_factory):
    """The replica of 20 articles with bylines renamed and bodies moved, crawled once: each field's test reads it."""
    with ReplicaServer(ChangedLayout(build_monitored_site(), bylines_renamed_and_bodies_moved)) as server:
        return run_crawl(server.start_url, tmp_path_factory.mktemp("layout-changed"))


@pytest.mark.parametrize("field", ["Article/authors", "Article/articleBody"])
def test_layout_change_fails_the_coverage_monitor_naming_the_field(layout_changed, field):
    result = layout_changed
    assert result.returncode == 1
    failures = failed_monitors(result)
    assert len(failures) == 1 and failures[0].startswith("Field coverage/")
    assert f"{field} (expected" in failures[0]
    assert "Run problem: monitor failed: Field coverage" in result.log
    assert field in "".join(result.summary["problems"])


def test_a_few_articles_are_judged_only_by_the_every_article_rules(serve, tmp_path):
    """Three articles, their bylines and their bodies gone: only the body is named."""
    small = build_site(articles=3, seed=13, quirks=False)
    result = run_crawl(serve(ChangedLayout(small, bylines_renamed_and_bodies_moved)).start_url, tmp_path)
    assert result.returncode == 1  # every article has a body, however few there are
    failures = failed_monitors(result)
    assert len(failures) == 1 and "Article/articleBody (expected 1.0, got 0.00)" in failures[0]
    assert "Article/authors" not in failures[0]  # "most articles have an author" needs more than three to judge
    assert not any("authors" in problem for problem in result.summary["problems"])  # nor anything else judges them


def test_no_article_parsed_fails_the_results_monitor(site, serve, tmp_path):
    result = run_crawl(serve(ChangedLayout(site, headline_gone)).start_url, tmp_path)
    assert result.returncode == 1
    assert any(failure.startswith("Crawl results/Articles parsed when the section has articles")
               and "no article could be parsed" in failure for failure in failed_monitors(result))


def test_failing_pages_fail_the_results_monitor(failing_pages_crawl):
    result = failing_pages_crawl.result
    assert result.returncode == 1
    assert [f for f in failed_monitors(result) if f.startswith("Crawl results/Failed pages within")]


def test_invalid_records_fail_the_validation_monitor(site, serve, tmp_path):
    result = run_crawl(serve(ChangedLayout(site, perv_to_id_zero)).start_url, tmp_path)
    assert result.returncode == 1
    # Every page with a perv link said previousArticleId 0: those records are never written.
    assert [record["previousArticleId"] for record in result.records] == [None]  # the oldest has no perv link
    assert result.stat("sasscrawl/articles/invalid") == len(site.articles) - 1
    assert "previousArticleId" in result.log
    assert any(failure.startswith("Item Validation Monitor/") for failure in failed_monitors(result))


def test_unexpected_errors_fail_their_monitor(site, serve, tmp_path):
    pipelines = {**settings.ITEM_PIPELINES, "exploding_pipeline.ExplodingPipeline": 350}
    result = run_crawl(serve(site).start_url, tmp_path,
                       settings={"ITEM_PIPELINES": json.dumps(pipelines)},
                       env={"PYTHONPATH": str(PROJECT_ROOT / "tests" / "plugins")})
    assert result.returncode == 1
    assert result.stat("sasscrawl/log/unexpected_errors") > 0
    assert any(failure.startswith("Unexpected errors/") for failure in failed_monitors(result))


def days_pass_without_a_new_article(data_dir, days: int) -> None:
    """As if the last new article had been found ``days`` ago: time passing, without waiting for it."""
    db = sqlite3.connect(data_dir / STATE_FILE)
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (int(time.time()) - days * 86400, LAST_NEW_ARTICLE))
    db.close()


def test_a_frozen_site_fails_the_staleness_monitor(clean_crawl, tmp_path):
    """The quirk-free replica's newest article was published on LAST_PUBLICATION_DATE, months ago: its session
    crawl saved it (not stale), and 40 days later, a copy of that data folder crawled again is."""
    assert clean_crawl.result.returncode == 0  # an old archive saved now is new to this crawl: not stale
    data_dir = clean_crawl.copy_data_dir(tmp_path / "data")
    days_pass_without_a_new_article(data_dir, 40)

    second = run_crawl(clean_crawl.server.start_url, data_dir)

    assert second.returncode == 1
    stale_failures = [f for f in failed_monitors(second) if f.startswith("Crawl results/Fresh data")]
    assert stale_failures
    published_days_ago = (date.today() - LAST_PUBLICATION_DATE).days
    # Published at 04:00 UTC that day: a day more from 16:00 UTC on.
    assert re.search(rf"the newest article was published ({published_days_ago}|{published_days_ago + 1}) days ago",
                     stale_failures[0])
    assert "no run has found a new article for 40 days (STALE_AFTER_DAYS 30)" in stale_failures[0]
    assert run_crawl(clean_crawl.server.start_url, data_dir, settings={"STALE_AFTER_DAYS": "0"}).returncode == 0


def test_a_recently_published_site_passes_the_staleness_monitor(serve, tmp_path):
    site = build_site(articles=12, seed=4, quirks=False, last_published=date.today() - timedelta(days=3))
    server = serve(site)
    assert run_crawl(server.start_url, tmp_path).returncode == 0
    days_pass_without_a_new_article(tmp_path, 40)

    second = run_crawl(server.start_url, tmp_path)

    assert second.returncode == 0
    assert [f for f in failed_monitors(second) if f.startswith("Crawl results/Fresh data")] == []
