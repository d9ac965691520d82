"""What makes a run broken, decided in one place from the run's stats.

The crawl command turns these into its exit status, the run summary lists
them and the Spidermon monitors (:mod:`sasscrawl.monitors`) check the same
functions, so a scheduler (cron, systemd, Scrapyd), an alert and a person see
one verdict: when the monitors ran, their failures are it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2
EXIT_DATA_DIR = 3

ARTICLE_OUTCOMES = ("new", "changed", "updated", "unchanged", "failed", "gone", "invalid", "duplicate")
"""What became of each requested article, each a ``sasscrawl/articles/<outcome>`` counter."""
SAVED_OUTCOMES = ("new", "changed", "updated")

MONITORS_RAN = "sasscrawl/monitors/ran"
MONITORS_FAILED = "sasscrawl/monitors/failed"
SETTING_ERROR = "sasscrawl/setting_error"
"""A setting the run cannot work with (an alert action missing its settings): refused like a bad argument."""


def articles_problem(stats: dict) -> str | None:
    """Article pages were fetched but none gave an article: the site changed under the parser."""
    requested = stats.get("sasscrawl/articles/requested", 0)
    if requested and not stats.get("sasscrawl/articles/parsed", 0):
        return f"no article could be parsed although {requested} article pages were requested"
    return None


def failed_pages_problem(stats: dict, failed_pages_max_share: float) -> str | None:
    failed = stats.get("sasscrawl/pages/failed", 0)
    attempted = failed + stats.get("sasscrawl/pages/parsed", 0)
    if attempted and failed / attempted > failed_pages_max_share:
        return (
            f"{failed} of {attempted} pages failed ({failed / attempted:.0%}, more than FAILED_PAGES_MAX_SHARE "
            f"{failed_pages_max_share:.0%})"
        )
    return None


def start_problems(stats: dict) -> list[str]:
    """What stopped the run before it could crawl: arguments, the data folder, the start page."""
    problems = []
    if stats.get("sasscrawl/argument_error"):
        problems.append(f"bad spider argument: {stats['sasscrawl/argument_error']}")
    if stats.get(SETTING_ERROR):
        problems.append(f"bad setting: {stats[SETTING_ERROR]}")
    if stats.get("sasscrawl/store_error"):
        problems.append(f"data folder failure: {stats['sasscrawl/store_error']}")
    if stats.get("sasscrawl/start_page_failed"):
        problems.append("the start page could not be fetched")
    return problems


def archive_problem(stats: dict) -> str | None:
    """Responses that reached the crawl but not the WARC archive: the archive has holes."""
    if failed := stats.get("sasscrawl/warc/failed", 0):
        return f"{failed} responses could not be written to the WARC archive"
    return None


def run_problems(stats: dict, failed_pages_max_share: float) -> list[str]:
    """Plain-language reasons the run should not count as a success; empty when it is fine.

    The monitors' verdict when they ran (they check these same functions and more),
    else these checks directly.
    """
    if stats.get(MONITORS_RAN):
        return [f"monitor failed: {failure}" for failure in stats.get(MONITORS_FAILED, ())]
    checks = (articles_problem(stats), failed_pages_problem(stats, failed_pages_max_share), archive_problem(stats))
    return start_problems(stats) + [problem for problem in checks if problem]


def exit_status(stats: dict, failed_pages_max_share: float) -> int:
    if stats.get("sasscrawl/argument_error") or stats.get(SETTING_ERROR):
        return EXIT_USAGE
    if stats.get("sasscrawl/store_error"):
        return EXIT_DATA_DIR
    return EXIT_BROKEN if run_problems(stats, failed_pages_max_share) else EXIT_OK
