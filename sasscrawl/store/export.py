"""The JSON Lines export: ``DATA_DIR/articles.jsonl``, a snapshot of the journal.

Rewritten by atomic replacement (:func:`sasscrawl.files.replacing_file`: temporary file,
fsync, rename, fsync of the folder), so a reader always sees a whole file with one valid
line per article, sorted by ``articleId``. Snapshots are taken when enough has changed
since the last one (a share of the dataset, so the cost stays linear in its size), at the
end of a run, and at the start of a run when a kill left the journal ahead of the file.
Two counters in the state file say how far each is: ``changes`` (journal) and
``snapshot_changes`` (the journal's changes the file holds).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from sasscrawl import files
from sasscrawl.store.errors import StoreError
from sasscrawl.store.layout import ARTICLES_FILE, STATE_FILE
from sasscrawl.store.state import StateFile, set_counter

CHANGES = "changes"
SNAPSHOT_CHANGES = "snapshot_changes"


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
    def behind(self) -> bool:
        """The journal holds changes the file does not, or there is no file."""
        return self._changes != self._snapshot_changes or not self.path.exists()

    def count(self, changes: int) -> None:
        """In the transaction that makes them: ``changes`` more articles written to the journal."""
        self.state.set_counter(CHANGES, self._changes + changes)

    def committed(self, changes: int) -> None:
        """The transaction that :meth:`count` counted in committed."""
        self._changes += changes

    def snapshot_if_due(self, lines: Iterable[str], articles: int) -> None:
        """Rewrite the file when enough changed for a dataset of ``articles``; ``lines`` is read only then."""
        if self._changes - self._snapshot_changes >= max(self.min_changes, self.share * articles):
            self.snapshot(lines)

    def snapshot(self, lines: Iterable[str]) -> None:
        """Rewrite the file with ``lines`` (the journal's, by ``articleId``), by atomic replacement."""
        changes = self._changes
        try:
            with files.replacing_file(self.path.parent, ARTICLES_FILE) as out:
                for line in lines:
                    out.write(line.encode("utf-8") + b"\n")
        except OSError as error:
            raise StoreError(
                f"cannot write {self.path} ({error.strerror or error}); the previous file is untouched "
                f"and every saved article is kept in {STATE_FILE}"
            ) from error
        with self.state.transaction():
            self.state.set_counter(SNAPSHOT_CHANGES, changes)
        self._snapshot_changes = changes
