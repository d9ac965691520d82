"""The JSON Lines exports: ``DATA_DIR/articles.jsonl`` and ``DATA_DIR/versions.jsonl``, snapshots of the journal.

Rewritten by atomic replacement (:func:`sasscrawl.files.replacing_file`: temporary file,
fsync, rename, fsync of the folder), so a reader always sees a whole file with one valid
line per article, sorted by ``articleId``. Snapshots are taken when enough has changed
since the last one (a share of the dataset, so the cost stays linear in its size), at the
end of a run, and at the start of a run when a kill left the journal ahead of the file.
Two counters in the state file say how far each is: ``changes`` (journal) and
``snapshot_changes`` (the journal's changes the file holds).

``versions.jsonl`` (:class:`VersionsExport`) is written the same way and at the same
moments, when versions were kept since its last snapshot; it is absent until an article's
text first changes. The state file records how many versions the file holds and its size,
so a file found missing, cut short or grown since (a torn or edited copy) is rewritten whole
from the journal when the data folder opens.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from sasscrawl import files
from sasscrawl.store.errors import StoreError
from sasscrawl.store.layout import ARTICLES_FILE, STATE_FILE, VERSIONS_FILE
from sasscrawl.store.state import StateFile, set_counter

CHANGES = "changes"
SNAPSHOT_CHANGES = "snapshot_changes"
VERSIONS_IN_FILE = "versions_in_file"
VERSIONS_FILE_BYTES = "versions_file_bytes"


def rewrite_needed(db: sqlite3.Connection, needed: bool) -> None:
    """After a rebuild: whether ``articles.jsonl`` must be rewritten (it held lines the journal could not take)."""
    set_counter(db, SNAPSHOT_CHANGES, -1 if needed else 0)


class JsonlExport:
    def __init__(self, state: StateFile, data_dir: Path, share: float, min_changes: int):
        self.state = state
        self.path = data_dir / ARTICLES_FILE
        self.share = share
        self.min_changes = min_changes
        self._changes = state.counter(CHANGES)
        self._snapshot_changes = state.counter(SNAPSHOT_CHANGES)

    @property
    def changes(self) -> int:
        """Articles written to the journal since the state file began: it grows with every change to the dataset."""
        return self._changes

    @property
    def behind(self) -> bool:
        """The journal holds changes the file does not, or there is no file."""
        return self._changes != self._snapshot_changes or not self.path.exists()

    def count(self, changes: int) -> None:
        """In the transaction that makes them: ``changes`` more articles written to the journal."""
        self.state.set_counter(CHANGES, self._changes + changes)

    def committed(self, changes: int) -> None:
        """The transaction that :meth:`count` counted in committed."""
        self._changes += changes

    def due(self, articles: int) -> bool:
        """Enough changed since the last snapshot for a dataset of ``articles``."""
        return self._changes - self._snapshot_changes >= max(self.min_changes, self.share * articles)

    def snapshot(self, lines: Iterable[str]) -> None:
        """Rewrite the file with ``lines`` (the journal's, by ``articleId``), by atomic replacement; the journal is
        flushed to the disk first, so the file never holds an article a power cut could take from the journal."""
        changes = self._changes
        self.state.make_durable()
        write_lines(self.path, lines, "saved article")
        with self.state.transaction():
            self.state.set_counter(SNAPSHOT_CHANGES, changes)
        self._snapshot_changes = changes


def versions_restored(db: sqlite3.Connection, versions: int, file_bytes: int) -> None:
    """After a rebuild: ``versions.jsonl`` holds these ``versions`` in ``file_bytes`` (-1: rewrite it)."""
    set_counter(db, VERSIONS_IN_FILE, versions)
    set_counter(db, VERSIONS_FILE_BYTES, file_bytes)


class VersionsExport:
    def __init__(self, state: StateFile, data_dir: Path):
        self.state = state
        self.path = data_dir / VERSIONS_FILE
        self._in_file = state.counter(VERSIONS_IN_FILE)
        self._bytes = state.counter(VERSIONS_FILE_BYTES)

    def behind(self, versions: int) -> bool:
        """The journal's ``versions`` are not what the file holds, or the file is missing or not as last written."""
        if versions != self._in_file:
            return True
        if versions == 0:
            return False  # no version yet, and no file to keep
        try:
            return self.path.lstat().st_size != self._bytes
        except FileNotFoundError:
            return True

    def snapshot(self, lines: Iterable[str], versions: int) -> None:
        """Rewrite the file with ``lines``, the journal's ``versions``, by atomic replacement; the journal is
        flushed to the disk first, as for ``articles.jsonl``."""
        self.state.make_durable()
        size = write_lines(self.path, lines, "superseded version")
        with self.state.transaction():
            self.state.set_counter(VERSIONS_IN_FILE, versions)
            self.state.set_counter(VERSIONS_FILE_BYTES, size)
        self._in_file, self._bytes = versions, size


def write_lines(path: Path, lines: Iterable[str], kept: str) -> int:
    """Replace ``path`` with ``lines``, atomically and durably; its size in bytes. ``kept``: what the journal keeps."""
    size = 0
    try:
        with files.replacing_file(path.parent, path.name) as out:
            for line in lines:
                data = line.encode("utf-8") + b"\n"
                out.write(data)
                size += len(data)
    except OSError as error:
        raise StoreError(
            f"cannot write {path} ({error.strerror or error}); the previous file is untouched "
            f"and every {kept} is kept in {STATE_FILE}"
        ) from error
    return size
