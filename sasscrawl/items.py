"""The Article item. Its fields come from the JSON Schema, the one place they are defined."""

import scrapy

from sasscrawl.schemas import ARTICLE_FIELDS

Article = type(
    "Article",
    (scrapy.Item,),
    {
        "__doc__": "One article record; see sasscrawl/schemas/article.json for each field's meaning.",
        "__module__": __name__,
        **{name: scrapy.Field() for name in ARTICLE_FIELDS},
    },
)
