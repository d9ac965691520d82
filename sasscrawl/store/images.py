"""The image index: what is mirrored of each image, by its key (:func:`sasscrawl.mirror.image_key`).

A row is written in the transaction that saves an article whose image was mirrored
(``downloaded`` or ``cached``), so the index never names a file before a record does;
the image mirror reads it to skip what it has (see sasscrawl/pipelines/images.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from sasscrawl.mirror import image_key
from sasscrawl.store.state import StateFile

IMAGE_FACTS = ("path", "sha256", "size", "contentType", "width", "height")
MIRRORED = ("downloaded", "cached")
"""The ``status`` of an image whose file is in the mirror."""


class ImageIndex:
    def __init__(self, state: StateFile):
        self.db = state.db

    def image(self, url: str) -> dict | None:
        """What is mirrored of the image ``url`` names, by its key."""
        row = self.db.execute("SELECT info FROM images WHERE url = ?", (image_key(url),)).fetchone()
        return json.loads(row[0]) if row else None

    def mirrored_images(self) -> Iterator[tuple[str, dict]]:
        """``(key, facts)`` of every image mirrored so far."""
        for url, info in self.db.execute("SELECT url, info FROM images ORDER BY url"):
            yield url, json.loads(info)

    def index(self, record: dict) -> None:
        """In the transaction that saves ``record``: its mirrored images, by key."""
        self.db.executemany("INSERT OR REPLACE INTO images (url, info) VALUES (?, ?)", [
            (image_key(image["url"]), json.dumps({name: image.get(name) for name in IMAGE_FACTS}))
            for image in record.get("images", ()) if image.get("status") in MIRRORED
        ])

    def forget(self, keys: Iterable[str]) -> None:
        """In a transaction: these images are no longer mirrored (their files are gone or wrong)."""
        self.db.executemany("DELETE FROM images WHERE url = ?", [(key,) for key in keys])
