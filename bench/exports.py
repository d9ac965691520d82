"""``scrapy export`` of a real 5,000-article crawl in all three formats: seconds and peak RSS (the exports row).

The data folder is made by a real ``scrapy crawl commentary`` of a quirk-free 5,000-article replica
(about a minute on the two-core machine), not built by hand, so the records are the crawler's own.
That crawl's peak RSS (the end-of-run Parquet file and dataset card included) is the baseline: the
export, a separate process reading the same journal, should stay within 1.25× of it. Each export
writes Parquet, SQLite (with its FTS5 index) and CSV to a fresh folder; the figures are the
medians over the repeats.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from bench.crawls import PROJECT_ROOT, project_crawl, run_process
from bench.served_replica import ServedReplica

MIB = 2**20


def measure(articles: int, repeats: int, scratch: Path, concurrency: int, progress) -> dict:
    data_dir = scratch / "exports-data"
    with ServedReplica(articles) as replica:
        crawl = project_crawl(replica, data_dir, scratch / "exports-crawl.log", concurrency)
    saved = sum(1 for _ in open(data_dir / "articles.jsonl", encoding="utf-8"))
    if saved != articles:
        raise SystemExit(f"the crawl saved {saved} of the site's {articles} articles: not benchmarking its export")
    progress(f"exports: crawled {saved} articles, peak RSS {crawl.peak_rss_bytes / MIB:.0f} MiB; exporting")
    runs = []
    for repeat in range(1, repeats + 1):
        out = scratch / f"exports-{repeat}"
        command = [sys.executable, "-m", "scrapy", "export", "-s", f"DATA_DIR={data_dir}", "-o", str(out)]
        run = run_process(command, PROJECT_ROOT, scratch / f"export-{repeat}.log")
        if run.exit_code != 0:
            raise SystemExit(f"scrapy export exited {run.exit_code}: see {scratch / f'export-{repeat}.log'}")
        sizes = {path.name: path.stat().st_size for path in sorted(out.iterdir())}
        runs.append({"seconds": round(run.seconds, 3), "cpu_seconds": round(run.cpu_seconds, 2),
                     "peak_rss_mib": round(run.peak_rss_bytes / MIB, 1), "bytes": sizes})
        progress(f"exports {repeat}/{repeats}: {run.seconds:.1f} s, peak RSS {run.peak_rss_bytes / MIB:.0f} MiB")
    peak = statistics.median(run["peak_rss_mib"] for run in runs)
    crawl_peak = crawl.peak_rss_bytes / MIB
    return {
        "articles": saved,
        "formats": ["parquet", "sqlite", "csv"],
        "seconds": round(statistics.median(run["seconds"] for run in runs), 3),
        "peak_rss_mib": peak,
        "crawl_peak_rss_mib": round(crawl_peak, 1),
        "crawl_process_seconds": round(crawl.process_seconds, 3),
        "ratio": round(peak / crawl_peak, 3),
        "runs": runs,
    }
