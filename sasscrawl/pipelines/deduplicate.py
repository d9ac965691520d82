"""Let each article through once per run, and only when there is something to save.

Within a run, by ``articleId`` (two URL spellings, a redirect, a refresh, a saved record
that came back for its images). Across runs, by ``contentHash`` against the saved record:
a view-count change is not a change, so the saved record stays as it is. A saved article
whose images failed passes again, so the image mirror can retry them. First in the
pipeline, so nothing is downloaded or checked for an article that will not be saved.
"""

from scrapy.exceptions import DropItem

from sasscrawl.extensions.data_folder import RunDataFolder


class DeduplicatePipeline:
    def __init__(self, crawler):
        self.data_folder = RunDataFolder.of(crawler)
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
        store = self.data_folder.store
        if store.journal.is_complete(article_id, item["contentHash"]):
            self.stats.inc_value("sasscrawl/articles/unchanged")
            store.frontier.finish_article(article_id)
            raise DropItem(f"Article {article_id} unchanged since it was saved", log_level="DEBUG")
        return item
