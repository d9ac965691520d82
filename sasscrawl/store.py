"""The data folder's state: the journal of saved articles, the crawl frontier and the image index.

No Scrapy here. ``DATA_DIR/state.sqlite3`` (SQLite, WAL, ``synchronous=FULL``)
is the journal: an article counts as saved once its transaction commits, and a
SIGKILL or a power cut cannot take it back. ``DATA_DIR/articles.jsonl`` is a
snapshot of the journal, rewritten by atomic replacement (temporary file,
fsync, rename, fsync of the folder), so a reader always sees a whole file with
one valid line per article, sorted by ``articleId``. Snapshots are taken when
enough has changed since the last one (a share of the dataset, so the cost stays
linear in its size), at the end of a run, and at the start of a run when a kill
left the journal ahead of the snapshot.

The frontier (``pending``) holds every URL a run decided to fetch and has not
finished; the next run starts from it, so an interrupted crawl is continued,
not forgotten, even when the listing shows only known articles. A URL that
failed in consecutive runs is chronic and backs off (see :class:`FrontierEntry`).

A corrupt or unreadable state file is moved aside and rebuilt from
``articles.jsonl`` with an error in the log; articles saved after the last
snapshot are then fetched again by the next run, never silently lost.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

logger = logging.getLogger(__name__)

ARTICLES_FILE = "articles.jsonl"
FULL_WALK = "full_walk_due"
RUNS = "runs"
LAST_NEW_ARTICLE = "last_new_article_at"
CHRONIC_AFTER_FAILURES = 2
"""A page that failed in this many consecutive runs is chronic."""
RETRY_CAP_DAYS = 30
DAY_SECONDS = 86400
IMAGE_FACTS = ("path", "sha256", "size", "contentType", "width", "height")
MIRRORED = ("downloaded", "cached")
STATE_FILE = "state.sqlite3"
LOCK_FILE = ".lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL,
    date_published TEXT,
    failed_images INTEGER NOT NULL DEFAULT 0,
    record TEXT NOT NULL,
    saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
    url TEXT PRIMARY KEY,
    article_id INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    failed_at REAL,
    failed_run INTEGER
);
CREATE TABLE IF NOT EXISTS gone (
    id INTEGER PRIMARY KEY,
    status INTEGER NOT NULL,
    seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    url TEXT PRIMARY KEY,
    info TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class FrontierEntry(NamedTuple):
    """A URL of the frontier and its record of failures.

    ``failures`` counts the consecutive runs in which fetching it failed (an entry is deleted
    once it succeeds); ``failed_at`` (Unix time) and ``failed_run`` (the run number, see
    :meth:`ArticleStore.begin_run`) say when it last failed. From its second failure on, a page
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


class StoreError(RuntimeError):
    """The data folder cannot be used; the message says why in words a user can act on."""


class DataDirLocked(StoreError):
    pass


class ArticleStore:
    """One run's exclusive handle on ``DATA_DIR``."""

    def __init__(self, data_dir: str | os.PathLike, snapshot_share: float = 0.1, snapshot_min_changes: int = 50):
        self.data_dir = Path(data_dir)
        self.articles_path = self.data_dir / ARTICLES_FILE
        self.state_path = self.data_dir / STATE_FILE
        self.snapshot_share = snapshot_share
        self.snapshot_min_changes = snapshot_min_changes
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.data_dir / LOCK_FILE, "a+")
        except OSError as error:
            raise StoreError(f"cannot use DATA_DIR {self.data_dir}: {error.strerror or error}") from error
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise DataDirLocked(
                f"another crawl is using DATA_DIR {self.data_dir} (it holds {self.data_dir / LOCK_FILE}); "
                "wait for it to finish or use another DATA_DIR"
            ) from None
        self._unsaved: list[tuple[str, tuple]] = []
        self.run: int | None = None
        try:
            self.db = self._open_state()
            _add_failure_columns(self.db)
            self._count = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
            self._changes = self._counter("changes")
            self._snapshot_changes = self._counter("snapshot_changes")
            if self._changes != self._snapshot_changes or not self.articles_path.exists():
                self.snapshot()
        except BaseException:
            self._unlock()
            raise

    # --- opening and repair -------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.state_path, isolation_level=None, timeout=5)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        return db

    def _open_state(self) -> sqlite3.Connection:
        fresh = not self.state_path.exists()
        try:
            db = self._connect()
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                db.close()
                raise sqlite3.DatabaseError("quick_check failed")
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and _is_environment_error(error):
                raise StoreError(f"cannot open {self.state_path}: {error}") from error
            aside = self.state_path.with_name(f"{STATE_FILE}.corrupt-{time.time_ns()}")
            logger.error(
                "State file %s is corrupt (%s); moved it to %s and rebuilding from %s. "
                "Articles saved after the last snapshot will be fetched again.",
                self.state_path, error, aside.name, self.articles_path.name,
            )
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.state_path}{suffix}")
                if source.exists():
                    source.replace(f"{aside}{suffix}")
            db = self._connect()
            fresh = True
        if fresh and self.articles_path.exists():
            self._rebuild_from_snapshot(db)
        return db

    def _rebuild_from_snapshot(self, db: sqlite3.Connection) -> None:
        restored = skipped = 0
        with self.articles_path.open("rb") as lines, _transaction(db):
            for number, line in enumerate(lines, 1):
                try:
                    record = json.loads(line)
                    self._upsert(db, record)
                    restored += 1
                except (ValueError, KeyError, TypeError):
                    skipped += 1
                    logger.error("Skipping unreadable line %d of %s while rebuilding state", number, self.articles_path)
            changes = self._counter("changes", db)
            # With a skipped line the file must be rewritten; otherwise it already matches the journal.
            self._set_counter("snapshot_changes", changes - 1 if skipped else changes, db)
            # The frontier was in the lost file: the next run walks the whole listing to find what is missing.
            self._set_counter(FULL_WALK, 1, db)
        logger.warning("Rebuilt %s from %s: %d articles restored, %d lines skipped",
                       self.state_path.name, self.articles_path.name, restored, skipped)

    # --- counters ------------------------------------------------------------

    def _counter(self, key: str, db: sqlite3.Connection | None = None) -> int:
        row = (db or self.db).execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else 0

    def _set_counter(self, key: str, value: int, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- articles ------------------------------------------------------------

    @staticmethod
    def _upsert(db: sqlite3.Connection, record: dict, text: str | None = None) -> None:
        db.execute(
            "INSERT OR REPLACE INTO articles (id, content_hash, date_published, failed_images, record, saved_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (record["articleId"], record["contentHash"], record.get("datePublished"),
             sum(1 for image in record.get("images", ()) if image.get("status") == "failed"),
             text or serialise(record), time.time()),
        )

    def known_ids(self) -> set[int]:
        return {row[0] for row in self.db.execute("SELECT id FROM articles")}

    def count(self) -> int:
        return self._count

    def content_hash(self, article_id: int) -> str | None:
        row = self.db.execute("SELECT content_hash FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def record(self, article_id: int) -> dict | None:
        row = self.db.execute("SELECT record FROM articles WHERE id = ?", (article_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def is_complete(self, article_id: int, content_hash: str) -> bool:
        """Saved with this text and every image mirrored: nothing to do for it."""
        row = self.db.execute("SELECT content_hash, failed_images FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row is not None and row[0] == content_hash and row[1] == 0

    def records_with_failed_images(self) -> Iterator[dict]:
        for (record,) in self.db.execute("SELECT record FROM articles WHERE failed_images > 0 ORDER BY id"):
            yield json.loads(record)

    def newest_ids(self, limit: int | None) -> list[int]:
        """Known article ids, newest first by publication date then id; all of them when limit is None."""
        rows = self.db.execute(
            "SELECT id FROM articles ORDER BY date_published DESC, id DESC LIMIT ?", (-1 if limit is None else limit,)
        )
        return [row[0] for row in rows]

    def last_new_article_at(self) -> float | None:
        """When a run last saved a new article (Unix time); None with no article saved.

        A state file from before this was recorded gives the latest save of any kind: never
        earlier than the truth, so staleness is not reported early.
        """
        if value := self._counter(LAST_NEW_ARTICLE):
            return float(value)
        return self.db.execute("SELECT max(saved_at) FROM articles").fetchone()[0]

    def newest_date_published(self) -> datetime | None:
        """The latest ``datePublished`` of the saved articles, compared as instants; None without one."""
        newest = None
        for (text,) in self.db.execute("SELECT DISTINCT date_published FROM articles WHERE date_published IS NOT NULL"):
            with suppress(ValueError):
                when = datetime.fromisoformat(text)
                if when.tzinfo is not None and (newest is None or when > newest):
                    newest = when
        return newest

    def save(self, record: dict) -> str:
        """Journal an article and close its frontier entry.

        Returns ``new``, ``changed`` (its text changed), ``updated`` (same text, images now mirrored)
        or ``unchanged`` (this very record is saved already: nothing is written).
        """
        text = serialise(record)
        existed = self.db.execute("SELECT content_hash, record FROM articles WHERE id = ?",
                                  (record["articleId"],)).fetchone()
        if existed and existed[1] == text:
            # The very record again (an image retry that failed again): nothing to write, nothing to snapshot.
            self.finish_article(record["articleId"])
            return "unchanged"
        with self._transaction():
            self._upsert(self.db, record, text)
            self.db.execute("DELETE FROM pending WHERE article_id = ?", (record["articleId"],))
            self.db.execute("DELETE FROM gone WHERE id = ?", (record["articleId"],))
            self.db.executemany("INSERT OR REPLACE INTO images (url, info) VALUES (?, ?)", [
                (image["url"], json.dumps({name: image.get(name) for name in IMAGE_FACTS}))
                for image in record.get("images", ()) if image.get("status") in MIRRORED
            ])
            self._set_counter("changes", self._changes + 1)
            if not existed:
                self._set_counter(LAST_NEW_ARTICLE, int(time.time()))
        self._changes += 1
        self._count += not existed
        self.snapshot_if_due()
        if not existed:
            return "new"
        return "updated" if existed[0] == record["contentHash"] else "changed"

    # --- frontier --------------------------------------------------------------

    def add_pending(self, entries: Iterable[tuple[str, int | None]]) -> None:
        """Remember URLs a run decided to fetch: ``(url, article id or None for a listing)``.

        Frontier changes ride on the next article's transaction (or the close): one
        durable commit per saved article. An article's links are therefore durable
        no later than the article itself; a kill can only cost re-fetching a listing.
        """
        self._unsaved += [("INSERT OR IGNORE INTO pending (url, article_id) VALUES (?, ?)", entry) for entry in entries]

    def pending(self) -> list[FrontierEntry]:
        """The frontier, articles newest first, then listings."""
        self.flush()
        return [FrontierEntry(*row) for row in self.db.execute(
            "SELECT url, article_id, failures, failed_at, failed_run FROM pending "
            "ORDER BY article_id IS NULL, article_id DESC")]

    def chronic_pages(self) -> list[FrontierEntry]:
        """The frontier's chronic entries, most failures first."""
        return sorted((entry for entry in self.pending() if entry.chronic), key=lambda e: (-e.failures, e.url))

    def finish_pending(self, url: str) -> None:
        self._unsaved.append(("DELETE FROM pending WHERE url = ?", (url,)))

    def record_failure(self, url: str) -> None:
        """Fetching this frontier URL failed in this run: the next run will know it failed before, and when."""
        self._unsaved.append(("UPDATE pending SET failures = failures + 1, failed_at = ?, failed_run = ? WHERE url = ?",
                              (time.time(), self.run, url)))

    def begin_run(self) -> int:
        """Count a crawl run and return its number (1, 2, ...): the clock chronic pages back off by."""
        with self._transaction():
            self.run = self._counter(RUNS) + 1
            self._set_counter(RUNS, self.run)
        return self.run

    def finish_article(self, article_id: int) -> None:
        """The article is done (found unchanged, saved again as it was, or gone): off the frontier."""
        self._unsaved.append(("DELETE FROM pending WHERE article_id = ?", (article_id,)))

    def mark_gone(self, article_id: int, status: int) -> None:
        """An article that answered 404/410: off the frontier until a refresh asks again."""
        self._unsaved.append(("INSERT OR REPLACE INTO gone (id, status, seen_at) VALUES (?, ?, ?)",
                              (article_id, status, time.time())))
        self.finish_article(article_id)

    def flush(self) -> None:
        """Make the frontier changes so far durable now."""
        with self._transaction():
            pass

    @contextmanager
    def _transaction(self):
        """A transaction that first applies the frontier changes waiting for one."""
        with _transaction(self.db):
            for sql, parameters in self._unsaved:
                self.db.execute(sql, parameters)
            yield
        self._unsaved.clear()

    @property
    def full_walk_due(self) -> bool:
        """The frontier was lost with a damaged state file: the listing must be walked to its end once."""
        return bool(self._counter(FULL_WALK))

    def full_walk_done(self) -> None:
        with self._transaction():
            self._set_counter(FULL_WALK, 0)

    def gone_ids(self) -> set[int]:
        self.flush()
        return {row[0] for row in self.db.execute("SELECT id FROM gone")}

    # --- images ----------------------------------------------------------------

    def image(self, url: str) -> dict | None:
        row = self.db.execute("SELECT info FROM images WHERE url = ?", (url,)).fetchone()
        return json.loads(row[0]) if row else None


    # --- snapshot --------------------------------------------------------------

    def snapshot_if_due(self) -> None:
        if self._changes - self._snapshot_changes >= max(self.snapshot_min_changes, self.snapshot_share * self._count):
            self.snapshot()

    def snapshot(self) -> None:
        """Rewrite ``articles.jsonl`` from the journal by atomic replacement."""
        changes = self._changes
        temporary = self.articles_path.with_name(f".{ARTICLES_FILE}.tmp")
        try:
            with temporary.open("wb") as out:
                for (record,) in self.db.execute("SELECT record FROM articles ORDER BY id"):
                    out.write(record.encode("utf-8") + b"\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.articles_path)
            _fsync_dir(self.data_dir)
        except OSError as error:
            with suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise StoreError(
                f"cannot write {self.articles_path} ({error.strerror or error}); the previous file is untouched "
                f"and every saved article is kept in {self.state_path.name}"
            ) from error
        with self._transaction():
            self._set_counter("snapshot_changes", changes)
        self._snapshot_changes = changes

    def records(self) -> Iterator[dict]:
        for (record,) in self.db.execute("SELECT record FROM articles ORDER BY id"):
            yield json.loads(record)

    def close(self, snapshot: bool = True) -> None:
        try:
            self.flush()
            if snapshot and self._changes != self._snapshot_changes:
                self.snapshot()
        finally:
            self.db.close()
            self._unlock()

    def _unlock(self) -> None:
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()


def serialise(record: dict) -> str:
    """A record as its line in ``articles.jsonl``: UTF-8 text, no \\u escapes, no spaces."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


@contextmanager
def _transaction(db: sqlite3.Connection):
    """One atomic, durable change; a failing disk becomes a :class:`StoreError`."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.OperationalError as error:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise StoreError(f"cannot write the state journal: {error}") from error


def _add_failure_columns(db: sqlite3.Connection) -> None:
    """A state file from before chronic pages backed off gains the frontier's failure times."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(pending)")}
    missing = [(column, kind) for column, kind in (("failed_at", "REAL"), ("failed_run", "INTEGER"))
               if column not in columns]
    if missing:
        with _transaction(db):
            for column, kind in missing:
                db.execute(f"ALTER TABLE pending ADD COLUMN {column} {kind}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_environment_error(error: sqlite3.OperationalError) -> bool:
    """Errors of the disk or permissions, which rebuilding would not cure."""
    text = str(error).lower()
    return any(words in text for words in ("unable to open", "readonly", "read-only", "disk", "full", "locked"))
