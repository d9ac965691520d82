"""The garbage collector's tuning for a crawl (extensions/garbage_collection.py)."""

import gc

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
