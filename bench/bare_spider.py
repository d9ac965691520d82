"""The throughput baseline: a bare Scrapy spider that downloads a list of URLs and nothing more.

No parsing, no items, no pipelines: each response is dropped once it has arrived, so the crawl is
limited by Scrapy alone. Run it outside the project folder (Scrapy looks for ``scrapy.cfg`` in the
working folder and its parents), so none of the project's settings, middlewares or extensions load:

    scrapy runspider /path/to/bench/bare_spider.py -a urls_file=urls.txt
"""

import scrapy


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls_file: str, **kwargs):
        super().__init__(**kwargs)
        self.urls_file = urls_file

    async def start(self):
        with open(self.urls_file, encoding="utf-8") as urls:
            for line in urls:
                # dont_filter: the same URLs as the crawl it is compared with, every one of them.
                yield scrapy.Request(line.strip(), callback=self.drop, dont_filter=True)

    def drop(self, response):
        """Read nothing, yield nothing."""
