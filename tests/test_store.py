"""ArticleStore against real files and a real SQLite journal: what a user of DATA_DIR relies on."""

import copy
import errno
import hashlib
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sasscrawl.pages.article import parse_article
from sasscrawl.schemas import article_validator
from sasscrawl.store import (ARTICLES_FILE, DAY_SECONDS, LOCK_FILE, STATE_FILE, ArticleStore, DataDirLocked,
                             FrontierEntry, StoreError)

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
    return [(entry.url, entry.article_id, entry.failures) for entry in store.pending()]


def run_child(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=PROJECT, capture_output=True, timeout=60, **kwargs)


# --- saving and querying ------------------------------------------------------------


def test_save_reports_new_changed_updated(tmp_path, stores, make):
    """The run's stats (articles/new, /changed, /updated) come straight from save()'s answer."""
    store = stores(tmp_path)
    assert store.save(make(1, "v1", image_status="failed")) == "new"
    assert store.content_hash(1) == make(1, "v1")["contentHash"]
    assert not store.is_complete(1, make(1, "v1")["contentHash"])  # an image still failed

    assert store.save(make(1, "v1", image_status="downloaded")) == "updated"
    assert store.is_complete(1, make(1, "v1")["contentHash"])
    assert not store.is_complete(1, make(1, "v2")["contentHash"])  # other text: must be fetched again

    assert store.save(make(1, "v2")) == "changed"
    assert store.content_hash(1) == make(1, "v2")["contentHash"]
    assert store.count() == 1


def test_known_ids_content_hash_and_is_complete_for_unknown(tmp_path, stores, make):
    """Unknown articles are neither known nor complete, so the spider fetches them."""
    store = stores(tmp_path)
    assert store.known_ids() == set()
    store.save(make(7))
    store.save(make(3))
    assert store.known_ids() == {3, 7}
    assert store.content_hash(99) is None
    assert not store.is_complete(99, make(99)["contentHash"])


def test_newest_ids_orders_by_publication_date_then_id(tmp_path, stores, make):
    """A refresh re-checks the newest articles first: by datePublished, ties by id, undated last."""
    store = stores(tmp_path)
    store.save(make(10, date="2025-12-01T09:00:00+08:00"))
    store.save(make(11, date="2026-02-01T09:00:00+08:00"))
    store.save(make(12, date="2026-01-15T09:00:00+08:00"))
    store.save(make(13, date=None))
    store.save(make(9, date="2026-02-01T09:00:00+08:00"))
    assert store.newest_ids(None) == [11, 9, 12, 10, 13]
    assert store.newest_ids(2) == [11, 9]
    assert store.newest_ids(0) == []


# --- articles.jsonl ------------------------------------------------------------------


def test_snapshot_after_close_one_sorted_utf8_line_per_article(tmp_path, stores, make):
    """articles.jsonl is the deliverable: one valid, sorted, readable UTF-8 line per article, latest version."""
    store = stores(tmp_path)
    chinese = "上海社会科学院：乡村集群发展"
    for article_id in (30, 5, 200, 17):
        store.save(make(article_id))
    store.save(make(17, "v2", headline=chinese))  # replaced: only the latest version may remain
    store.close()

    lines = read_lines(tmp_path / ARTICLES_FILE)
    assert len(lines) == 4
    records = [json.loads(line) for line in lines]
    assert [record["articleId"] for record in records] == [5, 17, 30, 200]
    validator = article_validator()
    for record in records:
        assert list(validator.iter_errors(record)) == []
    replaced = records[1]
    assert replaced["headline"] == chinese
    assert replaced["contentHash"] == make(17, "v2")["contentHash"]
    raw = lines[1].decode("utf-8")
    assert chinese in raw
    assert "\\u" not in raw


def test_fresh_store_writes_an_empty_snapshot(tmp_path, stores):
    """A reader of a new DATA_DIR finds a (empty) articles.jsonl, not a missing file."""
    stores(tmp_path / "data")
    assert (tmp_path / "data" / ARTICLES_FILE).read_bytes() == b""


def test_snapshot_is_rewritten_after_each_save_when_due_and_leaves_no_temp_file(tmp_path, stores, make):
    """With snapshot_min_changes=1 and share 0 every save is visible at once, through an atomic rename."""
    store = stores(tmp_path, snapshot_min_changes=1, snapshot_share=0)
    store.save(make(2))
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [2]
    store.save(make(1))
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 2]
    store.save(make(1, "v2"))
    assert [json.loads(line)["contentHash"] for line in read_lines(tmp_path / ARTICLES_FILE)] == [
        make(1, "v2")["contentHash"], make(2)["contentHash"]]
    assert sorted(path.name for path in tmp_path.iterdir() if "tmp" in path.name) == []


def test_snapshot_waits_for_enough_changes(tmp_path, stores, make):
    """Snapshots are batched (cost stays linear); close() writes whatever is left."""
    store = stores(tmp_path, snapshot_min_changes=3, snapshot_share=0)
    store.save(make(1))
    store.save(make(2))
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == []
    store.save(make(3))
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 2, 3]
    store.save(make(4))
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 2, 3]
    store.close()
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 2, 3, 4]


# --- crash safety --------------------------------------------------------------------

CRASH_CHILD = """
import json, os, signal, sys
from sasscrawl.store import ArticleStore
store = ArticleStore(sys.argv[1])
for record in json.loads(open(sys.argv[2], encoding="utf-8").read()):
    store.save(record)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_sigkill_before_close_loses_nothing(tmp_path, stores, make):
    """A killed crawl: every committed save survives in the journal and the next open re-snapshots it."""
    data = tmp_path / "data"
    records = [make(article_id, headline=f"标题 {article_id}") for article_id in (4, 1, 3, 2, 5)]
    (tmp_path / "records.json").write_text(json.dumps(records), encoding="utf-8")
    child = run_child(CRASH_CHILD, str(data), str(tmp_path / "records.json"))
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    # The default thresholds took no snapshot during the run: recovery must come from the journal.
    assert read_lines(data / ARTICLES_FILE) == []

    store = stores(data)
    assert store.known_ids() == {1, 2, 3, 4, 5}
    assert [record["headline"] for record in store.records()] == [f"标题 {i}" for i in (1, 2, 3, 4, 5)]
    assert snapshot_ids(data / ARTICLES_FILE) == [1, 2, 3, 4, 5]  # re-snapshotted at open, before any save


# --- the lock ------------------------------------------------------------------------


def test_second_store_on_same_dir_is_refused_until_close(tmp_path, stores, make):
    """Two crawls on one DATA_DIR would interleave snapshots; the second must be told why it cannot start."""
    first = stores(tmp_path)
    first.save(make(1))
    with pytest.raises(DataDirLocked) as refused:
        ArticleStore(tmp_path)
    assert str(tmp_path / LOCK_FILE) in str(refused.value)
    assert isinstance(refused.value, StoreError)
    assert first.known_ids() == {1}  # the refused opener did not disturb the holder
    first.close()

    second = stores(tmp_path)
    assert second.known_ids() == {1}


LOCK_CHILD = """
import sys
from sasscrawl.store import ArticleStore
store = ArticleStore(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
store.close()
print("closed", flush=True)
"""


def test_lock_is_held_across_processes_and_released_on_close(tmp_path, stores):
    """A crawl in another process holds DATA_DIR; once it closes, the next run may start."""
    child = subprocess.Popen([sys.executable, "-c", LOCK_CHILD, str(tmp_path)], cwd=PROJECT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked", child.stderr.read()
        with pytest.raises(DataDirLocked, match=LOCK_FILE):
            ArticleStore(tmp_path)
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "closed"
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stores(tmp_path)


def test_lock_of_a_killed_crawl_does_not_go_stale(tmp_path, stores):
    """The lock dies with its process: a SIGKILLed crawl never blocks the next run."""
    child = subprocess.Popen([sys.executable, "-c", LOCK_CHILD, str(tmp_path)], cwd=PROJECT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked", child.stderr.read()
        with pytest.raises(DataDirLocked):
            ArticleStore(tmp_path)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert (tmp_path / LOCK_FILE).exists()
    stores(tmp_path)


# --- repair --------------------------------------------------------------------------


def _saved_and_closed(data: Path, make, ids) -> None:
    store = ArticleStore(data)
    for article_id in ids:
        store.save(make(article_id))
    store.close()


def test_corrupt_state_file_is_moved_aside_and_rebuilt_from_snapshot(tmp_path, stores, make, caplog):
    """A garbage state file must not stop the crawl nor lose the dataset: it is set aside and rebuilt."""
    _saved_and_closed(tmp_path, make, (3, 1, 2))
    snapshot_before = (tmp_path / ARTICLES_FILE).read_bytes()
    garbage = b"\x00\xffthis is not an SQLite database\n" * 200
    (tmp_path / STATE_FILE).write_bytes(garbage)

    with caplog.at_level(logging.WARNING, logger="sasscrawl.store"):
        store = stores(tmp_path)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "a corrupt state file must be reported as an error"
    assert any("corrupt" in r.getMessage() for r in errors)

    aside = list(tmp_path.glob(f"{STATE_FILE}.corrupt-*"))
    assert [path.read_bytes() for path in aside if path.name.count("-") == 1] == [garbage]
    assert store.known_ids() == set(snapshot_ids(tmp_path / ARTICLES_FILE)) == {1, 2, 3}
    assert store.content_hash(2) == make(2)["contentHash"]
    store.save(make(4))
    store.close()
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 2, 3, 4]
    assert (tmp_path / ARTICLES_FILE).read_bytes().startswith(snapshot_before)


def test_torn_last_line_is_skipped_and_the_others_restored(tmp_path, stores, make, caplog):
    """A half-written line (a copy cut short) costs that line only, with an error naming it."""
    _saved_and_closed(tmp_path, make, (1, 2, 3))
    half = json.dumps(make(4), ensure_ascii=False).encode("utf-8")
    with (tmp_path / ARTICLES_FILE).open("ab") as out:
        out.write(half[: len(half) // 2])
    (tmp_path / STATE_FILE).unlink()

    with caplog.at_level(logging.WARNING, logger="sasscrawl.store"):
        store = stores(tmp_path)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("line 4" in message for message in errors), errors
    assert store.known_ids() == {1, 2, 3}


def test_snapshot_holds_only_whole_lines_after_rebuild_skipped_a_line(tmp_path, stores, make):
    """After a repair the deliverable must again be 'one valid line per article', even if nothing is saved."""
    _saved_and_closed(tmp_path, make, (1, 2, 3))
    half = json.dumps(make(4), ensure_ascii=False).encode("utf-8")
    with (tmp_path / ARTICLES_FILE).open("ab") as out:
        out.write(half[: len(half) // 2])
    (tmp_path / STATE_FILE).unlink()

    stores(tmp_path).close()
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 2, 3]


def _snapshot_of(data: Path, lines: list[bytes]) -> bytes:
    data.mkdir(exist_ok=True)
    raw = b"".join(line + b"\n" for line in lines)
    (data / ARTICLES_FILE).write_bytes(raw)
    return raw


def _line(record) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def test_lines_a_rebuild_cannot_restore_are_named_counted_and_kept_in_a_copy(tmp_path, stores, make, caplog):
    """Odd lines cost only themselves: the rest is restored, and the file as it was survives the next snapshot."""
    hash_ = make(1)["contentHash"]
    original = _snapshot_of(tmp_path, [
        _line(make(1)),
        _line({**make(2), "articleId": 1.5}),            # once an IntegrityError that emptied the journal
        _line(make(3)),
        _line({**make(4), "articleId": 10**20}),         # once an OverflowError
        b"[4, 5]",
        _line({"articleId": 6}),
        _line({"articleId": 7, "contentHash": hash_, "images": 5}),
        _line({"articleId": 8, "contentHash": hash_, "datePublished": {"on": "Monday"}}),
        b"",
        _line(make(9)),
        _line(make(10))[:40],
    ])

    with caplog.at_level(logging.WARNING, logger="sasscrawl.store"):
        store = stores(tmp_path)

    assert store.known_ids() == {1, 3, 9}
    assert store.rebuild_skipped == 8
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    for number, reason in [(2, "articleId 1.5 is not an integer"), (4, "beyond SQLite's 64-bit integers"),
                           (5, "not a JSON object"), (6, "contentHash is missing"), (7, "cannot be journaled"),
                           (8, "cannot be journaled"), (9, "not JSON"), (11, "not JSON")]:
        assert any(f"line {number} of" in error and reason in error for error in errors), (number, errors)
    kept = list(tmp_path.glob(f"{ARTICLES_FILE}.before-rebuild-*"))
    assert [path.read_bytes() for path in kept] == [original]
    assert any(kept[0].name in error for error in errors)
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 3, 9]  # the deliverable is whole lines again
    store.close()
    assert kept[0].read_bytes() == original


def test_an_article_repeated_by_a_later_line_keeps_the_later_and_the_file_as_it_was(tmp_path, stores, make, caplog):
    original = _snapshot_of(tmp_path, [_line(make(1, "old")), _line(make(2)), _line(make(1, "new"))])
    with caplog.at_level(logging.ERROR, logger="sasscrawl.store"):
        store = stores(tmp_path)
    assert store.content_hash(1) == make(1, "new")["contentHash"]
    assert store.rebuild_skipped == 1
    assert any("line 1 of" in r.getMessage() and "again on line 3" in r.getMessage() for r in caplog.records)
    assert [path.read_bytes() for path in tmp_path.glob(f"{ARTICLES_FILE}.before-rebuild-*")] == [original]


def test_a_clean_rebuild_keeps_no_copy_and_leaves_the_snapshot_alone(tmp_path, stores, make):
    original = _snapshot_of(tmp_path, [_line(make(1)), _line(make(2))])
    store = stores(tmp_path)
    assert (store.known_ids(), store.rebuild_skipped) == ({1, 2}, 0)
    assert list(tmp_path.glob(f"{ARTICLES_FILE}.before-rebuild-*")) == []
    assert (tmp_path / ARTICLES_FILE).read_bytes() == original


def test_a_side_file_left_by_a_cut_rebuild_is_discarded_and_the_rebuild_starts_over(tmp_path, stores, make, caplog):
    _snapshot_of(tmp_path, [_line(make(1)), _line(make(2)), _line(make(3))])
    (tmp_path / f"{STATE_FILE}.rebuild").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # cut short
    with caplog.at_level(logging.WARNING, logger="sasscrawl.store"):
        store = stores(tmp_path)
    assert store.known_ids() == {1, 2, 3}
    assert list(tmp_path.glob(f"{STATE_FILE}.rebuild*")) == []
    assert any("Discarding" in r.getMessage() and "cut short" in r.getMessage() for r in caplog.records)


def test_an_empty_journal_beside_a_non_empty_snapshot_is_rebuilt(tmp_path, stores, make):
    """What a rebuild cut short by an older version left: the next snapshot would have emptied articles.jsonl."""
    stores(tmp_path).close()
    original = _snapshot_of(tmp_path, [_line(make(1)), _line(make(2))])
    store = stores(tmp_path)
    assert store.known_ids() == {1, 2}
    assert len(list(tmp_path.glob(f"{STATE_FILE}.empty-*"))) == 1
    store.close()
    assert (tmp_path / ARTICLES_FILE).read_bytes() == original


def test_a_write_ahead_log_left_without_its_state_file_is_moved_aside(tmp_path, stores, make):
    """Renamed into place beside another database's WAL, a rebuilt journal would take in its pages."""
    other = tmp_path / "other"
    store = stores(other)
    store.save(make(99))
    wal = (other / f"{STATE_FILE}-wal").read_bytes()
    store.close(snapshot=False)
    data = tmp_path / "data"
    _snapshot_of(data, [_line(make(1)), _line(make(2))])
    (data / f"{STATE_FILE}-wal").write_bytes(wal)

    store = stores(data)
    assert store.known_ids() == {1, 2}
    assert [path.read_bytes() for path in data.glob(f"{STATE_FILE}.orphan-*-wal")] == [wal]


def test_state_path_that_cannot_be_opened_is_an_error_not_a_corruption(tmp_path):
    """A directory where the state file should be is the user's to fix; nothing is moved or rebuilt."""
    (tmp_path / STATE_FILE).mkdir()
    with pytest.raises(StoreError, match=STATE_FILE):
        ArticleStore(tmp_path)
    assert list(tmp_path.glob(f"{STATE_FILE}.corrupt-*")) == []
    with pytest.raises(StoreError) as again:
        ArticleStore(tmp_path)
    assert not isinstance(again.value, DataDirLocked), "a failed open left DATA_DIR locked"


# --- the data folder failing ---------------------------------------------------------


def test_data_dir_through_a_regular_file_is_a_clear_store_error(tmp_path):
    """An unusable DATA_DIR stops the run with a message naming the folder and the reason."""
    (tmp_path / "file").write_text("not a folder")
    data = tmp_path / "file" / "data"
    with pytest.raises(StoreError) as failure:
        ArticleStore(data)
    assert str(data) in str(failure.value)
    assert "Not a directory" in str(failure.value)


def test_data_dir_that_is_a_regular_file_is_a_store_error(tmp_path):
    """DATA_DIR pointing at a file is refused the same way, never a raw traceback."""
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(StoreError, match="DATA_DIR"):
        ArticleStore(tmp_path / "data")


def test_failed_snapshot_leaves_previous_file_untouched_and_record_journaled(tmp_path, stores, make, monkeypatch):
    """The disk fails while the snapshot is written: StoreError, old file intact, nothing left over, article kept."""
    store = stores(tmp_path, snapshot_min_changes=1, snapshot_share=0)
    store.save(make(1))
    before = (tmp_path / ARTICLES_FILE).read_bytes()

    def failing_fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", failing_fsync)
        with pytest.raises(StoreError, match="untouched") as failure:
            store.save(make(2))
    assert STATE_FILE in str(failure.value) and "Input/output error" in str(failure.value)
    assert (tmp_path / ARTICLES_FILE).read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")) == []
    assert store.known_ids() == {1, 2}
    store.close()
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 2]
    reopened = stores(tmp_path)
    assert reopened.known_ids() == {1, 2}


def test_link_planted_at_the_old_temporary_name_is_never_written_through(tmp_path, stores, make):
    """Before, the snapshot wrote to .articles.jsonl.tmp: a link there made it overwrite the file it points to."""
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not the crawler's")
    data = tmp_path / "data"
    data.mkdir()
    planted = data / f".{ARTICLES_FILE}.tmp"
    planted.symlink_to(outside)
    store = stores(data, snapshot_min_changes=1, snapshot_share=0)
    store.save(make(1))
    store.close()
    assert outside.read_bytes() == b"not the crawler's"
    assert planted.is_symlink() and not (data / ARTICLES_FILE).is_symlink()
    assert snapshot_ids(data / ARTICLES_FILE) == [1]


def test_leftover_temporary_files_of_a_killed_snapshot_are_cleared_at_the_next_open(tmp_path, stores):
    leftover = tmp_path / f".{ARTICLES_FILE}.0123456789abcdef.tmp"
    leftover.write_bytes(b'{"articleId": 1')
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / ".x.json.fedcba9876543210.tmp").write_bytes(b"{")
    keep = tmp_path / "notes.tmp"
    keep.write_bytes(b"the user's")
    stores(tmp_path)
    assert sorted(path.name for path in tmp_path.rglob("*tmp")) == ["notes.tmp"]


@pytest.mark.parametrize("name", ["runs", "images", "warc", "snapshots", ".lock", "state.sqlite3"])
def test_a_link_in_the_data_folder_is_refused_before_anything_is_written(tmp_path, name):
    outside = tmp_path / "outside"
    outside.mkdir()
    data = tmp_path / "data"
    data.mkdir()
    (data / name).symlink_to(outside / "target" if name.startswith((".", "state")) else outside)
    with pytest.raises(StoreError, match=rf"{data / name} is a symbolic link"):
        ArticleStore(data)
    assert list(outside.iterdir()) == []
    assert sorted(path.name for path in data.iterdir()) == [name]


# --- frontier ------------------------------------------------------------------------


def test_frontier_add_list_finish(tmp_path, stores):
    """An interrupted run continues from its frontier: articles (newest id first), then listings."""
    store = stores(tmp_path)
    store.add_pending([("http://en.sass.cn/103002/5.aspx", 5), ("http://en.sass.cn/103002/default.aspx", None),
                       ("http://en.sass.cn/103002/9.aspx", 9), ("http://en.sass.cn/103002/7.aspx", 7)])
    store.add_pending([("http://en.sass.cn/103002/9.aspx", 9)])  # already there: not duplicated
    assert frontier(store) == [("http://en.sass.cn/103002/9.aspx", 9, 0), ("http://en.sass.cn/103002/7.aspx", 7, 0),
                               ("http://en.sass.cn/103002/5.aspx", 5, 0), ("http://en.sass.cn/103002/default.aspx", None, 0)]

    store.finish_pending("http://en.sass.cn/103002/default.aspx")
    store.finish_article(7)
    assert frontier(store) == [("http://en.sass.cn/103002/9.aspx", 9, 0), ("http://en.sass.cn/103002/5.aspx", 5, 0)]


def test_frontier_persists_across_runs(tmp_path, stores):
    """The point of the frontier: the next run sees what the last one did not finish."""
    store = ArticleStore(tmp_path)
    store.add_pending([("http://en.sass.cn/103002/5.aspx", 5), ("http://en.sass.cn/103002/list_2.aspx", None)])
    store.finish_pending("http://en.sass.cn/103002/list_2.aspx")
    store.close()
    assert frontier(stores(tmp_path)) == [("http://en.sass.cn/103002/5.aspx", 5, 0)]


def test_mark_gone_takes_article_off_frontier_and_save_brings_it_back(tmp_path, stores, make):
    """A 404/410 article is remembered as gone; if it reappears and is saved, it is no longer gone."""
    store = stores(tmp_path)
    store.add_pending([("http://en.sass.cn/103002/8.aspx", 8), ("http://en.sass.cn/103002/6.aspx", 6)])
    store.mark_gone(8, 404)
    assert frontier(store) == [("http://en.sass.cn/103002/6.aspx", 6, 0)]
    assert store.gone_ids() == {8}
    store.mark_gone(8, 410)
    assert store.gone_ids() == {8}

    store.add_pending([("http://en.sass.cn/103002/8.aspx", 8)])
    store.save(make(8))
    assert store.gone_ids() == set()
    assert frontier(store) == [("http://en.sass.cn/103002/6.aspx", 6, 0)]


def test_save_closes_the_articles_frontier_entries(tmp_path, stores, make):
    """Saving an article finishes every pending URL of that article, and only those."""
    store = stores(tmp_path)
    store.add_pending([("http://en.sass.cn/103002/3.aspx", 3), ("http://en.sass.cn/103002/3.aspx?x=1", 3),
                       ("http://en.sass.cn/103002/4.aspx", 4), ("http://en.sass.cn/103002/default.aspx", None)])
    store.save(make(3))
    assert frontier(store) == [("http://en.sass.cn/103002/4.aspx", 4, 0), ("http://en.sass.cn/103002/default.aspx", None, 0)]


def test_records_with_failed_images(tmp_path, stores, make):
    """The next run retries exactly the articles with a failed image, and forgets them once mirrored."""
    store = stores(tmp_path)
    store.save(make(5, image_status="failed"))
    store.save(make(2, image_status="downloaded"))
    partly = make(9, image_status="cached")
    partly["images"][1].update(status="failed", error="HTTP 503")
    store.save(partly)
    assert [record["articleId"] for record in store.records_with_failed_images()] == [5, 9]
    assert list(store.records_with_failed_images())[1] == partly
    assert not store.is_complete(9, partly["contentHash"])

    store.save(make(5, image_status="downloaded"))
    assert [record["articleId"] for record in store.records_with_failed_images()] == [9]


# --- image index ---------------------------------------------------------------------


def test_image_index_is_saved_with_the_article_and_persists(tmp_path, stores, make):
    """A mirrored image is known across runs (so it is not downloaded again) once its article is saved."""
    record = make(5)
    url = record["images"][0]["url"]
    info = {"path": "images/en.sass.cn/upload/images/2026/2/2/x.001.jpeg", "sha256": "ab" * 32, "size": 1234,
            "contentType": "image/jpeg", "width": 800, "height": 600}
    record["images"] = [{"url": url, **info, "status": "downloaded", "error": None}]
    store = ArticleStore(tmp_path)
    assert store.image(url) is None
    store.save(record)
    assert store.image(url) == info
    record["images"][0] = {"url": url, **info, "size": 99, "status": "cached", "error": None}
    store.save(record)
    assert store.image(url)["size"] == 99
    failed = {"url": "http://en.sass.cn/upload/other.jpeg", "path": None, "sha256": None, "size": None,
              "contentType": None, "width": None, "height": None, "status": "failed", "error": "HTTP 404"}
    store.save({**record, "images": [failed]})
    assert store.image(failed["url"]) is None  # a failed image is not mirrored
    store.close()
    assert stores(tmp_path).image(url) == {**info, "size": 99}


def test_failures_are_remembered_per_frontier_url(tmp_path, stores):
    """A URL that failed is retried next run, which then knows it failed before (and how often)."""
    store = ArticleStore(tmp_path)
    store.add_pending([("http://en.sass.cn/103002/5.aspx", 5), ("http://en.sass.cn/103002/6.aspx", 6)])
    store.record_failure("http://en.sass.cn/103002/5.aspx")
    store.close()
    store = ArticleStore(tmp_path)
    store.record_failure("http://en.sass.cn/103002/5.aspx")
    store.close()
    assert frontier(stores(tmp_path)) == [("http://en.sass.cn/103002/6.aspx", 6, 0),
                                          ("http://en.sass.cn/103002/5.aspx", 5, 2)]


def test_failures_remember_the_run_and_time_they_happened(tmp_path, stores):
    store = stores(tmp_path)
    assert (store.begin_run(), store.begin_run()) == (1, 2)
    store.add_pending([("http://en.sass.cn/103002/5.aspx", 5)])
    store.record_failure("http://en.sass.cn/103002/5.aspx")
    entry = store.pending()[0]
    assert entry.failures == 1 and entry.failed_run == 2 and abs(entry.failed_at - time.time()) < 60
    store.close()
    assert stores(tmp_path).begin_run() == 3  # the run number is kept with the journal


@pytest.mark.parametrize("failures, runs_later, days_later, due", [
    (1, 1, 0, True),    # one failure: not chronic, tried again by the next run
    (2, 1, 0, True),    # chronic from the second: retried after 1 run ...
    (3, 1, 0, False),   # ... then after 2 runs ...
    (3, 2, 0, True),
    (4, 3, 0, False),   # ... 4 runs ...
    (4, 4, 0, True),
    (4, 1, 4, True),    # ... or as many days, whichever comes first
    (4, 1, 3.9, False),
    (12, 1, 29.9, False),  # the days capped at 30
    (12, 1, 30, True),
])
def test_chronic_pages_back_off_by_runs_or_days_whichever_comes_first(failures, runs_later, days_later, due):
    failed_at = 1_700_000_000.0
    entry = FrontierEntry("http://en.sass.cn/103002/5.aspx", 5, failures, failed_at, 10)
    assert entry.chronic == (failures >= 2)
    assert entry.due(10 + runs_later, failed_at + days_later * DAY_SECONDS) is due


def test_a_failure_from_before_the_schedule_is_due():
    assert FrontierEntry("http://en.sass.cn/103002/5.aspx", 5, 7, None, None).due(1, 0.0)


def test_state_file_of_an_older_version_gains_the_failure_times(tmp_path, stores):
    """An existing frontier (url, article_id, failures) is kept, its failures due at once."""
    db = sqlite3.connect(tmp_path / STATE_FILE)
    db.executescript("""
        CREATE TABLE pending (url TEXT PRIMARY KEY, article_id INTEGER, failures INTEGER NOT NULL DEFAULT 0);
        INSERT INTO pending VALUES ('http://en.sass.cn/103002/5.aspx', 5, 3);
    """)
    db.close()
    store = stores(tmp_path)
    assert store.pending() == [FrontierEntry("http://en.sass.cn/103002/5.aspx", 5, 3, None, None)]
    assert store.pending()[0].due(store.begin_run(), time.time())
    store.record_failure("http://en.sass.cn/103002/5.aspx")
    assert store.chronic_pages()[0].failed_run == 1


def test_when_the_last_new_article_was_saved(tmp_path, stores, make):
    store = stores(tmp_path)
    assert store.last_new_article_at() is None
    before = time.time()
    store.save(make(1))
    first = store.last_new_article_at()
    assert before - 1 <= first <= time.time()
    store.save(make(1, "v2"))  # a change is not a new article
    assert store.last_new_article_at() == first


def test_newest_date_published_compares_instants(tmp_path, stores, make):
    store = stores(tmp_path)
    assert store.newest_date_published() is None
    store.save(make(1, date="2026-01-30T20:00:00+08:00"))  # 12:00 UTC
    store.save(make(2, date="2026-01-30T13:00:00+00:00"))  # later, though it sorts first as text
    assert store.newest_date_published() == datetime(2026, 1, 30, 13, tzinfo=timezone.utc)
