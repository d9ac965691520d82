"""What makes a run broken, decided in one place from the run's stats.

The crawl command turns these into its exit status, the run summary lists
them and the Spidermon monitors (:mod:`sasscrawl.monitors`) check the same
functions, so a scheduler (cron, systemd, Scrapyd), an alert and a person see
one verdict: when the monitors ran, their failures are it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import CloseSpider

from sasscrawl.middlewares import WARC_CLOSE_FAILED, WARC_FAILED

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2
EXIT_DATA_DIR = 3
EXIT_INTERRUPTED = 4
"""SIGTERM or SIGINT stopped the run (Scrapy's finish reason ``shutdown``): one status for both signals."""

VERDICTS = {EXIT_OK: "healthy", EXIT_BROKEN: "broken", EXIT_USAGE: "bad spider argument",
            EXIT_DATA_DIR: "data folder unusable", EXIT_INTERRUPTED: "interrupted"}

ARTICLE_OUTCOMES = ("new", "changed", "updated", "unchanged", "failed", "gone", "invalid", "duplicate")
"""What became of each requested article, each a ``sasscrawl/articles/<outcome>`` counter."""
SAVED_OUTCOMES = ("new", "changed", "updated")

MONITORS_RAN = "sasscrawl/monitors/ran"
MONITORS_FAILED = "sasscrawl/monitors/failed"
SETTING_ERROR = "sasscrawl/setting_error"
"""A setting the run cannot work with (an alert action missing its settings): refused like a bad argument."""
RENDER_ERROR = "sasscrawl/render/error"
"""Why the offline mirror could not be refreshed at the end of the run (its folder could not be written)."""


def refuse_run(crawler, error: str) -> None:
    """Close the spider as it opens, before its first request, for a setting the run cannot work with: a usage error
    (``SETTING_ERROR``, exit status 2) with one ``Not crawling`` line, like a bad spider argument."""

    def refuse(spider):
        crawler.stats.set_value(SETTING_ERROR, error)
        logger.error("Not crawling: %s", error)
        raise CloseSpider("setting_error")

    crawler.signals.connect(refuse, signal=signals.spider_opened, weak=False)


def articles_problem(stats: dict) -> str | None:
    """Article pages fetched for the first time gave no article at all: the site changed under the parser.

    Pages known to fail (``sasscrawl/articles/retried``) are judged against the section by
    :func:`failed_pages_problem`, so a rerun that only retried them is not judged twice.
    """
    requested = stats.get("sasscrawl/articles/requested", 0)
    if requested and not stats.get("sasscrawl/articles/parsed", 0):
        return f"no article could be parsed although {requested} article pages were requested"
    return None


def failed_pages_problem(stats: dict, failed_pages_max_share: float) -> str | None:
    """Too many of the section's article pages fail now, or this run's listing pages failed.

    Article pages are judged against the section, not against this run's few requests, so a
    verdict holds from run to run: the pages failing now are this run's article failures,
    repeats included, plus the chronic pages known to fail that were not due for a retry
    (``sasscrawl/articles/chronic``: skipping a page does not make it work); the section's pages
    are the saved articles plus those. A section of hundreds with one broken page stays green
    on every run; a redesign or a half-broken site stays red until it is fixed.
    Listing pages other than the start page (which has its rule in :func:`start_problems`)
    are judged within the run: the share of those fetched that failed.
    """
    failing = stats.get("sasscrawl/articles/failed", 0) + stats.get("sasscrawl/articles/chronic", 0)
    saved = stats.get("sasscrawl/articles/known_at_start", 0) + stats.get("sasscrawl/articles/new", 0)
    if failing and not saved:
        return f"{failing} article pages fail and the section has no saved article"
    if failing and failing / (saved + failing) > failed_pages_max_share:
        return (
            f"{failing} of the section's {saved + failing} article pages fail ({failing / (saved + failing):.0%}, "
            f"more than FAILED_PAGES_MAX_SHARE {failed_pages_max_share:.0%}): "
            f"{stats.get('sasscrawl/articles/failed', 0)} failed in this run, "
            f"{stats.get('sasscrawl/articles/chronic', 0)} known to fail were not due for a retry"
        )
    listings_failed = stats.get("sasscrawl/listings/failed", 0)
    # Every page parsed that was not an article was a listing.
    listings = listings_failed + stats.get("sasscrawl/pages/parsed", 0) - stats.get("sasscrawl/articles/parsed", 0)
    if listings_failed and listings_failed / listings > failed_pages_max_share:
        return (
            f"{listings_failed} of {listings} listing pages failed ({listings_failed / listings:.0%}, "
            f"more than FAILED_PAGES_MAX_SHARE {failed_pages_max_share:.0%})"
        )
    return None


def interrupted(stats: dict) -> bool:
    """SIGTERM or SIGINT stopped the run: Scrapy's finish reason ``shutdown``, or, after a second
    signal forced an unclean stop, none at all although the spider had opened."""
    return stats.get("finish_reason") == "shutdown" or ("start_time" in stats and "finish_reason" not in stats)


def interrupted_problem(stats: dict) -> str | None:
    if interrupted(stats):
        return "the run was interrupted (SIGTERM or SIGINT) before it finished; the next run continues it"
    return None


def stale_problem(stats: dict, stale_after_days: float) -> str | None:
    """The newest saved article is older than ``stale_after_days``, and no run has found a new one for as long.

    Both must hold: a site that publishes rarely but was checked recently by a run that found
    something is fine, and so is a first run that saves an old archive. 0 turns the check off.
    """
    newest = stats.get("sasscrawl/articles/newest_published_at")
    last_new = stats.get("sasscrawl/articles/last_new_at")
    if stale_after_days <= 0 or newest is None or last_new is None:
        return None
    now = (stats.get("finish_time") or datetime.now(timezone.utc)).timestamp()
    published_days, found_days = (now - newest) / 86400, (now - last_new) / 86400
    if published_days > stale_after_days and found_days > stale_after_days:
        published = datetime.fromtimestamp(newest, timezone.utc).date().isoformat()
        return (f"stale data: the newest article was published {published_days:.0f} days ago ({published}) and no "
                f"run has found a new article for {found_days:.0f} days (STALE_AFTER_DAYS {stale_after_days:g})")
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
    if reason := stats.get("sasscrawl/start_page_failed"):
        problems.append(f"the start page {reason}")
    return problems


def archive_problem(stats: dict) -> str | None:
    """Responses that reached the crawl but not the WARC archive, or an archive that could not be finished
    (its last file or its index): the archive has holes."""
    problems = []
    if failed := stats.get(WARC_FAILED, 0):
        problems.append(f"{failed} responses could not be written to the WARC archive")
    if stats.get(WARC_CLOSE_FAILED):
        problems.append("the WARC archive could not be finished (its last file or its index)")
    return "; ".join(problems) or None


def mirror_problem(stats: dict) -> str | None:
    """The offline mirror could not be refreshed: its folder could not be written.

    A broken run (1), as an archive with holes is, not a data folder failure (3): the run's records
    and archive are saved. A page of the mirror that could not be rendered is not a run problem: the
    rest of the mirror is refreshed, and the run summary counts it (``mirror.failed``).
    """
    if error := stats.get(RENDER_ERROR):
        return f"the offline mirror could not be refreshed: {error}"
    return None


def run_problems(stats: dict, failed_pages_max_share: float, stale_after_days: float = 0) -> list[str]:
    """Plain-language reasons the run should not count as a success; empty when it is fine.

    The monitors' verdict when they ran (they check these same functions and more),
    else these checks directly.
    """
    if stats.get(MONITORS_RAN):
        return [f"monitor failed: {failure}" for failure in stats.get(MONITORS_FAILED, ())]
    checks = (interrupted_problem(stats), articles_problem(stats), failed_pages_problem(stats, failed_pages_max_share),
              stale_problem(stats, stale_after_days), archive_problem(stats), mirror_problem(stats))
    return start_problems(stats) + [problem for problem in checks if problem]


def exit_status(stats: dict, failed_pages_max_share: float, stale_after_days: float = 0) -> int:
    """2 and 3 first (nothing was crawled, or the data folder failed), then 4 (interrupted), then 1 or 0."""
    if stats.get("sasscrawl/argument_error") or stats.get(SETTING_ERROR):
        return EXIT_USAGE
    if stats.get("sasscrawl/store_error"):
        return EXIT_DATA_DIR
    if interrupted(stats):
        return EXIT_INTERRUPTED
    return EXIT_BROKEN if run_problems(stats, failed_pages_max_share, stale_after_days) else EXIT_OK


def run_exit_status(stats: dict, settings) -> int:
    """:func:`exit_status` judged with the thresholds the run's settings give: what the crawl command,
    the metrics and ``scrapy verify --repair`` report, so they cannot disagree."""
    return exit_status(stats, settings.getfloat("FAILED_PAGES_MAX_SHARE"), settings.getfloat("STALE_AFTER_DAYS"))
