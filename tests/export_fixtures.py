"""Helpers for the tests of the exports: ``scrapy export`` as a subprocess, the export files of a data folder."""

from __future__ import annotations

import functools
import resource
import subprocess
import sys
from pathlib import Path

from harness import PROJECT_ROOT, command_in_process
from sasscrawl.commands.export import Command as ExportCommand


def run_export(data_dir: Path, *options: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """``scrapy export`` exactly as a user runs it, from the project folder; ``file_size_limit``: no file it writes
    may grow beyond so many bytes (RLIMIT_FSIZE: a write past it fails with EFBIG, as on a full disk)."""
    command = [sys.executable, "-m", "scrapy", "export", "-s", f"DATA_DIR={data_dir}", *options]

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
                          preexec_fn=limit_file_size if file_size_limit is not None else None)


export_in_process = functools.partial(command_in_process, ExportCommand)
"""``scrapy export`` in this process (:func:`harness.command_in_process`)."""


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
