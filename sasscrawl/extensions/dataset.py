"""At the end of each crawl: the dataset card, the Parquet file it names, and the ``EXPORTS`` formats.

``EXPORTS`` (a list: ``-s EXPORTS=sqlite,csv``) names the formats written to ``DATA_DIR/exports``
besides the Parquet file, which the card always needs (:mod:`sasscrawl.exports.dataset`). A bad
format name refuses the run before anything is fetched (exit status 2), as a bad setting does.

It runs while the run still holds the data folder (it is connected before
:class:`~sasscrawl.extensions.data_folder.RunDataFolder`, which closes it), reading the journal the
run just wrote, and only in a run that held the folder and was not interrupted and whose writes
did not fail: an interrupted run stops promptly and the next one writes the card; after a failed
write the disk is suspect. A failure to write the exports is the data folder's failure (exit 3),
reported once as ``sasscrawl/store_error``; what was saved is untouched.

A data folder with no saved article gets no card: there is no dataset to describe yet. A run that
changed no article (an unchanged site, a rerun that only retried failing pages) leaves
the card and the exports as they are, as long as every file ``EXPORTS`` names is there: they
already hold what the journal holds, and a scheduled run on a quiet day stays cheap (pyarrow is not
even loaded). The state file keeps the journal's change count at the last writing
(``DATASET_WRITTEN``); the card's "last crawl" is therefore the last crawl that changed the dataset.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals

from sasscrawl.exports import FILES, ExportFailed, parse_formats
from sasscrawl.extensions.data_folder import RunDataFolder
from sasscrawl.health import interrupted, refuse_run
from sasscrawl.store import StoreError
from sasscrawl.store.layout import DATASET_CARD, EXPORTS_FOLDER

logger = logging.getLogger(__name__)

DATASET_WRITTEN = "dataset_written_at_changes"
"""State counter: the journal's change count, plus one (0: never), when a crawl last wrote the card and exports."""
SKIPPED_RECORDS = "sasscrawl/exports/skipped_records"
"""Saved records left out of the card's Parquet and the exports: they do not fit the record schema (each logged)."""


class DatasetExport:
    def __init__(self, crawler):
        self.crawler = crawler
        self.setting_error: str | None = None
        self.formats: tuple[str, ...] = ()
        try:
            self.formats = parse_formats(crawler.settings.getlist("EXPORTS"))
        except ValueError as error:
            self.setting_error = f"EXPORTS setting: {error}"
            refuse_run(crawler, self.setting_error)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self, spider, reason):
        data_folder = RunDataFolder.of(self.crawler)
        stats = self.crawler.stats.get_stats()
        if (self.setting_error or data_folder.store is None or not data_folder.healthy
                or interrupted({**stats, "finish_reason": reason})):
            return
        store = data_folder.store
        if not store.journal.count():
            return  # nothing saved yet: no dataset to describe (and a run that failed at once stays quick)
        written_at = store.export.changes + 1
        if store.state.counter(DATASET_WRITTEN) == written_at and self._files_present(store.data_dir):
            logger.info("Dataset card and exports left as they are: no article changed since they were written")
            return
        from sasscrawl.exports.dataset import write_dataset  # pyarrow is loaded here, at the end, not at start-up

        started = time.monotonic()
        try:
            store.write_versions()  # the versions this run superseded, for the SQLite export and the card
        except StoreError as error:
            data_folder.failed(error, stop=False)
            return
        try:
            exported = write_dataset(store.data_dir, store.journal.lines(), self.formats,
                                    crawl_started=stats.get("start_time"))
        except ExportFailed as error:
            data_folder.failed(StoreError(f"cannot write the exports and the dataset card: {error}; the saved "
                                          "articles and the files written before are untouched"), stop=False)
            return
        try:
            with store.state.transaction():
                store.state.set_counter(DATASET_WRITTEN, written_at)
        except StoreError as error:  # the files are whole; the next run writes them again
            data_folder.failed(error, stop=False)
            return
        self.crawler.stats.set_value("sasscrawl/exports/files", len(exported.paths))
        self.crawler.stats.set_value(SKIPPED_RECORDS, exported.skipped)
        logger.info("Dataset card and exports written in %.1f s: %s", time.monotonic() - started,
                    ", ".join(str(path.relative_to(store.data_dir)) for path in exported.paths))

    def _files_present(self, data_dir) -> bool:
        """The card, its Parquet file and every file of the ``EXPORTS`` formats are in the data folder."""
        names = {name for fmt in ("parquet", *self.formats) for name in FILES[fmt]}
        return (data_dir / DATASET_CARD).is_file() and all((data_dir / EXPORTS_FOLDER / name).is_file()
                                                           for name in names)
