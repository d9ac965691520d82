"""Run ``scrapy crawl commentary`` and the bare spider as subprocesses, as a user would, and measure them.

Both face the same server with the same Scrapy settings (``shared_settings``: politeness lifted,
the same concurrency, robots.txt obeyed), so the only difference between them is what the project
does with a response. The server's request log says what each fetched and when; ``os.wait4``
gives each crawl's own peak RSS.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.served_replica import LoggedRequest, ServedReplica

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BARE_SPIDER = Path(__file__).resolve().parent / "bare_spider.py"
CRAWL_TIMEOUT_SECONDS = 1800


def shared_settings(concurrency: int) -> list[str]:
    """``-s`` options of both crawls: no delay, no AutoThrottle, ``concurrency`` requests in flight."""
    settings = {
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "CONCURRENT_REQUESTS": str(concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency),
        "ROBOTSTXT_OBEY": "True",
        "TELNETCONSOLE_ENABLED": "False",
        "REMOTE_CONTROL_ENABLED": "False",  # sasscrawl's default; Scrapy's would start an HTTP server
        "LOG_LEVEL": "INFO",
    }
    return [argument for name, value in settings.items() for argument in ("-s", f"{name}={value}")]


class CrawlFailed(RuntimeError):
    pass


@dataclass
class CrawlRun:
    exit_code: int
    requests: list[LoggedRequest]
    process_seconds: float
    """From starting the process to its exit."""
    crawl_seconds: float
    """From the first request the server saw to the process's exit: the crawl without interpreter start-up."""
    cpu_seconds: float
    """User and system time of the crawl process, start-up included: less sensitive than wall time to other load."""
    peak_rss_bytes: int
    log_path: Path

    @property
    def requests_per_second(self) -> float:
        return len(self.requests) / self.crawl_seconds

    @property
    def seconds_to_first_request(self) -> float:
        """From starting the process to the first request the server saw: interpreter, imports, components."""
        return self.process_seconds - self.crawl_seconds

    @property
    def seconds_after_last_request(self) -> float:
        """From the last request the server saw to the exit: the last responses, the final writes, the close."""
        return self.crawl_seconds - (self.requests[-1].time - self.requests[0].time)

    @property
    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text("utf-8", errors="replace").splitlines()[-30:])


def project_command(replica: ServedReplica, data_dir: Path, concurrency: int) -> list[str]:
    """``scrapy crawl commentary`` of ``replica`` into ``data_dir``, to be run from ``PROJECT_ROOT``."""
    return [sys.executable, "-m", "scrapy", "crawl", "commentary", "-a", f"start_url={replica.facts.start_url}",
            "-s", f"DATA_DIR={data_dir}", *shared_settings(concurrency)]


def scrapy_environment() -> dict[str, str]:
    """This environment without SCRAPY_* variables: Scrapy must find its project (or none) by the working folder."""
    return {key: value for key, value in os.environ.items() if not key.startswith("SCRAPY_")}


def project_crawl(replica: ServedReplica, data_dir: Path, log_path: Path, concurrency: int) -> CrawlRun:
    """``scrapy crawl commentary`` from the project folder into ``data_dir``; raises if the run was not healthy."""
    run = _measure(project_command(replica, data_dir, concurrency), PROJECT_ROOT, replica, log_path)
    if run.exit_code != 0:
        raise CrawlFailed(f"scrapy crawl commentary exited {run.exit_code}:\n{run.log_tail}")
    return run


def bare_crawl(replica: ServedReplica, urls: list[str], scratch: Path, concurrency: int) -> CrawlRun:
    """The bare spider over ``urls``, from ``scratch`` (outside the project); raises unless it fetched them all."""
    scratch.mkdir(parents=True, exist_ok=True)
    urls_file = scratch / "urls.txt"
    urls_file.write_text("".join(url + "\n" for url in urls), encoding="utf-8")
    command = [sys.executable, "-m", "scrapy", "runspider", str(BARE_SPIDER), "-a", f"urls_file={urls_file}",
               *shared_settings(concurrency)]
    run = _measure(command, scratch, replica, scratch / "bare.log")
    fetched = sum(1 for request in run.requests if request.path != "/robots.txt")
    if run.exit_code != 0 or fetched != len(urls):
        raise CrawlFailed(f"bare spider exited {run.exit_code} after {fetched} of {len(urls)} URLs:\n{run.log_tail}")
    return run


def _measure(command: list[str], cwd: Path, replica: ServedReplica, log_path: Path) -> CrawlRun:
    replica.clear_log()
    run = run_process(command, cwd, log_path)
    requests = replica.request_log()
    first_request = requests[0].time if requests else run.started
    return CrawlRun(
        exit_code=run.exit_code, requests=requests, process_seconds=run.seconds,
        crawl_seconds=run.ended - first_request, cpu_seconds=run.cpu_seconds,
        peak_rss_bytes=run.peak_rss_bytes, log_path=log_path,
    )


@dataclass(frozen=True)
class ProcessRun:
    exit_code: int
    started: float
    ended: float
    """``time.monotonic()`` at the start and at the exit, the clock of the replica's request log."""
    cpu_seconds: float
    peak_rss_bytes: int

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def run_process(command: list[str], cwd: Path, log_path: Path) -> ProcessRun:
    """Run ``command`` to its exit, its output to ``log_path``; killed after ``CRAWL_TIMEOUT_SECONDS``.

    The exit is awaited with a blocking ``os.wait4``, not by polling, so the wall time is exact
    (it matters for the start-up figure, a second or two), and ``wait4`` gives the process's own
    CPU time and peak RSS.
    """
    with open(log_path, "w", encoding="utf-8") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=scrapy_environment())
        deadline = threading.Timer(CRAWL_TIMEOUT_SECONDS, process.kill)
        deadline.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            deadline.cancel()
        ended = time.monotonic()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait for it
    return ProcessRun(exit_code=process.returncode, started=started, ended=ended,
                      cpu_seconds=usage.ru_utime + usage.ru_stime, peak_rss_bytes=usage.ru_maxrss * 1024)


def spread(values: list[float], digits: int = 3) -> dict:
    """The median and the range of ``values``: a figure measured on a shared machine is a range."""
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}
