"""``scrapy crawl`` with an exit status a scheduler can act on.

Scrapy's own command exits 0 whenever the crawl process ran. This one exits
1 when the run was broken (see :mod:`sasscrawl.health`), 2 for a bad spider
argument or setting, 3 when the data folder could not be used and 4 when SIGTERM
or SIGINT interrupted the run. A run that fails before its spider opens (a
component that cannot be loaded) exits 1 as in Scrapy. Either way the run still
writes ``METRICS_FILE``, which the metrics extension writes for every run whose
spider closed.
"""

from datetime import datetime, timezone

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from sasscrawl.health import EXIT_INTERRUPTED, interrupted, run_exit_status


class Command(ScrapyCrawlCommand):
    crawler = None

    def _create_crawler(self, spidercls):
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args, opts):
        started = datetime.now(timezone.utc)
        super().run(args, opts)
        stats = self.crawler._stats.get_stats() if self.crawler and self.crawler._stats else {}
        if self.exitcode:  # Scrapy's own failure: the spider never opened, or never closed
            if interrupted(stats):  # a second signal's unclean stop
                self.exitcode = EXIT_INTERRUPTED
            if self.settings.get("METRICS_FILE"):
                from sasscrawl.extensions.metrics import write_metrics  # only runs that write metrics import them

                write_metrics(self.settings, stats, self.exitcode, started)
            return
        if self.crawler is None:
            return
        self.exitcode = run_exit_status(stats, self.crawler.settings)
