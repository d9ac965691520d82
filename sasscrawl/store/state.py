"""The state file, ``DATA_DIR/state.sqlite3``: its tables, its transactions, its counters.

SQLite in WAL mode: a change counts once its transaction commits, and a SIGKILL cannot
take it back (the log is written before the commit returns). Against a power cut or an
operating system crash the log is flushed to the disk by a checkpoint
(:meth:`StateFile.make_durable`) once ``DURABLE_EVERY_SECONDS`` have passed since the last
one, at a save or on the crawl's timer (so within about a second of a save), before every
snapshot and when the folder closes, not by an fsync per commit (``synchronous=NORMAL``): a
power cut can take back the last second's saves, never a saved article a snapshot holds, and
SQLite keeps the file consistent. Their frontier entries go back with them, so the
next run fetches those articles again. The journal (with the
superseded versions), the frontier and the image index are tables of this one file, so
saving an article, keeping the version it replaces, closing its frontier entry and
indexing its images is one transaction. Changes that need no
durability of their own (the frontier's) wait for the next transaction
(:meth:`StateFile.wait`), so a run costs one commit per saved article, and an fsync
only every ``DURABLE_EVERY_SECONDS``: one per article cost more than the parsing on a
loaded disk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
import time
from pathlib import Path

from sasscrawl.store.errors import StoreError

DURABLE_EVERY_SECONDS = 0.5
"""How often the journal is flushed to the disk, at most: at a save when this much time has passed since the
last flush, and a crawl's timer (:class:`sasscrawl.extensions.data_folder.RunDataFolder`) checks as often."""

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS versions (
    seq INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    date_downloaded TEXT,
    line TEXT NOT NULL,
    UNIQUE (article_id, content_hash, date_downloaded)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """The state file at ``path`` (WAL, ``synchronous=NORMAL``: see the module), its tables made if missing."""
    db = sqlite3.connect(path, isolation_level=None, timeout=5)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One atomic change, kept through a kill; a failing disk becomes a :class:`StoreError`."""
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


def counter(db: sqlite3.Connection, key: str) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else 0


def set_counter(db: sqlite3.Connection, key: str, value: int) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def add_failure_columns(db: sqlite3.Connection) -> None:
    """A state file from before chronic pages backed off gains the frontier's failure times."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(pending)")}
    missing = [(column, kind) for column, kind in (("failed_at", "REAL"), ("failed_run", "INTEGER"))
               if column not in columns]
    if missing:
        with transaction(db):
            for column, kind in missing:
                db.execute(f"ALTER TABLE pending ADD COLUMN {column} {kind}")


class StateFile:
    """The open state file: one connection, shared by the journal, the frontier and the image index."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self._waiting: list[tuple[str, tuple]] = []
        self._durable_at = time.monotonic()

    def wait(self, sql: str, parameters: tuple) -> None:
        """A change made durable by the next transaction (or :meth:`flush`), not one of its own."""
        self._waiting.append((sql, parameters))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A transaction that first applies the changes waiting for one."""
        with transaction(self.db):
            for sql, parameters in self._waiting:
                self.db.execute(sql, parameters)
            yield self.db
        self._waiting.clear()

    def flush(self) -> None:
        """Commit the waiting changes now."""
        with self.transaction():
            pass

    def make_durable(self) -> None:
        """Everything committed so far survives a power cut too: a checkpoint, which flushes the log to the
        disk first (``synchronous=NORMAL`` in WAL mode), then the database file."""
        try:
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as error:
            raise StoreError(f"cannot write the state journal: {error}") from error
        self._durable_at = time.monotonic()

    def durable_if_due(self) -> None:
        """:meth:`make_durable` when ``DURABLE_EVERY_SECONDS`` passed since it last was."""
        if time.monotonic() - self._durable_at >= DURABLE_EVERY_SECONDS:
            self.make_durable()

    def counter(self, key: str) -> int:
        return counter(self.db, key)

    def set_counter(self, key: str, value: int) -> None:
        set_counter(self.db, key, value)

    def close(self) -> None:
        self.db.close()
