"""Helpers for the tests of the exports: ``scrapy export`` as a subprocess, the export files of a data folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness import PROJECT_ROOT


def run_export(data_dir: Path, *options: str) -> subprocess.CompletedProcess:
    """``scrapy export`` exactly as a user runs it, from the project folder."""
    command = [sys.executable, "-m", "scrapy", "export", "-s", f"DATA_DIR={data_dir}", *options]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


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
