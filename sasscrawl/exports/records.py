"""The saved records as the exports take them: checked, read by Arrow, in blocks; a record that does not fit is skipped.

A record is left out of every format (and of the card's counts), with one warning naming its
``articleId`` and what is wrong, when it is not a JSON object, when the record's JSON Schema rejects
it (a field missing or of the wrong type: a line written by hand, or by an older sasscrawl), or when
Arrow cannot read a value as its declared type (a date that does not exist, an integer beyond
int64); the others are written. So a journal holding such a record never stops a crawl's end or
``scrapy export``, and every format holds the same articles.

The JSON Schema is checked first (jsonschema-rs: microseconds a record); then Arrow's JSON reader
reads :data:`BLOCK_ROWS` lines at once against the explicit schema (no Python objects per value,
no type inference); a block it refuses is read again line by line to find the lines at fault.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.json as pa_json

from sasscrawl.exports.arrow import arrow_schema
from sasscrawl.schemas import article_errors

logger = logging.getLogger(__name__)

BLOCK_ROWS = 25
"""Lines read by Arrow at once, their records held meanwhile. Chosen by the export's peak RSS (``python -m bench
--only exports``, 5,000 articles): 156 MiB at 25, 158 MiB at 50, in 2.0 s either way."""
REASON_CHARS = 300
"""A reason is cut to this length: a wrong value can be a whole article's text."""


@dataclass
class Block:
    records: list[dict]
    table: pa.Table
    """The same records, typed by :func:`~sasscrawl.exports.arrow.arrow_schema`."""


class RecordReader:
    """Reads the journal's lines into :class:`Block` s; ``skipped`` counts the records left out."""

    def __init__(self) -> None:
        self.skipped = 0
        self._parse = pa_json.ParseOptions(explicit_schema=arrow_schema(), unexpected_field_behavior="error")
        self._read = pa_json.ReadOptions(use_threads=False)

    def blocks(self, lines: Iterable[str]) -> Iterator[Block]:
        """The lines' records (``Journal.lines``: by ``articleId``), in blocks of at most :data:`BLOCK_ROWS`."""
        pending: list[tuple[dict, str]] = []
        for line in lines:
            if (record := self._checked(line)) is not None:
                pending.append((record, line))
            if len(pending) == BLOCK_ROWS:
                yield from self._block(pending)
                pending = []
        if pending:
            yield from self._block(pending)

    def _checked(self, line: str) -> dict | None:
        try:
            record = json.loads(line)
        except ValueError as error:
            self._skip(None, f"not JSON ({error})")
            return None
        if not isinstance(record, dict):
            self._skip(None, f"not a JSON object but {type(record).__name__}")
            return None
        if errors := article_errors(record):
            error = min(errors, key=lambda error: len(error.absolute_path))
            self._skip(record.get("articleId"), f"the record schema rejects it: {error.json_path}: {error.message}")
            return None
        return record

    def _block(self, pending: list[tuple[dict, str]]) -> Iterator[Block]:
        """The block of these records; none when Arrow can read none of them."""
        try:
            table = self._table([line for _, line in pending])
        except pa.ArrowInvalid:
            pass
        else:
            yield Block([record for record, _ in pending], table)
            return
        fitting, tables = [], []
        for record, line in pending:
            try:
                tables.append(self._table([line]))
            except pa.ArrowInvalid as error:
                self._skip(record["articleId"], f"Arrow cannot read it as the Parquet schema types it: {error}")
                continue
            fitting.append(record)
        if tables:  # the reader's tables, alike (an empty table of the declared schema would differ in nullability)
            yield Block(fitting, pa.concat_tables(tables))

    def _table(self, lines: list[str]) -> pa.Table:
        data = io.BytesIO("\n".join(lines).encode("utf-8"))
        return pa_json.read_json(data, read_options=self._read, parse_options=self._parse)

    def _skip(self, article_id, reason: str) -> None:
        self.skipped += 1
        if len(reason) > REASON_CHARS:
            reason = reason[:REASON_CHARS - 1] + "…"
        logger.warning("Left out of the exports: article %s does not fit: %s",
                       article_id if article_id is not None else "(no articleId)", reason)
