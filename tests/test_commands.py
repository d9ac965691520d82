"""What the project's commands share (sasscrawl/commands/__init__.py)."""

import re
import subprocess
import sys

from harness import PROJECT_ROOT

REPORT_AT_EXIT = """
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))  # registered first: runs last
from scrapy.cmdline import execute
execute(["scrapy", "version"])
"""


def test_a_command_freezes_the_heap_for_the_interpreter_s_shutdown():
    """Any project command (Scrapy imports the package for each): its exit does not walk the heap."""
    finished = subprocess.run([sys.executable, "-c", REPORT_AT_EXIT], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    frozen = re.search(r"^frozen at exit: (\d+)$", finished.stdout, re.MULTILINE)
    assert frozen and int(frozen[1]) > 10_000, finished.stdout
