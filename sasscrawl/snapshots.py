"""Rendered snapshots of articles: where they go and what the record says of them. No Scrapy here.

A snapshot is the page as a reader sees it after client-side XSLT, rendered by
Splash: ``DATA_DIR/snapshots/<articleId>.html`` and ``<articleId>.png``, each
written by :func:`sasscrawl.files.replace_file`, so a kill never leaves half of one
and a link in their place is never written through.
"""

from __future__ import annotations

import base64
import binascii
import os

from sasscrawl.files import replace_file

SNAPSHOT_FOLDER = "snapshots"


class SnapshotFailed(Exception):
    """The rendering could not be stored; the message says why."""


def store_snapshot(data_dir: str | os.PathLike, article_id: int, html: str | None, png_base64: str | None) -> dict:
    """Write Splash's rendering of an article; returns the record's ``snapshot`` value."""
    if not html or not png_base64:
        raise SnapshotFailed("Splash answered without html or png")
    paths = {"html": f"{SNAPSHOT_FOLDER}/{article_id}.html", "png": f"{SNAPSHOT_FOLDER}/{article_id}.png"}
    try:
        png = base64.b64decode(png_base64, validate=True)
        replace_file(data_dir, paths["html"], html.encode("utf-8"))
        replace_file(data_dir, paths["png"], png)
    except (OSError, binascii.Error) as error:
        raise SnapshotFailed(f"cannot store the snapshot: {getattr(error, 'strerror', None) or error}") from error
    return {**paths, "status": "rendered", "error": None}


def failed_snapshot(reason: str) -> dict:
    return {"html": None, "png": None, "status": "failed", "error": reason}
