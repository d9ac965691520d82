"""The run's verdict from its stats: what cron, systemd or Scrapyd see as the exit status."""

from sasscrawl.health import EXIT_BROKEN, EXIT_DATA_DIR, EXIT_OK, EXIT_USAGE, exit_status, run_problems

SHARE = 0.2
HEALTHY = {
    "sasscrawl/articles/requested": 12,
    "sasscrawl/articles/parsed": 12,
    "sasscrawl/pages/parsed": 15,
    "sasscrawl/pages/failed": 1,
}


def test_exit_codes_are_distinct_and_conventional():
    """Schedulers tell 'broken run', 'bad arguments' and 'data folder' apart by number."""
    assert (EXIT_OK, EXIT_BROKEN, EXIT_USAGE, EXIT_DATA_DIR) == (0, 1, 2, 3)


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
    stats = {**HEALTHY, "sasscrawl/start_page_failed": 1}
    problems = run_problems(stats, SHARE)
    assert len(problems) == 1 and "start page" in problems[0]
    assert exit_status(stats, SHARE) == EXIT_BROKEN


def test_articles_requested_but_none_parsed():
    """Every article page failing to parse means the site changed: broken."""
    stats = {"sasscrawl/articles/requested": 5, "sasscrawl/pages/parsed": 5}
    problems = run_problems(stats, SHARE)
    assert len(problems) == 1 and "5" in problems[0] and "parsed" in problems[0]
    assert exit_status(stats, SHARE) == EXIT_BROKEN
    assert run_problems({**stats, "sasscrawl/articles/parsed": 1}, SHARE) == []


def test_failed_share_above_threshold_is_broken():
    """Too many failed pages: broken, with the counts in the message."""
    stats = {"sasscrawl/pages/parsed": 7, "sasscrawl/pages/failed": 3, "sasscrawl/articles/parsed": 7}
    problems = run_problems(stats, SHARE)
    assert len(problems) == 1 and "3 of 10" in problems[0]
    assert exit_status(stats, SHARE) == EXIT_BROKEN


def test_failed_share_at_or_below_threshold_is_ok():
    """A few failures are tolerated up to and including FAILED_PAGES_MAX_SHARE."""
    below = {"sasscrawl/pages/parsed": 9, "sasscrawl/pages/failed": 1}
    at = {"sasscrawl/pages/parsed": 8, "sasscrawl/pages/failed": 2}
    assert run_problems(below, SHARE) == [] and exit_status(below, SHARE) == EXIT_OK
    assert run_problems(at, SHARE) == [] and exit_status(at, SHARE) == EXIT_OK
    assert exit_status(at, 0.1) == EXIT_BROKEN


def test_argument_error_is_usage():
    """A bad spider argument is the caller's mistake: exit 2, even if other things went wrong too."""
    stats = {"sasscrawl/argument_error": "limit must be a positive integer", "sasscrawl/start_page_failed": 1}
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
