"""Helpers for the tests of the exports: ``scrapy export`` as a subprocess, the export files of a data folder."""

from __future__ import annotations

import argparse
import logging
import resource
import subprocess
import sys
from pathlib import Path

from scrapy.settings import Settings

from harness import PROJECT_ROOT
from sasscrawl import settings as project_settings
from sasscrawl.commands.export import Command as ExportCommand


def run_export(data_dir: Path, *options: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """``scrapy export`` exactly as a user runs it, from the project folder; ``file_size_limit``: no file it writes
    may grow beyond so many bytes (RLIMIT_FSIZE: a write past it fails with EFBIG, as on a full disk)."""
    command = [sys.executable, "-m", "scrapy", "export", "-s", f"DATA_DIR={data_dir}", *options]

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                          preexec_fn=limit_file_size if file_size_limit is not None else None)


def export_in_process(data_dir: Path, *options: str) -> subprocess.CompletedProcess:
    """``scrapy export`` in this process, as ``scrapy.cmdline`` runs it (its options, the project's settings, the
    command's ``run``), for inputs that take a path to the exit a :func:`run_export` test already proves in a
    process of its own: the exit status it would end with, and its log lines (INFO and up, as it logs them) as stderr.

    Without a process's start-up (about a second of CPU each): the suite runs many such inputs. An exception the
    command lets out fails the test here, where the process would print its traceback."""
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    command = ExportCommand()
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
    return subprocess.CompletedProcess(["scrapy", "export", *options], command.exitcode, "", "\n".join(lines.lines))


class _LogLines(logging.Handler):
    """Log lines as the command's process writes them to stderr, without the time."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("[%(name)s] %(levelname)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def exported(data_dir: Path, name: str) -> Path:
    return data_dir / "exports" / name


def misfits(records: list[dict]) -> list[dict]:
    """Two records a journal can hold but the exports cannot take, with ids after ``records``' own: one with
    only some fields (a line written by hand), one whose date does not exist (the JSON Schema's pattern takes it,
    Arrow does not)."""
    last = max(record["articleId"] for record in records)
    partial = {"articleId": last + 1, "url": f"http://en.sass.cn/103002/{last + 1}.aspx", "headline": "Hand-made",
               "images": [], "contentHash": "1" * 64}
    impossible = {**records[0], "articleId": last + 2, "datePublished": "2025-02-30T09:00:00+08:00"}
    return [partial, impossible]
