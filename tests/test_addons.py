"""The add-ons: scrapy-splash's components in the runs that set SPLASH_URL only; Scrapy's remote control only when on."""

from __future__ import annotations

import subprocess

from scrapy import Spider
from scrapy.utils.test import get_crawler

from harness import PROJECT_ROOT, PROJECT_SETTINGS, CrawlResult, crawl_command
from sasscrawl.addons import REMOTE_CONTROL, SPLASH_MISSING

SPLASH_URL = "http://127.0.0.1:8050"


def test_splash_components_only_with_splash_url():
    plain = get_crawler(Spider, PROJECT_SETTINGS)
    with_splash = get_crawler(Spider, {**PROJECT_SETTINGS, "SPLASH_URL": SPLASH_URL})

    assert "sasscrawl.splash_compat.SplashMiddleware" not in plain.settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert "sasscrawl.splash_compat.SplashDeduplicateArgsMiddleware" not in plain.settings.getdict("SPIDER_MIDDLEWARES")
    assert type(plain.request_fingerprinter).__module__.startswith("scrapy.")

    assert with_splash.settings.getdict("DOWNLOADER_MIDDLEWARES")["sasscrawl.splash_compat.SplashMiddleware"] == 725
    assert with_splash.settings.getdict("SPIDER_MIDDLEWARES")[
        "sasscrawl.splash_compat.SplashDeduplicateArgsMiddleware"] == 100
    assert type(with_splash.request_fingerprinter).__name__ == "SplashRequestFingerprinter"
    # The project's own components are all still there.
    assert set(PROJECT_SETTINGS["DOWNLOADER_MIDDLEWARES"]) < set(with_splash.settings.getdict("DOWNLOADER_MIDDLEWARES"))


def test_a_splash_component_a_project_turned_off_stays_off():
    off = {**PROJECT_SETTINGS, "SPLASH_URL": SPLASH_URL,
           "SPIDER_MIDDLEWARES": {"sasscrawl.splash_compat.SplashDeduplicateArgsMiddleware": None}}
    crawler = get_crawler(Spider, off)
    assert crawler.settings.getdict("SPIDER_MIDDLEWARES")["sasscrawl.splash_compat.SplashDeduplicateArgsMiddleware"] is None


def test_splash_url_without_scrapy_splash_refuses_the_run(clean_site, serve, tmp_path):
    """As if the splash extra were not installed: ``None`` in ``sys.modules`` is how Python hides a module."""
    server = serve(clean_site)
    command = crawl_command(server.start_url, tmp_path, settings={"SPLASH_URL": SPLASH_URL})
    assert command[1:3] == ["-m", "scrapy"]
    command[1:3] = ["-c", "import sys; sys.modules['scrapy_splash'] = None; from scrapy.cmdline import execute; execute()"]
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    result = CrawlResult(completed.returncode, completed.stderr + completed.stdout, tmp_path)

    assert result.returncode == 2
    refusals = [line for line in result.log.splitlines() if "Not crawling:" in line]
    assert len(refusals) == 1 and refusals[0].endswith(f"Not crawling: {SPLASH_MISSING}")
    assert "pip install 'sasscrawl[splash]'" in SPLASH_MISSING
    assert "Traceback (most recent call last)" not in result.log
    assert server.requests == []
    assert not (tmp_path / "articles.jsonl").exists()


def test_the_remote_control_is_listed_only_when_it_is_on():
    off = get_crawler(Spider, PROJECT_SETTINGS)
    on = get_crawler(Spider, {**PROJECT_SETTINGS, "REMOTE_CONTROL_ENABLED": True})

    assert REMOTE_CONTROL not in off.settings.getdict("EXTENSIONS_BASE")
    assert on.settings.getdict("EXTENSIONS_BASE")[REMOTE_CONTROL] == 0
    # Scrapy's other base extensions are all still there.
    assert set(off.settings.getdict("EXTENSIONS_BASE")) == set(on.settings.getdict("EXTENSIONS_BASE")) - {REMOTE_CONTROL}
