"""The default test suite: wall time, CPU time and the tests run (issue 13's "under 120 s" figure).

The suite runs as a user runs it, ``python -m pytest`` from the project root with the options
``pyproject.toml`` gives (four xdist workers, ``-m 'not slow'``). The CPU time is the suite's and its
children's (the subprocess crawls and servers), read from the operating system's accounting of
the pytest process once it has ended: wall time near CPU time ÷ cores means the cores were kept busy.
It runs ``repeats`` times in a row; the figures are the medians, with their spread (the machine's
speed moves by several seconds from one run to the next).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.crawls import PROJECT_ROOT, spread

OUTCOMES = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


def measure(scratch: Path, repeats: int) -> dict:
    runs = [_run(scratch) for _ in range(repeats)]
    spreads = {figure: spread([run[figure] for run in runs], 1) for figure in ("seconds", "cpu_seconds")}
    return {
        **{figure: figures["median"] for figure, figures in spreads.items()},
        "spread": spreads,
        "runs": runs,
        "outcomes": runs[-1]["outcomes"],
    }


def _run(scratch: Path) -> dict:
    log_path = scratch / "suite.log"
    before = os.times()
    started = time.monotonic()
    with open(log_path, "wb") as log:
        completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                                   cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - started
    after = os.times()
    summary = log_path.read_text("utf-8", errors="replace").splitlines()[-1]
    if completed.returncode != 0:
        raise SystemExit(f"the test suite failed (exit {completed.returncode}): {summary}; not timing it")
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round((after.children_user - before.children_user)
                             + (after.children_system - before.children_system), 1),
        "outcomes": {outcome: int(count) for count, outcome in OUTCOMES.findall(summary)},
    }
