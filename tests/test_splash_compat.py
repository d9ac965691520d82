"""Each scrapy-splash shim: the original fails on this Scrapy, the shim works. Drop a shim when its first half fails."""

from __future__ import annotations

import subprocess
import sys

import pytest
from scrapy import Request, Spider
from scrapy.core.downloader import Downloader
from scrapy.core.spidermw import SpiderMiddlewareManager
from scrapy.utils.test import get_crawler

from sasscrawl import splash_compat


def test_scrapy_splash_imports_only_through_the_compat_module():
    plain = subprocess.run([sys.executable, "-c", "import scrapy_splash"], capture_output=True, text=True)
    assert "cannot import name 'canonicalize_url' from 'scrapy.utils.url'" in plain.stderr
    shimmed = subprocess.run([sys.executable, "-c", "import sasscrawl.splash_compat, scrapy_splash"],
                             capture_output=True, text=True)
    assert shimmed.returncode == 0, shimmed.stderr


def test_slot_policy_uses_the_public_slot_key():
    import scrapy_splash

    crawler = get_crawler(Spider)
    crawler.engine = type("Engine", (), {"downloader": Downloader(crawler)})()
    request = Request("http://en.sass.cn/103002/5554.aspx")
    original = scrapy_splash.SplashMiddleware(crawler, "http://127.0.0.1:8050", "per_domain", True, None)
    with pytest.raises(AttributeError, match="_get_slot_key"):
        original._get_slot_key(request)
    shimmed = splash_compat.SplashMiddleware(crawler, "http://127.0.0.1:8050", "per_domain", True, None)
    assert shimmed._get_slot_key(request) == "en.sass.cn"


def manager(middleware: str) -> SpiderMiddlewareManager:
    crawler = get_crawler(Spider, settings_dict={"SPIDER_MIDDLEWARES": {middleware: 100}, "SPIDER_MIDDLEWARES_BASE": {}})
    crawler.spider = Spider("commentary")
    return SpiderMiddlewareManager.from_crawler(crawler)


def test_dedup_middleware_supports_async_spider_output():
    with pytest.raises(TypeError, match="doesn't support asynchronous spider output"):
        manager("scrapy_splash.SplashDeduplicateArgsMiddleware")
    shimmed = manager("sasscrawl.splash_compat.SplashDeduplicateArgsMiddleware")
    assert shimmed.methods["process_start"] and shimmed.methods["process_spider_output"]


def test_dedup_middleware_still_deduplicates_arguments():
    middleware = splash_compat.SplashDeduplicateArgsMiddleware(get_crawler(Spider))
    middleware.crawler.spider = Spider("commentary")
    request = splash_compat.SplashRequest("http://en.sass.cn/103002/5554.aspx", args={"lua_source": "x" * 100},
                                          cache_args=["lua_source"])
    processed = middleware.get_processed_request(request, None)
    assert processed.meta["splash"]["args"]["lua_source"].startswith("LOCAL+")
