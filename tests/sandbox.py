"""Run the real crawl in a sandbox and account for what it wrote, fetched, leaked, and cost.

The crawl's working directory, HOME and TMPDIR are empty folders of the sandbox, and DATA_DIR
is another one: after the crawl, a file anywhere in the sandbox but DATA_DIR was written where
it must not be. Hostile image URLs aim at the shared temporary folder and the project folder by
name (``HOSTILE_IMAGE_MARKER``), so those are searched too. Logs are kept outside the sandbox.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness import PROJECT_ROOT, CrawlResult, crawl_command
from sasscrawl_replica.faults import HOSTILE_IMAGE_MARKER


@dataclass
class SandboxedCrawl(CrawlResult):
    seconds: float = 0.0
    max_rss_bytes: int = 0
    hung: bool = False
    """Killed for outliving its timeout."""


class Sandbox:
    def __init__(self, root: Path):
        self.root = root
        self.data_dir = root / "data"
        self.cwd, self.home, self.tmp = root / "cwd", root / "home", root / "tmp"
        for folder in (self.cwd, self.home, self.tmp):
            folder.mkdir(parents=True)
        self.logs = root.parent / f"{root.name}-logs"
        self.logs.mkdir()

    def environment(self) -> dict[str, str]:
        # Outside the project folder Scrapy finds its settings through SCRAPY_SETTINGS_MODULE, as scrapy.cfg says,
        # and the package through PYTHONPATH: the code under test, whichever checkout the venv was installed from.
        return {**os.environ, "HOME": str(self.home), "TMPDIR": str(self.tmp), "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "SCRAPY_SETTINGS_MODULE": "sasscrawl.settings",
                "PYTHONPATH": os.pathsep.join(filter(None, (str(PROJECT_ROOT), os.environ.get("PYTHONPATH"))))}

    def command(self, start_url: str, *spider_args: str, settings: dict | None = None) -> list[str]:
        return crawl_command(start_url, self.data_dir, *spider_args, settings=settings)

    def crawl(self, start_url: str, *spider_args: str, settings: dict | None = None,
              timeout: float = 120) -> SandboxedCrawl:
        """Run a crawl to its end, or kill it once it outlives ``timeout`` (``hung``). Its rusage gives its peak memory.

        A hung crawl is returned, not failed here, so that the fault suite can count it before it fails.
        """
        log_path = self.logs / f"crawl-{len(list(self.logs.iterdir())) + 1}.log"
        timed_out = threading.Event()
        with log_path.open("w+b") as log:
            process = subprocess.Popen(self.command(start_url, *spider_args, settings=settings), cwd=self.cwd,
                                       stdout=log, stderr=subprocess.STDOUT, env=self.environment())

            def kill_when_late() -> None:
                timed_out.set()
                process.kill()

            watchdog = threading.Timer(timeout, kill_when_late)
            started = time.monotonic()
            watchdog.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)
            finally:
                watchdog.cancel()
            seconds = time.monotonic() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            log.seek(0)
            text = log.read().decode("utf-8", "replace")
        return SandboxedCrawl(process.returncode, text, self.data_dir, seconds=seconds,
                              max_rss_bytes=usage.ru_maxrss * 1024, hung=timed_out.is_set())

    def start(self, start_url: str, *spider_args: str, settings: dict | None = None) -> subprocess.Popen:
        """Start a crawl whose log (stderr) the caller reads line by line, to stop it at a moment of its own."""
        return subprocess.Popen(self.command(start_url, *spider_args, settings=settings), cwd=self.cwd,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
                                env=self.environment())

    def files_outside_data_dir(self) -> list[Path]:
        """Files the crawl left anywhere but DATA_DIR: in the sandbox, or named by a hostile URL elsewhere."""
        stray = [path for path in self.root.rglob("*") if path.is_file() and not path.is_relative_to(self.data_dir)]
        for folder in (Path(tempfile.gettempdir()), PROJECT_ROOT, self.root.parent):
            stray += folder.glob(f"*{HOSTILE_IMAGE_MARKER}*")
        return stray

    def files_containing(self, secret: bytes) -> list[Path]:
        """Files in the sandbox, DATA_DIR included, whose bytes contain ``secret``."""
        return [path for path in self.root.rglob("*") if path.is_file() and secret in path.read_bytes()]
