"""``scrapy crawl`` with an exit status a scheduler can act on.

Scrapy's own command exits 0 whenever the crawl process ran. This one exits
1 when the run was broken (see :mod:`sasscrawl.health`), 2 for a bad spider
argument, 3 when the data folder could not be used and 4 when SIGTERM or
SIGINT interrupted the run.
"""

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from sasscrawl.health import EXIT_INTERRUPTED, exit_status, interrupted


class Command(ScrapyCrawlCommand):
    crawler = None

    def _create_crawler(self, spidercls):
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args, opts):
        super().run(args, opts)
        if self.crawler is None:
            return
        stats = self.crawler.stats.get_stats()
        if interrupted(stats):  # also a second signal's unclean stop, which Scrapy reports as a failure
            self.exitcode = EXIT_INTERRUPTED
        if self.exitcode:
            return
        self.exitcode = exit_status(stats, self.crawler.settings.getfloat("FAILED_PAGES_MAX_SHARE"),
                                    self.crawler.settings.getfloat("STALE_AFTER_DAYS"))
