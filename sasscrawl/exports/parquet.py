"""``articles.parquet``: every saved article, typed by :func:`sasscrawl.exports.arrow.arrow_schema`.

The journal's JSON lines are parsed by Arrow's own JSON reader against the explicit schema (no
Python objects per value, no type inference: a ``*Raw`` string stays the page's text, an ISO 8601
date with its offset becomes the instant), :data:`PARSED_ROWS` lines at a time, and written in
row groups of :data:`ROW_GROUP_ROWS`, zstd-compressed, so memory stays flat however large the
dataset is (both sizes were chosen by the export's peak RSS, ``python -m bench --only exports``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from sasscrawl import files
from sasscrawl.exports import FILES, place
from sasscrawl.exports.arrow import arrow_schema

FILE, = FILES["parquet"]

PARSED_ROWS = 50
ROW_GROUP_ROWS = 250


@contextmanager
def parquet_export(batch: files.FileBatch, root: Path, folder: str | None) -> Iterator[Callable[[dict, str], None]]:
    """``add(record, line)`` for each article, by ``articleId`` (``line``: its line in articles.jsonl);
    ``root/folder/articles.parquet`` (``folder``: None for root itself) is whole when the block ends, and replaced
    when ``batch`` ends."""
    schema = arrow_schema()
    parse = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    read = pa_json.ReadOptions(use_threads=False)
    lines: list[str] = []
    parsed: list[pa.Table] = []
    with pq.ParquetWriter(batch.stream(root, place(folder, FILE)), schema, compression="zstd") as writer:
        def flush(row_group_due: bool) -> None:
            if lines:
                data = io.BytesIO("\n".join(lines).encode("utf-8"))
                parsed.append(pa_json.read_json(data, read_options=read, parse_options=parse))
                lines.clear()
            if parsed and (row_group_due or sum(table.num_rows for table in parsed) >= ROW_GROUP_ROWS):
                # The reader keeps the types but not which fields may not be null: the schema says (no cast:
                # Arrow's compute functions would be loaded for nothing).
                writer.write_table(pa.table(pa.concat_tables(parsed).columns, schema=schema))
                parsed.clear()

        def add(record: dict, line: str) -> None:
            lines.append(line)
            if len(lines) == PARSED_ROWS:
                flush(row_group_due=False)

        yield add
        flush(row_group_due=True)
