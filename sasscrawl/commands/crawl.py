"""``scrapy crawl`` with an exit status a scheduler can act on.

Scrapy's own command exits 0 whenever the crawl process ran. This one exits
1 when the run was broken (see :mod:`sasscrawl.health`), 2 for a bad spider
argument or setting and 3 when the data folder could not be used. A run that
fails before its spider opens (a component that cannot be loaded) exits 1 as
in Scrapy, and still writes ``METRICS_FILE``, which the metrics extension
writes for every run that opened.
"""

from datetime import datetime, timezone

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from sasscrawl.health import exit_status


class Command(ScrapyCrawlCommand):
    crawler = None

    def _create_crawler(self, spidercls):
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args, opts):
        started = datetime.now(timezone.utc)
        super().run(args, opts)
        if self.exitcode and self.settings.get("METRICS_FILE"):
            from sasscrawl.extensions.metrics import write_metrics  # only runs that write metrics import them

            stats = self.crawler._stats.get_stats() if self.crawler and self.crawler._stats else {}
            write_metrics(self.settings, stats, self.exitcode, started)
        if self.exitcode or self.crawler is None:
            return
        stats = self.crawler.stats.get_stats()
        self.exitcode = exit_status(stats, self.crawler.settings.getfloat("FAILED_PAGES_MAX_SHARE"))
