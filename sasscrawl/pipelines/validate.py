"""Validate each record against the shipped JSON Schema with Spidermon; an invalid one is never written.

Spidermon's ItemValidationPipeline does the checking with ``sasscrawl/schemas/article.json``
and keeps the ``spidermon/validation/*`` stats its monitor reads. The schema is
given here rather than through ``SPIDERMON_VALIDATION_SCHEMAS`` so records are
validated even when the monitors are switched off. This subclass also makes the
drop say which fields failed and why, and counts it in ``sasscrawl/articles/invalid``.
"""

from itemadapter import ItemAdapter
from scrapy import Item
from scrapy.exceptions import DropItem
from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline
from spidermon.contrib.validation import JSONSchemaValidator

from sasscrawl.schemas import ARTICLE_SCHEMA


class ValidatePipeline(ItemValidationPipeline):
    def __init__(self, crawler):
        super().__init__(validators={Item.__name__: [JSONSchemaValidator(ARTICLE_SCHEMA)]}, stats=crawler.stats,
                         drop_items_with_errors=True)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _drop_item(self, item, errors):
        self.stats.add_dropped_item()
        self.crawler.stats.inc_value("sasscrawl/articles/invalid")
        reasons = "; ".join(f"{field or '(record)'}: {', '.join(messages)}" for field, messages in errors.items())
        raise DropItem(f"Invalid record for {ItemAdapter(item).get('url')}: {reasons}", log_level="ERROR")
