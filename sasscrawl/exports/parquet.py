"""``articles.parquet``: every saved article, typed by :func:`sasscrawl.exports.arrow.arrow_schema`.

It is handed the blocks :mod:`sasscrawl.exports.records` read with Arrow's JSON reader (an ISO 8601
date with its offset becomes the instant, a ``*Raw`` string stays the page's text) and writes them
in row groups of :data:`ROW_GROUP_ROWS`, zstd-compressed, so memory stays flat however large the
dataset is (chosen by the export's peak RSS, ``python -m bench --only exports``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sasscrawl import files
from sasscrawl.exports import FILES, ExportFailed, place
from sasscrawl.exports.arrow import arrow_schema
from sasscrawl.exports.records import Block

FILE, = FILES["parquet"]

ROW_GROUP_ROWS = 250


@contextmanager
def parquet_export(batch: files.FileBatch, root: Path, folder: str | None) -> Iterator[Callable[[Block], None]]:
    """``add(block)`` for each block of articles, by ``articleId``; ``root/folder/articles.parquet`` (``folder``:
    None for root itself) is whole when the block ends, and replaced when ``batch`` ends."""
    schema = arrow_schema()
    parsed: list[pa.Table] = []
    shown = root / place(folder, FILE)
    out = batch.stream(root, place(folder, FILE))
    with _writing(shown):
        writer = pq.ParquetWriter(out, schema, compression="zstd")

    def flush() -> None:
        if parsed:
            with _writing(shown):
                writer.write_table(_as_schema(pa.concat_tables(parsed), schema))
            parsed.clear()

    def add(block: Block) -> None:
        parsed.append(block.table)
        if sum(table.num_rows for table in parsed) >= ROW_GROUP_ROWS:
            flush()

    try:
        yield add
        flush()
    except BaseException:
        with suppress(Exception):  # the file is thrown away: the first failure is the one to tell
            writer.close()
        raise
    with _writing(shown):
        writer.close()


def _as_schema(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` under ``schema``: the reader keeps the types but not which fields may not be null.

    The columns are viewed, not cast: the layouts are the same, and a cast would load Arrow's compute
    functions (0.04 s of every run that writes the card) to copy nothing.
    """
    return pa.Table.from_arrays([pa.chunked_array([chunk.view(field.type) for chunk in column.chunks], field.type)
                                 for column, field in zip(table.columns, schema)], schema=schema)


@contextmanager
def _writing(shown: Path) -> Iterator[None]:
    """Arrow's own errors while it writes the file as the export's failure (a Python OSError passes as it is)."""
    try:
        yield
    except pa.ArrowException as error:
        if isinstance(error, OSError):
            raise
        raise ExportFailed(f"cannot write {shown} ({error})") from error
