"""``DATA_DIR/README.md``: the dataset card, in the form the Hugging Face hub and data repositories read.

A YAML header (``configs`` naming the Parquet export as the ``train`` split,
``dataset_info.features`` written from the same Arrow schema the file has, ``language``,
``pretty_name``, ``license: other``, ``source_url``) and a body with the provenance: the site and
section, the articles' date range, counts, the crawls, the crawler's and the record schema's
versions, what each file holds, how to load it and how to cite it. Written whole each time
(each run, each export): nothing in it is edited by hand.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import datetime
from importlib.resources import files as package_files
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from sasscrawl.exports import csv, parquet, sqlite
from sasscrawl.exports.arrow import SITE_TIME_ZONE, arrow_schema
from sasscrawl.mirror import MIRROR_FOLDER
from sasscrawl.schemas import ARTICLE_SCHEMA
from sasscrawl.snapshots import SNAPSHOT_FOLDER
from sasscrawl.store.layout import ARTICLES_FILE, EXPORTS_FOLDER, RUNS_FOLDER, SITE_FOLDER, VERSIONS_FILE, WARC_FOLDER
from sasscrawl.version import installed_version

if TYPE_CHECKING:
    from sasscrawl.exports.dataset import DatasetFacts

logger = logging.getLogger(__name__)

PUBLISHER = "Shanghai Academy of Social Sciences"
LICENSE_NOTE = (f"The articles are the work of their authors and the {PUBLISHER}, who keep the copyright. This "
                "collection grants no licence of its own: use it as the source site allows (research, quotation "
                "with attribution).")
PARQUET_PATH = f"{EXPORTS_FOLDER}/{parquet.FILE}"
FILE_ROLES = {
    ARTICLES_FILE: "every saved article, one JSON record a line, by articleId (the crawler's own output)",
    VERSIONS_FILE: "superseded versions of refreshed articles whose text changed, one JSON line each "
                   "(articleId, contentHash, dateDownloaded, supersededAt, the full old record)",
    PARQUET_PATH: "the articles, typed (the data this card describes)",
    f"{EXPORTS_FOLDER}/{sqlite.FILE}": "SQLite: tables articles, authors, figures, images, versions "
                                       "and a full-text index, for Datasette",
    f"{EXPORTS_FOLDER}/{sqlite.METADATA_FILE}": "Datasette's metadata for the SQLite file (title, source, facets, search)",
    f"{EXPORTS_FOLDER}/{csv.FILE}": "one flat row per article for spreadsheets (lists joined with \"; \")",
    f"{MIRROR_FOLDER}/": "the articles' images, mirrored (each record's images[].path)",
    f"{RUNS_FOLDER}/": "one JSON summary per crawl, with the ids of the articles it added, changed and found "
                       "gone",
    f"{WARC_FOLDER}/": "every response of the crawls that archived them, as WARC, with a CDXJ index",
    f"{SNAPSHOT_FOLDER}/": "the article pages as a browser rendered them (crawls with Splash)",
    f"{SITE_FOLDER}/": "an offline HTML mirror of the archived pages",
}


def schema_version() -> str:
    """The record schema's ``$id`` and the first 12 hex digits of its file's sha256: any change shows."""
    digest = hashlib.sha256(package_files("sasscrawl.schemas").joinpath("article.json").read_bytes()).hexdigest()
    return f"{ARTICLE_SCHEMA['$id']} (sha256 {digest[:12]})"


def hf_features(schema: pa.Schema) -> list[dict]:
    """The schema as ``dataset_info.features`` in a card: what ``datasets.Features`` writes for it."""
    return [_feature(schema_field.name, schema_field.type) for schema_field in schema]


def _feature(name: str, arrow_type: pa.DataType) -> dict:
    if pa.types.is_struct(arrow_type):
        return {"name": name, "struct": [_feature(child.name, child.type) for child in arrow_type]}
    if pa.types.is_list(arrow_type):
        item = arrow_type.value_type
        if pa.types.is_struct(item):
            return {"name": name, "list": [_feature(child.name, child.type) for child in item]}
        return {"name": name, "list": str(item)}
    return {"name": name, "dtype": str(arrow_type)}


def size_category(articles: int) -> str:
    """The hub's size category for this many rows."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if articles < bound:
            return label
    return "n>1M"


def crawl_starts(data_dir: Path, crawl_started: datetime | None) -> list[str]:
    """When each crawl started (UTC, ISO 8601), from the run summaries, and the running crawl's start."""
    starts = []
    for path in sorted((data_dir / RUNS_FOLDER).glob("*.json")):
        try:
            starts.append(json.loads(path.read_bytes())["startedAt"])
        except (OSError, ValueError, KeyError, TypeError):
            logger.warning("The dataset card leaves out %s: not a run summary", path)
    if crawl_started is not None:
        starts.append(crawl_started.isoformat(timespec="seconds"))
    return sorted(set(starts))


def pretty_name(facts: DatasetFacts) -> str:
    return f"{facts.section_name} articles of {facts.site}"


def datasette_metadata(facts: DatasetFacts) -> dict:
    return sqlite.datasette_metadata(
        title=pretty_name(facts),
        description=f"{facts.articles} articles of the {facts.section_name} section of the {PUBLISHER}'s English site, "
                    f"published {_date_range(facts)}, collected by sasscrawl. Search headline, description and text.",
        source=f"{PUBLISHER}, {facts.site}", source_url=facts.section_url,
        license_note=LICENSE_NOTE,
    )


def _date_range(facts: DatasetFacts) -> str:
    if not facts.published:
        return "on no known date"
    first, last = (when.date().isoformat() for when in facts.published)
    return f"from {first} to {last}"


def dataset_card(facts: DatasetFacts, data_dir: Path, versions: int, crawl_started: datetime | None,
                 writing: Iterable[Path]) -> str:
    """The card's text; ``writing``: the files put in place with it (listed as the files already there are)."""
    header = {
        "pretty_name": pretty_name(facts),
        "language": ["en"],
        "license": "other",
        "source_url": facts.section_url,
        "size_categories": [size_category(facts.articles)],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": PARQUET_PATH}]}],
        "dataset_info": {"features": hf_features(arrow_schema()),
                         "splits": [{"name": "train", "num_examples": facts.articles}]},
    }
    starts = crawl_starts(data_dir, crawl_started)
    writing = set(writing)
    present = [(name, role) for name, role in FILE_ROLES.items()
               if data_dir / name in writing or (data_dir / name).exists()]
    downloaded = (" to ".join(when.isoformat(timespec="seconds") for when in facts.downloaded)
                  if facts.downloaded else "none")
    retrieved = facts.downloaded[1].date().isoformat() if facts.downloaded else "not yet"
    name = pretty_name(facts)
    crawler = installed_version("sasscrawl")
    lines = [
        "---", *_yaml(header), "---", "",
        f"# {name}", "",
        f"Articles of the {facts.section_name} section of the English site of the {PUBLISHER}, <{facts.section_url}>, "
        "collected by [sasscrawl](https://github.com/sasscrawl/sasscrawl). This card is written by the crawler "
        "at the end of each crawl and by each `scrapy export`; edits to it are overwritten.", "",
        "## Provenance", "",
        f"- Site and section: {facts.site}, {facts.section_name} (<{facts.section_url}>)",
        f"- Articles published {_date_range(facts)} (dates in the site's time zone, {SITE_TIME_ZONE})",
        f"- Counts: {facts.articles} articles, {len(facts.authors)} distinct authors, {facts.images} images, "
        f"{versions} superseded versions",
        f"- Crawls: {len(starts)}; the first started {starts[0] if starts else 'never'}, "
        f"the last {starts[-1] if starts else 'never'} (UTC); articles downloaded {downloaded}",
        f"- Crawler: sasscrawl {crawler}; record schema {schema_version()}", "",
        "## Files", "",
        "Paths are relative to this folder.", "",
        "| file | holds |", "|---|---|",
        *(f"| `{path}` | {role} |" for path, role in present), "",
        "## Loading it", "",
        "The Parquet file has explicit types: ids and counts int64 (with nulls), `datePublished` and "
        f"`dateCreated` timestamps in {SITE_TIME_ZONE}, `dateDownloaded` in UTC, the `*Raw` fields as the page "
        "has them, lists and objects nested.", "",
        "```python",
        "import pandas as pd",
        f'articles = pd.read_parquet("{PARQUET_PATH}", dtype_backend="pyarrow")', "",
        "import duckdb",
        f"duckdb.sql(\"SET TimeZone = '{SITE_TIME_ZONE}'\")  # show the dates as the site has them",
        f"duckdb.sql(\"SELECT headline, datePublished FROM '{PARQUET_PATH}' ORDER BY datePublished DESC\")", "",
        "import datasets",
        'articles = datasets.load_dataset("path/to/this/folder", split="train")  # the features above',
        "```", "",
        f"Browse and search: `datasette {EXPORTS_FOLDER}/{sqlite.FILE} --metadata "
        f"{EXPORTS_FOLDER}/{sqlite.METADATA_FILE}` (after `scrapy export --format sqlite`).", "",
        "## Citing it", "",
        "Cite the source, and the date you retrieved it:", "",
        f"> {PUBLISHER}. *{facts.section_name}* (articles published {_date_range(facts)}). "
        f"<{facts.section_url}>. Retrieved {retrieved} with sasscrawl {crawler}.", "",
        "```bibtex",
        "@misc{sass_" + facts.section_name.lower().replace(" ", "_") + ",",
        f"  author = {{{{{PUBLISHER}}}}},",
        f"  title = {{{facts.section_name}}},",
        f"  howpublished = {{\\url{{{facts.section_url}}}}},",
        f"  note = {{{facts.articles} articles published {_date_range(facts)}, retrieved {retrieved} with sasscrawl}},",
        "}", "```", "",
        "## Licence", "",
        LICENSE_NOTE, "",
    ]
    return "\n".join(lines)


def _yaml(value, indent: int = 0) -> list[str]:
    """Block-style YAML of dicts, lists and scalars; strings double-quoted (JSON's escapes are YAML's too)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines += [f"{pad}{key}:", *_yaml(item, indent + 2)]
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = _yaml(item, indent + 2)
                lines += [f"{pad}- {nested[0].lstrip()}", *nested[1:]]
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def _scalar(value) -> str:
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value, ensure_ascii=False)
