"""Progress reporting (extensions/progress.py): log lines, and a live bar on a terminal, from real crawls."""

from __future__ import annotations

import re

from harness import run_on_terminal
from sasscrawl_replica import build_site


def test_progress_lines_in_the_log(image_timeout_crawl):
    """PROGRESS_INTERVAL 0.05 s, in conftest's crawl whose stalled image (test_images) makes it last over a second."""
    result = image_timeout_crawl.result
    lines = [line for line in result.log.splitlines() if "Progress: [" in line]
    assert lines and "articles" in lines[-1]


BAR = re.compile(r"\[[#.]{30}\] (\d+)/(\d+) articles, \d+ saved, \d+ failed, \d+ images")


def test_live_progress_bar_on_a_terminal(image_retry):
    """The first run of conftest's ``image_retry``: every article saved, one without its image (not a failure)."""
    first, articles = image_retry.first, len(image_retry.site.articles)
    assert first.returncode == 0
    assert f"\r\x1b[K[{'#' * 30}] {articles}/{articles} articles, {articles} saved, 0 failed" in first.log


def test_log_lines_never_stick_to_the_progress_bar(serve, tmp_path):
    """Each bar drawn is cleared (or ended by its line) before a log record is written."""
    site = build_site(articles=14, seed=2, stall_seconds=0)  # warnings mid-crawl: recovered pages, 404s
    output = run_on_terminal(serve(site).start_url, tmp_path, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1",
                                                                         "DOWNLOAD_DELAY": "0.05"}).log
    bars = list(BAR.finditer(output))
    assert len(bars) > 2 and "WARNING" in output
    # Followed by the escape that clears it, or by the end of its line (the terminal writes "\r\n" for "\n").
    assert {output[bar.end():bar.end() + 2] for bar in bars} <= {"\r\x1b", "\r\n"}


def test_progress_counts_every_article_this_run_takes_on(image_retry):
    """A rerun that only retries an article's failed image (conftest's ``image_retry``) is 1/1 articles, not 1/0."""
    assert image_retry.rerun.returncode == 0
    assert [bar.groups() for bar in BAR.finditer(image_retry.rerun.log)][-1] == ("1", "1")
