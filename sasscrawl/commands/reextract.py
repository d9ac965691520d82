"""``scrapy reextract``: rebuild the dataset from the WARC archive alone, with no network.

When the parser improves, every record can be made again from what was
captured. By default the records go into the data folder the way a crawl saves
them (the journal, then an atomic rewrite of ``articles.jsonl``), replacing the
stored version of each article found in the archive, unless the stored one was
downloaded later; what the archive cannot say is kept from the stored record
(its snapshot, and images mirrored by an earlier run, so not archived again).
``-o FILE`` writes the archive's records alone to a new JSON Lines file and
leaves the data folder alone.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy.commands import ScrapyCommand

from sasscrawl.commands import require_warc_files
from sasscrawl.files import replacing_file
from sasscrawl.health import EXIT_DATA_DIR
from sasscrawl.store.layout import WARC_FOLDER
from sasscrawl.schemas import article_errors
from sasscrawl.store import ArticleStore, StoreError, serialise

logger = logging.getLogger(__name__)


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self):
        return "[-o FILE] [--warc-dir DIR]"

    def short_desc(self):
        return "Rebuild article records from the WARC archive, offline"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", help="write the records to FILE (JSON Lines) "
                            "instead of DATA_DIR/articles.jsonl")
        parser.add_argument("--warc-dir", metavar="DIR", help="where the WARC files are (default: DATA_DIR/warc)")

    def run(self, args, opts):
        from sasscrawl.archive import reextract  # warcio and cdxj-indexer: not for every scrapy command's start

        data_dir = Path(self.settings["DATA_DIR"])
        warc_dir = Path(opts.warc_dir) if opts.warc_dir else data_dir / WARC_FOLDER
        require_warc_files(warc_dir)
        records = self._valid(reextract(warc_dir))
        try:
            count = self._write_file(records, Path(opts.output)) if opts.output else self._save(records, data_dir)
        except StoreError as error:
            logger.error("Not re-extracted: %s", error)
            self.exitcode = EXIT_DATA_DIR
            return
        logger.info("Re-extracted %d articles from %s", count, warc_dir)

    @staticmethod
    def _valid(records):
        for record in records:
            errors = article_errors(record)
            if errors:
                logger.error("Skipping invalid record for %s: %s", record.get("url"), errors[0].message)
                continue
            yield record

    @staticmethod
    def _save(records, data_dir: Path) -> int:
        store = ArticleStore(data_dir)
        count = 0
        try:
            for record in records:
                stored = store.journal.record(record["articleId"])
                if stored and stored["dateDownloaded"] > record["dateDownloaded"]:
                    logger.info("Keeping article %d as saved: downloaded after its archived capture",
                                record["articleId"])
                    continue
                store.save(_completed_from_store(record, stored, store))
                count += 1
        finally:
            store.close()
        return count

    @staticmethod
    def _write_file(records, output: Path) -> int:
        """Stream the records into ``output``, replaced whole and durably once all are written, never through a link."""
        count = 0
        try:
            with replacing_file(output.parent, output.name) as out:
                for record in records:
                    out.write(serialise(record).encode("utf-8") + b"\n")
                    count += 1
        except OSError as error:
            raise StoreError(f"cannot write {output} ({error.strerror or error}); it is left as it was") from error
        return count


def _completed_from_store(record: dict, stored: dict | None, store: ArticleStore) -> dict:
    """What the archive cannot say, from the data folder: the snapshot, and images a run found mirrored."""
    from sasscrawl.archive import NOT_IN_ARCHIVE

    if stored and record["snapshot"] is None:
        record["snapshot"] = stored["snapshot"]
    for index, image in enumerate(record["images"]):
        if image["error"] == NOT_IN_ARCHIVE and (mirrored := store.images.image(image["url"])):
            record["images"][index] = {"url": image["url"], **mirrored, "status": "cached", "error": None}
    return record
