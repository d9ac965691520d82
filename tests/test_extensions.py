"""Run summary and progress reporting, from a real crawl."""

from __future__ import annotations

import os
import pty
import subprocess

from harness import PROJECT_ROOT, crawl_command, run_crawl
from sasscrawl.replica import build_site


def test_run_summary_is_logged_and_saved(clean_site, serve, tmp_path):
    result = run_crawl(serve(clean_site).start_url, tmp_path)
    summary = result.summary
    assert summary["articles"]["new"] == len(clean_site.articles)
    assert summary["images"]["downloaded"] > 0 and summary["images"]["bytes"] > 0
    assert summary["requests"] == result.stat("downloader/request_count")
    assert summary["durationSeconds"] > 0 and summary["finishReason"] == "finished"
    assert f"Run summary {summary['runId']}: articles new {len(clean_site.articles)}" in result.log
    assert len(list((tmp_path / "runs").glob("*.json"))) == 1


def test_progress_lines_in_the_log(serve, tmp_path):
    site = build_site(articles=8, seed=2, quirks=False)
    result = run_crawl(serve(site).start_url, tmp_path, settings={"PROGRESS_INTERVAL": "0.05", "DOWNLOAD_DELAY": "0.05",
                                                                   "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
    lines = [line for line in result.log.splitlines() if "Progress: [" in line]
    assert lines and "articles" in lines[-1]


def test_live_progress_bar_on_a_terminal(serve, tmp_path):
    site = build_site(articles=5, seed=2, quirks=False)
    server = serve(site)
    command = crawl_command(server.start_url, tmp_path)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(controller)
    assert process.returncode == 0
    assert b"\r\x1b[K[" + b"#" * 30 + b"] 5/5 articles, 5 saved, 0 failed" in output


def test_garbage_collection_is_tuned_once_the_engine_starts():
    import gc

    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from sasscrawl.extensions.garbage_collection import YOUNG_GENERATION_THRESHOLD, GarbageCollectionTuning

    thresholds = gc.get_threshold()
    crawler = get_crawler(settings_dict={"EXTENSIONS": {GarbageCollectionTuning: 0}})
    GarbageCollectionTuning.from_crawler(crawler)
    try:
        assert gc.get_threshold() == thresholds  # nothing changes before the crawl starts
        crawler.signals.send_catch_log(signals.engine_started)
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
        assert gc.get_freeze_count() > 0
        crawler.signals.send_catch_log(signals.engine_stopped)
        assert gc.get_threshold() == thresholds and gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
