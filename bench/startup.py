"""Start-up: the wall time of a crawl that fails at once, against the bare spider doing the same (measure 6).

Both crawl one start URL on a port of 127.0.0.1 that refuses connections (a socket bound and never
listening, held through the measure), with the same settings (``shared_settings``) and no retries:
robots.txt and the start page are refused, and the process ends. What is timed, from starting the
process to its exit, is then what each does around its two requests: the interpreter, the imports,
building the crawler's components, opening and closing the spider. Both run ``RUNS`` times, taking
turns, after one run of each that is not counted (it warms the operating system's file cache).
"""

from __future__ import annotations

import socket
import statistics
import sys
from pathlib import Path

from bench.crawls import BARE_SPIDER, PROJECT_ROOT, ProcessRun, run_process, shared_settings, spread

RUNS = 10
REFUSED = "Connection was refused"
"""In both logs, once for robots.txt and once for the start page: the crawl did what is timed."""


def measure(scratch: Path, concurrency: int) -> dict:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused, and the port stays ours
        start_url = f"http://127.0.0.1:{closed.getsockname()[1]}/103002/default.aspx"
        urls_file = scratch / "startup-urls.txt"
        urls_file.write_text(start_url + "\n", encoding="utf-8")
        settings = [*shared_settings(concurrency), "-s", "RETRY_TIMES=0"]
        bare = [sys.executable, "-m", "scrapy", "runspider", str(BARE_SPIDER), "-a", f"urls_file={urls_file}", *settings]
        runs: dict[str, list[ProcessRun]] = {"sasscrawl": [], "bare": []}
        for repeat in range(RUNS + 1):
            project = [sys.executable, "-m", "scrapy", "crawl", "commentary", "-a", f"start_url={start_url}",
                       "-s", f"DATA_DIR={scratch / f'startup-{repeat}'}", *settings]
            turn = {"sasscrawl": _run(project, PROJECT_ROOT, scratch, expected_exit=1),
                    "bare": _run(bare, scratch, scratch, expected_exit=0)}
            if repeat:  # the first turn warms the caches
                for name, run in turn.items():
                    runs[name].append(run)
    seconds = {name: [run.seconds for run in name_runs] for name, name_runs in runs.items()}
    return {
        "runs": RUNS,
        **{name: {"seconds": spread(values), "cpu_seconds": spread([run.cpu_seconds for run in runs[name]], 2),
                  "all_seconds": [round(value, 3) for value in values]}
           for name, values in seconds.items()},
        "ratio": round(statistics.median(seconds["sasscrawl"]) / statistics.median(seconds["bare"]), 3),
        "cpu_ratio": round(statistics.median(run.cpu_seconds for run in runs["sasscrawl"])
                           / statistics.median(run.cpu_seconds for run in runs["bare"]), 3),
        "ratio_per_turn": spread([project / bare for project, bare in zip(seconds["sasscrawl"], seconds["bare"])]),
    }


def _run(command: list[str], cwd: Path, scratch: Path, expected_exit: int) -> ProcessRun:
    """One run; one that did not end as a dead start URL (sasscrawl exits 1: its start page failed) ends the measure."""
    log_path = scratch / "startup.log"
    run = run_process(command, cwd, log_path)
    log = log_path.read_text("utf-8", errors="replace")
    if run.exit_code != expected_exit or log.count(REFUSED) < 2:
        tail = "\n".join(log.splitlines()[-30:])
        raise SystemExit(f"{command[3]} did not fail at once as expected (exit {run.exit_code}):\n{tail}")
    return run
