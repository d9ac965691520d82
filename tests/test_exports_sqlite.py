"""The SQLite export: its tables, its full-text index, its versions, and a real Datasette serving it over HTTP."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import subprocess
import sys
import urllib.request
from collections import Counter
from contextlib import closing
from urllib.parse import quote

import pytest

from export_fixtures import export_in_process, exported
from harness import free_port

TOKEN = re.compile(r"[^\W_]+")
"""Words as FTS5's unicode61 tokenizer splits them (letters and digits), lower-cased below."""


@pytest.fixture(scope="module")
def crawled(exports_crawl):
    assert exports_crawl.result.returncode == 0, exports_crawl.result.log[-3000:]
    return exports_crawl.result


def connect(data_dir):
    return closing(sqlite3.connect(f"{exported(data_dir, 'articles.sqlite').as_uri()}?mode=ro", uri=True))


def searched_words(record: dict) -> set[str]:
    text = " ".join(record[name] or "" for name in ("headline", "description", "articleBody"))
    return {word.lower() for word in TOKEN.findall(text)}


def rare_body_word(records: list[dict]) -> tuple[str, set[int]]:
    """A word of an article's body found in the fewest articles' searched text, and those articles' ids."""
    frequency = Counter(word for record in records for word in searched_words(record))
    word = min((word for word in searched_words(records[0]) if len(word) > 3 and not word.isdigit()
                and word in records[0]["articleBody"].lower()), key=lambda word: (frequency[word], word))
    return word, {record["articleId"] for record in records if word in searched_words(record)}


def test_tables_hold_every_article_and_item_joined_by_article_id(crawled):
    records = crawled.records
    with connect(crawled.data_dir) as db:
        assert [row[0] for row in db.execute("SELECT articleId FROM articles ORDER BY articleId")] == \
            [record["articleId"] for record in records]
        for table in ("authors", "figures", "images"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == sum(len(r[table]) for r in records)
        record = next(record for record in records if len(record["authors"]) > 1)
        assert db.execute("SELECT name, nameRaw FROM authors WHERE articleId = ? ORDER BY position",
                          (record["articleId"],)).fetchall() == [(a["name"], a["nameRaw"]) for a in record["authors"]]
        row = db.execute("SELECT authors, year, views, datePublished, section FROM articles WHERE articleId = ?",
                         (record["articleId"],)).fetchone()
        assert json.loads(row[0]) == [author["name"] for author in record["authors"]]
        assert row[1:4] == (int(record["datePublished"][:4]), record["views"], record["datePublished"])
        assert json.loads(row[4]) == record["section"]
        # Ids reached through $ref/anyOf are integers too, not their text.
        linked = next(record for record in records if record["previousArticleId"] is not None)
        assert db.execute("SELECT previousArticleId, typeof(previousArticleId), typeof(nextArticleId), typeof(views) "
                          "FROM articles WHERE articleId = ?", (linked["articleId"],)).fetchone() == \
            (linked["previousArticleId"], "integer", "integer" if linked["nextArticleId"] is not None else "null",
             "integer" if linked["views"] is not None else "null")
        image = next(record for record in records if record["images"])["images"][0]
        assert db.execute("SELECT sha256, size, status FROM images WHERE url = ?", (image["url"],)).fetchone() == \
            (image["sha256"], image["size"], image["status"])
        assert db.execute("SELECT count(*) FROM versions").fetchone()[0] == 0  # no versions.jsonl: an empty table


def test_full_text_search_finds_an_article_by_a_word_of_its_body(crawled):
    word, holding = rare_body_word(crawled.records)
    with connect(crawled.data_dir) as db:
        found = {row[0] for row in db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (word,))}
    assert crawled.records[0]["articleId"] in found
    assert found == holding


def test_datasette_serves_a_search_page_showing_the_article(crawled):
    word, _ = rare_body_word(crawled.records)
    metadata = json.loads(exported(crawled.data_dir, "metadata.json").read_text("utf-8"))
    assert metadata["databases"]["articles"]["tables"]["articles"]["facets"] == [{"array": "authors"}, "year"]
    assert metadata["license"] and metadata["source_url"].endswith("/103002/default.aspx")
    assert "license_url" not in metadata  # a licence note, not a licence to link to
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(exported(crawled.data_dir, "articles.sqlite")),
         "--metadata", str(exported(crawled.data_dir, "metadata.json")), "--host", "127.0.0.1", "--port", str(port)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in server.stderr:  # ready once Uvicorn says it listens: synchronised on its log, not on time
            if "Uvicorn running on" in line:
                break
        else:
            pytest.fail("datasette exited before it listened")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/articles/articles?_search={quote(word)}",
                                    timeout=30) as response:
            page = response.read().decode("utf-8")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert html.escape(crawled.records[0]["headline"], quote=False) in page
    assert "facet-articles-articles-authors" in page and "facet-articles-articles-year" in page
    assert "Data license" in page and html.escape(metadata["license"].split(",")[0], quote=False) in page


def test_versions_table_holds_the_versions_file(crawled, tmp_path):
    """The versions file as the store writes it (one JSON object a line); a line that is not one is left out.

    ``scrapy export`` runs in this process: its way to exit 0 is test_export_command's first test's."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in ("state.sqlite3", "articles.jsonl"):
        (data_dir / name).write_bytes((crawled.data_dir / name).read_bytes())
    old = {**crawled.records[0], "articleBody": "The text as it was first published.", "contentHash": "0" * 64}
    version = {"articleId": old["articleId"], "contentHash": old["contentHash"], "dateDownloaded": old["dateDownloaded"],
               "supersededAt": "2026-11-30T06:00:00+00:00", "record": old}
    (data_dir / "versions.jsonl").write_text(json.dumps(version) + "\n{not json\n", "utf-8")

    done = export_in_process(data_dir, "--format", "sqlite")

    assert done.returncode == 0, done.stderr[-3000:]
    assert "versions.jsonl line 2 is not a version" in done.stderr and "Traceback (most recent call last)" not in done.stderr
    with connect(data_dir) as db:
        rows = db.execute("SELECT v.articleId, v.contentHash, v.dateDownloaded, v.supersededAt, v.record, a.headline "
                          "FROM versions v JOIN articles a USING (articleId)").fetchall()
    assert len(rows) == 1
    assert rows[0][:4] == (old["articleId"], "0" * 64, old["dateDownloaded"], "2026-11-30T06:00:00+00:00")
    assert json.loads(rows[0][4]) == old and rows[0][5] == old["headline"]
    assert "1 superseded versions" in (data_dir / "README.md").read_text("utf-8")
