"""articles.jsonl, the journal's snapshot: one sorted, whole, valid line per article, replaced atomically."""

import errno
import json
import os

import pytest

from sasscrawl import files
from sasscrawl.schemas import article_validator
from sasscrawl.store import ARTICLES_FILE, STATE_FILE, VERSIONS_FILE, StoreError, state
from store_fixtures import read_lines, snapshot_ids


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
    assert store.journal.known_ids() == {1, 2}
    store.close()
    assert snapshot_ids(tmp_path / ARTICLES_FILE) == [1, 2]
    reopened = stores(tmp_path)
    assert reopened.journal.known_ids() == {1, 2}


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


def test_a_snapshot_never_holds_what_the_disk_does_not(tmp_path, stores, make, monkeypatch):
    """The journal's commits reach the disk at a checkpoint (synchronous=NORMAL): one comes before each snapshot
    is written, so a power cut cannot take from the journal an article or a version a snapshot holds, and one
    when the folder closes."""
    store = stores(tmp_path)
    events = []
    store.state.db.set_trace_callback(lambda sql: events.append("checkpoint") if "wal_checkpoint" in sql else None)
    replacing_file = files.replacing_file

    def recorded(root, relative):
        events.append(f"write {relative}")
        return replacing_file(root, relative)

    monkeypatch.setattr(files, "replacing_file", recorded)
    monkeypatch.setattr(state, "DURABLE_EVERY_SECONDS", 3600)  # none due while saving
    for article_id in (1, 2, 3):
        store.save(make(article_id))
    store.save(make(2, "v2"))
    assert events == []
    store.close()
    assert events == ["checkpoint", f"write {VERSIONS_FILE}", "checkpoint", f"write {ARTICLES_FILE}", "checkpoint"]
