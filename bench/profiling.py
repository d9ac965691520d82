"""Where the time goes when a target is missed: ``python -m bench.profiling [--articles N]``.

Profiles what measures 1 and 2 time, the same way they time it:

- a full ``scrapy crawl commentary`` of a quirk-free replica, sampled from outside by py-spy (so
  Scrapy runs unmodified): the collapsed stacks (for speedscope or flamegraph.pl) and a summary
  of the functions with the largest inclusive and own shares of the samples;
- the parser over the replica's article pages, with pyinstrument.

Files go to ``bench/results/profiles/<UTC timestamp>-*``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from pyinstrument import Profiler

from bench.crawls import PROJECT_ROOT, project_command, scrapy_environment
from bench.parse_cost import replica_pages
from bench.run import RESULTS_DIR
from bench.served_replica import ServedReplica
from sasscrawl.pages.article import parse_article

PROFILES_DIR = RESULTS_DIR / "profiles"
PY_SPY = Path(sys.executable).with_name("py-spy")
SAMPLES_PER_SECOND = 200
SUMMARY_LINES = 40
PARSE_PASSES = 5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000, help="replica size for the crawl (default 1000)")
    parser.add_argument("--parse-pages", type=int, default=200, help="article pages for the parser (default 200)")
    parser.add_argument("--concurrency", type=int, default=16, help="as in the benchmark (default 16)")
    options = parser.parse_args(argv)
    PROFILES_DIR.mkdir(parents=True, exist_ok=True)
    prefix = PROFILES_DIR / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for path in (*profile_crawl(prefix, options.articles, options.concurrency),
                 profile_parser(prefix, options.parse_pages)):
        print(path)


def profile_crawl(prefix: Path, articles: int, concurrency: int) -> tuple[Path, Path]:
    stacks = prefix.with_name(prefix.name + "-crawl.collapsed.txt")
    summary = prefix.with_name(prefix.name + "-crawl.summary.txt")
    with ServedReplica(articles) as replica, tempfile.TemporaryDirectory(prefix="sasscrawl-profile-") as scratch:
        command = project_command(replica, Path(scratch) / "data", concurrency)
        subprocess.run([str(PY_SPY), "record", "--rate", str(SAMPLES_PER_SECOND), "--format", "raw",
                        "--output", str(stacks), "--", *command],
                       cwd=PROJECT_ROOT, env=scrapy_environment(), check=True, capture_output=True)
    summary.write_text(summarise_stacks(stacks.read_text("utf-8"), f"full crawl of {articles} articles"), "utf-8")
    return stacks, summary


def summarise_stacks(collapsed: str, title: str) -> str:
    """Share of samples per function (file and name, lines merged): inclusive, then its own."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    lines = [f"{title}: {total} samples at {SAMPLES_PER_SECOND}/s", "", "inclusive share:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(SUMMARY_LINES)]
    lines += ["", "own share:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(SUMMARY_LINES)]
    return "\n".join(lines) + "\n"


def profile_parser(prefix: Path, page_count: int) -> Path:
    pages = replica_pages(page_count)
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(PARSE_PASSES):
            for body, url in pages:
                parse_article(body, url)
    report = prefix.with_name(prefix.name + "-parser.txt")
    report.write_text(profiler.output_text(unicode=True, color=False), "utf-8")
    return report


if __name__ == "__main__":
    main()
