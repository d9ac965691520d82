"""Polite defaults, verified in a run with the shipped settings rather than only configured."""

from __future__ import annotations

import ast
import subprocess
import sys

from scrapy.settings import default_settings

from harness import PROJECT_ROOT, CrawlResult
from sasscrawl_replica import build_site


def effective_settings(log: str) -> dict:
    """The settings the run used: Scrapy's defaults, and those the run logged at its start as overridden."""
    text = log.split("Overridden settings:\n", 1)[1]
    defaults = {name: getattr(default_settings, name) for name in dir(default_settings) if name.isupper()}
    return {**defaults, **ast.literal_eval(text[:text.index("}\n") + 1])}


def test_a_run_with_the_shipped_settings_is_polite(serve, tmp_path):
    """Nothing overridden: robots.txt first, one request at a time per host, at least a second's delay
    (Scrapy randomises it between 0.5 and 1.5 times), AutoThrottle on and a User-Agent that names the crawler."""
    site = build_site(articles=2, seed=1, quirks=False)
    server = serve(site)
    command = [sys.executable, "-m", "scrapy", "crawl", "commentary", "-a", f"start_url={server.start_url}",
               "-s", f"DATA_DIR={tmp_path}"]  # not harness.crawl_command: that lifts the politeness for speed
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    result = CrawlResult(completed.returncode, completed.stderr, tmp_path)

    assert result.returncode == 0
    assert len(result.records) == 2
    used = effective_settings(result.log)
    polite = ("ROBOTSTXT_OBEY", "CONCURRENT_REQUESTS_PER_DOMAIN", "AUTOTHROTTLE_ENABLED")
    assert [used[name] for name in polite] == [True, 1, True]
    assert used["DOWNLOAD_DELAY"] >= 1
    requests = server.requests
    assert requests[0].path == "/robots.txt" and len(requests) >= 5
    assert {request.user_agent for request in requests} == {used["USER_AGENT"]}
    assert "sasscrawl" in used["USER_AGENT"] and "+https://" in used["USER_AGENT"]
    gaps = [later.time - earlier.time for earlier, later in zip(requests, requests[1:])]
    assert min(gaps) >= 0.5 * used["DOWNLOAD_DELAY"] * 0.95
