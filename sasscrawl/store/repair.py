"""Opening the state file, and repairing the data folder when a kill or a damaged disk left it wrong.

A kill's temporary files are cleared first (this run holds the lock, so none is being
written). A missing state file is rebuilt from ``articles.jsonl``; a corrupt or unreadable
one is first moved aside (``state.sqlite3.corrupt-<ns>``) with an error in the log, and so
is a journal holding no article beside a non-empty ``articles.jsonl``
(``state.sqlite3.empty-<ns>``: what a rebuild cut short by an older version left).
Articles saved after the last snapshot are then fetched again by the next run, never
silently lost: the rebuilt frontier is empty, so that run walks the listing to its end.

A rebuild cannot lose data. It writes ``state.sqlite3.rebuild`` and renames it into place
only when complete (:func:`sasscrawl.files.rename_into_place`): a kill at any moment leaves
either no journal, and the next open discards the side file and starts over, or a whole
one. A line that cannot be restored (not a JSON object; ``articleId`` not an integer within
SQLite's 64 bits; ``contentHash`` not a string; anything the insert refuses; a blank line;
an article that a later line repeats, the later one being kept) is skipped, named in the
log with its line number and reason, and counted (:attr:`OpenedState.rebuild_skipped`).
The snapshot taken right after such a rebuild rewrites ``articles.jsonl`` without those
lines, so the file as it was is kept first, hard-linked as
``articles.jsonl.before-rebuild-<its mtime in ns>``, for a person to mend and never
removed by the crawl.

The superseded versions are restored the same way from ``versions.jsonl``, in its order
(a line that is not a JSON object with an integer ``articleId``, a string ``contentHash``
and the old ``record`` as an object is skipped, named and counted; so is a torn last line,
and the file is then kept as ``versions.jsonl.before-rebuild-<mtime>``). A version
superseded after that file's last snapshot is still in ``articles.jsonl`` as the article's
record, or in a later snapshot of both: the next refresh supersedes it again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sasscrawl import files
from sasscrawl.store.errors import StoreError
from sasscrawl.store.export import rewrite_needed, versions_restored
from sasscrawl.store.frontier import restart_walk
from sasscrawl.store.journal import add_version, serialise, upsert
from sasscrawl.store.layout import ARTICLES_FILE, OWN_FOLDERS, REBUILD_FILE, STATE_FILE, STATE_SUFFIXES, VERSIONS_FILE
from sasscrawl.store.state import SCHEMA, add_failure_columns, connect, transaction

logger = logging.getLogger(__name__)

SQLITE_INTEGERS = (-(2**63), 2**63 - 1)


@dataclass
class OpenedState:
    db: sqlite3.Connection
    rebuild_skipped: int = 0
    """Lines of ``articles.jsonl`` and ``versions.jsonl`` that a rebuild of the journal at this open could not
    restore."""


def remove_leftovers(data_dir: Path) -> None:
    """Clear the temporary files a killed run left; the caller holds the lock, so none is being written."""
    try:
        for folder in OWN_FOLDERS:
            files.remove_leftovers(data_dir, folder)
    except OSError as error:
        raise StoreError(f"cannot use DATA_DIR {data_dir}: {error.strerror or error}") from error


def open_state(data_dir: Path) -> OpenedState:
    """The journal; made anew (restored from ``articles.jsonl`` if there is one) when missing or damaged."""
    return _Opening(data_dir).open()


class _Opening:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.state_path = data_dir / STATE_FILE
        self.articles_path = data_dir / ARTICLES_FILE
        self.versions_path = data_dir / VERSIONS_FILE
        self.skipped = 0
        self.versions_skipped = 0

    def open(self) -> OpenedState:
        db = self._open()
        add_failure_columns(db)
        return OpenedState(db, self.skipped + self.versions_skipped)

    def _open(self) -> sqlite3.Connection:
        self._discard_cut_rebuild()
        if self.state_path.exists():
            try:
                db = connect(self.state_path)
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
        return connect(self.state_path)

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
        restored = versions = kept = kept_versions = None
        try:
            db = sqlite3.connect(side, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=MEMORY")
                db.execute("PRAGMA synchronous=OFF")
                db.executescript(SCHEMA)
                if self.articles_path.exists():
                    restored = self._restore_from_snapshot(db)
                if self.versions_path.exists():
                    versions = self._restore_versions(db)
            finally:
                db.close()
            if self.skipped:
                kept = self._keep_before_rebuild(self.articles_path)
            if self.versions_skipped:
                kept_versions = self._keep_before_rebuild(self.versions_path)
            files.rename_into_place(self.data_dir, REBUILD_FILE, STATE_FILE)
        except (OSError, sqlite3.Error, StoreError) as error:
            with suppress(OSError):
                side.unlink(missing_ok=True)
            raise StoreError(f"cannot rebuild {self.state_path} in {side.name}: "
                             f"{getattr(error, 'strerror', None) or error}") from error
        if restored is not None:
            logger.warning("Rebuilt %s from %s: %d articles restored, %d lines skipped",
                           self.state_path.name, self.articles_path.name, restored, self.skipped)
        if versions is not None:
            logger.warning("Restored %d superseded versions from %s, %d lines skipped",
                           versions, self.versions_path.name, self.versions_skipped)
        for path, skipped, copy in ((self.articles_path, self.skipped, kept),
                                    (self.versions_path, self.versions_skipped, kept_versions)):
            if copy:
                logger.error("%s as it was, with the %d lines that could not be restored, is kept as %s; "
                             "the next snapshot rewrites %s without them", path.name, skipped, copy, path.name)

    def _restore_from_snapshot(self, db: sqlite3.Connection) -> int:
        """Journal every line of ``articles.jsonl`` that holds an article; name and count each line that does not."""
        line_of: dict[int, int] = {}
        with self.articles_path.open("rb") as lines, transaction(db):
            for number, line in enumerate(lines, 1):
                article_id, problem = _restore_line(db, line)
                if problem is not None:
                    self._skip(self.articles_path, number, problem)
                    continue
                if article_id in line_of:
                    self._skip(self.articles_path, line_of[article_id],
                               f"article {article_id} again on line {number}, which replaces it")
                line_of[article_id] = number
                logger.debug("Restored article %d from line %d", article_id, number)
            # With a skipped line the file must be rewritten; otherwise it already matches the journal.
            rewrite_needed(db, bool(self.skipped))
            # The frontier was in the lost file: the next run walks the whole listing to find what is missing.
            restart_walk(db)
        return len(line_of)

    def _restore_versions(self, db: sqlite3.Connection) -> int:
        """Keep every version ``versions.jsonl`` holds, in its order; name and count each line that holds none.

        The counters say what the file holds: its lines as they are, or (a line skipped, or one version
        twice) a file to rewrite from the journal.
        """
        restored = number = 0
        with self.versions_path.open("rb") as lines, transaction(db):
            for number, line in enumerate(lines, 1):
                version, problem = _version_of(line)
                if problem is not None:
                    self._skip(self.versions_path, number, problem)
                    continue
                try:
                    restored += add_version(db, version, serialise(version))
                except sqlite3.OperationalError:
                    raise
                except Exception as error:  # as for a line of articles.jsonl: it costs that line, never the rebuild
                    self._skip(self.versions_path, number, f"cannot be kept ({type(error).__name__}: {error})")
            exact = not self.versions_skipped and restored == number
            versions_restored(db, restored, self.versions_path.stat().st_size if exact else -1)
        return restored

    def _skip(self, path: Path, number: int, problem: str) -> None:
        if path == self.versions_path:
            self.versions_skipped += 1
        else:
            self.skipped += 1
        logger.error("Skipping line %d of %s while rebuilding %s: %s", number, path, self.state_path.name, problem)

    def _keep_before_rebuild(self, path: Path) -> str:
        """Hard-link ``path`` as ``<its name>.before-rebuild-<its mtime in ns>``; that name.

        Named after the file's own modification time, so a rebuild cut short and done again keeps
        one copy; the snapshot after the rebuild replaces the file by rename, which leaves the
        linked copy as it was.
        """
        kept = path.with_name(f"{path.name}.before-rebuild-{path.stat().st_mtime_ns}")
        with suppress(FileExistsError):
            files.keep_copy(self.data_dir, path.name, kept.name)
        return kept.name


def _keyed_object(line: bytes) -> tuple[dict | None, str | None]:
    """A line of ``articles.jsonl`` or ``versions.jsonl`` as an object the journal can key (an ``articleId``
    SQLite can hold, a ``contentHash``), or why it is not one."""
    try:
        value = json.loads(line)
    except ValueError as error:
        return None, f"not JSON ({error})"
    if not isinstance(value, dict):
        return None, "not a JSON object"
    article_id = value.get("articleId")
    if not isinstance(article_id, int) or isinstance(article_id, bool):
        return None, f"articleId {article_id!r} is not an integer"
    if not SQLITE_INTEGERS[0] <= article_id <= SQLITE_INTEGERS[1]:
        return None, f"articleId {article_id} is beyond SQLite's 64-bit integers"
    if not isinstance(value.get("contentHash"), str):
        return None, "contentHash is missing or not a string"
    return value, None


def _restore_line(db: sqlite3.Connection, line: bytes) -> tuple[int | None, str | None]:
    """Journal one line of ``articles.jsonl``: its article id, or why it cannot be restored."""
    record, problem = _keyed_object(line)
    if record is None:
        return None, problem
    article_id = record["articleId"]
    try:
        upsert(db, record)
    except sqlite3.OperationalError:
        raise  # the disk or the database failing, not the line: the rebuild stops
    except Exception as error:  # whatever else a hand-edited line holds costs that line, never the rebuild
        return None, f"cannot be journaled ({type(error).__name__}: {error})"
    return article_id, None


def _version_of(line: bytes) -> tuple[dict | None, str | None]:
    """One line of ``versions.jsonl`` as a version to keep, or why it cannot be."""
    version, problem = _keyed_object(line)
    if version is None:
        return None, problem
    if not isinstance(version.get("record"), dict):
        return None, "record is missing or not an object"
    return version, None


def _is_environment_error(error: sqlite3.OperationalError) -> bool:
    """Errors of the disk or permissions, which rebuilding would not cure."""
    text = str(error).lower()
    return any(words in text for words in ("unable to open", "readonly", "read-only", "disk", "full", "locked"))
