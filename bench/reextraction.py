"""Re-extraction from the archive: articles per second (measure 5).

A quirk-free replica is crawled once with ``-a archive=warc``; then every archived article page is
read back into a record by :func:`sasscrawl.archive.reextract`, in this process, with no network.
The figure is articles per second of wall-clock time, the median over the repeats.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from bench.crawls import CRAWL_TIMEOUT_SECONDS, PROJECT_ROOT, project_command, scrapy_environment
from bench.served_replica import ServedReplica
from sasscrawl.archive import reextract


def measure(articles: int, repeats: int, scratch: Path, concurrency: int) -> dict:
    data_dir = scratch / "archive"
    with ServedReplica(articles) as replica:
        command = [*project_command(replica, data_dir, concurrency), "-a", "archive=warc"]
        subprocess.run(command, cwd=PROJECT_ROOT, env=scrapy_environment(), check=True, timeout=CRAWL_TIMEOUT_SECONDS,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rates = []
    count = 0
    for _ in range(repeats):
        started = time.perf_counter()
        count = sum(1 for _ in reextract(data_dir / "warc"))
        rates.append(count / (time.perf_counter() - started))
    return {"articles_per_second": round(statistics.median(rates), 1), "articles": count, "note": None}
