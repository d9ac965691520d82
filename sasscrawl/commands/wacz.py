"""``scrapy wacz -o FILE``: package the WARC archive as a WACZ, the file ReplayWeb.page, pywb and Browsertrix exchange.

The package is made by py-wacz (the ``wacz`` extra: ``pip install 'sasscrawl[wacz]'``), so it is
its format exactly: the WARC files, the CDXJ index it builds over them (``indexes/``), and
``datapackage.json`` with every file's hash. The pages list is ours (``pages/pages.jsonl``, see
:func:`sasscrawl.archive.pages_list`): every listing page and article, an article titled with its
headline and with its text, where ``wacz create`` alone would find one page (it knows only
text/html). A WARC file a kill cut short goes in up to its last whole record. Offline: it reads
only the data folder, under the data folder's lock (as ``scrapy render`` does), so that no crawl
adds to a WARC file while it is read.

``FILE`` is written whole or not at all, and durably, through :mod:`sasscrawl.files` (py-wacz
writes a temporary file beside it, renamed over it once complete). The pages list and the copies
of cut WARC files are made in a work folder in the system's temporary folder (``TMPDIR``), never in
the user's, and removed on every path but a kill. Exit status: 0 written, 1 py-wacz failed,
2 no archive, no py-wacz or ``-o`` naming a folder, 3 the data folder or ``FILE`` cannot be used
(locked, unwritable, disk full), each with one line.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from sasscrawl import files
from sasscrawl.commands import require_warc_files
from sasscrawl.health import EXIT_BROKEN, EXIT_DATA_DIR, EXIT_OK, EXIT_USAGE
from sasscrawl.store import StoreError
from sasscrawl.store.layout import WARC_FOLDER
from sasscrawl.store.lock import DataDirLock

logger = logging.getLogger(__name__)

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Pages", "hasText": True}


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self):
        return "-o FILE"

    def short_desc(self):
        return "Package the WARC archive as a WACZ file, with a list of its pages and their text"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("-o", "--output", metavar="FILE", required=True, help="the WACZ file to write")

    def run(self, args, opts):
        try:
            from wacz.main import main as wacz_main
        except ImportError:
            logger.error("scrapy wacz needs py-wacz: pip install 'sasscrawl[wacz]'")
            self.exitcode = EXIT_USAGE
            return
        data_dir = Path(self.settings["DATA_DIR"])
        warc_dir = data_dir / WARC_FOLDER
        require_warc_files(warc_dir)
        output = Path(opts.output)
        if output.is_dir():
            raise UsageError(f"{output} is a folder: -o names the WACZ file to write", print_help=False)
        if not output.parent.is_dir():
            raise UsageError(f"no folder {output.parent} to write {output.name} in", print_help=False)
        try:
            lock = DataDirLock(data_dir)
        except StoreError as error:
            logger.error("Not packaged: %s", error)
            self.exitcode = EXIT_DATA_DIR
            return
        try:
            self.exitcode = _package(wacz_main, warc_dir, output)
        except OSError as error:
            logger.error("Not packaged into %s: %s", output, error.strerror or error)
            self.exitcode = EXIT_DATA_DIR
        finally:
            lock.release()


class _WaczFailed(Exception):
    """py-wacz returned an error status: the package it began is removed."""


def _package(wacz_main, warc_dir: Path, output: Path) -> int:
    """Write ``output`` from the WARC files in ``warc_dir``; the exit status. OSError: a file could not be written."""
    from sasscrawl.archive import intact_length, pages_list  # warcio: not for every scrapy command's start

    with tempfile.TemporaryDirectory(prefix="sasscrawl-wacz-") as work:
        work = Path(work)
        inputs = [_intact(path, intact_length(path), work) for path in sorted(warc_dir.glob("*.warc.gz"))]
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
        printed = io.StringIO()
        try:
            with files.building_file(output.parent, output.name) as package:
                with contextlib.redirect_stdout(printed):
                    status = _create(wacz_main, ["create", "-o", str(package), "-p", str(pages), "--copy-pages",
                                                 *map(str, inputs)], printed)
                if status:
                    raise _WaczFailed
        except _WaczFailed:
            logger.error("py-wacz could not make %s: %s", output, printed.getvalue().strip()[-500:])
            return EXIT_BROKEN
        finally:
            logger.debug("py-wacz said: %s", printed.getvalue())
    logger.info("Wrote %s: %d WARC files, %d pages", output, len(inputs), count)
    return EXIT_OK


def _create(wacz_main, arguments: list[str], printed: io.StringIO) -> int:
    """py-wacz's exit status; what it raises on what it cannot read becomes a status and one line in ``printed``.

    OSError is raised: a file that could not be written is the data folder's or the output's failure.
    """
    try:
        return wacz_main(arguments)
    except OSError:
        raise
    except Exception as error:
        printed.write(f"{type(error).__name__}: {error}")
        return 1


def _intact(path: Path, intact: int, work: Path) -> Path | None:
    """The WARC file, or where a kill cut its last record, a copy of its whole records in ``work``; None if none is."""
    if intact == path.stat().st_size:
        return path
    if intact == 0:
        logger.warning("WARC file %s holds no whole record: left out", path.name)
        return None
    logger.warning("WARC file %s ends in a cut record: packaged up to its last whole record", path.name)
    copy = work / path.name
    try:
        with path.open("rb") as source, copy.open("wb") as target:
            while intact and (chunk := source.read(min(intact, 1 << 20))):
                target.write(chunk)
                intact -= len(chunk)
    except OSError as error:
        raise OSError(error.errno, f"cannot copy the whole records of {path.name} into the work folder {work}: "
                                   f"{error.strerror or error}") from error
    return copy
