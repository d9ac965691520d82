"""The crawl frontier: every URL a run decided to fetch and has not finished, and the articles known gone.

The next run starts from the frontier (the ``pending`` table), so an interrupted crawl is
continued, not forgotten, even when the listing shows only known articles. A URL that
failed in consecutive runs is chronic and backs off (see :class:`FrontierEntry`). Articles
that answered 404/410 are kept in ``gone`` and skipped until a refresh asks again.

Frontier changes wait for the next transaction of the state file (an article's, or a
flush): an article's links are durable no later than the article itself, and a kill can
only cost re-fetching a listing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from typing import NamedTuple

from sasscrawl.store.state import StateFile, set_counter

CHRONIC_AFTER_FAILURES = 2
"""A page that failed in this many consecutive runs is chronic."""
RETRY_CAP_DAYS = 30
DAY_SECONDS = 86400
RUNS = "runs"
FULL_WALK = "full_walk_due"


class FrontierEntry(NamedTuple):
    """A URL of the frontier and its record of failures.

    ``failures`` counts the consecutive runs in which fetching it failed (an entry is deleted
    once it succeeds); ``failed_at`` (Unix time) and ``failed_run`` (the run number, see
    :meth:`Frontier.begin_run`) say when it last failed. From its second failure on, a page
    is chronic and backs off: after its n-th failure it is due again after 2**(n-2) runs
    (1, 2, 4, 8, ...) or as many days, whichever comes first, the days capped at
    ``RETRY_CAP_DAYS``. Runs keep a daily schedule exact whatever the minutes a run takes; days
    keep a rare schedule (weekly, by hand) from stretching the wait past the cap.
    An entry whose failure predates this schedule (no ``failed_run``) is due.
    """

    url: str
    article_id: int | None
    failures: int
    failed_at: float | None
    failed_run: int | None

    @property
    def chronic(self) -> bool:
        return self.failures >= CHRONIC_AFTER_FAILURES

    def next_retry(self) -> tuple[int, float] | None:
        """``(run number, Unix time)``: due at that run or at that time, whichever comes first; None: due now."""
        if not self.chronic or self.failed_run is None or self.failed_at is None:
            return None
        interval = 2 ** min(self.failures - CHRONIC_AFTER_FAILURES, 32)
        return self.failed_run + interval, self.failed_at + min(interval, RETRY_CAP_DAYS) * DAY_SECONDS

    def due(self, run: int, now: float) -> bool:
        """Whether run number ``run``, at Unix time ``now``, should fetch it."""
        next_retry = self.next_retry()
        return next_retry is None or run >= next_retry[0] or now >= next_retry[1]


def restart_walk(db: sqlite3.Connection) -> None:
    """The frontier was lost with a damaged state file: the next run walks the listing to its end once."""
    set_counter(db, FULL_WALK, 1)


class Frontier:
    def __init__(self, state: StateFile):
        self.state = state
        self.db = state.db
        self.run: int | None = None
        """This run's number, once :meth:`begin_run` counted it."""

    def begin_run(self) -> int:
        """Count a crawl run and return its number (1, 2, ...): the clock chronic pages back off by."""
        with self.state.transaction():
            self.run = self.state.counter(RUNS) + 1
            self.state.set_counter(RUNS, self.run)
        return self.run

    def add_pending(self, entries: Iterable[tuple[str, int | None]]) -> None:
        """Remember URLs a run decided to fetch: ``(url, article id or None for a listing)``."""
        for entry in entries:
            self.state.wait("INSERT OR IGNORE INTO pending (url, article_id) VALUES (?, ?)", entry)

    def pending(self) -> list[FrontierEntry]:
        """The frontier, articles newest first, then listings."""
        self.state.flush()
        return [FrontierEntry(*row) for row in self.db.execute(
            "SELECT url, article_id, failures, failed_at, failed_run FROM pending "
            "ORDER BY article_id IS NULL, article_id DESC")]

    def chronic_pages(self) -> list[FrontierEntry]:
        """The frontier's chronic entries, most failures first."""
        return sorted((entry for entry in self.pending() if entry.chronic), key=lambda e: (-e.failures, e.url))

    def finish_pending(self, url: str) -> None:
        self.state.wait("DELETE FROM pending WHERE url = ?", (url,))

    def record_failure(self, url: str) -> None:
        """Fetching this frontier URL failed in this run: the next run will know it failed before, and when."""
        self.state.wait("UPDATE pending SET failures = failures + 1, failed_at = ?, failed_run = ? WHERE url = ?",
                        (time.time(), self.run, url))

    def finish_article(self, article_id: int) -> None:
        """The article is done (found unchanged, saved again as it was, or gone): off the frontier."""
        self.state.wait("DELETE FROM pending WHERE article_id = ?", (article_id,))

    def article_saved(self, article_id: int) -> None:
        """In the transaction that saves the article: off the frontier, and no longer gone."""
        self.db.execute("DELETE FROM pending WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM gone WHERE id = ?", (article_id,))

    def mark_gone(self, article_id: int, status: int) -> None:
        """An article that answered 404/410: off the frontier until a refresh asks again."""
        self.state.wait("INSERT OR REPLACE INTO gone (id, status, seen_at) VALUES (?, ?, ?)",
                        (article_id, status, time.time()))
        self.finish_article(article_id)

    def is_gone(self, article_id: int) -> bool:
        """Known gone from an earlier run (this run's marks are still waiting for a transaction)."""
        return self.db.execute("SELECT 1 FROM gone WHERE id = ?", (article_id,)).fetchone() is not None

    def gone_ids(self) -> set[int]:
        self.state.flush()
        return {row[0] for row in self.db.execute("SELECT id FROM gone")}

    @property
    def full_walk_due(self) -> bool:
        """The frontier was lost with a damaged state file: the listing must be walked to its end once."""
        return bool(self.state.counter(FULL_WALK))

    def full_walk_done(self) -> None:
        with self.state.transaction():
            self.state.set_counter(FULL_WALK, 0)
