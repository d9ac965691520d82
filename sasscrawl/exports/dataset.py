"""One pass over the saved articles that writes every export asked for, then the dataset card.

The journal's lines are read once, in ``articleId`` order, checked and read by Arrow in blocks
(:mod:`.records`: a record that does not fit is left out of every file, with a warning), and each
block is handed to every writer, so an export of all three formats costs one read of the journal and memory stays
flat (each writer streams). The dataset card (:mod:`.card`) names ``DATA_DIR/exports/articles.parquet`` as the
dataset's data, so whenever the card is written that Parquet file is written in the same pass,
whether or not the formats asked for include it (or ``-o`` sent them elsewhere): the card and
the file it describes always hold the same articles.

Every file is written under a temporary name first; only once every writer has finished are they
renamed into place, together, the card last (:func:`sasscrawl.files.replacing_files`). A failure
on the way leaves every earlier file as it was, none half-replaced.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from sasscrawl import files
from sasscrawl.arguments import DEFAULT_START_URL
from sasscrawl.spiders.commentary import CommentarySpider
from sasscrawl.exports import FILES, ExportFailed, card, csv, parquet, place, sqlite
from sasscrawl.exports.records import RecordReader
from sasscrawl.store.layout import DATASET_CARD, EXPORTS_FOLDER, VERSIONS_FILE


@dataclass
class DatasetFacts:
    """What the card and Datasette's metadata say about the articles, gathered in the same pass."""

    articles: int = 0
    authors: set[str] = field(default_factory=set)
    images: int = 0
    published: list[datetime] = field(default_factory=list)
    """The earliest and the latest ``datePublished``."""
    downloaded: list[datetime] = field(default_factory=list)
    section_name: str = CommentarySpider.name.capitalize()
    section_url: str = DEFAULT_START_URL
    """The section's name and first listing page (its ``default.aspx``), as the first article gives them; before
    the first article, the crawler's default section, which its spider is named after (as the WARC's isPartOf
    says)."""

    def add(self, record: dict) -> None:
        self.articles += 1
        self.authors.update(author["name"] for author in record["authors"])
        self.images += len(record["images"])
        if self.articles == 1:
            self.section_name = record["section"]["name"] or record["section"]["id"]
            self.section_url = urljoin(record["url"], "default.aspx")
        for span, text in ((self.published, record["datePublished"]), (self.downloaded, record["dateDownloaded"])):
            if text is not None:
                _widen(span, datetime.fromisoformat(text))

    @property
    def site(self) -> str:
        return urlsplit(self.section_url).netloc


def _widen(span: list[datetime], when: datetime) -> None:
    if not span:
        span[:] = [when, when]
    else:
        span[:] = [min(span[0], when), max(span[1], when)]


@dataclass
class Exported:
    """What :func:`write_dataset` wrote."""

    paths: list[Path]
    articles: int
    skipped: int
    """Records left out because they do not fit the schema (each logged: :mod:`.records`)."""


def write_dataset(data_dir: str | os.PathLike, lines: Iterable[str], formats: Iterable[str],
                  folder: str | os.PathLike | None = None, crawl_started: datetime | None = None) -> Exported:
    """Write ``formats`` to ``folder`` (default ``DATA_DIR/exports``), the card's Parquet and the card.

    Raises :class:`~sasscrawl.exports.ExportFailed` when a file cannot be written (or the journal read):
    then no file was put in place.

    ``lines``: the saved records as their lines of articles.jsonl (``Journal.lines``).

    ``crawl_started``: when the crawl that calls this started (its summary is not written yet).
    """
    data_dir = Path(data_dir)
    default_folder = data_dir / EXPORTS_FOLDER
    # DATA_DIR/exports is reached from DATA_DIR without following a link; a folder the user names is theirs.
    at_home = folder is None or Path(folder).resolve() == default_folder.resolve()
    root, below = (data_dir, EXPORTS_FOLDER) if at_home else (Path(folder), None)
    facts = DatasetFacts()
    reader = RecordReader()
    versions = data_dir / VERSIONS_FILE
    written = [root / place(below, name) for fmt in formats for name in FILES[fmt]]
    try:
        with files.replacing_files() as batch:
            writers = {"parquet": lambda: parquet.parquet_export(batch, root, below),
                       "sqlite": lambda: sqlite.sqlite_export(batch, root, below, versions,
                                                              lambda: card.datasette_metadata(facts)),
                       "csv": lambda: csv.csv_export(batch, root, below)}
            with ExitStack() as stack:
                adders = [stack.enter_context(writers[fmt]()) for fmt in formats]
                if not (at_home and "parquet" in formats):
                    adders.append(stack.enter_context(parquet.parquet_export(batch, data_dir, EXPORTS_FOLDER)))
                    written.append(default_folder / parquet.FILE)
                for block in reader.blocks(lines):
                    for record in block.records:
                        facts.add(record)
                    for add in adders:
                        add(block)
                    del block  # else it stays alive while the next block is read: twice the records in memory
            text = card.dataset_card(facts, data_dir, sum(1 for _ in sqlite.version_rows(versions, report=False)),
                                     crawl_started, written)
            batch.write(data_dir, DATASET_CARD, text.encode("utf-8"))
    except OSError as error:
        raise ExportFailed(f"cannot write {error.filename or root} ({error.strerror or error})") from error
    except sqlite3.Error as error:  # the SQLite export's own errors are ExportFailed already: this is the journal
        raise ExportFailed(f"cannot read the saved articles ({error})") from error
    return Exported([*written, data_dir / DATASET_CARD], facts.articles, reader.skipped)
