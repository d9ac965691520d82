"""``articles.csv``: one flat row per article, for spreadsheets.

UTF-8 without a byte-order mark, RFC 4180 (comma, ``"`` quoting where a value needs it, CRLF
between rows). The columns follow the JSON Schema: a nested object becomes one column per
property (``section.id``, ``source.url``, ...); a list of strings is joined with ``"; "``, and a
list of objects by its items' first required property (an author's ``name``, a figure's ``url``).
Dates stay ISO 8601 text as in articles.jsonl; null is an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sasscrawl import files
from sasscrawl.exports import FILES, place
from sasscrawl.exports.records import Block
from sasscrawl.exports.schema import resolve
from sasscrawl.schemas import ARTICLE_SCHEMA

FILE, = FILES["csv"]
LIST_SEPARATOR = "; "


def _columns() -> list[tuple[str, Callable[[dict], object]]]:
    """(header, value of a record) for every column, in the JSON Schema's order."""
    columns = []
    for name, node in ARTICLE_SCHEMA["properties"].items():
        node = resolve(node)
        if node.get("type") == "object":
            columns += [(f"{name}.{key}", lambda record, name=name, key=key: (record[name] or {}).get(key))
                        for key in node["properties"]]
        elif node.get("type") == "array" and resolve(node["items"]).get("type") == "object":
            key = resolve(node["items"])["required"][0]
            columns.append((name, lambda record, name=name, key=key:
                            LIST_SEPARATOR.join(item[key] or "" for item in record[name])))
        elif node.get("type") == "array":
            columns.append((name, lambda record, name=name: LIST_SEPARATOR.join(map(str, record[name]))))
        else:
            columns.append((name, lambda record, name=name: record[name]))
    return columns


COLUMNS = _columns()


@contextmanager
def csv_export(batch: files.FileBatch, root: Path, folder: str | None) -> Iterator[Callable[[Block], None]]:
    """``add(block)`` for each block of articles; ``root/folder/articles.csv`` is whole when the block ends, and
    replaced when ``batch`` ends."""
    text = io.TextIOWrapper(batch.stream(root, place(folder, FILE)), encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header for header, _ in COLUMNS)
    yield lambda block: writer.writerows([value(record) for _, value in COLUMNS] for record in block.records)
    text.flush()
    text.detach()  # the file stays open for the batch to flush and rename
