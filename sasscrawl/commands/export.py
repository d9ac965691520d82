"""``scrapy export``: the saved articles as Parquet, SQLite (for Datasette) and CSV, offline.

Reads the records through the store (the journal in ``state.sqlite3``; never the network), in
one pass (:func:`sasscrawl.exports.dataset.write_dataset`), and writes ``--format`` (repeatable or
comma-separated; all three by default) to ``-o DIR`` (default ``DATA_DIR/exports``), each file by
atomic replacement, then the dataset card ``DATA_DIR/README.md`` and the Parquet file it names.
It takes the data folder's lock, so it never runs beside a crawl. Exit status 0 when written,
2 for a bad option, 3 when the data folder is missing or cannot be used (or a file cannot be written).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from sasscrawl.exports import FORMATS, ExportFailed, parse_formats
from sasscrawl.health import EXIT_DATA_DIR, EXIT_OK
from sasscrawl.store import ARTICLES_FILE, STATE_FILE, ArticleStore, StoreError

logger = logging.getLogger(__name__)


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self):
        return "[--format FORMAT ...] [-o DIR]"

    def short_desc(self):
        return "Export the saved articles as Parquet, SQLite (Datasette) and CSV, and write the dataset card"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--format", dest="formats", action="append", default=[], metavar="FORMAT",
                            help=f"{', '.join(FORMATS)} (repeat, or separate with commas; default: all three)")
        parser.add_argument("-o", "--output", dest="output", metavar="DIR",
                            help="where to write them (default: DATA_DIR/exports)")

    def process_options(self, args, opts):
        super().process_options(args, opts)
        if args:
            raise UsageError(f"unexpected argument {args[0]!r}", print_help=False)
        try:
            opts.formats = parse_formats(opts.formats) or FORMATS
        except ValueError as error:
            raise UsageError(f"--format: {error}", print_help=False) from None

    def run(self, args, opts):
        data_dir = Path(self.settings["DATA_DIR"])
        if not ((data_dir / STATE_FILE).is_file() or (data_dir / ARTICLES_FILE).is_file()):
            logger.error("Not exported: %s holds no saved articles (no %s or %s): crawl first, or set DATA_DIR",
                         data_dir, STATE_FILE, ARTICLES_FILE)
            self.exitcode = EXIT_DATA_DIR
            return
        from sasscrawl.exports.dataset import write_dataset  # pyarrow: only the commands that export load it

        started = time.monotonic()
        try:
            store = ArticleStore(data_dir)
            try:
                exported = write_dataset(data_dir, store.journal.lines(), opts.formats, opts.output)
            finally:
                store.close(snapshot=False)
        except StoreError as error:
            logger.error("Not exported: %s", error)
            self.exitcode = EXIT_DATA_DIR
            return
        except ExportFailed as error:
            logger.error("Not exported: %s; the files written before are untouched", error)
            self.exitcode = EXIT_DATA_DIR
            return
        logger.info("Exported %d articles in %.1f s: %s", exported.articles, time.monotonic() - started,
                    ", ".join(str(path) for path in exported.paths))
        if exported.skipped:
            logger.warning("Left %d saved records out of the exports: they do not fit the record schema (each named "
                           "above)", exported.skipped)
        self.exitcode = EXIT_OK
