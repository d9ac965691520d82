"""The end of an archiving run, before the monitors judge it: the WARC archive closed and indexed,
then the offline HTML mirror refreshed from it (``RENDER_SITE``, on by default).

:class:`~sasscrawl.middlewares.WarcCaptureMiddleware` writes the archive, but a downloader
middleware is built after the extensions, so its own ``spider_closed`` handler runs after the
monitors, the run summary and the metrics (Scrapy calls a signal's handlers in the order they
were connected): what goes wrong there would never reach the verdict. This extension comes
before Spidermon in EXTENSIONS, and before RunDataFolder, so the run still holds the data folder
and the mirror is written under its lock. It finds the middleware and closes the archive
(:meth:`~sasscrawl.middlewares.WarcCaptureMiddleware.close_archive`: a failure is an archive
problem); then, when the archive holds this run's records and is whole, writes what changed in
``DATA_DIR/site/`` (see :mod:`sasscrawl.render`). How the mirror counts:

- its counts are ``sasscrawl/render/*``, which the run summary lists under ``mirror``;
- a page that could not be rendered is a warning, counted in ``sasscrawl/render/failed`` (the
  summary's ``mirror.failed``): the rest of the mirror is refreshed, and the crawl's data is whole;
- a mirror that could not be written (its folder unwritable or a file, the disk full) is logged,
  with the reason in ``sasscrawl/render/error``: a run problem (:func:`sasscrawl.health.mirror_problem`,
  exit status 1); the archive and the dataset stay as they are.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import signals

from sasscrawl.health import RENDER_ERROR
from sasscrawl.middlewares import WarcCaptureMiddleware
from sasscrawl.store.layout import SITE_FOLDER, WARC_FOLDER

logger = logging.getLogger(__name__)


class CloseArchive:
    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self, spider):
        capture = WarcCaptureMiddleware.of(self.crawler)
        if capture is None or not capture.close_archive() or not self.crawler.settings.getbool("RENDER_SITE"):
            return  # this run archived nothing, or its archive is not whole, or the mirror is off
        from sasscrawl.render import render_site  # lxml's XSLT: only for runs that archive

        data_dir = Path(self.crawler.settings["DATA_DIR"])
        stats = self.crawler.stats
        try:
            report = render_site(data_dir / WARC_FOLDER, data_dir, data_dir / SITE_FOLDER)
        except OSError as error:
            stats.set_value(RENDER_ERROR, f"cannot write {data_dir / SITE_FOLDER}: {error.strerror or error}")
            logger.error("Offline mirror not refreshed in %s: %s", data_dir / SITE_FOLDER, error.strerror or error)
            return
        for name, value in report.stats().items():
            stats.set_value(name, value)
