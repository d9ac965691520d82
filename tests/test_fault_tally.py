"""The fault suite's tally (fault_tally.py) and how conftest adds up the tallies of pytest-xdist's workers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from fault_tally import FaultTally
from harness import PROJECT_ROOT

TESTS = Path(__file__).parent


def test_merge_adds_counts_keeps_the_worst_fault_and_the_largest_figures(tmp_path):
    first, second = FaultTally(tmp_path / "a.json"), FaultTally(tmp_path / "b.json")
    first.fault("stall", True)
    first.fault("gzip_bomb", True)
    first.hostile_inputs["xxe"] = 3
    first.crawl(4.0, 300 * 2**20)
    first.kills, first.kills_survived = 5, 5
    second.fault("stall", False)
    second.hostile_inputs["deep_nesting"] = 2
    second.crawl(9.5, 100 * 2**20, hung=True)
    second.crawl(1.0)
    second.fuzz_inputs = 3421

    first.merge(second.figures())

    assert first.faults == {"stall": False, "gzip_bomb": True}
    assert first.hostile_inputs == {"xxe": 3, "deep_nesting": 2}
    assert (first.crawls, first.hangs, first.kills, first.fuzz_inputs) == (3, 1, 5, 3421)
    assert (first.longest_crawl_seconds, first.max_rss_mib) == (9.5, 300.0)
    assert first.json_path == tmp_path / "a.json"


WORKER_TEST = '''
import os


def test_{name}(fault_tally, fuzz_report):
    fault_tally.fault(os.environ["PYTEST_XDIST_WORKER"], True)
    fault_tally.fault("shared", {survived})
    fault_tally.crawl({seconds}, {mib} * 2**20)
    fuzz_report.append("{name}: fuzz line")
'''


def test_the_workers_tallies_and_fuzz_lines_are_added_up_on_the_controller(tmp_path):
    """Two modules on two xdist workers, each recording figures: the summary and its JSON hold both."""
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_first.py").write_text(WORKER_TEST.format(name="first", survived=True, seconds=3.0, mib=100))
    (tmp_path / "test_second.py").write_text(WORKER_TEST.format(name="second", survived=False, seconds=5.0, mib=50))
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadscope", "-p", "no:cacheprovider",
                           "--basetemp", str(tmp_path / "base"), str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join((str(PROJECT_ROOT), str(TESTS)))})
    assert done.returncode == 0, done.stdout[-3000:]
    figures = json.loads((tmp_path / "base" / "fault-summary.json").read_text("utf-8"))
    assert figures["faults"] == {"gw0": True, "gw1": True, "shared": False}  # each worker ran one module
    assert (figures["crawls"], figures["longest_crawl_seconds"], figures["max_rss_mib"]) == (2, 5.0, 100.0)
    summary = done.stdout.split("fault and attack suite", 1)[1]
    assert "faults tried / survived         3 / 2" in summary and "crawls run                      2" in summary
    assert sorted(line for line in summary.splitlines() if line.endswith(": fuzz line")) == [
        "first: fuzz line", "second: fuzz line"]
