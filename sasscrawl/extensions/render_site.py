"""The offline HTML mirror refreshed at the end of every archiving run (``RENDER_SITE``, on by default).

The mirror is made from the archive once it is closed and indexed: the WARC capture
middleware closes it on ``spider_closed``, in a handler connected when the downloader was
built, after the extensions'. This extension therefore connects its own handler when the
spider opens, which puts it after that one (Scrapy calls a signal's handlers in the order
they were connected). By then the data folder is closed too: the mirror is written under the
data folder's lock taken again, and a run that cannot have it (another crawl started) leaves
the mirror to that run. Only what changed is written again (see :mod:`sasscrawl.render`).
Its counters are ``sasscrawl/render/*``; a failure to write the mirror is logged and counted
in ``sasscrawl/render/error``, and leaves the archive and the dataset as they are.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from sasscrawl.store import StoreError
from sasscrawl.store.layout import SITE_FOLDER, WARC_FOLDER
from sasscrawl.store.lock import DataDirLock

logger = logging.getLogger(__name__)

RENDER_ERROR = "sasscrawl/render/error"


class RenderSite:
    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("RENDER_SITE"):
            raise NotConfigured
        return cls(crawler)

    def spider_opened(self, spider):
        self.crawler.signals.connect(self.archive_closed, signal=signals.spider_closed)

    def archive_closed(self, spider):
        stats = self.crawler.stats
        if not stats.get_value("sasscrawl/warc/records") or stats.get_value("sasscrawl/warc/close_failed"):
            return  # this run archived nothing, or its archive is not whole
        from sasscrawl.render import render_site  # lxml's XSLT: only for runs that archive

        data_dir = Path(self.crawler.settings["DATA_DIR"])
        try:
            lock = DataDirLock(data_dir)
        except StoreError as error:
            stats.set_value(RENDER_ERROR, str(error))
            logger.error("Offline mirror not refreshed: %s", error)
            return
        try:
            report = render_site(data_dir / WARC_FOLDER, data_dir, data_dir / SITE_FOLDER)
        except OSError as error:
            stats.set_value(RENDER_ERROR, f"{error.strerror or error}")
            logger.error("Offline mirror not refreshed in %s: %s", data_dir / SITE_FOLDER, error.strerror or error)
            return
        finally:
            lock.release()
        for name, value in report.stats().items():
            stats.set_value(name, value)
