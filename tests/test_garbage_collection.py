"""The garbage collector's tuning for a crawl (extensions/garbage_collection.py)."""

import gc
import subprocess
import sys

from scrapy import signals
from scrapy.utils.test import get_crawler

from sasscrawl.extensions.garbage_collection import YOUNG_GENERATION_THRESHOLD, GarbageCollectionTuning


def test_garbage_collection_is_tuned_once_the_engine_starts():
    thresholds = gc.get_threshold()
    crawler = get_crawler(settings_dict={"EXTENSIONS": {GarbageCollectionTuning: 0}})
    GarbageCollectionTuning.from_crawler(crawler)
    try:
        assert gc.get_threshold() == thresholds  # nothing changes before the crawl starts
        crawler.signals.send_catch_log(signals.engine_started)
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
        assert gc.get_freeze_count() > 0
        crawler.signals.send_catch_log(signals.engine_stopped)
        assert gc.get_threshold() == thresholds and gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


FROZEN_AT_EXIT = """
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))  # registered first: runs last
from scrapy import signals
from scrapy.utils.test import get_crawler
from sasscrawl.extensions.garbage_collection import GarbageCollectionTuning
for run in range(2):  # a process that ran two crawls
    crawler = get_crawler(settings_dict={"EXTENSIONS": {GarbageCollectionTuning: 0}})
    GarbageCollectionTuning.from_crawler(crawler)
    crawler.signals.send_catch_log(signals.engine_started)
    crawler.signals.send_catch_log(signals.engine_stopped)
print("frozen after the crawls:", gc.get_freeze_count())
"""


def test_the_heap_is_frozen_when_the_process_exits(tmp_path):
    """The interpreter's shutdown collections are spared the heap; until exit, nothing stays frozen."""
    script = tmp_path / "crawls.py"
    script.write_text(FROZEN_AT_EXIT)
    finished = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=60, check=True)
    lines = finished.stdout.splitlines()
    assert lines[0] == "frozen after the crawls: 0", finished.stdout
    assert lines[1].startswith("frozen at exit: ") and int(lines[1].split(": ")[1]) > 10_000, finished.stdout
