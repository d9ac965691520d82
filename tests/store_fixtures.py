"""What the tests of the store's parts (tests/test_store_*.py) share: records to save and stores that get closed.

A plugin of the test suite (tests/conftest.py), so the fixtures reach every test module.
"""

import copy
import hashlib
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sasscrawl.pages.article import parse_article
from sasscrawl.schemas import article_validator
from sasscrawl.store import ArticleStore

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).parent.parent
URL_5554 = "http://en.sass.cn/103002/5554.aspx"
DOWNLOADED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def base_record():
    return parse_article((FIXTURES / "en.sass.cn_103002_5554.aspx.xml").read_bytes(), URL_5554, DOWNLOADED)


@pytest.fixture
def make(base_record):
    """Build a schema-valid record: another id, text (hash), headline, date or image statuses."""

    def build(article_id, text="v1", headline=None, date="2026-01-30T12:00:00+08:00", image_status="downloaded"):
        record = copy.deepcopy(base_record)
        record["articleId"] = article_id
        record["url"] = f"http://en.sass.cn/103002/{article_id}.aspx"
        record["headline"] = headline or f"Article {article_id} {text}"
        record["contentHash"] = hashlib.sha256(f"{article_id}/{text}".encode()).hexdigest()
        record["datePublished"] = date
        record["images"] = [
            {"url": image["url"], "path": None, "sha256": None, "size": None, "contentType": None,
             "width": None, "height": None, "status": image_status,
             "error": "HTTP 500" if image_status == "failed" else None}
            for image in record["images"]
        ]
        assert list(article_validator().iter_errors(record)) == []
        return record

    return build


@pytest.fixture
def stores():
    """Open stores through this, so a failing test never leaves a lock or a connection behind."""
    opened = []

    def open_store(data_dir, **kwargs):
        store = ArticleStore(data_dir, **kwargs)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        try:
            store.close(snapshot=False)
        except Exception:  # already closed, or the test left the folder broken on purpose
            pass


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "articles.jsonl must end with a whole line"
    return data.splitlines()


def snapshot_ids(path: Path) -> list[int]:
    return [json.loads(line)["articleId"] for line in read_lines(path)]


def frontier(store) -> list[tuple]:
    """The frontier as ``(url, article id, failures)``."""
    return [(entry.url, entry.article_id, entry.failures) for entry in store.frontier.pending()]


CRASH_CHILD = """
import json, os, signal, sys
from sasscrawl.store import ArticleStore
store = ArticleStore(sys.argv[1])
for record in json.loads(open(sys.argv[2], encoding="utf-8").read()):
    store.save(record)
os.kill(os.getpid(), signal.SIGKILL)
"""
"""A child that saves the records of the JSON file argv[2] in the data folder argv[1], then is killed."""


def run_child(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT, capture_output=True, timeout=60, **kwargs)
