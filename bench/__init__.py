"""Benchmarks of sasscrawl against generic tools, run with ``python -m bench`` (not part of the tests).

On the real site politeness caps a crawl at about a request a second, so what counts there is how
few requests a crawl needs; off it (a mirror, a replica) the crawl should be limited only by Scrapy.
These benchmarks measure both, against a bare Scrapy spider and trafilatura, on replica sites
served from a separate process on 127.0.0.1. See ``bench/run.py`` for what is measured and how.
"""
