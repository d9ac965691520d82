"""The facade: one process's exclusive handle on ``DATA_DIR``, its parts opened in order.

Opening takes the lock (the folder created, symbolic links refused: :mod:`.lock`), clears a
kill's leftover temporary files and opens the state file, repairing or rebuilding it
(:mod:`.repair`), then the parts that read it: the :class:`~.journal.Journal`, the
:class:`~.frontier.Frontier`, the :class:`~.images.ImageIndex` and the
:class:`~.export.JsonlExport`, which catches ``articles.jsonl`` up if a kill left it
behind. Callers use the parts; what spans parts is here: saving an article (journal,
frontier, image index and export counters in one transaction) and marking mirrored
images damaged. No Scrapy here.
"""

from __future__ import annotations

import os
from pathlib import Path

from sasscrawl.mirror import image_key
from sasscrawl.store.export import JsonlExport
from sasscrawl.store.frontier import Frontier
from sasscrawl.store.images import IMAGE_FACTS, ImageIndex
from sasscrawl.store.journal import Journal, serialise
from sasscrawl.store.lock import DataDirLock
from sasscrawl.store.repair import open_state, remove_leftovers
from sasscrawl.store.state import StateFile


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
            if self.export.behind:
                self.export.snapshot(self.journal.lines())
        except BaseException:
            self.lock.release()
            raise

    def save(self, record: dict) -> str:
        """Journal an article, close its frontier entry and index its mirrored images, in one transaction.

        Returns ``new``, ``changed`` (its text changed), ``updated`` (same text, images now mirrored)
        or ``unchanged`` (this very record is saved already: nothing is written).
        """
        article_id = record["articleId"]
        text = serialise(record)
        saved = self.journal.saved(article_id)
        if saved and saved[1] == text:
            # The very record again (an image retry that failed again): nothing to write, nothing to snapshot.
            self.frontier.finish_article(article_id)
            return "unchanged"
        with self.state.transaction():
            self.journal.write(record, text, new=saved is None)
            self.frontier.article_saved(article_id)
            self.images.index(record)
            self.export.count(1)
        self.journal.committed(new=saved is None)
        self.export.committed(1)
        self.export.snapshot_if_due(self.journal.lines(), self.journal.count())
        if saved is None:
            return "new"
        return "updated" if saved[0] == record["contentHash"] else "changed"

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

    def close(self, snapshot: bool = True) -> None:
        """Make the frontier durable, bring ``articles.jsonl`` up to date (unless ``snapshot`` is false: after a
        failed write the disk is suspect, and the file is left as it was) and release the folder."""
        try:
            self.state.flush()
            if snapshot and self.export.behind:
                self.export.snapshot(self.journal.lines())
        finally:
            self.state.close()
            self.lock.release()
