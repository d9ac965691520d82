"""Scrapy add-ons (``ADDONS`` in settings.py): components that only some runs load.

A run pays at its start for every module it imports. An add-on sees the run's final settings
(``-s`` included) before any component is built, so it can add components to the runs that use
them and leave the others without their imports.

:class:`Splash` adds scrapy-splash's components (through :mod:`sasscrawl.splash_compat`) when
``SPLASH_URL`` is set. scrapy-splash is the ``splash`` extra (``pip install 'sasscrawl[splash]'``);
a run given ``SPLASH_URL`` without it is refused before anything is fetched, with exit status 2 and
one line saying what to install.

:class:`SwitchedOffExtensions` leaves Scrapy's remote control out of ``EXTENSIONS_BASE`` when
``REMOTE_CONTROL_ENABLED`` is off (settings.py turns it off). Scrapy imports every extension it lists,
even one that will refuse to run, and this one imports aiohttp: about 0.15 s of CPU at every start.
``-s REMOTE_CONTROL_ENABLED=True`` brings it back, as in any Scrapy project.
"""

from __future__ import annotations

from importlib.util import find_spec

from sasscrawl.health import refuse_run

SPLASH_COMPONENTS = {
    # Passes the requests marked for Splash (the snapshots) through it.
    "DOWNLOADER_MIDDLEWARES": {"sasscrawl.splash_compat.SplashMiddleware": 725},
    "SPIDER_MIDDLEWARES": {"sasscrawl.splash_compat.SplashDeduplicateArgsMiddleware": 100},
}
SPLASH_FINGERPRINTER = "sasscrawl.splash_compat.SplashRequestFingerprinter"
"""Splash requests for a page must not count as duplicates of the page itself; other requests keep Scrapy's fingerprint."""
SPLASH_MISSING = "SPLASH_URL is set but scrapy-splash is not installed: pip install 'sasscrawl[splash]'"


class Splash:
    """Snapshots through Splash for the runs that set ``SPLASH_URL``; the others never import scrapy-splash."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def update_settings(self, settings) -> None:
        if not settings.get("SPLASH_URL"):
            return
        if find_spec("scrapy_splash") is None:
            refuse_run(self.crawler, SPLASH_MISSING)
            return
        for name, components in SPLASH_COMPONENTS.items():
            merged = settings.getdict(name)
            for path, order in components.items():
                merged.setdefault(path, order)  # a project that set one (to None, say) keeps its choice
            settings.set(name, merged, settings.getpriority(name))
        settings.set("REQUEST_FINGERPRINTER_CLASS", SPLASH_FINGERPRINTER, priority="addon")


REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"


class SwitchedOffExtensions:
    """Scrapy's remote control, when switched off, is not listed either, so its imports are not paid for."""

    @classmethod
    def from_crawler(cls, crawler):
        return cls()

    def update_settings(self, settings) -> None:
        if settings.getbool("REMOTE_CONTROL_ENABLED"):
            return
        base = settings.getdict("EXTENSIONS_BASE")
        if base.pop(REMOTE_CONTROL, None) is not None:
            settings.set("EXTENSIONS_BASE", base, priority="addon")
