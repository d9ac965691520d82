"""The journal of saved articles: the ``articles`` table of the state file, one row per article, its latest version.

An article counts as saved once the transaction that writes its row commits
(:mod:`sasscrawl.store.state`); ``articles.jsonl`` is a snapshot of this table
(:mod:`sasscrawl.store.export`). Each row keeps the record as its JSON line
(:func:`serialise`) beside the facts queries need: the content hash, the publication
date and how many of its images failed.

The versions a new text replaced are kept in the ``versions`` table, in the transaction
that saves the new one, in the order they were superseded; ``versions.jsonl`` is its
snapshot. A version is kept once: the same article, text and download time again (a
version restored from ``versions.jsonl`` and superseded again after a rebuild) adds nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

from sasscrawl.store.layout import STATE_FILE
from sasscrawl.store.state import StateFile

LAST_NEW_ARTICLE = "last_new_article_at"


def serialise(record: dict) -> str:
    """A record as its line in ``articles.jsonl``: UTF-8 text, no \\u escapes, no spaces."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def upsert(db: sqlite3.Connection, record: dict, text: str | None = None) -> None:
    """Write ``record`` (``text``: its :func:`serialise` form, if already made) as its article's row."""
    db.execute(
        "INSERT OR REPLACE INTO articles (id, content_hash, date_published, failed_images, record, saved_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (record["articleId"], record["contentHash"], record.get("datePublished"),
         sum(1 for image in record.get("images", ()) if image.get("status") == "failed"),
         text or serialise(record), time.time()),
    )


def superseded(old: dict, superseded_at: str) -> dict:
    """The line of ``versions.jsonl`` that keeps ``old``, replaced by a new text at ``superseded_at``
    (ISO 8601, UTC, as ``dateDownloaded`` is written)."""
    return {"articleId": old["articleId"], "contentHash": old["contentHash"],
            "dateDownloaded": old.get("dateDownloaded"), "supersededAt": superseded_at, "record": old}


def add_version(db: sqlite3.Connection, version: dict, text: str | None = None) -> bool:
    """Keep ``version`` (a :func:`superseded` line; ``text``: its :func:`serialise` form, if already made);
    False when this very version is kept already."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO versions (article_id, content_hash, date_downloaded, line) VALUES (?, ?, ?, ?)",
        (version["articleId"], version["contentHash"], version.get("dateDownloaded"), text or serialise(version)),
    )
    return cursor.rowcount == 1


class Journal:
    def __init__(self, state: StateFile):
        self.state = state
        self.db = state.db
        self._count = self.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        self._versions = self.db.execute("SELECT count(*) FROM versions").fetchone()[0]

    def count(self) -> int:
        return self._count

    def version_count(self) -> int:
        """How many superseded versions are kept."""
        return self._versions

    def version_lines(self) -> Iterator[str]:
        """Every kept version as its line of ``versions.jsonl``, in the order they were superseded."""
        for (text,) in self.db.execute("SELECT line FROM versions ORDER BY seq"):
            yield text

    def known_ids(self) -> set[int]:
        return {row[0] for row in self.db.execute("SELECT id FROM articles")}

    def content_hash(self, article_id: int) -> str | None:
        row = self.db.execute("SELECT content_hash FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def record(self, article_id: int) -> dict | None:
        saved = self.saved(article_id)
        return json.loads(saved[1]) if saved else None

    def saved(self, article_id: int) -> tuple[str, str] | None:
        """The article's saved content hash and line (as :func:`serialise` made it); None when it is not saved."""
        return self.db.execute("SELECT content_hash, record FROM articles WHERE id = ?", (article_id,)).fetchone()

    def is_complete(self, article_id: int, content_hash: str) -> bool:
        """Saved with this text and every image mirrored: nothing to do for it."""
        row = self.db.execute("SELECT content_hash, failed_images FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row is not None and row[0] == content_hash and row[1] == 0

    def records(self) -> Iterator[dict]:
        for text in self.lines():
            yield json.loads(text)

    def lines(self) -> Iterator[str]:
        """Every saved record as its line of ``articles.jsonl``, by ``articleId``."""
        for (text,) in self.db.execute("SELECT record FROM articles ORDER BY id"):
            yield text

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
        if value := self.state.counter(LAST_NEW_ARTICLE):
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

    def write(self, record: dict, text: str | None = None, new: bool = False) -> None:
        """Write the record in the transaction under way; ``new``: no version of it was saved before."""
        upsert(self.db, record, text)
        if new:
            self.state.set_counter(LAST_NEW_ARTICLE, int(time.time()))

    def supersede(self, old_line: str) -> bool:
        """In the transaction that saves an article's new text: keep its saved line as a version, superseded now.
        False when that version was kept already."""
        superseded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return add_version(self.db, superseded(json.loads(old_line), superseded_at))

    def committed(self, new: int, versions: int = 0) -> None:
        """The transaction that wrote articles committed, ``new`` of them not saved before and ``versions`` versions
        kept: the counts follow."""
        self._count += new
        self._versions += versions


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
