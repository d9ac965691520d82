"""``scrapy render``: the offline HTML mirror of the WARC archive, with no network.

Writes ``DATA_DIR/site/`` (or ``-o DIR``): every archived article and listing page as
the site's own XSL stylesheet showed it, as plain HTML files any browser opens from the
disk (see :mod:`sasscrawl.render`). A second run writes only what changed. It takes the
data folder's lock, so it never runs beside a crawl. Exit status: 0 when every page was
rendered, 1 when some could not be (each logged), 2 when there is no archive to render,
3 when the data folder or the output folder cannot be used.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy.commands import ScrapyCommand

from sasscrawl.commands import require_warc_files
from sasscrawl.health import EXIT_BROKEN, EXIT_DATA_DIR, EXIT_OK
from sasscrawl.store import StoreError
from sasscrawl.store.layout import SITE_FOLDER, WARC_FOLDER
from sasscrawl.store.lock import DataDirLock

logger = logging.getLogger(__name__)


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self):
        return "[-o DIR]"

    def short_desc(self):
        return "Write the offline HTML mirror of the WARC archive, offline"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="DIR",
                            help=f"write the mirror into DIR (default: DATA_DIR/{SITE_FOLDER})")

    def run(self, args, opts):
        data_dir = Path(self.settings["DATA_DIR"])
        warc_dir = data_dir / WARC_FOLDER
        require_warc_files(warc_dir)
        output = Path(opts.output) if opts.output else data_dir / SITE_FOLDER
        from sasscrawl.render import render_site  # lxml's XSLT and warcio: not for every scrapy command's start

        try:
            lock = DataDirLock(data_dir)
        except StoreError as error:
            logger.error("Not rendered: %s", error)
            self.exitcode = EXIT_DATA_DIR
            return
        try:
            report = render_site(warc_dir, data_dir, output)
        except OSError as error:
            logger.error("Not rendered: cannot write the mirror in %s: %s", output, error.strerror or error)
            self.exitcode = EXIT_DATA_DIR
            return
        finally:
            lock.release()
        self.exitcode = EXIT_BROKEN if report.failed else EXIT_OK
