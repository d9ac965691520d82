"""The facade: one process's exclusive handle on ``DATA_DIR``, its parts opened in order.

Opening takes the lock (the folder created, symbolic links refused: :mod:`.lock`), clears a
kill's leftover temporary files and opens the state file, repairing or rebuilding it
(:mod:`.repair`), then the parts that read it: the :class:`~.journal.Journal`, the
:class:`~.frontier.Frontier`, the :class:`~.images.ImageIndex` and the exports
(:class:`~.export.JsonlExport`, :class:`~.export.VersionsExport`), which catch
``articles.jsonl`` and ``versions.jsonl`` up if a kill left them behind. Callers use the
parts; what spans parts is here: saving an article (its superseded version, journal,
frontier, image index and export counters in one transaction), marking an article gone,
marking mirrored images damaged, and what this handle's holder changed
(:class:`RunChanges`). No Scrapy here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sasscrawl.mirror import image_key
from sasscrawl.store.export import JsonlExport, VersionsExport
from sasscrawl.store.frontier import Frontier
from sasscrawl.store.images import IMAGE_FACTS, ImageIndex
from sasscrawl.store.journal import Journal, serialise
from sasscrawl.store.lock import DataDirLock
from sasscrawl.store.repair import open_state, remove_leftovers
from sasscrawl.store.state import StateFile


@dataclass
class RunChanges:
    """The articles one handle on the data folder (a run) added, changed (their text, so a version was kept)
    and found gone (404/410, not known gone before): the lists of the run summary."""

    added: set[int] = field(default_factory=set)
    changed: set[int] = field(default_factory=set)
    gone: set[int] = field(default_factory=set)

    def as_lists(self) -> dict[str, list[int]]:
        return {"added": sorted(self.added), "changed": sorted(self.changed), "gone": sorted(self.gone)}


class ArticleStore:
    """One run's exclusive handle on ``DATA_DIR``; :meth:`close` it (the lock is held until then)."""

    def __init__(self, data_dir: str | os.PathLike, snapshot_share: float = 0.1, snapshot_min_changes: int = 50):
        self.data_dir = Path(data_dir)
        self.lock = DataDirLock(self.data_dir)
        try:
            remove_leftovers(self.data_dir)
            opened = open_state(self.data_dir)
            self.rebuild_skipped = opened.rebuild_skipped
            """Lines of ``articles.jsonl`` that a rebuild of the journal at this open could not restore."""
            self.state = StateFile(opened.db)
            self.journal = Journal(self.state)
            self.frontier = Frontier(self.state)
            self.images = ImageIndex(self.state)
            self.export = JsonlExport(self.state, self.data_dir, snapshot_share, snapshot_min_changes)
            self.versions = VersionsExport(self.state, self.data_dir)
            self.changes = RunChanges()
            self._catch_up()
        except BaseException:
            self.lock.release()
            raise

    def save(self, record: dict) -> str:
        """Journal an article, close its frontier entry and index its mirrored images, in one transaction.

        Returns ``new``, ``changed`` (its text changed: the record it replaces is kept as a version),
        ``updated`` (same text, images now mirrored) or ``unchanged`` (this very record is saved already:
        nothing is written).
        """
        article_id = record["articleId"]
        text = serialise(record)
        saved = self.journal.saved(article_id)
        if saved and saved[1] == text:
            # The very record again (an image retry that failed again): nothing to write, nothing to snapshot.
            self.frontier.finish_article(article_id)
            return "unchanged"
        outcome = "new" if saved is None else "updated" if saved[0] == record["contentHash"] else "changed"
        with self.state.transaction():
            kept = outcome == "changed" and self.journal.supersede(saved[1])
            self.journal.write(record, text, new=saved is None)
            self.frontier.article_saved(article_id)
            self.images.index(record)
            self.export.count(1)
        self.journal.committed(new=saved is None, versions=int(kept))
        self.export.committed(1)
        self.state.durable_if_due()
        if outcome == "new":
            self.changes.added.add(article_id)
        elif outcome == "changed" and article_id not in self.changes.added:
            self.changes.changed.add(article_id)
        if self.export.due(self.journal.count()):
            self._snapshot()
        return outcome

    def mark_gone(self, article_id: int, status: int) -> None:
        """The article answered 404/410: off the frontier (see :meth:`Frontier.mark_gone`); one not known gone
        before is in this run's ``gone`` list."""
        if not self.frontier.is_gone(article_id):
            self.changes.gone.add(article_id)
        self.frontier.mark_gone(article_id, status)

    def flush_if_due(self) -> None:
        """Flush the journal to the disk if ``DURABLE_EVERY_SECONDS`` passed since it last was: a crawl calls this
        on a timer, so that the last saves before a pause (pages slow to come) reach the disk too."""
        self.state.durable_if_due()

    def mark_images_damaged(self, problems: dict[str, str]) -> list[int]:
        """Mirrored images whose files are gone or wrong (url → what is wrong): their records say ``failed``
        with the reason, and they leave the index, so the next run's image mirror fetches them again (see
        :meth:`sasscrawl.extensions.data_folder.RunDataFolder.records_needing_images`). Returns the ids of
        the articles concerned."""
        problems = {image_key(url): problem for url, problem in problems.items()}
        changed = []
        for record in self.journal.records():
            keys = [image_key(image["url"]) for image in record.get("images", ())]
            if not any(key in problems for key in keys):
                continue
            record["images"] = [
                {"url": image["url"], **dict.fromkeys(IMAGE_FACTS), "status": "failed",
                 "error": f"mirrored file {problems[key]}"} if key in problems else image
                for image, key in zip(record["images"], keys)
            ]
            changed.append(record)
        with self.state.transaction():
            self.images.forget(problems)
            for record in changed:
                self.journal.write(record)
            self.export.count(len(changed))
        self.export.committed(len(changed))
        return [record["articleId"] for record in changed]

    def _catch_up(self) -> None:
        """Rewrite the snapshots the journal is ahead of, or that are missing or damaged."""
        self._snapshot(articles=self.export.behind)

    def write_versions(self) -> None:
        """Rewrite ``versions.jsonl`` if the journal is ahead of it: the exports read the versions from it."""
        if self.versions.behind(self.journal.version_count()):
            self.versions.snapshot(self.journal.version_lines(), self.journal.version_count())

    def _snapshot(self, articles: bool = True) -> None:
        """Rewrite ``articles.jsonl`` (unless ``articles`` is false), and ``versions.jsonl`` if it is behind:
        versions first, so that ``versions.jsonl`` holds every version ``articles.jsonl`` no longer does."""
        self.write_versions()
        if articles:
            self.export.snapshot(self.journal.lines())

    def close(self, snapshot: bool = True) -> None:
        """Commit the frontier, bring ``articles.jsonl`` and ``versions.jsonl`` up to date (unless ``snapshot``
        is false: after a failed write the disk is suspect, and the files are left as they were), flush the
        journal to the disk and release the folder."""
        try:
            self.state.flush()
            if snapshot:
                self._catch_up()
            self.state.make_durable()
        finally:
            self.state.close()
            self.lock.release()
