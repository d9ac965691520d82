"""Spidermon monitors that judge every run when the spider closes.

They catch what a "successful" run can hide: a redesign that breaks the parser
gives empty fields, not errors. Each threshold is a setting:

* ``FAILED_PAGES_MAX_SHARE``: the share of the section's article pages that may fail
  (see :func:`sasscrawl.health.failed_pages_problem`);
* ``STALE_AFTER_DAYS``: how old the newest article may be when no run has found a new one
  for as long (0: no check);
* ``SPIDERMON_FIELD_COVERAGE_RULES``: the least share of this run's articles that
  must have each field (null, empty strings and lists count as missing), and
  ``FIELD_COVERAGE_MIN_ITEMS``: how many articles a rule below 1.0 needs;
* ``SPIDERMON_MAX_ITEM_VALIDATION_ERRORS``: records failing the JSON Schema;
* ``MAX_UNEXPECTED_ERRORS``: ERROR log lines that no counter explains.

Failures go to the run's stats, so the crawl command exits 1 and the run
summary names them, and to the alert actions listed in ``ALERT_ACTIONS``
(:mod:`sasscrawl.alerts`, or any Spidermon action; none by default). An alert
action that cannot be built (a required setting missing, a path that does not
import) refuses the run before anything is fetched, with exit status 2: finding
out at the end of a run that its alert cannot be sent is finding out too late.
"""

from __future__ import annotations

from scrapy.exceptions import NotConfigured as ScrapyNotConfigured
from scrapy.utils.misc import load_object
from spidermon import Monitor, MonitorSuite, monitors
from spidermon.contrib.scrapy.monitors import FieldCoverageMonitor as SpidermonFieldCoverageMonitor
from spidermon.contrib.scrapy.monitors import ItemValidationMonitor
from spidermon.contrib.scrapy.monitors.base import BaseStatMonitor
from spidermon.core.actions import Action
from spidermon.exceptions import NotConfigured

from sasscrawl.health import (MONITORS_FAILED, MONITORS_RAN, archive_problem, articles_problem, failed_pages_problem,
                              interrupted_problem, mirror_problem, refuse_run, stale_problem, start_problems)


@monitors.name("Crawl results")
class CrawlResultsMonitor(Monitor):
    @monitors.name("Run started: arguments, data folder and start page usable")
    def test_run_started(self):
        if problems := start_problems(self.data.stats):
            self.fail("; ".join(problems))

    @monitors.name("Articles parsed when the section has articles")
    def test_articles_parsed(self):
        if problem := articles_problem(self.data.stats):
            self.fail(problem)

    @monitors.name("Failed pages within FAILED_PAGES_MAX_SHARE of the section")
    def test_failed_pages_share(self):
        if problem := failed_pages_problem(self.data.stats,
                                           self.data.crawler.settings.getfloat("FAILED_PAGES_MAX_SHARE")):
            self.fail(problem)

    @monitors.name("Run finished, not interrupted")
    def test_not_interrupted(self):
        if problem := interrupted_problem(self.data.stats):
            self.fail(problem)

    @monitors.name("Fresh data: a new article within STALE_AFTER_DAYS")
    def test_fresh_data(self):
        if problem := stale_problem(self.data.stats, self.data.crawler.settings.getfloat("STALE_AFTER_DAYS")):
            self.fail(problem)

    @monitors.name("WARC archive whole: every response archived, the archive finished (with -a archive=warc)")
    def test_archive_complete(self):
        if problem := archive_problem(self.data.stats):
            self.fail(problem)

    @monitors.name("Offline mirror refreshed (RENDER_SITE)")
    def test_mirror_refreshed(self):
        if problem := mirror_problem(self.data.stats):
            self.fail(problem)


@monitors.name("Unexpected errors")
class UnexpectedErrorsMonitor(BaseStatMonitor):
    """ERROR log lines from anywhere but the crawl's own accounted reports (see extensions.error_count)."""

    stat_name = "sasscrawl/log/unexpected_errors"
    threshold_setting = "MAX_UNEXPECTED_ERRORS"
    assert_type = "<="
    fail_if_stat_missing = False


@monitors.name("Field coverage")
class FieldCoverageMonitor(SpidermonFieldCoverageMonitor):
    """Spidermon's field coverage rules, with small runs judged fairly.

    A rule of 1.0 ("every article has a headline") holds for any number of
    articles. A rule below 1.0 ("most articles name an author") says nothing
    about a run of two new articles, so it waits until ``FIELD_COVERAGE_MIN_ITEMS``
    articles were scraped.
    """

    def test_check_if_field_coverage_rules_are_met(self):
        scraped = int(self.data.stats.get("item_scraped_count", 0))
        if scraped == 0:
            self.skipTest("No article was scraped.")
        rules = self.crawler.settings.getdict("SPIDERMON_FIELD_COVERAGE_RULES")
        if scraped < self.crawler.settings.getint("FIELD_COVERAGE_MIN_ITEMS"):
            rules = {field: share for field, share in rules.items() if share >= 1.0}
        failures = [
            f"{field} (expected {share}, got {self.data.stats.get(f'spidermon_field_coverage/{field}', 0):.2f})"
            for field, share in rules.items()
            if self.data.stats.get(f"spidermon_field_coverage/{field}", 0) < share
        ]
        if failures:
            self.fail(f"field coverage below its rule in {scraped} articles: " + ", ".join(failures))


class RecordMonitorResults(Action):
    """Put the verdict into the run's stats, where the exit status and the run summary read it."""

    def run_action(self):
        failures = [f"{result.item.name}: {_first_line(result.reason or result.error)}"
                    for result in self.result.monitors_failed_results]
        self.data.crawler.stats.set_value(MONITORS_RAN, True)
        self.data.crawler.stats.set_value(MONITORS_FAILED, failures)


def _first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return "; ".join(lines[:4]) if lines else "failed"


class AlertSettingError(ValueError):
    pass


def alert_actions(crawler) -> list[Action]:
    """``ALERT_ACTIONS``, each built from the crawler's settings; AlertSettingError says which cannot be, and why."""
    actions = []
    for path in crawler.settings.getlist("ALERT_ACTIONS"):
        try:
            action_class = load_object(path)
        except (ImportError, NameError, ValueError) as error:
            raise AlertSettingError(f"ALERT_ACTIONS {path} cannot be loaded: {error}") from None
        if not (isinstance(action_class, type) and issubclass(action_class, Action)):
            raise AlertSettingError(f"ALERT_ACTIONS {path} is not a Spidermon action")
        try:
            actions.append(action_class.from_crawler(crawler))
        except (NotConfigured, ScrapyNotConfigured) as error:  # its message names the missing setting
            raise AlertSettingError(f"ALERT_ACTIONS {path}: {error}") from None
    return actions


class SpiderCloseMonitorSuite(MonitorSuite):
    monitors = [CrawlResultsMonitor, FieldCoverageMonitor, ItemValidationMonitor, UnexpectedErrorsMonitor]
    monitors_finished_actions = [RecordMonitorResults]

    def __init__(self, *args, crawler=None, **kwargs):
        super().__init__(*args, crawler=crawler, **kwargs)
        if crawler is not None:
            try:
                self.add_monitors_failed_actions(alert_actions(crawler))
            except AlertSettingError as error:
                refuse_run(crawler, str(error))
