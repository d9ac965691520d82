"""Test harness: run the real ``scrapy crawl`` as a subprocess and read what it left behind."""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import logging
import os
import posixpath
import pty
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from twisted.python.failure import Failure

from sasscrawl import settings as project_settings
from sasscrawl.health import run_exit_status
from sasscrawl.spiders.commentary import CommentarySpider

PROJECT_ROOT = Path(__file__).resolve().parent.parent

PROJECT_SETTINGS = {name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}
"""sasscrawl/settings.py as a dict, for a crawler built in the test's own process (``scrapy.utils.test.get_crawler``)."""

ARCHIVE_OPERATOR = "SASS archive team <archive@example.org>"
"""The WARC_OPERATOR of the session's ``archive_settings_crawl`` (tests/conftest.py), which its tests look for."""

FAST_SETTINGS = {
    # Politeness off against our own replica: the defaults are checked separately.
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "PROGRESS_INTERVAL": "0",
    "LOG_LEVEL": "INFO",
}


@dataclass
class StartInProcess:
    """What ``scrapy crawl`` decides before its first request, as :func:`start_in_process` found it."""

    exit_status: int
    """The status the command would exit with, from the stats (``health.run_exit_status``)."""
    errors: list[str]
    """The ERROR lines logged."""
    requests: list
    """What the spider's ``start()`` yielded."""


def start_in_process(caplog, settings: dict, **arguments) -> StartInProcess:
    """The spider ``scrapy crawl`` makes for ``-s`` ``settings`` (over the project's) and ``-a`` ``arguments``, with
    the crawler's extensions, and its ``start()`` run to its end in this process, for inputs that take a path to an exit
    a test already proves in a run of its own. A traceback logged fails the test: a refusal is one line."""
    crawler = get_crawler(CommentarySpider, {**PROJECT_SETTINGS, **settings})
    spider = CommentarySpider.from_crawler(crawler, **arguments)
    crawler._apply_settings()  # the extensions the command makes, the run's data folder among them

    async def started():
        return [request async for request in spider.start()]

    caplog.clear()
    with caplog.at_level(logging.INFO):
        requests = asyncio.run(started())
    assert not any(record.exc_info for record in caplog.records)
    return StartInProcess(run_exit_status(crawler.stats.get_stats(), crawler.settings),
                          [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR],
                          requests)


def opened_in_process(crawler, spider, caplog) -> list:
    """Send ``spider_opened`` as the engine does, in this process: the exceptions its receivers raised (a refusal
    is a ``CloseSpider``, which the engine would not log). A traceback logged fails the test: a refusal is one line."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        opened = crawler.signals.send_catch_log(signals.spider_opened, spider=spider, dont_log=CloseSpider)
    assert not any(record.exc_info for record in caplog.records)
    return [result.value for _, result in opened if isinstance(result, Failure)]


def command_in_process(command_class, data_dir: Path, *options: str) -> subprocess.CompletedProcess:
    """A project command (``scrapy export``, ``reextract``, ``render``, ``wacz``) run in this process as
    ``scrapy.cmdline`` runs it (its options parsed, the project's settings, its ``run``), for inputs that take a path
    to an exit a test already proves in a process of its own: the exit status it would end with, and its log lines
    (INFO and up, as it logs them) as stderr.

    Without a process's start-up (about a second of CPU each): the suite runs many such inputs. An exception the
    command lets out fails the test here, where the process would print its traceback."""
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    command = command_class()
    command.settings = settings
    parser = argparse.ArgumentParser(conflict_handler="resolve")
    command.add_options(parser)
    opts, args = parser.parse_args(["-s", f"DATA_DIR={data_dir}", *options]), []
    command.process_options(args, opts)
    lines = _LogLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(lines)
    root.setLevel(logging.INFO)
    try:
        command.run(args, opts)
    finally:
        root.removeHandler(lines)
        root.setLevel(level)
    name = command_class.__module__.rsplit(".", 1)[-1]
    return subprocess.CompletedProcess(["scrapy", name, *options], command.exitcode, "", "\n".join(lines.lines))


class _LogLines(logging.Handler):
    """Log lines as the command's process writes them to stderr, without the time."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("[%(name)s] %(levelname)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@dataclass
class CrawlResult:
    returncode: int
    log: str
    data_dir: Path

    @cached_property
    def stats(self) -> dict:
        """Scrapy's final stats dump, parsed from the log."""
        dump = self.log.rsplit("Dumping Scrapy stats:", 1)[1]
        text = dump[dump.index("{"): dump.index("}") + 1]
        text = re.sub(r"datetime\.datetime\([^)]*\)", "None", text)
        return ast.literal_eval(text)

    def stat(self, name: str) -> int:
        return self.stats.get(name, 0)

    @property
    def records(self) -> list[dict]:
        path = self.data_dir / "articles.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]

    @property
    def summary(self) -> dict:
        runs = sorted((self.data_dir / "runs").glob("*.json"))
        return json.loads(runs[-1].read_text("utf-8"))


@dataclass
class ServedCrawl:
    """A crawl shared by several tests (a session fixture, see conftest), its replica still served.

    Its tests read the results and never change them: a test that runs again on the data
    folder or damages it works on :meth:`copy_data_dir`, against the same server.
    """

    site: object
    server: object
    result: CrawlResult
    requests: list
    """What the replica served during the crawl; ``server.requests`` goes on growing with later runs."""

    def copy_data_dir(self, destination: Path) -> Path:
        shutil.copytree(self.result.data_dir, destination, symlinks=True)
        return destination


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_a_lenient_server_reads(path: str) -> str:
    """The path a server serves that decodes escapes (twice, too), takes ``\\`` for ``/`` and ``..;x`` for ``..``.

    IIS and servlet containers are such servers: scope and robots.txt must be judged on this reading.
    """
    path = path.partition("?")[0]
    for _ in range(3):
        path = unquote(path)
    segments = [segment.partition(";")[0] if segment.partition(";")[0] in (".", "..") else segment
                for segment in path.replace("\\", "/").split("/")]
    return posixpath.normpath("/".join(segments))


def crawl_command(start_url: str, data_dir: Path, *spider_args: str, settings: dict | None = None) -> list[str]:
    """The ``scrapy crawl commentary`` command line, with FAST_SETTINGS under ``settings``."""
    command = [sys.executable, "-m", "scrapy", "crawl", "commentary", "-a", f"start_url={start_url}",
               "-s", f"DATA_DIR={data_dir}"]
    for argument in spider_args:
        command += ["-a", argument]
    for name, value in {**FAST_SETTINGS, **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    return command


def run_crawl(start_url: str, data_dir: Path, *spider_args: str, settings: dict | None = None,
              timeout: float = 120, env: dict | None = None) -> CrawlResult:
    """Run ``scrapy crawl commentary`` exactly as a user would, from the project folder."""
    command = crawl_command(start_url, data_dir, *spider_args, settings=settings)
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    return CrawlResult(completed.returncode, completed.stderr + completed.stdout, data_dir)


def run_on_terminal(start_url: str, data_dir: Path, *spider_args: str, settings: dict | None = None) -> CrawlResult:
    """``scrapy crawl commentary`` with a pseudo-terminal as its stdout and stderr, so its progress is the live bar:
    its log is everything it wrote there, the bar's redrawings among the log lines (the terminal ends lines in
    ``\\r\\n``)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(crawl_command(start_url, data_dir, *spider_args, settings=settings), cwd=PROJECT_ROOT,
                               stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(controller)
    return CrawlResult(process.returncode, output.decode("utf-8", "replace"), data_dir)


def signal_after(process: subprocess.Popen, marker: str, count: int, sig: int, ignore: str | None = None) -> int:
    """Send ``sig`` to a crawl once its log has shown ``count`` lines with ``marker``, then wait for it to end.

    Synchronised on the crawl's own log (stderr piped as text), never on time. Returns how many such
    lines it showed: fewer than ``count`` when the crawl ended by itself first.
    """
    seen = 0
    try:
        for line in process.stderr:
            if marker in line and (ignore is None or ignore not in line):
                seen += 1
                if seen == count:
                    process.send_signal(sig)
                    break
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return seen
