"""``articles.parquet``: every saved article, typed by :func:`sasscrawl.exports.arrow.arrow_schema`.

Written a row group at a time (:data:`ROW_GROUP_ROWS` records), so memory stays flat however
large the dataset; zstd-compressed, which pandas, DuckDB and datasets all read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sasscrawl import files
from sasscrawl.exports.arrow import arrow_row, arrow_schema

FILE = "articles.parquet"
ROW_GROUP_ROWS = 500


@contextmanager
def parquet_export(folder: Path) -> Iterator[Callable[[dict], None]]:
    """``add(record)`` for each article, by ``articleId``; ``folder/articles.parquet`` is replaced when the block ends."""
    schema = arrow_schema()
    rows: list[dict] = []
    with files.replacing_file(folder, FILE) as out, pq.ParquetWriter(out, schema, compression="zstd") as writer:
        def add(record: dict) -> None:
            rows.append(arrow_row(record))
            if len(rows) == ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_pylist(rows, schema))
                rows.clear()

        yield add
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema))
