"""``articles.sqlite`` and ``metadata.json``: the dataset as a browse-and-search site with Datasette.

``datasette articles.sqlite --metadata metadata.json`` serves it. Tables, joined by ``articleId``:

- ``articles``: one row per article, a column per record field. ``authors`` holds the names as a
  JSON array (Datasette facets on it), ``year`` the year of ``datePublished`` in the site's time
  zone (facet); other lists and objects are JSON text. Figures and images have tables of their own.
- ``authors``, ``figures``, ``images``: one row per item, ``position`` its place in the record's list.
- ``versions``: the superseded versions of refreshed articles from ``DATA_DIR/versions.jsonl``
  (empty when there is none), ``record`` the whole old record as JSON.
- ``articles_fts``: an FTS5 index over headline, description and articleBody (external content:
  it reads the text from ``articles``), which Datasette's search box uses.

Built under a temporary name in the same folder (journal off: nothing to recover in a file no
one reads yet) and renamed into place with the export's other files once every one is complete.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sasscrawl import files
from sasscrawl.exports import FILES, ExportFailed, place
from sasscrawl.exports.records import Block
from sasscrawl.exports.schema import resolve
from sasscrawl.schemas import ARTICLE_SCHEMA

logger = logging.getLogger(__name__)

FILE, METADATA_FILE = FILES["sqlite"]
DATABASE = FILE.rsplit(".", 1)[0]
"""The name Datasette gives the database: the file's name without its suffix."""
FTS_TABLE = "articles_fts"
SEARCHED = ("headline", "description", "articleBody")
ITEM_TABLES = ("authors", "figures", "images")
"""Lists of objects that get a table each, one row per item."""


def _sql_type(node: dict) -> str:
    """INTEGER for an integer (also through ``$ref``/``anyOf``: the ids that link articles), else TEXT."""
    types = resolve(node).get("type", [])
    return "INTEGER" if "integer" in (types if isinstance(types, list) else [types]) else "TEXT"


ARTICLE_COLUMNS = [name for name in ARTICLE_SCHEMA["properties"] if name not in ITEM_TABLES[1:]]
ITEM_COLUMNS = {table: list(ARTICLE_SCHEMA["properties"][table]["items"]["properties"]) for table in ITEM_TABLES}


def _schema_sql() -> str:
    properties = ARTICLE_SCHEMA["properties"]
    columns = ",\n  ".join(
        f'"{name}" {_sql_type(properties[name])}{" PRIMARY KEY" if name == "articleId" else ""}'
        for name in ARTICLE_COLUMNS)
    statements = [f"CREATE TABLE articles (\n  {columns},\n  year INTEGER\n)"]
    for table, item_columns in ITEM_COLUMNS.items():
        item_properties = properties[table]["items"]["properties"]
        declared = ",\n  ".join(f'"{name}" {_sql_type(item_properties[name])}' for name in item_columns)
        statements.append(
            f"CREATE TABLE {table} (\n  articleId INTEGER NOT NULL REFERENCES articles(articleId),\n"
            f"  position INTEGER NOT NULL,\n  {declared},\n  PRIMARY KEY (articleId, position)\n)")
    statements.append(
        "CREATE TABLE versions (\n  articleId INTEGER NOT NULL REFERENCES articles(articleId),\n"
        "  contentHash TEXT NOT NULL,\n  dateDownloaded TEXT,\n  supersededAt TEXT NOT NULL,\n  record TEXT NOT NULL\n)")
    statements.append("CREATE INDEX versions_article ON versions (articleId)")
    statements.append(f'CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({", ".join(SEARCHED)}, '
                      f'content="articles", content_rowid="articleId")')
    return ";\n".join(statements)


def _cell(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


@contextmanager
def sqlite_export(batch: files.FileBatch, root: Path, folder: str | None, versions: Path,
                  metadata: Callable[[], dict]) -> Iterator[Callable[[Block], None]]:
    """``add(block)`` for each block of articles; then the versions are read from ``versions`` and the index built:
    ``root/folder/articles.sqlite`` and ``root/folder/metadata.json`` (``metadata()``) are whole when the block
    ends, and replaced when ``batch`` ends."""
    insert_article = (f"INSERT INTO articles ({', '.join(f'{chr(34)}{name}{chr(34)}' for name in ARTICLE_COLUMNS)}, "
                      f"year) VALUES ({', '.join('?' * (len(ARTICLE_COLUMNS) + 1))})")
    insert_items = {table: f"INSERT INTO {table} VALUES ({', '.join('?' * (len(columns) + 2))})"
                    for table, columns in ITEM_COLUMNS.items()}
    shown = root / place(folder, FILE)
    with closing(_new_database(batch.build(root, place(folder, FILE)), shown)) as db:
        def add(block: Block) -> None:
            with _building(shown):
                for record in block.records:
                    row = [_cell([author["name"] for author in record["authors"]] if name == "authors"
                                 else record[name]) for name in ARTICLE_COLUMNS]
                    published = record["datePublished"]
                    db.execute(insert_article, [*row, int(published[:4]) if published else None])
                    for table, columns in ITEM_COLUMNS.items():
                        db.executemany(insert_items[table], [
                            (record["articleId"], position, *(item.get(column) for column in columns))
                            for position, item in enumerate(record[table])])

        yield add
        with _building(shown):
            db.executemany("INSERT INTO versions VALUES (?, ?, ?, ?, ?)", version_rows(versions))
            db.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
            db.commit()
    batch.write(root, place(folder, METADATA_FILE),
                (json.dumps(metadata(), indent=2, ensure_ascii=False) + "\n").encode())


def _new_database(path: Path, shown: Path) -> sqlite3.Connection:
    """The empty database at ``path``, its tables made."""
    with _building(shown):
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")  # the batch flushes the whole file before it is renamed
            db.executescript(_schema_sql())
        except BaseException:
            db.close()
            raise
    return db


@contextmanager
def _building(shown: Path) -> Iterator[None]:
    """SQLite's errors while it builds the file (``database or disk is full``) as the export's failure."""
    try:
        yield
    except sqlite3.Error as error:
        raise ExportFailed(f"cannot build {shown} ({error})") from error


def version_rows(path: Path, report: bool = True) -> Iterator[tuple]:
    """The rows of ``versions.jsonl`` (none when there is no file); a line that is not a version is left out,
    and logged if ``report``."""
    try:
        lines = path.open("rb")
    except FileNotFoundError:
        return
    with lines:
        for number, line in enumerate(lines, 1):
            try:
                version = json.loads(line)
                yield (int(version["articleId"]), str(version["contentHash"]), version.get("dateDownloaded"),
                       str(version["supersededAt"]), json.dumps(version["record"], ensure_ascii=False))
            except (ValueError, TypeError, KeyError) as error:
                if report:
                        logger.warning("Left out of the versions table: %s line %d is not a version (%s)", path,
                                   number, error)


def datasette_metadata(title: str, description: str, source: str, source_url: str, license_note: str) -> dict:
    """Datasette's metadata: the site's title and provenance, facets on authors and year, the search on.

    No ``license_url``: the collection has no licence of its own to link to, only the note."""
    return {
        "title": title,
        "description": description,
        "source": source,
        "source_url": source_url,
        "license": license_note,
        "databases": {DATABASE: {"tables": {
            "articles": {"facets": [{"array": "authors"}, "year"], "fts_table": FTS_TABLE, "fts_pk": "articleId",
                         "sort_desc": "datePublished", "label_column": "headline"},
            FTS_TABLE: {"hidden": True},
        }}},
    }
