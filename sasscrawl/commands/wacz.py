"""``scrapy wacz -o FILE``: package the WARC archive as a WACZ, the file ReplayWeb.page, pywb and Browsertrix exchange.

The package is made by py-wacz (the ``wacz`` extra: ``pip install 'sasscrawl[wacz]'``), so it is
its format exactly: the WARC files, the CDXJ index it builds over them (``indexes/``), and
``datapackage.json`` with every file's hash. The pages list is ours (``pages/pages.jsonl``, see
:func:`sasscrawl.archive.pages_list`): every listing page and article, an article titled with its
headline and with its text, where ``wacz create`` alone would find one page (it knows only
text/html). A WARC file a kill cut short goes in up to its last whole record. ``FILE`` is written
whole or not at all. Offline: it reads only the data folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from sasscrawl.health import EXIT_BROKEN, EXIT_USAGE
from sasscrawl.store.layout import WARC_FOLDER

logger = logging.getLogger(__name__)

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Pages", "hasText": True}


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self):
        return "-o FILE [--warc-dir DIR]"

    def short_desc(self):
        return "Package the WARC archive as a WACZ file, with a list of its pages and their text"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", required=True, help="the WACZ file to write")
        parser.add_argument("--warc-dir", metavar="DIR", help="where the WARC files are (default: DATA_DIR/warc)")

    def run(self, args, opts):
        try:
            from wacz.main import main as wacz_main
        except ImportError:
            logger.error("scrapy wacz needs py-wacz: pip install 'sasscrawl[wacz]'")
            self.exitcode = EXIT_USAGE
            return
        from sasscrawl.archive import intact_length, pages_list  # warcio: not for every scrapy command's start

        warc_dir = Path(opts.warc_dir) if opts.warc_dir else Path(self.settings["DATA_DIR"]) / WARC_FOLDER
        warcs = sorted(warc_dir.glob("*.warc.gz"))
        if not warcs:
            raise UsageError(f"no WARC files in {warc_dir}: crawl with -a archive=warc first", print_help=False)
        output = Path(opts.output)
        if not output.parent.is_dir():
            raise UsageError(f"no folder {output.parent} to write {output.name} in", print_help=False)
        with tempfile.TemporaryDirectory(prefix=".wacz-", dir=output.parent) as work:
            work = Path(work)
            inputs = [_intact(path, intact_length(path), work) for path in warcs]
            inputs = [path for path in inputs if path is not None]
            if not inputs:
                raise UsageError(f"no whole WARC record in {warc_dir}", print_help=False)
            pages = work / "pages.jsonl"
            count = 0
            with pages.open("w", encoding="utf-8") as out:
                out.write(json.dumps(PAGES_HEADER) + "\n")
                for page in pages_list(warc_dir):
                    out.write(json.dumps(page, ensure_ascii=False) + "\n")
                    count += 1
            package = work / output.name
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    status = wacz_main(["create", "-o", str(package), "-p", str(pages), "--copy-pages",
                                        *map(str, inputs)])
            except Exception as error:  # py-wacz raises on what it cannot read: one line, not a traceback
                status, printed = 1, io.StringIO(f"{type(error).__name__}: {error}")
            logger.debug("py-wacz said: %s", printed.getvalue())
            if status:
                logger.error("py-wacz could not make %s: %s", output, printed.getvalue().strip()[-500:])
                self.exitcode = EXIT_BROKEN
                return
            os.replace(package, output)
        logger.info("Wrote %s: %d WARC files, %d pages", output, len(inputs), count)


def _intact(path: Path, intact: int, work: Path) -> Path | None:
    """The WARC file, or where a kill cut its last record, a copy of its whole records in ``work``; None if none is."""
    if intact == path.stat().st_size:
        return path
    if intact == 0:
        logger.warning("WARC file %s holds no whole record: left out", path.name)
        return None
    logger.warning("WARC file %s ends in a cut record: packaged up to its last whole record", path.name)
    copy = work / path.name
    with path.open("rb") as source, copy.open("wb") as target:
        while intact and (chunk := source.read(min(intact, 1 << 20))):
            target.write(chunk)
            intact -= len(chunk)
    return copy
