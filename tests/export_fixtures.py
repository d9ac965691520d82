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
