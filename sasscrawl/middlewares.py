"""Downloader middleware that keeps page requests inside the crawled section.

It sits before the redirect middleware's output is downloaded, so a redirect
from an in-scope page to another host or section is refused too. Only page
requests (``meta['sasscrawl_page']``) are checked: robots.txt and the image
mirror's requests may go elsewhere by design.
"""

import logging

from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)


class SectionScopeMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        if not request.meta.get("sasscrawl_page"):
            return None
        section = getattr(self.crawler.spider, "section", None)
        if section is None or section.contains(request.url):
            return None
        self.crawler.stats.inc_value("sasscrawl/pages/out_of_scope")
        logger.warning("Not fetching %s: outside the section %s", request.url, section.root + section.folder.lstrip("/"))
        raise IgnoreRequest(f"outside the crawled section: {request.url}")
