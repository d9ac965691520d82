"""``scrapy export`` of a real 5,000-article crawl in all three formats: seconds and peak RSS (the exports row).

The data folder is made by a real ``scrapy crawl commentary`` of a quirk-free 5,000-article replica
(about a minute on the two-core machine), not built by hand, so the records are the crawler's own.
The same site is crawled a second time with the end-of-run dataset card and Parquet file switched
off (``DatasetExport`` set to None in EXTENSIONS): that crawl's peak RSS, the crawl alone, is the
baseline the export (a separate process reading the journal) should stay within 1.25× of; the
first crawl's peak and time, card and Parquet included, say what they add to every run. Each
export writes Parquet, SQLite (with its FTS5 index) and CSV to a fresh folder; the export figures
are the medians over the repeats.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from bench.crawls import PROJECT_ROOT, project_command, project_crawl, run_process
from bench.served_replica import ServedReplica
from sasscrawl import settings as project_settings

MIB = 2**20


def measure(articles: int, repeats: int, scratch: Path, concurrency: int, progress) -> dict:
    data_dir = scratch / "exports-data"
    with ServedReplica(articles) as replica:
        crawl = project_crawl(replica, data_dir, scratch / "exports-crawl.log", concurrency)
        # -s replaces the whole EXTENSIONS dict: the project's, with the card's extension off.
        extensions = {**project_settings.EXTENSIONS, "sasscrawl.extensions.dataset.DatasetExport": None}
        without_card = [*project_command(replica, scratch / "no-card-data", concurrency),
                        "-s", f"EXTENSIONS={json.dumps(extensions)}"]
        alone = run_process(without_card, PROJECT_ROOT, scratch / "no-card-crawl.log")
    if alone.exit_code != 0 or (scratch / "no-card-data" / "README.md").exists():
        raise SystemExit(f"the crawl without the card exited {alone.exit_code} or wrote a card: see "
                         f"{scratch / 'no-card-crawl.log'}")
    saved = sum(1 for _ in open(data_dir / "articles.jsonl", encoding="utf-8"))
    if saved != articles:
        raise SystemExit(f"the crawl saved {saved} of the site's {articles} articles: not benchmarking its export")
    progress(f"exports: crawled {saved} articles, peak RSS {crawl.peak_rss_bytes / MIB:.0f} MiB with the card and "
             f"Parquet, {alone.peak_rss_bytes / MIB:.0f} MiB without; exporting")
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
    crawl_peak = alone.peak_rss_bytes / MIB
    return {
        "articles": saved,
        "formats": ["parquet", "sqlite", "csv"],
        "seconds": round(statistics.median(run["seconds"] for run in runs), 3),
        "peak_rss_mib": peak,
        "crawl_peak_rss_mib": round(crawl_peak, 1),
        "crawl_process_seconds": round(alone.seconds, 3),
        "crawl_with_card": {"peak_rss_mib": round(crawl.peak_rss_bytes / MIB, 1),
                            "process_seconds": round(crawl.process_seconds, 3)},
        "ratio": round(peak / crawl_peak, 3),
        "runs": runs,
    }
