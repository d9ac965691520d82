"""The run's verdict from its stats (what cron, systemd or Scrapyd see as the exit status), and across real runs."""

import dataclasses
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from harness import PROJECT_ROOT, run_crawl
from sasscrawl.health import (EXIT_BROKEN, EXIT_DATA_DIR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, VERDICTS,
                              exit_status, run_problems)
from sasscrawl_replica import build_site
from sasscrawl_replica.wire import status_page

SHARE = 0.2
HEALTHY = {
    "sasscrawl/articles/requested": 12,
    "sasscrawl/articles/parsed": 12,
    "sasscrawl/pages/parsed": 15,
    "sasscrawl/pages/failed": 1,
}


def test_every_exit_status_is_distinct_and_means_what_the_readme_says():
    """Schedulers tell 'broken run', 'bad arguments', 'data folder' and 'interrupted' apart by number: the
    numbers and meanings the README's table gives, one row per status, each with its verdict."""
    section = (PROJECT_ROOT / "README.md").read_text("utf-8").split("### Exit status", 1)[1]
    rows = {int(line.split("|")[1]): line.split("|")[2].lower() for line in section.split("\n\n")[1].splitlines()
            if re.match(r"\| \d+ \|", line)}
    meanings = {EXIT_OK: "healthy", EXIT_BROKEN: "broken", EXIT_USAGE: "bad spider argument",
                EXIT_DATA_DIR: "data folder", EXIT_INTERRUPTED: "interrupted"}
    assert len(meanings) == 5 and set(VERDICTS) == set(meanings) == set(rows)
    assert {status: words for status, words in meanings.items() if words not in rows[status]} == {}
    assert {status: verdict for status, verdict in VERDICTS.items() if verdict.split()[0] not in rows[status]} == {}


def test_healthy_run():
    """A normal run is a success with nothing to report."""
    assert run_problems(HEALTHY, SHARE) == []
    assert exit_status(HEALTHY, SHARE) == EXIT_OK


def test_run_with_nothing_to_do_is_healthy():
    """A run that found no new article (empty stats) is not broken."""
    assert run_problems({}, SHARE) == []
    assert exit_status({}, SHARE) == EXIT_OK


def test_start_page_failed():
    """Without the start page the crawl saw nothing: broken, and the summary says why."""
    stats = {**HEALTHY, "sasscrawl/start_page_failed": "answered 404"}
    problems = run_problems(stats, SHARE)
    assert problems == ["the start page answered 404"]
    assert exit_status(stats, SHARE) == EXIT_BROKEN


def test_articles_requested_but_none_parsed():
    """Every article page failing to parse means the site changed: broken."""
    stats = {"sasscrawl/articles/requested": 5, "sasscrawl/pages/parsed": 5}
    problems = run_problems(stats, SHARE)
    assert len(problems) == 1 and "5" in problems[0] and "parsed" in problems[0]
    assert exit_status(stats, SHARE) == EXIT_BROKEN
    assert run_problems({**stats, "sasscrawl/articles/parsed": 1}, SHARE) == []


def test_failed_share_of_the_section_above_threshold_is_broken():
    """Too many of the section's article pages fail now: broken, with the counts in the message."""
    stats = {"sasscrawl/articles/known_at_start": 5, "sasscrawl/articles/new": 2, "sasscrawl/articles/failed": 3,
             "sasscrawl/articles/parsed": 2, "sasscrawl/pages/parsed": 3}
    problems = run_problems(stats, SHARE)
    assert len(problems) == 1 and "3 of the section's 10 article pages fail" in problems[0]
    assert exit_status(stats, SHARE) == EXIT_BROKEN


def test_failed_share_at_or_below_threshold_is_ok():
    """A few failing pages are tolerated up to and including FAILED_PAGES_MAX_SHARE of the section."""
    below = {"sasscrawl/articles/known_at_start": 9, "sasscrawl/articles/failed": 1}
    at = {"sasscrawl/articles/known_at_start": 8, "sasscrawl/articles/failed": 2}
    assert run_problems(below, SHARE) == [] and exit_status(below, SHARE) == EXIT_OK
    assert run_problems(at, SHARE) == [] and exit_status(at, SHARE) == EXIT_OK
    assert exit_status(at, 0.1) == EXIT_BROKEN


def test_repeat_failures_count_against_the_section_not_the_run():
    """A rerun that only retried pages known to fail is judged by the section's size, not by its few requests."""
    big = {"sasscrawl/articles/known_at_start": 60, "sasscrawl/articles/retried": 2, "sasscrawl/articles/failed": 2}
    small = {"sasscrawl/articles/known_at_start": 3, "sasscrawl/articles/retried": 2, "sasscrawl/articles/failed": 2}
    assert exit_status(big, SHARE) == EXIT_OK
    assert exit_status(small, SHARE) == EXIT_BROKEN


def test_chronic_pages_not_retried_still_fail():
    """Skipping a page known to fail does not make it work: a rerun without requests stays broken."""
    stats = {"sasscrawl/articles/known_at_start": 30, "sasscrawl/articles/chronic": 30}
    problems = run_problems(stats, SHARE)
    assert len(problems) == 1 and "30 known to fail were not due for a retry" in problems[0]
    assert exit_status({**stats, "sasscrawl/articles/known_at_start": 300}, SHARE) == EXIT_OK


def test_failing_pages_without_any_saved_article_are_broken_whatever_the_share():
    stats = {"sasscrawl/articles/chronic": 1}
    assert "the section has no saved article" in run_problems(stats, 1.0)[0]
    assert exit_status(stats, 1.0) == EXIT_BROKEN


def test_listing_pages_are_judged_within_the_run():
    stats = {"sasscrawl/articles/known_at_start": 50, "sasscrawl/listings/failed": 2, "sasscrawl/pages/parsed": 4,
             "sasscrawl/articles/parsed": 1}
    problems = run_problems(stats, SHARE)
    assert len(problems) == 1 and "2 of 5 listing pages failed" in problems[0]
    assert exit_status({**stats, "sasscrawl/pages/parsed": 12}, SHARE) == EXIT_OK


def test_an_interrupted_run_has_its_own_status():
    """SIGTERM/SIGINT (Scrapy's finish reason 'shutdown'): neither a success nor a broken site."""
    stats = {**HEALTHY, "finish_reason": "shutdown"}
    assert any("interrupted" in problem for problem in run_problems(stats, SHARE))
    assert exit_status(stats, SHARE) == EXIT_INTERRUPTED
    assert exit_status({**stats, "sasscrawl/articles/failed": 99}, SHARE) == EXIT_INTERRUPTED
    assert exit_status({**stats, "sasscrawl/store_error": "disk full"}, SHARE) == EXIT_DATA_DIR
    assert exit_status({**HEALTHY, "finish_reason": "finished"}, SHARE) == EXIT_OK
    forced = {**HEALTHY, "start_time": datetime(2026, 11, 30, tzinfo=timezone.utc)}  # a second signal: no finish
    assert exit_status(forced, SHARE) == EXIT_INTERRUPTED


def test_stale_data_needs_an_old_newest_article_and_no_new_article_for_as_long():
    now = datetime(2026, 11, 30, tzinfo=timezone.utc)
    days_ago = lambda days: (now - timedelta(days=days)).timestamp()  # noqa: E731
    stale = {**HEALTHY, "finish_time": now, "sasscrawl/articles/newest_published_at": days_ago(40),
             "sasscrawl/articles/last_new_at": days_ago(31)}
    problems = run_problems(stale, SHARE, stale_after_days=30)
    assert len(problems) == 1 and "published 40 days ago" in problems[0] and "for 31 days" in problems[0]
    assert exit_status(stale, SHARE, stale_after_days=30) == EXIT_BROKEN
    assert exit_status(stale, SHARE, stale_after_days=0) == EXIT_OK  # 0 turns it off
    assert exit_status(stale, SHARE, stale_after_days=45) == EXIT_OK
    recently_found = {**stale, "sasscrawl/articles/last_new_at": days_ago(2)}  # an old article, newly found
    assert exit_status(recently_found, SHARE, stale_after_days=30) == EXIT_OK
    recently_published = {**stale, "sasscrawl/articles/newest_published_at": days_ago(3)}
    assert exit_status(recently_published, SHARE, stale_after_days=30) == EXIT_OK


def test_argument_error_is_usage():
    """A bad spider argument is the caller's mistake: exit 2, even if other things went wrong too."""
    stats = {"sasscrawl/argument_error": "limit must be a positive integer",
             "sasscrawl/start_page_failed": "could not be fetched"}
    problems = run_problems(stats, SHARE)
    assert any("limit must be a positive integer" in problem for problem in problems)
    assert exit_status(stats, SHARE) == EXIT_USAGE
    assert exit_status({**stats, "sasscrawl/store_error": "disk full"}, SHARE) == EXIT_USAGE


def test_store_error_is_data_dir_failure():
    """A failing data folder is exit 3 so an operator looks at the disk, not the site."""
    stats = {**HEALTHY, "sasscrawl/store_error": "cannot write articles.jsonl (No space left on device)"}
    problems = run_problems(stats, SHARE)
    assert any("No space left on device" in problem for problem in problems)
    assert exit_status(stats, SHARE) == EXIT_DATA_DIR


def test_an_archive_or_mirror_that_could_not_be_finished_is_broken_and_a_page_not_rendered_is_not():
    """The records are saved: 1, not 3. One page of the mirror that would not render leaves the run healthy."""
    for stats in ({**HEALTHY, "sasscrawl/warc/close_failed": 1},
                  {**HEALTHY, "sasscrawl/render/error": "cannot write data/site: File exists"}):
        assert exit_status(stats, SHARE) == EXIT_BROKEN and len(run_problems(stats, SHARE)) == 1
    assert run_problems({**HEALTHY, "sasscrawl/render/error": "cannot write data/site: File exists"}, SHARE) == [
        "the offline mirror could not be refreshed: cannot write data/site: File exists"]
    assert exit_status({**HEALTHY, "sasscrawl/render/failed": 1}, SHARE) == EXIT_OK


# --- across runs, through the real crawl ---------------------------------------------------------

ARTICLE_PATH = re.compile(r"^/103002/(\d+)\.aspx$")


class BrokenArticles:
    """The replica with article pages broken by ``breaks(article_id, response)``, on every request."""

    def __init__(self, site, breaks):
        self._site = site
        self._breaks = breaks

    def __getattr__(self, name):
        return getattr(self._site, name)

    def response(self, method, path, host):
        response = self._site.response(method, path, host)
        if response.status == 200 and (match := ARTICLE_PATH.match(urlsplit(path).path)):
            return self._breaks(int(match[1]), response)
        return response


def redesigned(article_id, response):
    """Every article page loses its headline, as a redesign of the site would do to the parser."""
    return dataclasses.replace(response, body=re.sub(rb"<h1>.*?</h1>", b"<h1 />", response.body))


@pytest.mark.parametrize("breakage", ["redesign", "half_500"])
def test_a_site_that_stays_broken_stays_red(serve, tmp_path, breakage):
    """Run after run, until the site is fixed: first failures, repeats, chronic retries, chronic pages not due."""
    site = build_site(articles=20, seed=21, quirks=False)
    failing = {spec.id for spec in site.articles[::2]}
    breaks = redesigned if breakage == "redesign" else (
        lambda article_id, response: status_page(500) if article_id in failing else response)
    server = serve(BrokenArticles(site, breaks))
    results = []
    for _ in range(4):
        server.clear_log()
        results.append(run_crawl(server.start_url, tmp_path))
    assert [result.returncode for result in results] == [1, 1, 1, 1]
    assert results[1].stat("sasscrawl/articles/retried") > 0 and results[1].stat("sasscrawl/articles/requested") == 0
    assert results[3].stat("sasscrawl/articles/chronic") > 0 and server.paths() == ["/robots.txt", "/103002/default.aspx"]
    problems = " ".join(results[3].summary["problems"])
    if breakage == "redesign":
        assert "article pages fail and the section has no saved article" in problems
    else:
        assert f"{len(failing)} of the section's {len(site.articles)} article pages fail" in problems
