"""Run ``scrapy crawl commentary`` and the bare spider as subprocesses, as a user would, and measure them.

Both face the same server with the same Scrapy settings (``shared_settings``: politeness lifted,
the same concurrency, robots.txt obeyed), so the only difference between them is what the project
does with a response. The server's request log says what each fetched and when; ``os.wait4``
gives each crawl's own peak RSS.
"""

from __future__ import annotations

import os
import subprocess
import sys
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
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                   env=scrapy_environment())
        deadline = started + CRAWL_TIMEOUT_SECONDS
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
    ended = time.monotonic()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait for it
    requests = replica.request_log()
    first_request = requests[0].time if requests else started
    return CrawlRun(
        exit_code=process.returncode, requests=requests, process_seconds=ended - started,
        crawl_seconds=ended - first_request, cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=usage.ru_maxrss * 1024, log_path=log_path,
    )
