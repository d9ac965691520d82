"""The saved articles in the forms researchers load: Parquet, SQLite for Datasette, CSV; and the dataset card.

- :mod:`.schema`: the record's JSON Schema as every writer reads it (``$ref`` and ``anyOf`` followed).
- :mod:`.arrow`: the Arrow schema, generated from the record's JSON Schema.
- :mod:`.records`: the saved records checked and read by Arrow in blocks; one that does not fit is skipped.
- :mod:`.parquet`, :mod:`.sqlite`, :mod:`.csv`: one writer per format, each fed the blocks in turn.
- :mod:`.card`: ``DATA_DIR/README.md``, the Hugging Face dataset card.
- :mod:`.dataset`: one pass over the journal feeding the writers, then the card.

``scrapy export`` (:mod:`sasscrawl.commands.export`) and the end of each crawl
(:mod:`sasscrawl.extensions.dataset`, the ``EXPORTS`` setting) both call
:func:`sasscrawl.exports.dataset.write_dataset`. This module imports nothing heavy: a run
checks its ``EXPORTS`` here without loading pyarrow.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import PurePosixPath

# Arrow allocates from the system allocator in the processes that export. Its default, mimalloc, keeps
# what was freed, and the choice is read when pyarrow loads, so it is made here, before any module of
# this package imports it (a choice made in the environment stands): about 20 MiB less peak RSS.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

FORMATS = ("parquet", "sqlite", "csv")
FILES = {"parquet": ("articles.parquet",), "sqlite": ("articles.sqlite", "metadata.json"), "csv": ("articles.csv",)}
"""What each format writes in its folder (the SQLite database and its Datasette metadata)."""


class ExportFailed(Exception):
    """An export could not be written or read (a full disk, a folder in the way, the journal unreadable): one line
    saying which file and why; no file of the export was put in place, those written before are untouched."""


def parse_formats(values: Iterable[str]) -> tuple[str, ...]:
    """Format names, each possibly a comma-separated list, as :data:`FORMATS` orders them; ValueError names a bad one.

    Case and spaces are forgiven; an empty list is no format.
    """
    given = {name.strip().lower() for value in values for name in value.split(",") if name.strip()}
    if unknown := sorted(given - set(FORMATS)):
        raise ValueError(f"unknown export format{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: "
                         f"choose from {', '.join(FORMATS)}")
    return tuple(name for name in FORMATS if name in given)


def place(folder: str | None, name: str) -> str:
    """``name`` in ``folder`` below an export's root (None: the root itself), as sasscrawl.files takes it."""
    return str(PurePosixPath(folder, name)) if folder else name
