"""The crawl command's exit status: what a scheduler acts on.

Each process-level path runs the real command; the other inputs that take a path already run (another bad
argument) are checked in this process, on the spider the command would build, with the same assertions.
"""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from harness import PROJECT_ROOT, StartInProcess, crawl_command, run_crawl, signal_after, start_in_process
from sasscrawl.health import EXIT_INTERRUPTED, EXIT_USAGE
from sasscrawl_replica import build_site


def refused_in_process(tmp_path, caplog, **arguments) -> StartInProcess:
    """``-a`` ``arguments`` as the command takes them before its first request, in this process: nothing written.
    ``test_unknown_spider_argument_exits_two_with_one_clear_line`` runs the same path as a real command."""
    started = start_in_process(caplog, {"DATA_DIR": str(tmp_path / "data")}, **arguments)
    assert not (tmp_path / "data").exists()
    return started


def test_a_healthy_run_exits_zero(clean_crawl):
    result = clean_crawl.result
    assert result.returncode == 0
    assert result.summary["exitStatus"] == 0 and result.summary["problems"] == []


def test_unreachable_start_page_exits_one(unreachable_start_crawl):
    result = unreachable_start_crawl.result
    assert result.returncode == 1
    assert "Run problem: monitor failed: Crawl results/Run started" in result.log
    assert any("the start page could not be fetched" in problem for problem in result.summary["problems"])
    assert "Traceback (most recent call last)" not in result.log


OPTIONAL_IMPORTS = {
    "sasscrawl.archive": "-a archive=warc", "warcio": "-a archive=warc", "cdxj_indexer": "-a archive=warc",
    "scrapy_splash": "SPLASH_URL", "jinja2": "ALERT_ACTIONS", "premailer": "ALERT_ACTIONS",
    "prometheus_client": "METRICS_FILE", "PIL": "an image to describe",
    "pyarrow": "an article saved (the card's Parquet)",
    "sasscrawl.render": "RENDER_SITE with an archive",
    "aiohttp": "REMOTE_CONTROL_ENABLED",
}
"""Modules, heavy to import, and what a run needs to import them."""


def test_a_run_imports_only_what_it_uses(unreachable_start_crawl):
    """A run that fails at once (no image, no archive, no Splash, no alert, no metrics) imports none of them."""
    result = unreachable_start_crawl.result
    imported = {line.rsplit("|", 1)[1].strip() for line in result.log.splitlines() if line.startswith("import time:")}
    assert {"scrapy", "sasscrawl.middlewares", "sasscrawl.store", "sasscrawl.pages.article"} <= imported
    assert {name: why for name, why in OPTIONAL_IMPORTS.items() if name in imported} == {}
    assert result.returncode == 1


def test_a_start_page_that_is_not_200_is_named_as_such(clean_site, serve, tmp_path):
    server = serve(clean_site)
    result = run_crawl(server.url("/103002/missing.aspx"), tmp_path)
    assert result.returncode == 1
    assert result.summary["problems"] == [
        "monitor failed: Crawl results/Run started: arguments, data folder and start page usable: "
        "the start page answered 404"]
    assert "Gone (404)" not in result.log


def test_a_start_page_robots_txt_forbids_is_named_as_such(clean_site, serve, tmp_path):
    server = serve(clean_site)
    result = run_crawl(server.url("/103002/print/default.aspx"), tmp_path)  # robots.txt: Disallow: /103002/print/
    assert result.returncode == 1
    assert any(problem.endswith("the start page is forbidden by robots.txt") for problem in result.summary["problems"])
    assert "could not be fetched" not in result.log
    assert server.paths() == ["/robots.txt"]


def test_no_article_parsed_from_a_section_with_articles_exits_one(serve, tmp_path):
    site = build_site(articles=6, seed=2, quirks=False)
    for spec in site.articles:
        site.remove_article(spec.id, 404)
    result = run_crawl(serve(site).start_url, tmp_path)
    assert result.returncode == 1
    assert "no article could be parsed although" in result.log
    assert result.records == []


def test_too_many_failing_pages_exit_one(failing_pages_crawl):
    result = failing_pages_crawl.result
    assert result.returncode == 1
    assert "FAILED_PAGES_MAX_SHARE" in result.log
    # flaky_503 is not retried here: lost this run
    assert len(result.records) == len(failing_pages_crawl.site.expected_article_ids()) - 1


def test_unknown_spider_argument_exits_two_with_one_clear_line(clean_site, serve, tmp_path):
    server = serve(clean_site)
    result = run_crawl(server.start_url, tmp_path, "refersh=all")
    assert result.returncode == 2
    assert "Not crawling: unknown spider argument(s) refersh; known: start_url, refresh, archive, retry" in result.log
    assert "Traceback (most recent call last)" not in result.log
    assert server.requests == []
    assert not (tmp_path / "articles.jsonl").exists()


@pytest.mark.parametrize("bad", ["ftp://en.sass.cn/103002/default.aspx", "http://en.sass.cn/default.aspx",
                                 "en.sass.cn/103002"])
def test_malformed_start_url_exits_two(tmp_path, caplog, bad):
    started = refused_in_process(tmp_path, caplog, start_url=bad)
    assert started.exit_status == 2, bad
    assert len(started.errors) == 1 and started.errors[0].startswith("Not crawling: start_url must")
    assert started.requests == []


def test_bad_refresh_value_exits_two(tmp_path, caplog):
    started = refused_in_process(tmp_path, caplog, refresh="some")
    assert started.exit_status == 2
    assert len(started.errors) == 1 and "refresh must be 'all' or a whole number" in started.errors[0]
    assert started.requests == []


def test_a_misspelt_setting_exits_two_naming_the_setting_meant_and_crawls_nothing(clean_site, serve, tmp_path):
    server = serve(clean_site)
    result = run_crawl(server.start_url, tmp_path / "data", settings={"DATA_DIRR": str(tmp_path / "x")})
    assert result.returncode == 2
    assert result.log.count("Not crawling: unknown setting DATA_DIRR (did you mean DATA_DIR?)") == 1
    assert "Traceback (most recent call last)" not in result.log
    assert server.requests == []
    assert not (tmp_path / "x").exists() and not (tmp_path / "data").exists()


def test_the_crawl_s_first_line_names_its_data_dir_resolved(unreachable_start_crawl):
    """Under Scrapyd, with a relative path or a symbolic link, the job's log says where the data went."""
    result = unreachable_start_crawl.result
    ours = [line for line in result.log.splitlines() if "[sasscrawl." in line]
    assert ours[0].endswith(f"[sasscrawl.spiders.commentary] INFO: DATA_DIR is {unreachable_start_crawl.real_data_dir}")


def test_bad_retry_value_exits_two(tmp_path, caplog):
    started = refused_in_process(tmp_path, caplog, retry="all")
    assert started.exit_status == EXIT_USAGE == 2
    assert started.errors == ["Not crawling: retry must be one of failed, got 'all'"]
    assert started.requests == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_run_has_an_exit_status_of_its_own(serve, tmp_path, sig):
    """A systemd stop or Ctrl-C: what was saved is kept, but the run is not reported as a success."""
    server = serve(build_site(articles=50, seed=6, quirks=False))
    command = crawl_command(server.start_url, tmp_path, settings={"LOG_LEVEL": "DEBUG",
                                                                  "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert signal_after(process, "Scraped from", 5, sig) == 5
    assert process.returncode == EXIT_INTERRUPTED == 4
    summary = json.loads(max((tmp_path / "runs").glob("*.json")).read_text("utf-8"))
    assert (summary["finishReason"], summary["verdict"], summary["exitStatus"]) == ("shutdown", "interrupted", 4)
    assert any("interrupted" in problem for problem in summary["problems"])
    assert summary["articles"]["new"] >= 5


def test_a_second_signal_forces_a_stop_that_still_exits_four(serve, tmp_path):
    """A second SIGTERM while a stalled download holds the graceful stop: Scrapy stops at once, unclean."""
    site = build_site(articles=12, seed=2)
    server = serve(site)
    process = subprocess.Popen(crawl_command(server.start_url, tmp_path), cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert server.wait_for(f"/103002/{site.quirks.bad_inputs['stall']}.aspx", timeout=60)
        process.send_signal(signal.SIGTERM)
        assert signal_after(process, "shutting down gracefully", 1, signal.SIGTERM) == 1
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == EXIT_INTERRUPTED
