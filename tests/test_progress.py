"""Progress reporting (extensions/progress.py): log lines, and a live bar on a terminal, from real crawls."""

from __future__ import annotations

import os
import pty
import re
import subprocess

from harness import PROJECT_ROOT, crawl_command, run_crawl
from sasscrawl_replica import build_site


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
