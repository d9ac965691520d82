"""Let each article through once per run, and only when it is new or its text changed.

Within a run, by ``articleId`` (two URL spellings, a redirect, a refresh). Across
runs, by ``contentHash`` against the saved record: a view-count change is not
a change, so the saved record stays as it is. A saved article whose images
failed passes again, so the image mirror can retry them.
"""

from scrapy.exceptions import DropItem


class DeduplicatePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.seen_ids: set[int] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        article_id = item["articleId"]
        if article_id in self.seen_ids:
            self.stats.inc_value("sasscrawl/articles/duplicate")
            raise DropItem(f"Duplicate of article {article_id} in this run: {item['url']}", log_level="DEBUG")
        self.seen_ids.add(article_id)
        store = self.crawler.spider.store
        if store.is_complete(article_id, item["contentHash"]):
            self.stats.inc_value("sasscrawl/articles/unchanged")
            store.finish_article(article_id)
            raise DropItem(f"Article {article_id} unchanged since it was saved", log_level="DEBUG")
        return item
