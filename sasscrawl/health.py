"""What makes a run broken, decided in one place from the run's stats.

The crawl command turns these into its exit status and the run summary lists
them, so a scheduler (cron, systemd, Scrapyd) and a person see the same verdict.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2
EXIT_DATA_DIR = 3


def run_problems(stats: dict, failed_pages_max_share: float) -> list[str]:
    """Plain-language reasons the run should not count as a success; empty when it is fine."""
    problems = []
    if stats.get("sasscrawl/argument_error"):
        problems.append(f"bad spider argument: {stats['sasscrawl/argument_error']}")
    if stats.get("sasscrawl/store_error"):
        problems.append(f"data folder failure: {stats['sasscrawl/store_error']}")
    if stats.get("sasscrawl/start_page_failed"):
        problems.append("the start page could not be fetched")
    requested = stats.get("sasscrawl/articles/requested", 0)
    if requested and not stats.get("sasscrawl/articles/parsed", 0):
        problems.append(f"no article could be parsed although {requested} article pages were requested")
    failed = stats.get("sasscrawl/pages/failed", 0)
    attempted = failed + stats.get("sasscrawl/pages/parsed", 0)
    if attempted and failed / attempted > failed_pages_max_share:
        problems.append(
            f"{failed} of {attempted} pages failed ({failed / attempted:.0%}, more than FAILED_PAGES_MAX_SHARE "
            f"{failed_pages_max_share:.0%})"
        )
    return problems


def exit_status(stats: dict, failed_pages_max_share: float) -> int:
    if stats.get("sasscrawl/argument_error"):
        return EXIT_USAGE
    if stats.get("sasscrawl/store_error"):
        return EXIT_DATA_DIR
    return EXIT_BROKEN if run_problems(stats, failed_pages_max_share) else EXIT_OK
