"""Save each article to the data folder's journal; the store keeps articles.jsonl in step.

A failure of the data folder (disk full, permissions) stops the run through the run's
data folder (:class:`~sasscrawl.extensions.data_folder.RunDataFolder`): the previous
articles.jsonl is left untouched and the exit status says so.
"""

from scrapy.exceptions import DropItem

from sasscrawl.extensions.data_folder import RunDataFolder
from sasscrawl.store import StoreError


class WritePipeline:
    def __init__(self, crawler):
        self.data_folder = RunDataFolder.of(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        try:
            outcome = self.data_folder.store.save(dict(item))
        except StoreError as error:
            self.data_folder.failed(error)
            raise DropItem(f"Not saved: {error}", log_level="DEBUG") from error
        self.stats.inc_value(f"sasscrawl/articles/{outcome}")
        return item
