"""Validate each record against the shipped JSON Schema with Spidermon; an invalid one is never written.

It runs after the image mirror, so what is checked is the record as it will be saved, image
facts included, and only records that are to be saved are checked: an article found
unchanged (same ``contentHash``, every image mirrored) was validated when it was saved and
is not checked again. An invalid record has had its images fetched by then; that is rare
(the validation monitor then fails the run), and it stays in the frontier, to be fetched again.

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
from spidermon.contrib.validation.jsonschema.validator import REQUIRED_RE

from sasscrawl.schemas import ARTICLE_SCHEMA, article_errors


class ArticleSchemaValidator(JSONSchemaValidator):
    """Spidermon's JSON Schema validator checking through :func:`article_errors`: the same errors in the
    same form, at a small fraction of the cost (Spidermon's compiles the schema for every item)."""

    def __init__(self):
        super().__init__(ARTICLE_SCHEMA)

    def _validate(self, data, strict=False):
        for error in article_errors(data):
            path = list(error.absolute_path)
            if required := REQUIRED_RE.search(error.message):
                path.append(required.group(1))
            self._add_errors({".".join(str(part) for part in path): [error.message]})


class ValidatePipeline(ItemValidationPipeline):
    def __init__(self, crawler):
        super().__init__(validators={Item.__name__: [ArticleSchemaValidator()]}, stats=crawler.stats,
                         drop_items_with_errors=True)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _drop_item(self, item, errors):
        self.stats.add_dropped_item()
        self.crawler.stats.inc_value("sasscrawl/articles/invalid")
        reasons = "; ".join(f"{field or '(record)'}: {', '.join(messages)}" for field, messages in errors.items())
        # A warning: the validation monitor, not the unexpected-errors one, judges invalid records.
        raise DropItem(f"Invalid record for {ItemAdapter(item).get('url')}: {reasons}", log_level="WARNING")
