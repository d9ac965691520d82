"""Run summary and progress reporting, from a real crawl."""

from __future__ import annotations

import os
import pty
import re
import socket
import struct
import subprocess
import threading

import pytest

from harness import PROJECT_ROOT, crawl_command, free_port, run_crawl
from sasscrawl.replica import build_site


def test_run_summary_is_logged_and_saved(clean_crawl):
    result, articles = clean_crawl.result, clean_crawl.site.articles
    summary = result.summary
    assert summary["articles"]["new"] == len(articles)
    assert summary["images"]["downloaded"] > 0 and summary["images"]["bytes"] > 0
    assert summary["requests"] == result.stat("downloader/request_count")
    assert summary["durationSeconds"] > 0 and summary["finishReason"] == "finished"
    assert f"Run summary {summary['runId']}: articles new {len(articles)}" in result.log
    assert len(list((result.data_dir / "runs").glob("*.json"))) == 1


def test_progress_lines_in_the_log(serve, tmp_path):
    site = build_site(articles=8, seed=2, quirks=False)
    result = run_crawl(serve(site).start_url, tmp_path, settings={"PROGRESS_INTERVAL": "0.05", "DOWNLOAD_DELAY": "0.05",
                                                                   "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
    lines = [line for line in result.log.splitlines() if "Progress: [" in line]
    assert lines and "articles" in lines[-1]


def run_on_terminal(command: list[str]) -> tuple[int, bytes]:
    """Run a crawl with a pseudo-terminal as its stdout and stderr: its exit status and everything it wrote."""
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
    return process.returncode, output


BAR = re.compile(rb"\[[#.]{30}\] (\d+)/(\d+) articles, \d+ saved, \d+ failed, \d+ images")


def test_live_progress_bar_on_a_terminal(serve, tmp_path):
    site = build_site(articles=5, seed=2, quirks=False)
    returncode, output = run_on_terminal(crawl_command(serve(site).start_url, tmp_path))
    assert returncode == 0
    assert b"\r\x1b[K[" + b"#" * 30 + b"] 5/5 articles, 5 saved, 0 failed" in output


def test_log_lines_never_stick_to_the_progress_bar(serve, tmp_path):
    """Each bar drawn is cleared (or ended by its line) before a log record is written."""
    site = build_site(articles=14, seed=2, stall_seconds=0)  # warnings mid-crawl: recovered pages, 404s
    command = crawl_command(serve(site).start_url, tmp_path, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1",
                                                                        "DOWNLOAD_DELAY": "0.05"})
    _, output = run_on_terminal(command)
    bars = list(BAR.finditer(output))
    assert len(bars) > 2 and b"WARNING" in output
    # Followed by the escape that clears it, or by the end of its line (the terminal writes "\r\n" for "\n").
    assert {output[bar.end():bar.end() + 2] for bar in bars} <= {b"\r\x1b", b"\r\n"}


def test_progress_counts_every_article_this_run_takes_on(serve, tmp_path):
    """A rerun that only retries an article's failed image is 1/1 articles, not 1/0."""
    site = build_site(articles=5, seed=2, quirks=False)
    server = serve(site)
    image = next(path for spec in site.articles for path in spec.image_paths)
    site.fail_image(image)
    run_crawl(server.start_url, tmp_path)
    site.restore_image(image)
    returncode, output = run_on_terminal(crawl_command(server.start_url, tmp_path))
    assert returncode == 0
    assert [bar.groups() for bar in BAR.finditer(output)][-1] == (b"1", b"1")


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


class BadNetwork:
    """A TCP server on 127.0.0.1 that resets every connection once the request arrived, or never answers."""

    def __init__(self, reset: bool):
        self.reset = reset
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed: the test is over
                return
            if self.reset:
                connection.recv(65536)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
            else:
                self.held.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def bad_network():
    servers = []

    def start(reset: bool) -> BadNetwork:
        servers.append(BadNetwork(reset))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("failure, cause", [
    ("dns", "DNS lookup failed: no results for hostname lookup: sasscrawl-test.invalid"),
    ("refused", "Connection was refused by other side"),
    ("reset", "Connection to the other side was lost in a non-clean fashion"),
    ("timeout", "took longer than 1.0 seconds"),
])
def test_network_failures_are_one_line_with_their_cause(tmp_path, bad_network, failure, cause):
    host = {"dns": lambda: "sasscrawl-test.invalid", "refused": lambda: f"127.0.0.1:{free_port()}",
            "reset": lambda: f"127.0.0.1:{bad_network(reset=True).port}",
            "timeout": lambda: f"127.0.0.1:{bad_network(reset=False).port}"}[failure]()
    result = run_crawl(f"http://{host}/103002/default.aspx", tmp_path, settings={"DOWNLOAD_TIMEOUT": "1"})
    assert result.returncode == 1
    assert "Traceback (most recent call last)" not in result.log
    errors = [line for line in result.log.splitlines() if " ERROR: " in line and "[Spidermon]" not in line]
    assert [line.split(" ERROR: ")[1].split(" ")[0] for line in errors] == ["Could", "The", "Run"], errors
    assert f"robots.txt for <GET http://{host}/103002/default.aspx>, so crawling as if it allowed all: " in errors[0]
    assert all(cause in line for line in errors), errors
    assert re.search(r"Run problem: .*the start page could not be fetched: \w+Error: ", errors[2])


def test_routine_events_are_summarised_not_repeated(quirky_crawl):
    """Links robots.txt forbids (every listing entry's print link) make one line; Spidermon warns of nothing."""
    result = quirky_crawl.result
    forbidden = result.stat("robotstxt/forbidden")
    assert forbidden > 10
    lines = [line for line in result.log.splitlines() if "robots.txt forbids" in line or "Not fetched http" in line]
    assert len(lines) == 1 and f"Not fetched: {forbidden} links that robots.txt forbids, such as " in lines[0]
    assert "Deprecat" not in result.log and "[Spidermon] OK" in result.log
