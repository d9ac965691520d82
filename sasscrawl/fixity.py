"""Fixity of the image mirror: do the files on disk still hold the bytes their records describe? No Scrapy here.

A record's image entry that says ``downloaded`` or ``cached`` names its file (``path``,
relative to DATA_DIR), its ``size`` and its ``sha256``. Disks rot, people delete things,
and a power cut can leave a file of the right size with the wrong bytes. Two checks:

* at the start of every run, over the image index: each file is there, a regular file
  (not a link), of the recorded size. One ``lstat`` per file, no reading.
* ``scrapy verify``, over the records: the same, and the bytes hashed against the recorded
  sha256. It reads every file: its cost is the mirror's size read from disk.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sasscrawl.store import MIRRORED

CHUNK = 1 << 20


@dataclass(frozen=True)
class Damage:
    """One mirrored file that does not match its record."""

    article_id: int
    url: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"article {self.article_id}: {self.path} {self.problem} ({self.url})"


def record_damage(data_dir: Path, records: Iterable[dict], hash_bytes: bool = True) -> Iterator[Damage]:
    """The mirrored files of these records that do not match them; a file two records share is read once."""
    checked: dict[str, str | None] = {}  # path -> problem (None: sound)
    for record in records:
        for image in record.get("images", ()):
            if image.get("status") not in MIRRORED or not image.get("path"):
                continue
            path = image["path"]
            if path not in checked:
                checked[path] = file_problem(data_dir, path, image.get("size"), image.get("sha256"), hash_bytes)
            if checked[path] is not None:
                yield Damage(record["articleId"], image["url"], path, checked[path])


def file_problem(data_dir: Path, path: str, size: int | None, sha256: str | None, hash_bytes: bool) -> str | None:
    """What is wrong with one mirrored file (``is missing``, ...), or None when it matches."""
    try:
        status = os.lstat(data_dir / path)
    except FileNotFoundError:
        return "is missing"
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if not stat.S_ISREG(status.st_mode):
        return "is not a regular file"
    if status.st_size != size:
        return f"has {status.st_size} bytes, {size} recorded"
    if not hash_bytes:
        return None
    try:
        digest = _sha256(data_dir / path)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    return None if digest == sha256 else "does not match its recorded sha256"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
