"""METRICS_FILE from real crawls: parsed with prometheus_client's own text parser, checked against the runs.

The successes and the refusals after them are one sequence of runs on one data folder (``metered_runs``); the
metrics of a refusal without a previous metrics file are written in this process, on the path those refusals run.
"""

from __future__ import annotations

import fcntl
import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from scrapy.utils.test import get_crawler

from harness import PROJECT_SETTINGS, CrawlResult, run_crawl
from sasscrawl import settings
from sasscrawl.extensions.metrics import RunMetrics
from sasscrawl.health import run_exit_status
from sasscrawl.spiders.commentary import CommentarySpider
from sasscrawl.store import LOCK_FILE

LAST_SUCCESS = "sasscrawl_run_last_success_timestamp_seconds"


def read_metrics(path) -> dict:
    """``{"name": value, "name{label=value}": value}``, from the file as node_exporter would read it."""
    metrics = {}
    for family in text_string_to_metric_families(path.read_text("utf-8")):
        for sample in family.samples:
            labels = ",".join(f"{name}={value}" for name, value in sorted(sample.labels.items()))
            metrics[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return metrics


@pytest.fixture
def metrics_file(tmp_path):
    folder = tmp_path / "textfile-collector"
    folder.mkdir()
    return folder / "sasscrawl.prom"


@dataclass
class MeteredRun:
    result: CrawlResult
    metrics: dict
    """METRICS_FILE as this run left it."""


@dataclass
class MeteredRuns:
    site: object
    data_dir: Path
    first_started: float
    first_ended: float
    first_files_beside: list[str]
    """What the metrics file's folder held after the first run."""
    runs: dict[str, MeteredRun]
    """By name, in the order they ran."""


@pytest.fixture(scope="module")
def metered_runs(clean_crawl, tmp_path_factory):
    """One data folder and one METRICS_FILE through a first run, a rerun and then runs refused in each way a run can
    be, with the file as each left it. Read only: the successes come first, so one sequence gives both the
    successes' figures and what refused runs keep of the last success. The site is the session's clean crawl's,
    served by its server (never changed)."""
    site, server = clean_crawl.site, clean_crawl.server
    data_dir = tmp_path_factory.mktemp("metered") / "data"
    metrics_file = tmp_path_factory.mktemp("textfile-collector") / "sasscrawl.prom"
    runs = {}

    def run(name, *spider_args, **settings):
        result = run_crawl(server.start_url, data_dir, *spider_args, settings={"METRICS_FILE": metrics_file, **settings})
        runs[name] = MeteredRun(result, read_metrics(metrics_file))

    first_started = time.time()
    run("first")
    first_ended = time.time()
    first_files_beside = [path.name for path in metrics_file.parent.iterdir()]
    run("rerun", "refresh=all")
    run("bad argument", "refersh=all")
    run("alert unset", ALERT_ACTIONS="sasscrawl.alerts.SendDiscordAlert")
    with open(data_dir / LOCK_FILE, "a+") as lock:  # another crawl holds the data folder
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        run("locked")
    return MeteredRuns(site, data_dir, first_started, first_ended, first_files_beside, runs)


def test_first_run_and_rerun(metered_runs):
    first, metrics = metered_runs.runs["first"].result, metered_runs.runs["first"].metrics
    before, after, articles = metered_runs.first_started, metered_runs.first_ended, len(metered_runs.site.articles)
    assert first.returncode == 0
    assert metrics["sasscrawl_run_exit_status"] == 0
    assert 0 < metrics["sasscrawl_run_duration_seconds"] <= after - before
    assert before <= metrics[LAST_SUCCESS] <= after
    assert metrics["sasscrawl_articles{outcome=new}"] == articles
    assert metrics["sasscrawl_articles{outcome=unchanged}"] == 0
    assert metrics["sasscrawl_articles{outcome=chronic}"] == 0
    assert metrics["sasscrawl_requests_total"] == first.stat("downloader/request_count")
    assert metrics["sasscrawl_images{status=downloaded}"] == first.stat("sasscrawl/images/downloaded") > 0
    newest = max(datetime.fromisoformat(record["datePublished"]) for record in first.records)
    assert metrics["sasscrawl_newest_article_timestamp_seconds"] == newest.timestamp()
    assert metered_runs.first_files_beside == ["sasscrawl.prom"]  # no temporary file left

    rerun, metrics_again = metered_runs.runs["rerun"].result, metered_runs.runs["rerun"].metrics
    assert rerun.returncode == 0
    assert metrics_again["sasscrawl_articles{outcome=new}"] == 0
    assert metrics_again["sasscrawl_articles{outcome=unchanged}"] == articles
    assert metrics_again["sasscrawl_images{status=downloaded}"] == 0
    assert metrics_again["sasscrawl_images{status=cached}"] == rerun.stat("sasscrawl/images/cached")
    assert metrics_again[LAST_SUCCESS] > metrics[LAST_SUCCESS]


@pytest.mark.parametrize("refused, status", [("bad argument", 2), ("alert unset", 2), ("locked", 3)])
def test_refused_runs_write_their_exit_status_and_keep_the_last_success(metered_runs, refused, status):
    run = metered_runs.runs[refused]
    assert run.result.returncode == status
    assert run.metrics["sasscrawl_run_exit_status"] == status
    assert run.metrics[LAST_SUCCESS] == metered_runs.runs["rerun"].metrics[LAST_SUCCESS]


def refused_in_process(data_dir: Path, metrics_file: Path, **arguments) -> dict:
    """The metrics a run refused for its ``-a`` ``arguments`` writes, made in this process by the spider and the metrics
    extension the command builds: ``metered_runs``' refusals run the same path as real commands."""
    crawler = get_crawler(CommentarySpider, {**PROJECT_SETTINGS, "DATA_DIR": str(data_dir),
                                             "METRICS_FILE": str(metrics_file)})
    spider = CommentarySpider.from_crawler(crawler, **arguments)
    assert not spider._open_store()
    RunMetrics.from_crawler(crawler).spider_closed(spider)
    assert run_exit_status(crawler.stats.get_stats(), crawler.settings) == 2
    return read_metrics(metrics_file)


def test_a_refused_run_without_the_previous_metrics_file_takes_the_last_success_from_the_run_summaries(
        metered_runs, metrics_file):
    metrics = refused_in_process(metered_runs.data_dir, metrics_file, refersh="all")  # a new METRICS_FILE path
    assert metrics["sasscrawl_run_exit_status"] == 2
    successful = [json.loads(path.read_text()) for path in sorted((metered_runs.data_dir / "runs").glob("*.json"))]
    assert [summary["exitStatus"] for summary in successful] == [0, 0]  # refused runs leave no summary
    assert metrics[LAST_SUCCESS] == datetime.fromisoformat(successful[-1]["finishedAt"]).timestamp()


def test_no_success_yet_is_zero(tmp_path, metrics_file):
    metrics = refused_in_process(tmp_path / "data", metrics_file, start_url="http://en.sass.cn/default.aspx")
    assert metrics["sasscrawl_run_exit_status"] == 2 and metrics[LAST_SUCCESS] == 0
    assert "sasscrawl_newest_article_timestamp_seconds" not in metrics  # nothing saved


def test_a_run_that_cannot_start_still_writes_its_exit_status(clean_site, serve, tmp_path, metrics_file):
    pipelines = {**settings.ITEM_PIPELINES, "sasscrawl.pipelines.nowhere.Pipeline": 500}
    result = run_crawl(serve(clean_site).start_url, tmp_path,
                       settings={"METRICS_FILE": metrics_file, "ITEM_PIPELINES": json.dumps(pipelines)})
    assert result.returncode == 1
    assert read_metrics(metrics_file)["sasscrawl_run_exit_status"] == 1


def test_no_metrics_file_without_the_setting(clean_crawl):
    result = clean_crawl.result
    assert result.returncode == 0
    enabled = result.log.split("Enabled extensions:", 1)[1].split("]", 1)[0]
    assert "sasscrawl.extensions.summary.RunSummary" in enabled and "RunMetrics" not in enabled
    assert "Metrics written" not in result.log
