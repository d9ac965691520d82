"""Drop any record that does not match the shipped JSON Schema, saying why: it is never written."""

from itemadapter import ItemAdapter
from jsonschema.exceptions import best_match
from scrapy.exceptions import DropItem

from sasscrawl.schemas import article_validator


class ValidatePipeline:
    def __init__(self, crawler):
        self.stats = crawler.stats
        self.validator = article_validator()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        record = ItemAdapter(item).asdict()
        error = best_match(self.validator.iter_errors(record))
        if error is not None:
            self.stats.inc_value("sasscrawl/articles/invalid")
            where = "/".join(str(part) for part in error.absolute_path) or "(record)"
            raise DropItem(
                f"Invalid record for {record.get('url')}: {where}: {error.message}", log_level="ERROR"
            )
        return item
