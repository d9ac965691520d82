"""scrapy-splash 0.11.1 (the newest release) made to work on current Scrapy: three shims, nothing else.

Import scrapy-splash's pieces from here, never from ``scrapy_splash`` directly:
the first shim must run before scrapy-splash is imported. Each shim has a test
(tests/test_splash_compat.py) that fails if it is dropped while still needed.
Only runs with ``SPLASH_URL`` import this module (:mod:`sasscrawl.addons` adds
its components); scrapy-splash is the ``splash`` extra.

1. ``canonicalize_url`` left ``scrapy.utils.url`` in Scrapy 2.16; scrapy-splash
   imports it from there at import time. It is w3lib's function, so the shim
   puts w3lib's back under the old name.
2. The slot policy calls ``Downloader._get_slot_key``, gone since Scrapy 2.14;
   ``Downloader.get_slot_key`` is its public successor. The same middleware's
   hooks still demand a ``spider`` argument, which Scrapy warns about on every
   crawl; they take the crawler's spider instead.
3. ``SplashDeduplicateArgsMiddleware`` only has synchronous spider-output
   hooks, which Scrapy 2.16+ refuses next to asynchronous callbacks and the
   async ``start()``; Scrapy's ``BaseSpiderMiddleware`` supplies every hook and
   calls back one method per request.
"""

from __future__ import annotations

import scrapy.utils.url
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from w3lib.url import canonicalize_url

if not hasattr(scrapy.utils.url, "canonicalize_url"):
    scrapy.utils.url.canonicalize_url = canonicalize_url

import scrapy_splash  # noqa: E402 - needs the shim above
from scrapy_splash import SplashRequest, SplashRequestFingerprinter  # noqa: E402

__all__ = ["SplashDeduplicateArgsMiddleware", "SplashMiddleware", "SplashRequest", "SplashRequestFingerprinter"]


class SplashMiddleware(scrapy_splash.SplashMiddleware):
    def _get_slot_key(self, request_or_response):
        return self.crawler.engine.downloader.get_slot_key(request_or_response)

    def process_request(self, request, spider=None):
        return super().process_request(request, self.crawler.spider)

    def process_response(self, request, response, spider=None):
        return super().process_response(request, response, self.crawler.spider)


class SplashDeduplicateArgsMiddleware(BaseSpiderMiddleware, scrapy_splash.SplashDeduplicateArgsMiddleware):
    def get_processed_request(self, request, response):
        spider = self.crawler.spider
        if not hasattr(spider, "state"):
            spider.state = {}
        spider.state.setdefault(self.local_values_key, {})
        return self._process_request(request, spider)
