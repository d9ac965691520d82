"""The data folder's state: the journal of saved articles, the crawl frontier and the image index.

No Scrapy here. ``DATA_DIR/state.sqlite3`` (SQLite, WAL, ``synchronous=FULL``)
is the journal: an article counts as saved once its transaction commits, and a
SIGKILL or a power cut cannot take it back. ``DATA_DIR/articles.jsonl`` is a
snapshot of the journal, rewritten by atomic replacement (:mod:`sasscrawl.files`:
temporary file, fsync, rename, fsync of the folder), so a reader always sees a
whole file with one valid line per article, sorted by ``articleId``. Snapshots
are taken when enough has changed since the last one (a share of the dataset, so
the cost stays linear in its size), at the end of a run, and at the start of a
run when a kill left the journal ahead of the snapshot.

A data folder whose ``runs/``, ``images/``, ``warc/`` or ``snapshots/`` (or lock
or state file) is a symbolic link is refused before anything is written: what a
run wrote there would land outside DATA_DIR.

The frontier (``pending``) holds every URL a run decided to fetch and has not
finished; the next run starts from it, so an interrupted crawl is continued,
not forgotten, even when the listing shows only known articles. A URL that
failed in consecutive runs is chronic and backs off (see :class:`FrontierEntry`).

A missing state file is rebuilt from ``articles.jsonl``; a corrupt or
unreadable one is first moved aside (``state.sqlite3.corrupt-<ns>``) with an
error in the log, and so is a journal holding no article beside a non-empty
``articles.jsonl`` (``state.sqlite3.empty-<ns>``: what a rebuild cut short by an
older version left). Articles saved after the last snapshot are then fetched
again by the next run, never silently lost.

A rebuild cannot lose data. It writes ``state.sqlite3.rebuild`` and renames it
into place only when complete (fsync of the file, then of the folder): a kill
at any moment leaves either no journal, and the next open discards the side
file and starts over, or a whole one. A line that cannot be restored (not a
JSON object; ``articleId`` not an integer within SQLite's 64 bits;
``contentHash`` not a string; anything the insert refuses; a blank line; an
article that a later line repeats, the later one being kept) is skipped, named
in the log with its line number and reason, and counted (``rebuild_skipped``).
The snapshot taken right after such a rebuild rewrites ``articles.jsonl``
without those lines, so the file as it was is kept first, hard-linked as
``articles.jsonl.before-rebuild-<its mtime in ns>``, for a person to mend and
never removed by the crawl.
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

from sasscrawl import files
from sasscrawl.layout import WARC_FOLDER
from sasscrawl.mirror import MIRROR_FOLDER
from sasscrawl.snapshots import SNAPSHOT_FOLDER
from sasscrawl.mirror import image_key

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
STATE_SUFFIXES = ("", "-wal", "-shm")
REBUILD_FILE = f"{STATE_FILE}.rebuild"
SQLITE_INTEGERS = (-(2**63), 2**63 - 1)
LOCK_FILE = ".lock"
RUNS_FOLDER = "runs"
LINKS_REFUSED = (MIRROR_FOLDER, RUNS_FOLDER, WARC_FOLDER, SNAPSHOT_FOLDER, LOCK_FILE,
                 *(STATE_FILE + suffix for suffix in STATE_SUFFIXES))
"""What a run refuses to start with as a symbolic link: what it wrote there would land outside DATA_DIR."""
OWN_FOLDERS = (None, RUNS_FOLDER, WARC_FOLDER, SNAPSHOT_FOLDER)
"""DATA_DIR and the folders where sasscrawl names every file: a kill's leftover temporary files are cleared there."""

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
            files.refuse_links(self.data_dir, LINKS_REFUSED)
            # Not through a link planted since: it would make the crawl create a file elsewhere.
            lock = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
            self._lock = os.fdopen(lock, "r+")
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
        self.rebuild_skipped = 0
        """Lines of ``articles.jsonl`` that a rebuild of the journal at this open could not restore."""
        self.run: int | None = None
        try:
            self._remove_leftovers()
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

    def _remove_leftovers(self) -> None:
        """Clear the temporary files a killed run left; this run holds the lock, so none is being written."""
        try:
            for folder in OWN_FOLDERS:
                files.remove_leftovers(self.data_dir, folder)
        except OSError as error:
            raise StoreError(f"cannot use DATA_DIR {self.data_dir}: {error.strerror or error}") from error

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.state_path, isolation_level=None, timeout=5)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        return db

    def _open_state(self) -> sqlite3.Connection:
        """The journal; made anew (restored from ``articles.jsonl`` if there is one) when missing or damaged."""
        self._discard_cut_rebuild()
        if self.state_path.exists():
            try:
                db = self._connect()
                if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    db.close()
                    raise sqlite3.DatabaseError("quick_check failed")
            except sqlite3.DatabaseError as error:
                if isinstance(error, sqlite3.OperationalError) and _is_environment_error(error):
                    raise StoreError(f"cannot open {self.state_path}: {error}") from error
                aside = self._move_state_aside("corrupt")
                logger.error(
                    "State file %s is corrupt (%s); moved it to %s and rebuilding from %s. "
                    "Articles saved after the last snapshot will be fetched again.",
                    self.state_path, error, aside, self.articles_path.name,
                )
            else:
                if db.execute("SELECT 1 FROM articles LIMIT 1").fetchone() or not self._snapshot_has_lines():
                    return db
                db.close()
                aside = self._move_state_aside("empty")
                logger.error("State file %s holds no article but %s does (a rebuild cut short by an older "
                             "version); moved it to %s and rebuilding", self.state_path, self.articles_path.name, aside)
        elif aside := self._move_state_aside("orphan"):
            logger.warning("Moved %s-wal/-shm, left without their state file, aside to %s", self.state_path, aside)
        self._build_state()
        return self._connect()

    def _snapshot_has_lines(self) -> bool:
        return self.articles_path.exists() and self.articles_path.stat().st_size > 0

    def _move_state_aside(self, why: str) -> str | None:
        """Rename the state file and its -wal/-shm companions to ``state.sqlite3.<why>-<ns>``; the name, if any moved."""
        aside = self.state_path.with_name(f"{STATE_FILE}.{why}-{time.time_ns()}")
        moved = False
        for suffix in STATE_SUFFIXES:
            source = Path(f"{self.state_path}{suffix}")
            if source.exists():
                source.replace(f"{aside}{suffix}")
                moved = True
        return aside.name if moved else None

    def _discard_cut_rebuild(self) -> None:
        for leftover in sorted(self.data_dir.glob(f"{REBUILD_FILE}*")):
            logger.warning("Discarding %s, left by a rebuild of the state file that was cut short", leftover)
            leftover.unlink()

    def _build_state(self) -> None:
        """Make the journal in a side file, restored from ``articles.jsonl`` if there is one, then rename it into place.

        A kill at any moment leaves either no journal, and the next open starts over, or a complete one.
        The side file needs no durability of its own until its one fsync before the rename.
        """
        side = self.data_dir / REBUILD_FILE
        restored = kept = None
        try:
            db = sqlite3.connect(side, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=MEMORY")
                db.execute("PRAGMA synchronous=OFF")
                db.executescript(_SCHEMA)
                if self.articles_path.exists():
                    restored = self._restore_from_snapshot(db)
            finally:
                db.close()
            if self.rebuild_skipped:
                kept = self._keep_snapshot_before_rebuild()
            _fsync_file(side)
            os.replace(side, self.state_path)
            _fsync_dir(self.data_dir)
        except (OSError, sqlite3.Error, StoreError) as error:
            with suppress(OSError):
                side.unlink(missing_ok=True)
            raise StoreError(f"cannot rebuild {self.state_path} in {side.name}: "
                             f"{getattr(error, 'strerror', None) or error}") from error
        if restored is not None:
            logger.warning("Rebuilt %s from %s: %d articles restored, %d lines skipped",
                           self.state_path.name, self.articles_path.name, restored, self.rebuild_skipped)
        if kept:
            logger.error("%s as it was, with the %d lines that could not be restored, is kept as %s; "
                         "the next snapshot rewrites %s without them",
                         self.articles_path.name, self.rebuild_skipped, kept, self.articles_path.name)

    def _restore_from_snapshot(self, db: sqlite3.Connection) -> int:
        """Journal every line of ``articles.jsonl`` that holds an article; name and count each line that does not."""
        line_of: dict[int, int] = {}
        with self.articles_path.open("rb") as lines, _transaction(db):
            for number, line in enumerate(lines, 1):
                article_id, problem = _restore_line(db, line)
                if problem is not None:
                    self._skip(number, problem)
                    continue
                if article_id in line_of:
                    self._skip(line_of[article_id], f"article {article_id} again on line {number}, which replaces it")
                line_of[article_id] = number
                logger.debug("Restored article %d from line %d", article_id, number)
            # With a skipped line the file must be rewritten; otherwise it already matches the journal.
            self._set_counter("snapshot_changes", -1 if self.rebuild_skipped else 0, db)
            # The frontier was in the lost file: the next run walks the whole listing to find what is missing.
            self._set_counter(FULL_WALK, 1, db)
        return len(line_of)

    def _skip(self, number: int, problem: str) -> None:
        self.rebuild_skipped += 1
        logger.error("Skipping line %d of %s while rebuilding %s: %s",
                     number, self.articles_path, self.state_path.name, problem)

    def _keep_snapshot_before_rebuild(self) -> str:
        """Hard-link ``articles.jsonl`` as ``articles.jsonl.before-rebuild-<its mtime in ns>``; that name.

        Named after the file's own modification time, so a rebuild cut short and done again keeps
        one copy; the snapshot after the rebuild replaces ``articles.jsonl`` by rename, which leaves
        the linked copy as it was.
        """
        kept = self.articles_path.with_name(f"{ARTICLES_FILE}.before-rebuild-{self.articles_path.stat().st_mtime_ns}")
        with suppress(FileExistsError):
            os.link(self.articles_path, kept)
        _fsync_dir(self.data_dir)
        return kept.name

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
                (image_key(image["url"]), json.dumps({name: image.get(name) for name in IMAGE_FACTS}))
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
        """What is mirrored of the image ``url`` names, by its key (:func:`sasscrawl.mirror.image_key`)."""
        row = self.db.execute("SELECT info FROM images WHERE url = ?", (image_key(url),)).fetchone()
        return json.loads(row[0]) if row else None

    def mirrored_images(self) -> Iterator[tuple[str, dict]]:
        """The image index: ``(key, facts)`` of every image mirrored so far."""
        for url, info in self.db.execute("SELECT url, info FROM images ORDER BY url"):
            yield url, json.loads(info)

    def mark_images_damaged(self, problems: dict[str, str]) -> list[int]:
        """Mirrored images whose files are gone or wrong (url → what is wrong): their records say ``failed``
        with the reason, and they leave the index, so the next pass through the image mirror fetches them
        again (see :meth:`records_with_failed_images`). Returns the ids of the articles concerned."""
        problems = {image_key(url): problem for url, problem in problems.items()}
        changed = []
        for (text,) in self.db.execute("SELECT record FROM articles ORDER BY id").fetchall():
            record = json.loads(text)
            keys = [image_key(image["url"]) for image in record.get("images", ())]
            if not any(key in problems for key in keys):
                continue
            record["images"] = [
                {"url": image["url"], **dict.fromkeys(IMAGE_FACTS), "status": "failed",
                 "error": f"mirrored file {problems[key]}"} if key in problems else image
                for image, key in zip(record["images"], keys)
            ]
            changed.append(record)
        with self._transaction():
            self.db.executemany("DELETE FROM images WHERE url = ?", [(key,) for key in problems])
            for record in changed:
                self._upsert(self.db, record)
            self._set_counter("changes", self._changes + len(changed))
        self._changes += len(changed)
        return [record["articleId"] for record in changed]


    # --- snapshot --------------------------------------------------------------

    def snapshot_if_due(self) -> None:
        if self._changes - self._snapshot_changes >= max(self.snapshot_min_changes, self.snapshot_share * self._count):
            self.snapshot()

    def snapshot(self) -> None:
        """Rewrite ``articles.jsonl`` from the journal by atomic replacement, one line at a time."""
        changes = self._changes
        try:
            with files.replacing_file(self.data_dir, ARTICLES_FILE) as out:
                for (record,) in self.db.execute("SELECT record FROM articles ORDER BY id"):
                    out.write(record.encode("utf-8") + b"\n")
        except OSError as error:
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


def newest_date_published(data_dir: str | os.PathLike) -> str | None:
    """The newest saved article's ``datePublished``, read without the lock (for reports; None when there is none)."""
    state_path = Path(data_dir) / STATE_FILE
    if not state_path.exists():
        return None
    try:
        db = sqlite3.connect(f"{state_path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT max(date_published) FROM articles").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return None


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


def _restore_line(db: sqlite3.Connection, line: bytes) -> tuple[int | None, str | None]:
    """Journal one line of ``articles.jsonl``: its article id, or why it cannot be restored."""
    try:
        record = json.loads(line)
    except ValueError as error:
        return None, f"not JSON ({error})"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    article_id = record.get("articleId")
    if not isinstance(article_id, int) or isinstance(article_id, bool):
        return None, f"articleId {article_id!r} is not an integer"
    if not SQLITE_INTEGERS[0] <= article_id <= SQLITE_INTEGERS[1]:
        return None, f"articleId {article_id} is beyond SQLite's 64-bit integers"
    if not isinstance(record.get("contentHash"), str):
        return None, "contentHash is missing or not a string"
    try:
        ArticleStore._upsert(db, record)
    except sqlite3.OperationalError:
        raise  # the disk or the database failing, not the line: the rebuild stops
    except Exception as error:  # whatever else a hand-edited line holds costs that line, never the rebuild
        return None, f"cannot be journaled ({type(error).__name__}: {error})"
    return article_id, None


def _fsync_file(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())
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
