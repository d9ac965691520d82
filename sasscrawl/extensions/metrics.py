"""Prometheus metrics of every run, for node_exporter's textfile collector.

With ``METRICS_FILE`` set (e.g. ``/var/lib/prometheus/node-exporter/sasscrawl.prom``), every
run writes that file whole, refused runs included: the text is written to a temporary file
beside it and renamed over it, so node_exporter never reads half a file. The values:

* ``sasscrawl_run_exit_status``: the status the crawl command exits with;
* ``sasscrawl_run_duration_seconds``;
* ``sasscrawl_run_last_success_timestamp_seconds``: when a run last exited 0. A run that
  did not carries it over from the previous file, else from the newest successful run
  summary in ``DATA_DIR/runs/``; 0 when no run ever succeeded, so a "no success for two
  days" rule also fires for a deployment that never worked;
* ``sasscrawl_articles{outcome=...}``: this run's articles by outcome (the run summary's,
  and ``chronic``);
* ``sasscrawl_requests_total``: requests this run sent;
* ``sasscrawl_images{status="downloaded|cached|failed"}``;
* ``sasscrawl_newest_article_timestamp_seconds``: the newest saved ``datePublished``,
  left out while nothing is saved.

Every value is this run's, so each is a gauge. prometheus_client is imported only by runs
that write metrics.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from sasscrawl.files import replace_file
from sasscrawl.health import ARTICLE_OUTCOMES, run_exit_status
from sasscrawl.store import RUNS_FOLDER, newest_date_published

logger = logging.getLogger(__name__)

LAST_SUCCESS = "sasscrawl_run_last_success_timestamp_seconds"
ARTICLE_METRIC_OUTCOMES = (*ARTICLE_OUTCOMES, "chronic")
"""``chronic``: pages failing run after run (``sasscrawl/articles/chronic``)."""
IMAGE_STATUSES = ("downloaded", "cached", "failed")


class RunMetrics:
    """Writes ``METRICS_FILE`` when the spider closes; off when the setting is empty."""

    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("METRICS_FILE"):
            raise NotConfigured
        return cls(crawler)

    def spider_closed(self, spider):
        stats = self.crawler.stats.get_stats()
        status = run_exit_status(stats, self.crawler.settings)
        write_metrics(self.crawler.settings, stats, status, stats.get("start_time"))


def write_metrics(settings, stats: dict, status: int, started: datetime | None) -> None:
    """Write ``METRICS_FILE`` for a run that ends with ``status``; a write that fails is one ERROR line."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    path = Path(settings["METRICS_FILE"])
    data_dir = Path(settings["DATA_DIR"])
    now = datetime.now(timezone.utc)
    registry = CollectorRegistry()

    def gauge(name: str, documentation: str, labelname: str | None = None) -> Gauge:
        return Gauge(name, documentation, [labelname] if labelname else [], registry=registry)

    gauge("sasscrawl_run_exit_status", "Exit status of the last run (0 healthy, 1 broken, 2 usage, 3 data folder)."
          ).set(status)
    gauge("sasscrawl_run_duration_seconds", "Duration of the last run.").set(
        (now - started).total_seconds() if started else 0)
    gauge(LAST_SUCCESS, "When a run last exited 0 (0: never).").set(
        now.timestamp() if status == 0 else previous_success(path, data_dir))
    articles = gauge("sasscrawl_articles", "Articles of the last run by outcome.", "outcome")
    for outcome in ARTICLE_METRIC_OUTCOMES:
        articles.labels(outcome).set(stats.get(f"sasscrawl/articles/{outcome}", 0))
    gauge("sasscrawl_requests_total", "Requests the last run sent.").set(stats.get("downloader/request_count", 0))
    images = gauge("sasscrawl_images", "Images of the last run by status.", "status")
    for image_status in IMAGE_STATUSES:
        images.labels(image_status).set(stats.get(f"sasscrawl/images/{image_status}", 0))
    if newest := newest_date_published(data_dir):
        gauge("sasscrawl_newest_article_timestamp_seconds", "datePublished of the newest saved article.").set(
            datetime.fromisoformat(newest).timestamp())
    try:
        replace_file(path.parent, path.name, generate_latest(registry))
    except OSError as error:
        logger.error("Could not write the metrics to %s: %s", path, error.strerror or error)
    else:
        logger.info("Metrics written to %s (exit status %d)", path, status)


def previous_success(path: Path, data_dir: Path) -> float:
    """The last success known before this run: the previous metrics file's, else the run summaries' newest; else 0."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        for family in text_string_to_metric_families(path.read_text("utf-8")):
            if family.name == LAST_SUCCESS and family.samples and family.samples[0].value > 0:
                return family.samples[0].value
    except (OSError, ValueError, UnicodeDecodeError):
        pass  # no usable previous file: the summaries tell
    for summary_path in sorted((data_dir / RUNS_FOLDER).glob("*.json"), reverse=True):  # run ids sort by start time
        try:
            summary = json.loads(summary_path.read_text("utf-8"))
            if summary["exitStatus"] == 0:
                return datetime.fromisoformat(summary["finishedAt"]).timestamp()
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0.0
