"""The frontier: what a run decided to fetch and has not finished, and the chronic pages' back-off."""

import sqlite3
import time

import pytest

from sasscrawl.store import DAY_SECONDS, STATE_FILE, ArticleStore, FrontierEntry
from store_fixtures import frontier


def test_frontier_add_list_finish(tmp_path, stores):
    """An interrupted run continues from its frontier: articles (newest id first), then listings."""
    store = stores(tmp_path)
    store.frontier.add_pending([("http://en.sass.cn/103002/5.aspx", 5), ("http://en.sass.cn/103002/default.aspx", None),
                       ("http://en.sass.cn/103002/9.aspx", 9), ("http://en.sass.cn/103002/7.aspx", 7)])
    store.frontier.add_pending([("http://en.sass.cn/103002/9.aspx", 9)])  # already there: not duplicated
    assert frontier(store) == [("http://en.sass.cn/103002/9.aspx", 9, 0), ("http://en.sass.cn/103002/7.aspx", 7, 0),
                               ("http://en.sass.cn/103002/5.aspx", 5, 0), ("http://en.sass.cn/103002/default.aspx", None, 0)]

    store.frontier.finish_pending("http://en.sass.cn/103002/default.aspx")
    store.frontier.finish_article(7)
    assert frontier(store) == [("http://en.sass.cn/103002/9.aspx", 9, 0), ("http://en.sass.cn/103002/5.aspx", 5, 0)]


def test_frontier_persists_across_runs(tmp_path, stores):
    """The point of the frontier: the next run sees what the last one did not finish."""
    store = ArticleStore(tmp_path)
    store.frontier.add_pending([("http://en.sass.cn/103002/5.aspx", 5), ("http://en.sass.cn/103002/list_2.aspx", None)])
    store.frontier.finish_pending("http://en.sass.cn/103002/list_2.aspx")
    store.close()
    assert frontier(stores(tmp_path)) == [("http://en.sass.cn/103002/5.aspx", 5, 0)]


def test_failures_are_remembered_per_frontier_url(tmp_path, stores):
    """A URL that failed is retried next run, which then knows it failed before (and how often)."""
    store = ArticleStore(tmp_path)
    store.frontier.add_pending([("http://en.sass.cn/103002/5.aspx", 5), ("http://en.sass.cn/103002/6.aspx", 6)])
    store.frontier.record_failure("http://en.sass.cn/103002/5.aspx")
    store.close()
    store = ArticleStore(tmp_path)
    store.frontier.record_failure("http://en.sass.cn/103002/5.aspx")
    store.close()
    assert frontier(stores(tmp_path)) == [("http://en.sass.cn/103002/6.aspx", 6, 0),
                                          ("http://en.sass.cn/103002/5.aspx", 5, 2)]


def test_failures_remember_the_run_and_time_they_happened(tmp_path, stores):
    store = stores(tmp_path)
    assert (store.frontier.begin_run(), store.frontier.begin_run()) == (1, 2)
    store.frontier.add_pending([("http://en.sass.cn/103002/5.aspx", 5)])
    store.frontier.record_failure("http://en.sass.cn/103002/5.aspx")
    entry = store.frontier.pending()[0]
    assert entry.failures == 1 and entry.failed_run == 2 and abs(entry.failed_at - time.time()) < 60
    store.close()
    assert stores(tmp_path).frontier.begin_run() == 3  # the run number is kept with the journal


@pytest.mark.parametrize("failures, runs_later, days_later, due", [
    (1, 1, 0, True),    # one failure: not chronic, tried again by the next run
    (2, 1, 0, True),    # chronic from the second: retried after 1 run ...
    (3, 1, 0, False),   # ... then after 2 runs ...
    (3, 2, 0, True),
    (4, 3, 0, False),   # ... 4 runs ...
    (4, 4, 0, True),
    (4, 1, 4, True),    # ... or as many days, whichever comes first
    (4, 1, 3.9, False),
    (12, 1, 29.9, False),  # the days capped at 30
    (12, 1, 30, True),
])
def test_chronic_pages_back_off_by_runs_or_days_whichever_comes_first(failures, runs_later, days_later, due):
    failed_at = 1_700_000_000.0
    entry = FrontierEntry("http://en.sass.cn/103002/5.aspx", 5, failures, failed_at, 10)
    assert entry.chronic == (failures >= 2)
    assert entry.due(10 + runs_later, failed_at + days_later * DAY_SECONDS) is due


def test_a_failure_from_before_the_schedule_is_due():
    assert FrontierEntry("http://en.sass.cn/103002/5.aspx", 5, 7, None, None).due(1, 0.0)


def test_state_file_of_an_older_version_gains_the_failure_times(tmp_path, stores):
    """An existing frontier (url, article_id, failures) is kept, its failures due at once."""
    db = sqlite3.connect(tmp_path / STATE_FILE)
    db.executescript("""
        CREATE TABLE pending (url TEXT PRIMARY KEY, article_id INTEGER, failures INTEGER NOT NULL DEFAULT 0);
        INSERT INTO pending VALUES ('http://en.sass.cn/103002/5.aspx', 5, 3);
    """)
    db.close()
    store = stores(tmp_path)
    assert store.frontier.pending() == [FrontierEntry("http://en.sass.cn/103002/5.aspx", 5, 3, None, None)]
    assert store.frontier.pending()[0].due(store.frontier.begin_run(), time.time())
    store.frontier.record_failure("http://en.sass.cn/103002/5.aspx")
    assert store.frontier.chronic_pages()[0].failed_run == 1
