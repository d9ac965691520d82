"""Measure sasscrawl side by side with generic tools, print the table, write it as JSON.

``python -m bench`` (``--quick`` for small sizes). Replica sites are quirk-free and served from a
separate process on 127.0.0.1 (``served_replica``); every crawl is a real subprocess
(``crawls``). Crawl figures are medians over ``--repeats`` runs, the parse cost the least of its
repeats (see ``parse_cost``), and runs being compared take turns (A, B, A, B, ...) so that drift
in the machine's speed affects both alike.

1. Throughput: requests per second of ``scrapy crawl commentary`` (pages and images, politeness
   lifted, fresh data folder) against the bare spider fetching the very URLs the crawl fetched,
   with the same settings. Seconds run from the first request the server sees to the crawl's exit,
   so interpreter start-up is left out but the project's final writes are not.
2. Parse cost: CPU time per article page of the parser alone against trafilatura (``parse_cost``).
3. Requests: what a full crawl asked the server for against the minimum (robots.txt, the listing
   pages that hold articles, the articles, their distinct images); then a rerun on the unchanged
   site.
4. Memory: peak RSS of a full crawl of a small and a large site (``memory``); and of a site whose
   article pages carry long links against the plain site of the same size (``long_links_memory``:
   a cache keyed by page strings would show here).
5. Re-extraction from the archive: articles per second of ``scrapy reextract``'s work (``reextraction``).
6. Start-up: the wall time of a crawl whose start URL refuses connections, against the bare
   spider's (``startup``).
7. The whole crawl: process start to exit of a full crawl against the bare spider fetching the same
   URLs, start-up and the project's final writes included (``whole_crawl``).
8. Exports: ``scrapy export`` of a 5,000-article crawl in all three formats, its time and peak RSS
   against the crawl's own peak RSS (``exports``).
9. The default test suite: its wall and CPU time (``suite``, see ``bench.suite``).

Figures of measures 6 and 7 come with their spread: the median, least and greatest of the runs.

``--only NAME ...`` runs some of them (``MEASUREMENTS``); only a run of them all becomes ``latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from bench import exports, machine, parse_cost, reextraction, startup, suite
from bench.crawls import CrawlRun, bare_crawl, project_crawl, spread
from bench.served_replica import REQUEST_KINDS, ROBOTS_PATH, ServedReplica, SiteFacts, request_kind
from sasscrawl_replica.site import LONG_LINK_LENGTH, LONG_LINKS_PER_PAGE

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 2**20
BUSY_LOAD = 0.5
"""A one-minute load average above this before the run means other work shares the two cores."""

TARGETS = {
    "throughput_ratio": 0.85,
    "parse_times_faster": 10.0,
    "useful_request_share": 0.98,
    "rerun_requests": 5,
    "peak_rss_ratio": 1.25,
    "long_links_rss_ratio": 1.25,
    "startup_ratio": 1.5,
    "whole_crawl_ratio": 0.85,
    "export_rss_ratio": 1.25,
    "suite_seconds": 120,
}
MEASUREMENTS = ("throughput", "parse", "memory", "long_links_memory", "reextraction", "startup", "whole_crawl",
                "exports", "suite")
"""What ``--only`` can name; ``throughput`` also measures the requests (3), from the same crawls."""
RESULT_KEYS = ("throughput", "parse", "requests", "memory", "long_links_memory", "reextraction", "startup",
               "whole_crawl", "exports", "suite")
"""The measurements' keys in the results, in the order they are written."""


FULL_DEFAULTS = {"articles": 2000, "memory_sizes": (500, 5000), "repeats": 3, "parse_pages": 200,
                 "whole_crawl_articles": 1500}
"""About 12 minutes on the two-core machine, mostly the three 5,000-article crawls and the ten whole crawls."""
QUICK_DEFAULTS = {"articles": 300, "memory_sizes": (100, 1000), "repeats": 2, "parse_pages": 50,
                  "whole_crawl_articles": 300}
WHOLE_CRAWL_MIN_RUNS = 5
"""Whole crawls of each kind, at least: their spread is part of the figure."""


@dataclass(frozen=True)
class Plan:
    articles: int
    memory_sizes: tuple[int, int]
    repeats: int
    parse_pages: int
    concurrency: int
    quick: bool
    whole_crawl_articles: int
    only: tuple[str, ...] = MEASUREMENTS


def parse_plan(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, help="site size for throughput and requests (default 2000)")
    parser.add_argument("--memory-sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                        help="site sizes whose peak RSS is compared (default 500 5000)")
    parser.add_argument("--repeats", type=int, help="runs of each measurement (default 3; the parse cost runs at least 5)")
    parser.add_argument("--parse-pages", type=int, help="replica article pages for the parse cost (default 200)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="CONCURRENT_REQUESTS(_PER_DOMAIN) of both crawls (default 16)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and 2 repeats (about a minute); results are not written to latest.json")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, metavar="NAME",
                        help=f"run only these measurements ({', '.join(MEASUREMENTS)}); "
                             "results are not written to latest.json")
    options = parser.parse_args(argv)
    defaults = QUICK_DEFAULTS if options.quick else FULL_DEFAULTS
    plan = Plan(
        articles=options.articles or defaults["articles"],
        memory_sizes=tuple(options.memory_sizes or defaults["memory_sizes"]),
        repeats=options.repeats or defaults["repeats"],
        parse_pages=options.parse_pages or defaults["parse_pages"],
        concurrency=options.concurrency,
        quick=options.quick,
        whole_crawl_articles=defaults["whole_crawl_articles"],
        only=tuple(name for name in MEASUREMENTS if name in (options.only or MEASUREMENTS)),
    )
    if plan.repeats < 1 or plan.articles < 1 or plan.parse_pages < 1 or min(plan.memory_sizes) < 1:
        parser.error("sizes and repeats must be positive")
    return plan


def main(argv: list[str] | None = None) -> None:
    plan = parse_plan(argv)
    started_at = datetime.now(timezone.utc)
    load_at_start = round(os.getloadavg()[0], 2)
    if load_at_start > BUSY_LOAD:
        _progress(f"the machine is busy (load average {load_at_start}): wall-clock figures will be noisy")
    started = time.monotonic()
    measured = {}
    with tempfile.TemporaryDirectory(prefix="sasscrawl-bench-") as scratch:
        if "throughput" in plan.only:
            measured.update(measure_crawls(plan, Path(scratch)))
        if "memory" in plan.only:
            measured["memory"] = measure_memory(plan, Path(scratch))
        if "long_links_memory" in plan.only:
            measured["long_links_memory"] = measure_long_links_memory(plan, Path(scratch))
        if "reextraction" in plan.only:
            _progress(f"re-extraction from the archive of a {plan.articles}-article crawl")
            measured["reextraction"] = reextraction.measure(plan.articles, plan.repeats, Path(scratch),
                                                            plan.concurrency)
        if "startup" in plan.only:
            _progress(f"start-up: {startup.RUNS} crawls of a dead start URL each, sasscrawl and the bare spider")
            measured["startup"] = startup.measure(Path(scratch), plan.concurrency)
        if "whole_crawl" in plan.only:
            measured["whole_crawl"] = measure_whole_crawl(plan, Path(scratch))
        if "exports" in plan.only:
            measured["exports"] = exports.measure(plan.memory_sizes[1], plan.repeats, Path(scratch), plan.concurrency,
                                                  _progress)
        if "suite" in plan.only:
            _progress(f"the default test suite, as the README runs it, {plan.repeats} times")
            measured["suite"] = suite.measure(Path(scratch), plan.repeats)
    if "parse" in plan.only:
        _progress("parse cost: sasscrawl and trafilatura over the same pages")
        measured["parse"] = parse_cost.measure(plan.parse_pages, plan.repeats)
    results = {
        "startedAt": started_at.isoformat(timespec="seconds"),
        "durationSeconds": round(time.monotonic() - started, 1),
        "machine": {**machine.describe(), "load_average_at_start": load_at_start},
        "plan": asdict(plan),
        **{key: measured[key] for key in RESULT_KEYS if key in measured},
    }
    results["targets"] = evaluate(results)
    table = render_table(results)
    results["table"] = table
    print(table)
    print(f"\nResults: {write_results(results, started_at, plan)}")



def measure_crawls(plan: Plan, scratch: Path) -> dict:
    """Measures 1 and 3: project crawl, incremental rerun and bare spider, in turns, on one site."""
    project_runs: list[CrawlRun] = []
    bare_runs: list[CrawlRun] = []
    rerun_requests: list[list[str]] = []
    with ServedReplica(plan.articles) as replica:
        facts = replica.facts
        for repeat in range(1, plan.repeats + 1):
            folder = scratch / f"crawl-{repeat}"
            folder.mkdir()
            project = project_crawl(replica, folder / "data", folder / "crawl.log", plan.concurrency)
            _check_complete(folder / "data", facts)
            rerun = project_crawl(replica, folder / "data", folder / "rerun.log", plan.concurrency)
            urls = [facts.origin + request.path for request in project.requests if request.path != ROBOTS_PATH]
            bare = bare_crawl(replica, urls, folder / "bare", plan.concurrency)
            shutil.rmtree(folder)
            project_runs.append(project)
            bare_runs.append(bare)
            rerun_requests.append([request.path for request in rerun.requests])
            _progress(f"throughput {repeat}/{plan.repeats}, {plan.articles} articles: "
                      f"sasscrawl {project.requests_per_second:.0f} req/s, bare spider {bare.requests_per_second:.0f} "
                      f"req/s; rerun {len(rerun.requests)} requests")
    project_rate = statistics.median(run.requests_per_second for run in project_runs)
    bare_rate = statistics.median(run.requests_per_second for run in bare_runs)
    project_cpu = statistics.median(run.cpu_seconds for run in project_runs)
    bare_cpu = statistics.median(run.cpu_seconds for run in bare_runs)
    return {
        "throughput": {
            "articles": plan.articles,
            "concurrency": plan.concurrency,
            "requests": len(project_runs[0].requests),
            "sasscrawl_requests_per_second": round(project_rate, 1),
            "bare_requests_per_second": round(bare_rate, 1),
            "ratio": round(project_rate / bare_rate, 3),
            "cpu_seconds": {"sasscrawl": round(project_cpu, 2), "bare": round(bare_cpu, 2)},
            "cpu_ratio": round(bare_cpu / project_cpu, 3),
            "runs": {"sasscrawl": [_run_facts(run) for run in project_runs],
                     "bare": [_run_facts(run) for run in bare_runs]},
        },
        "requests": {
            "full_crawl": _request_accounting(project_runs[0], facts),
            "rerun": {"articles": plan.articles, "requests": statistics.median_low(map(len, rerun_requests)),
                      "paths": rerun_requests[0]},
        },
    }


def measure_whole_crawl(plan: Plan, scratch: Path) -> dict:
    """Measure 7: full crawls and the bare spider over the URLs each fetched, in turns, process start to exit."""
    runs = max(plan.repeats, WHOLE_CRAWL_MIN_RUNS)
    project_runs: list[CrawlRun] = []
    bare_runs: list[CrawlRun] = []
    with ServedReplica(plan.whole_crawl_articles) as replica:
        for repeat in range(1, runs + 1):
            folder = scratch / f"whole-{repeat}"
            folder.mkdir()
            project = project_crawl(replica, folder / "data", folder / "crawl.log", plan.concurrency)
            _check_complete(folder / "data", replica.facts)
            urls = [replica.facts.origin + request.path for request in project.requests if request.path != ROBOTS_PATH]
            bare = bare_crawl(replica, urls, folder / "bare", plan.concurrency)
            shutil.rmtree(folder)
            project_runs.append(project)
            bare_runs.append(bare)
            _progress(f"whole crawl {repeat}/{runs}, {replica.facts.articles} articles: sasscrawl "
                      f"{project.process_seconds:.1f} s, bare spider {bare.process_seconds:.1f} s")
    seconds = {"sasscrawl": [run.process_seconds for run in project_runs],
               "bare": [run.process_seconds for run in bare_runs]}
    return {
        "articles": plan.whole_crawl_articles,
        "concurrency": plan.concurrency,
        "requests": len(project_runs[0].requests),
        "runs": runs,
        **{name: {"seconds": spread(values), "all_seconds": [round(value, 3) for value in values]}
           for name, values in seconds.items()},
        "cpu_seconds": {"sasscrawl": spread([run.cpu_seconds for run in project_runs], 2),
                        "bare": spread([run.cpu_seconds for run in bare_runs], 2)},
        "seconds_to_first_request": {"sasscrawl": spread([run.seconds_to_first_request for run in project_runs]),
                                     "bare": spread([run.seconds_to_first_request for run in bare_runs])},
        "seconds_after_last_request": {"sasscrawl": spread([run.seconds_after_last_request for run in project_runs]),
                                       "bare": spread([run.seconds_after_last_request for run in bare_runs])},
        "ratio": round(statistics.median(seconds["bare"]) / statistics.median(seconds["sasscrawl"]), 3),
        "cpu_ratio": round(statistics.median(run.cpu_seconds for run in bare_runs)
                           / statistics.median(run.cpu_seconds for run in project_runs), 3),
        "ratio_per_turn": spread([bare / project for project, bare in zip(seconds["sasscrawl"], seconds["bare"])]),
    }


def measure_memory(plan: Plan, scratch: Path) -> dict:
    """Measure 4: full crawls of a small and a large site, in turns, each into a fresh data folder."""
    small_size, large_size = plan.memory_sizes
    with ServedReplica(small_size) as small, ServedReplica(large_size) as large:
        peaks = _peak_rss_in_turns({str(small_size): small, str(large_size): large}, plan, scratch)
    ratio = peaks[str(large_size)]["peak_rss_mib"] / peaks[str(small_size)]["peak_rss_mib"]
    return {"sizes": peaks, "ratio": round(ratio, 3)}


def measure_long_links_memory(plan: Plan, scratch: Path) -> dict:
    """Measure 4, long links: full crawls of a plain site and of one whose article pages carry long links.

    Both have ``plan.articles`` articles and are crawled with the same settings, in turns. The
    long links are new on every page (``sasscrawl_replica.site``), half a gigabyte of link text
    over 2,000 pages: a cache keyed by page strings would keep some of it.
    """
    with ServedReplica(plan.articles) as plain, ServedReplica(plan.articles, long_links=True) as long_links:
        peaks = _peak_rss_in_turns({"plain": plain, "long_links": long_links}, plan, scratch)
    return {"articles": plan.articles, "links_per_page": LONG_LINKS_PER_PAGE, "link_length": LONG_LINK_LENGTH, **peaks,
            "ratio": round(peaks["long_links"]["peak_rss_mib"] / peaks["plain"]["peak_rss_mib"], 3)}


def _peak_rss_in_turns(replicas: dict[str, ServedReplica], plan: Plan, scratch: Path) -> dict[str, dict]:
    """Full crawls of each replica, in turns, each into a fresh data folder: name → median peak RSS and runs."""
    runs: dict[str, list[CrawlRun]] = {name: [] for name in replicas}
    for repeat in range(1, plan.repeats + 1):
        for name, replica in replicas.items():
            folder = scratch / f"memory-{name}-{repeat}"
            folder.mkdir()
            run = project_crawl(replica, folder / "data", folder / "crawl.log", plan.concurrency)
            _check_complete(folder / "data", replica.facts)
            shutil.rmtree(folder)
            runs[name].append(run)
            _progress(f"memory {repeat}/{plan.repeats}, {name}, {replica.articles} articles: "
                      f"peak RSS {run.peak_rss_bytes / MIB:.0f} MiB, {len(run.requests)} requests "
                      f"in {run.crawl_seconds:.1f} s")
    return {name: {"peak_rss_mib": round(statistics.median(run.peak_rss_bytes for run in name_runs) / MIB, 1),
                   "runs": [_run_facts(run) for run in name_runs]} for name, name_runs in runs.items()}


def _check_complete(data_dir: Path, facts: SiteFacts) -> None:
    """A benchmark of a crawl that missed articles would flatter it: refuse to report one."""
    saved = sum(1 for _ in open(data_dir / "articles.jsonl", encoding="utf-8"))
    if saved != facts.articles:
        raise SystemExit(f"the crawl saved {saved} of the site's {facts.articles} articles: not benchmarking it")


def _run_facts(run: CrawlRun) -> dict:
    return {"requests": len(run.requests), "crawl_seconds": round(run.crawl_seconds, 3),
            "process_seconds": round(run.process_seconds, 3), "cpu_seconds": round(run.cpu_seconds, 2),
            "requests_per_second": round(run.requests_per_second, 1),
            "peak_rss_mib": round(run.peak_rss_bytes / MIB, 1)}


def _request_accounting(run: CrawlRun, facts: SiteFacts) -> dict:
    """Requests made against needed, per kind, and the listing pages beyond those that hold articles."""
    made = Counter(request_kind(request.path) for request in run.requests)
    start_path = urlsplit(facts.start_url).path
    holding_articles = {start_path, *(f"{start_path}?page={n}" for n in range(2, facts.needed["listing"] + 1))}
    return {
        "articles": facts.articles,
        "made": sum(made.values()),
        "minimum": facts.minimum_requests,
        "useful_share": round(facts.minimum_requests / sum(made.values()), 4),
        "by_kind": {kind: {"made": made[kind], "needed": facts.needed[kind]} for kind in REQUEST_KINDS},
        "extra_listing_paths": [request.path for request in run.requests
                                if request_kind(request.path) == "listing" and request.path not in holding_articles],
    }


def evaluate(results: dict) -> dict:
    """Each target of what was measured: the value, the bound, and whether it was met (None: no bound)."""
    targets = {}
    if "throughput" in results:
        targets["throughput_ratio"] = _target(results["throughput"]["ratio"], ">=", TARGETS["throughput_ratio"])
    if "parse" in results:
        parse = results["parse"]
        fields = parse["fields"]
        targets["parse_times_faster"] = _target(parse["times_faster"]["trafilatura"]["replica"], ">=",
                                                TARGETS["parse_times_faster"])
        targets["parse_times_faster_real_page"] = _target(parse["times_faster"]["trafilatura"]["real"], ">=",
                                                          TARGETS["parse_times_faster"])
        targets["more_fields"] = _target(fields["sasscrawl"]["median"], ">", fields["trafilatura_metadata"]["median"])
    if "requests" in results:
        targets["useful_request_share"] = _target(results["requests"]["full_crawl"]["useful_share"], ">=",
                                                  TARGETS["useful_request_share"])
        targets["rerun_requests"] = _target(results["requests"]["rerun"]["requests"], "<=", TARGETS["rerun_requests"])
    if "memory" in results:
        targets["peak_rss_ratio"] = _target(results["memory"]["ratio"], "<=", TARGETS["peak_rss_ratio"])
    if "long_links_memory" in results:
        targets["long_links_rss_ratio"] = _target(results["long_links_memory"]["ratio"], "<=",
                                                  TARGETS["long_links_rss_ratio"])
    if "startup" in results:
        targets["startup_ratio"] = _target(results["startup"]["ratio"], "<=", TARGETS["startup_ratio"])
    if "whole_crawl" in results:
        targets["whole_crawl_ratio"] = _target(results["whole_crawl"]["ratio"], ">=", TARGETS["whole_crawl_ratio"])
    if "exports" in results:
        targets["export_rss_ratio"] = _target(results["exports"]["ratio"], "<=", TARGETS["export_rss_ratio"])
    if "suite" in results:
        targets["suite_seconds"] = _target(results["suite"]["seconds"], "<=", TARGETS["suite_seconds"])
    if "reextraction" in results:
        targets["reextraction"] = {"value": results["reextraction"]["articles_per_second"], "bound": None, "met": None}
    return targets


def _target(value, comparison: str, bound) -> dict:
    met = value >= bound if comparison == ">=" else value > bound if comparison == ">" else value <= bound
    return {"value": value, "comparison": comparison, "bound": bound, "met": met}


def render_table(results: dict) -> str:
    """The Markdown table the README quotes (the rows of what was measured), with the machine and the run under it."""
    targets = results["targets"]

    def verdict(name: str) -> str:
        return {True: "met", False: "**missed**", None: ""}[targets[name]["met"]]

    rows = []
    if "throughput" in results:
        throughput = results["throughput"]
        rows.append((f"1. Full-crawl throughput, {throughput['articles']:,} articles, pages + images",
                     f"{throughput['sasscrawl_requests_per_second']:.0f} req/s",
                     f"{throughput['bare_requests_per_second']:.0f} req/s (bare Scrapy spider, same URLs)",
                     f"{throughput['ratio']:.2f} of bare (CPU time: {throughput['cpu_ratio']:.2f})", "≥ 0.85",
                     verdict("throughput_ratio")))
    if "parse" in results:
        ms, faster, fields = (results["parse"][key] for key in ("ms_per_page", "times_faster", "fields"))
        rows += [
            ("2. Parse CPU per article page (replica pages)",
             f"{ms['sasscrawl']['replica']:.2f} ms",
             f"{ms['trafilatura']['replica']:.2f} ms trafilatura.extract; "
             f"{ms['trafilatura_metadata']['replica']:.2f} ms with metadata",
             f"{faster['trafilatura']['replica']:.1f}× faster ({faster['trafilatura_metadata']['replica']:.1f}×)",
             "≥ 10×", verdict("parse_times_faster")),
            ("2. Parse CPU, real page 5554",
             f"{ms['sasscrawl']['real']:.2f} ms",
             f"{ms['trafilatura']['real']:.2f} ms; {ms['trafilatura_metadata']['real']:.2f} ms with metadata",
             f"{faster['trafilatura']['real']:.1f}× faster ({faster['trafilatura_metadata']['real']:.1f}×)",
             "≥ 10×", verdict("parse_times_faster_real_page")),
            ("2. Fields extracted per page (non-empty, median)",
             f"{fields['sasscrawl']['median']:g}",
             f"{fields['trafilatura_metadata']['median']:g} (trafilatura with metadata; 1 without)",
             "", "more", verdict("more_fields")),
        ]
    if "requests" in results:
        full, rerun = results["requests"]["full_crawl"], results["requests"]["rerun"]
        rows += [
            (f"3. Requests per full crawl, {full['articles']:,} articles",
             f"{full['made']:,}", f"{full['minimum']:,} minimum",
             f"{full['useful_share']:.3f} useful", "≥ 0.98", verdict("useful_request_share")),
            (f"3. Requests, rerun on the unchanged {rerun['articles']:,}-article site",
             f"{rerun['requests']:g}", "", "", "≤ 5", verdict("rerun_requests")),
        ]
    if "memory" in results:
        memory = results["memory"]
        small, large = (int(size) for size in memory["sizes"])
        rss = {size: memory["sizes"][str(size)]["peak_rss_mib"] for size in (small, large)}
        rows.append((f"4. Peak RSS of a full crawl, {large:,} vs {small:,} articles",
                     f"{rss[large]:.0f} MiB", f"{rss[small]:.0f} MiB", f"{memory['ratio']:.2f}×", "≤ 1.25×",
                     verdict("peak_rss_ratio")))
    if "long_links_memory" in results:
        long_links = results["long_links_memory"]
        rows.append((f"4. Peak RSS of a full crawl, {long_links['articles']:,} articles whose pages carry "
                     f"{long_links['links_per_page']} links of {long_links['link_length']:,} characters vs none",
                     f"{long_links['long_links']['peak_rss_mib']:.0f} MiB",
                     f"{long_links['plain']['peak_rss_mib']:.0f} MiB", f"{long_links['ratio']:.2f}×", "≤ 1.25×",
                     verdict("long_links_rss_ratio")))
    if "reextraction" in results:
        archive = results["reextraction"]
        rows.append(("5. Re-extraction from the archive", archive["note"] if archive["articles_per_second"] is None
                     else f"{archive['articles_per_second']:.0f} articles/s", "", "", "", ""))
    if "startup" in results:
        start = results["startup"]
        rows.append(("6. Start-up: a crawl whose start URL refuses connections, process start to exit",
                     _seconds_spread(start["sasscrawl"]["seconds"]),
                     f"{_seconds_spread(start['bare']['seconds'])} (bare Scrapy spider, same settings)",
                     f"{start['ratio']:.2f}× bare ({_ratio_range(start['ratio_per_turn'])}; CPU time: "
                     f"{start['cpu_ratio']:.2f}×)", "≤ 1.5×",
                     verdict("startup_ratio")))
    if "whole_crawl" in results:
        whole = results["whole_crawl"]
        rows.append((f"7. Whole crawl, {whole['articles']:,} articles, pages + images, process start to exit",
                     _seconds_spread(whole["sasscrawl"]["seconds"]),
                     f"{_seconds_spread(whole['bare']['seconds'])} (bare Scrapy spider, same URLs)",
                     f"{whole['ratio']:.2f} of bare ({_ratio_range(whole['ratio_per_turn'])}; CPU time: "
                     f"{whole['cpu_ratio']:.2f})", "≥ 0.85",
                     verdict("whole_crawl_ratio")))
    if "exports" in results:
        export = results["exports"]
        rows.append((f"8. scrapy export of {export['articles']:,} articles: Parquet, SQLite + FTS5, CSV",
                     f"{export['seconds']:.1f} s, {export['peak_rss_mib']:.0f} MiB peak RSS",
                     f"{export['crawl_peak_rss_mib']:.0f} MiB (the crawl's own peak RSS; "
                     f"{export['crawl_with_card']['peak_rss_mib']:.0f} MiB with its end-of-run card and Parquet)",
                     f"{export['ratio']:.2f}×", "≤ 1.25×", verdict("export_rss_ratio")))
    if "suite" in results:
        tests = results["suite"]
        rows.append((f"9. Default test suite, {tests['outcomes'].get('passed', 0):,} tests",
                     _seconds_spread(tests["spread"]["seconds"], 0),
                     f"{_seconds_spread(tests['spread']['cpu_seconds'], 0)} of CPU time", "", "≤ 120 s",
                     verdict("suite_seconds")))
    header = ("measure", "sasscrawl", "baseline", "result", "target", "")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    plan = results["plan"]
    parse_repeats = max(plan["repeats"], parse_cost.MIN_REPEATS)
    spreads = [f"{name}: {results[key]['runs']} turns" for name, key in (("start-up", "startup"),
                                                                         ("whole crawl", "whole_crawl"))
               if key in results]
    lines += ["", f"Crawls: medians of {plan['repeats']} runs; parse CPU: the least of {parse_repeats} repeats"
                  + (f"; {', '.join(spreads)}, each figure the median (least–greatest)" if spreads else "")
                  + ". Runs compared take turns. "
                  f"Concurrency {plan['concurrency']}, {results['durationSeconds'] / 60:.1f} min in all. "
                  f"Machine: {machine.summary(results['machine'])}; "
                  f"load average {results['machine']['load_average_at_start']} at the start."]
    return "\n".join(lines)


def _seconds_spread(seconds: dict, digits: int = 2) -> str:
    return f"{seconds['median']:.{digits}f} s ({seconds['min']:.{digits}f}–{seconds['max']:.{digits}f})"


def _ratio_range(ratios: dict) -> str:
    """The range of the ratios turn by turn."""
    return f"{ratios['min']:.2f}–{ratios['max']:.2f} turn by turn"


def write_results(results: dict, started_at: datetime, plan: Plan) -> Path:
    """``results/<UTC timestamp>.json``, and ``latest.json`` for a full run of every measurement.

    A run of some measurements is named after them (``<timestamp>-long_links_memory.json``), a
    quick run is marked ``-quick`` (and ignored by git); neither becomes ``latest.json``.
    """
    RESULTS_DIR.mkdir(exist_ok=True)
    text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    partial = plan.only != MEASUREMENTS
    name = f"{started_at:%Y%m%dT%H%M%SZ}" + "".join(f"-{measurement}" for measurement in plan.only if partial)
    path = RESULTS_DIR / f"{name}{'-quick' if plan.quick else ''}.json"
    path.write_text(text, encoding="utf-8")
    if not plan.quick and not partial:
        (RESULTS_DIR / "latest.json").write_text(text, encoding="utf-8")
    return path


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
