"""METRICS_FILE from real crawls: parsed with prometheus_client's own text parser, checked against the runs."""

from __future__ import annotations

import fcntl
import json
import time
from datetime import datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import run_crawl
from sasscrawl import settings
from sasscrawl_replica import build_site
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


def test_first_run_and_rerun(clean_site, serve, tmp_path, metrics_file):
    server = serve(clean_site)
    data_dir = tmp_path / "data"
    before = time.time()
    first = run_crawl(server.start_url, data_dir, settings={"METRICS_FILE": metrics_file})
    after = time.time()
    assert first.returncode == 0
    metrics = read_metrics(metrics_file)
    assert metrics["sasscrawl_run_exit_status"] == 0
    assert 0 < metrics["sasscrawl_run_duration_seconds"] <= after - before
    assert before <= metrics[LAST_SUCCESS] <= after
    assert metrics["sasscrawl_articles{outcome=new}"] == len(clean_site.articles)
    assert metrics["sasscrawl_articles{outcome=unchanged}"] == 0
    assert metrics["sasscrawl_articles{outcome=chronic}"] == 0
    assert metrics["sasscrawl_requests_total"] == first.stat("downloader/request_count")
    assert metrics["sasscrawl_images{status=downloaded}"] == first.stat("sasscrawl/images/downloaded") > 0
    newest = max(datetime.fromisoformat(record["datePublished"]) for record in first.records)
    assert metrics["sasscrawl_newest_article_timestamp_seconds"] == newest.timestamp()
    assert [path.name for path in metrics_file.parent.iterdir()] == [metrics_file.name]  # no temporary file left

    rerun = run_crawl(server.start_url, data_dir, "refresh=all", settings={"METRICS_FILE": metrics_file})
    assert rerun.returncode == 0
    metrics_again = read_metrics(metrics_file)
    assert metrics_again["sasscrawl_articles{outcome=new}"] == 0
    assert metrics_again["sasscrawl_articles{outcome=unchanged}"] == len(clean_site.articles)
    assert metrics_again["sasscrawl_images{status=downloaded}"] == 0
    assert metrics_again["sasscrawl_images{status=cached}"] == rerun.stat("sasscrawl/images/cached")
    assert metrics_again[LAST_SUCCESS] > metrics[LAST_SUCCESS]


def test_refused_runs_write_their_exit_status_and_keep_the_last_success(serve, tmp_path, metrics_file):
    server = serve(build_site(articles=3, seed=5, quirks=False))
    data_dir = tmp_path / "data"
    assert run_crawl(server.start_url, data_dir, settings={"METRICS_FILE": metrics_file}).returncode == 0
    last_success = read_metrics(metrics_file)[LAST_SUCCESS]

    bad_argument = run_crawl(server.start_url, data_dir, "refersh=all", settings={"METRICS_FILE": metrics_file})
    assert bad_argument.returncode == 2
    assert read_metrics(metrics_file)["sasscrawl_run_exit_status"] == 2
    assert read_metrics(metrics_file)[LAST_SUCCESS] == last_success

    alert_unset = run_crawl(server.start_url, data_dir, settings={
        "METRICS_FILE": metrics_file, "ALERT_ACTIONS": "sasscrawl.alerts.SendDiscordAlert"})
    assert alert_unset.returncode == 2
    assert read_metrics(metrics_file)["sasscrawl_run_exit_status"] == 2
    assert read_metrics(metrics_file)[LAST_SUCCESS] == last_success

    with open(data_dir / LOCK_FILE, "a+") as lock:  # another crawl holds the data folder
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        locked = run_crawl(server.start_url, data_dir, settings={"METRICS_FILE": metrics_file})
    assert locked.returncode == 3
    assert read_metrics(metrics_file)["sasscrawl_run_exit_status"] == 3
    assert read_metrics(metrics_file)[LAST_SUCCESS] == last_success

    # Without the previous file (a new METRICS_FILE path), the run summaries tell.
    fresh_file = metrics_file.with_name("fresh.prom")
    assert run_crawl(server.start_url, data_dir, "refersh=all", settings={"METRICS_FILE": fresh_file}).returncode == 2
    successful = [json.loads(path.read_text()) for path in sorted((data_dir / "runs").glob("*.json"))]
    assert [summary["exitStatus"] for summary in successful] == [0]  # refused runs leave no summary
    assert read_metrics(fresh_file)[LAST_SUCCESS] == datetime.fromisoformat(successful[0]["finishedAt"]).timestamp()


def test_no_success_yet_is_zero(tmp_path, metrics_file):
    result = run_crawl("http://en.sass.cn/default.aspx", tmp_path, settings={"METRICS_FILE": metrics_file})
    assert result.returncode == 2
    metrics = read_metrics(metrics_file)
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
