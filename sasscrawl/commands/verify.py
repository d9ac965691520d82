"""``scrapy verify``: check every mirrored image against its record, byte for byte.

Each file a record says is mirrored is read and hashed: it must be there, a regular
file, of the recorded size and sha256 (see :mod:`sasscrawl.fixity`). Every file that
is not is reported with its article ids; the exit status is 0 when all match, 1
otherwise, 3 when the data folder cannot be used. It reads the whole mirror, so it
costs what reading that many bytes from disk costs; schedule it apart from the crawl
(weekly, say). It takes the data folder's lock, so it never runs beside a crawl.

``--repair`` marks the damaged images ``failed`` in their records and runs the crawl,
an ordinary incremental run (politeness, scope and robots.txt as always), in which the
image mirror downloads them again; then it checks them once more.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.conf import arglist_to_dict

from sasscrawl.fixity import record_damage
from sasscrawl.health import EXIT_BROKEN, EXIT_DATA_DIR, EXIT_OK, run_exit_status
from sasscrawl.store import ArticleStore, StoreError

logger = logging.getLogger(__name__)


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self):
        return "[--repair [-a NAME=VALUE ...]]"

    def short_desc(self):
        return "Check every mirrored image against its record's sha256 and size"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--repair", action="store_true",
                            help="download damaged or missing images again, in an ordinary crawl run")
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="a spider argument for the --repair crawl (start_url=..., say)")

    def process_options(self, args, opts):
        super().process_options(args, opts)
        try:
            opts.spargs = arglist_to_dict(opts.spargs)
        except ValueError:
            raise UsageError("Invalid -a value, use -a NAME=VALUE", print_help=False) from None

    def run(self, args, opts):
        data_dir = Path(self.settings["DATA_DIR"])
        try:
            damage = self._check(data_dir, repair=opts.repair)
        except StoreError as error:
            logger.error("Not verified: %s", error)
            self.exitcode = EXIT_DATA_DIR
            return
        if damage and opts.repair:
            crawler = self.crawler_process.create_crawler("commentary")
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
            status = run_exit_status(crawler.stats.get_stats(), crawler.settings)
            if status != EXIT_OK:
                self.exitcode = status
                return
            damage = self._check(data_dir, repair=False)
        self.exitcode = EXIT_BROKEN if damage else EXIT_OK

    @staticmethod
    def _check(data_dir: Path, repair: bool) -> list:
        store = ArticleStore(data_dir)
        try:
            damage = list(record_damage(data_dir, store.journal.records()))
            files = sum(1 for _ in store.images.mirrored_images())
            for found in damage:
                logger.error("Mirror damage: %s", found)
            if repair and damage:
                article_ids = store.mark_images_damaged({found.url: found.problem for found in damage})
                logger.info("Marked %d images of %d articles for downloading again", len(damage), len(article_ids))
        finally:
            store.close()
        logger.info("Verified %d mirrored files: %s", files,
                    f"{len({found.path for found in damage})} missing or damaged" if damage else "all match")
        return damage
