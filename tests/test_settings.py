"""Polite defaults, verified against the replica rather than only configured."""

from __future__ import annotations

from harness import run_crawl
from sasscrawl import settings
from sasscrawl_replica import build_site

DELAY = 0.4


def test_default_politeness_is_kept(serve, tmp_path):
    """Only the delay is shortened for the test; concurrency, robots.txt and AutoThrottle stay as shipped."""
    site = build_site(articles=4, seed=1, quirks=False)
    server = serve(site)
    shipped = {name: str(getattr(settings, name)) for name in (
        "CONCURRENT_REQUESTS_PER_DOMAIN", "AUTOTHROTTLE_ENABLED", "ROBOTSTXT_OBEY")}
    result = run_crawl(server.start_url, tmp_path, settings={**shipped, "DOWNLOAD_DELAY": str(DELAY)})

    assert result.returncode == 0
    assert len(result.records) == 4
    requests = server.requests
    assert requests[0].path == "/robots.txt"
    assert {request.user_agent for request in requests} == {settings.USER_AGENT}
    assert "sasscrawl" in settings.USER_AGENT and "+https://" in settings.USER_AGENT
    gaps = [later.time - earlier.time for earlier, later in zip(requests, requests[1:])]
    # One request at a time per host, each after a delay (Scrapy randomises it between 0.5 and 1.5 times).
    assert min(gaps) >= 0.5 * DELAY * 0.95


def test_shipped_defaults_are_polite():
    assert settings.ROBOTSTXT_OBEY is True
    assert settings.CONCURRENT_REQUESTS_PER_DOMAIN == 1
    assert settings.DOWNLOAD_DELAY >= 1
    assert settings.AUTOTHROTTLE_ENABLED is True
