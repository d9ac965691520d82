"""Repair at open: a kill's leftovers cleared; a missing or damaged journal rebuilt from articles.jsonl and
versions.jsonl, losing nothing."""

import json
import logging
from pathlib import Path

import pytest

from sasscrawl.store import ARTICLES_FILE, STATE_FILE, VERSIONS_FILE, ArticleStore, DataDirLocked, StoreError
from store_fixtures import snapshot_ids


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
    assert store.journal.known_ids() == set(snapshot_ids(tmp_path / ARTICLES_FILE)) == {1, 2, 3}
    assert store.journal.content_hash(2) == make(2)["contentHash"]
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
    assert store.journal.known_ids() == {1, 2, 3}


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

    assert store.journal.known_ids() == {1, 3, 9}
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
    assert store.journal.content_hash(1) == make(1, "new")["contentHash"]
    assert store.rebuild_skipped == 1
    assert any("line 1 of" in r.getMessage() and "again on line 3" in r.getMessage() for r in caplog.records)
    assert [path.read_bytes() for path in tmp_path.glob(f"{ARTICLES_FILE}.before-rebuild-*")] == [original]


def test_a_clean_rebuild_keeps_no_copy_and_leaves_the_snapshot_alone(tmp_path, stores, make):
    original = _snapshot_of(tmp_path, [_line(make(1)), _line(make(2))])
    store = stores(tmp_path)
    assert (store.journal.known_ids(), store.rebuild_skipped) == ({1, 2}, 0)
    assert list(tmp_path.glob(f"{ARTICLES_FILE}.before-rebuild-*")) == []
    assert (tmp_path / ARTICLES_FILE).read_bytes() == original


def test_a_side_file_left_by_a_cut_rebuild_is_discarded_and_the_rebuild_starts_over(tmp_path, stores, make, caplog):
    _snapshot_of(tmp_path, [_line(make(1)), _line(make(2)), _line(make(3))])
    (tmp_path / f"{STATE_FILE}.rebuild").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # cut short
    with caplog.at_level(logging.WARNING, logger="sasscrawl.store"):
        store = stores(tmp_path)
    assert store.journal.known_ids() == {1, 2, 3}
    assert list(tmp_path.glob(f"{STATE_FILE}.rebuild*")) == []
    assert any("Discarding" in r.getMessage() and "cut short" in r.getMessage() for r in caplog.records)


def test_an_empty_journal_beside_a_non_empty_snapshot_is_rebuilt(tmp_path, stores, make):
    """What a rebuild cut short by an older version left: the next snapshot would have emptied articles.jsonl."""
    stores(tmp_path).close()
    original = _snapshot_of(tmp_path, [_line(make(1)), _line(make(2))])
    store = stores(tmp_path)
    assert store.journal.known_ids() == {1, 2}
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
    assert store.journal.known_ids() == {1, 2}
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


def test_leftover_temporary_files_of_a_killed_snapshot_are_cleared_at_the_next_open(tmp_path, stores):
    leftover = tmp_path / f".{ARTICLES_FILE}.0123456789abcdef.tmp"
    leftover.write_bytes(b'{"articleId": 1')
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / ".x.json.fedcba9876543210.tmp").write_bytes(b"{")
    (tmp_path / "exports").mkdir()  # a kill during an export
    (tmp_path / "exports" / ".articles.sqlite.00112233445566ff.tmp").write_bytes(b"SQLite format 3")
    keep = tmp_path / "notes.tmp"
    keep.write_bytes(b"the user's")
    stores(tmp_path)
    assert sorted(path.name for path in tmp_path.rglob("*tmp")) == ["notes.tmp"]


def _versions_saved_and_closed(data: Path, make) -> bytes:
    """Articles 1 (three texts) and 2 (two), closed: versions.jsonl holds three versions; its bytes."""
    store = ArticleStore(data)
    for article_id, text in ((1, "v1"), (2, "v1"), (1, "v2"), (2, "v2"), (1, "v3")):
        store.save(make(article_id, text))
    store.close()
    return (data / VERSIONS_FILE).read_bytes()


def test_a_lost_state_file_is_rebuilt_with_the_versions_and_keeps_each_once(tmp_path, stores, make):
    """The versions come back from versions.jsonl, in their order; superseding one again adds no second line."""
    versions = _versions_saved_and_closed(tmp_path, make)
    articles = (tmp_path / ARTICLES_FILE).read_bytes()
    for path in tmp_path.glob(f"{STATE_FILE}*"):
        path.unlink()

    store = stores(tmp_path)
    assert store.rebuild_skipped == 0
    assert [line.encode() + b"\n" for line in store.journal.version_lines()] == versions.splitlines(keepends=True)
    assert store.save(make(2, "v2")) == "unchanged"
    store.close()
    assert (tmp_path / VERSIONS_FILE).read_bytes() == versions  # not rewritten: it held what the journal holds
    assert (tmp_path / ARTICLES_FILE).read_bytes() == articles
    assert list(tmp_path.glob("*.before-rebuild-*")) == []

    # A version written to versions.jsonl, its successor lost with the state file: superseded again, kept once.
    (tmp_path / ARTICLES_FILE).write_bytes(articles.replace(_line_of(make(2, "v2")), _line_of(make(2, "v1"))))
    for path in tmp_path.glob(f"{STATE_FILE}*"):
        path.unlink()
    store = stores(tmp_path)
    assert store.save(make(2, "v2")) == "changed"
    assert store.journal.version_count() == 3
    store.close()
    assert (tmp_path / VERSIONS_FILE).read_bytes() == versions


def _line_of(record) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_versions_lines_a_rebuild_cannot_restore_are_named_counted_and_kept_in_a_copy(tmp_path, stores, make,
                                                                                         caplog):
    versions = _versions_saved_and_closed(tmp_path, make)
    lines = versions.splitlines(keepends=True)
    damaged = b"".join([lines[0], b'{"articleId": "one", "contentHash": "x", "record": {}}\n', lines[1],
                        b'{"articleId": 3, "contentHash": "x"}\n', lines[2][:50]])
    (tmp_path / VERSIONS_FILE).write_bytes(damaged)
    for path in tmp_path.glob(f"{STATE_FILE}*"):
        path.unlink()

    with caplog.at_level(logging.WARNING, logger="sasscrawl.store"):
        store = stores(tmp_path)

    assert store.rebuild_skipped == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    for number, reason in [(2, "articleId 'one' is not an integer"), (4, "record is missing"), (5, "not JSON")]:
        assert any(f"line {number} of" in error and VERSIONS_FILE in error and reason in error for error in errors), \
            (number, errors)
    kept = list(tmp_path.glob(f"{VERSIONS_FILE}.before-rebuild-*"))
    assert [path.read_bytes() for path in kept] == [damaged]
    assert list(tmp_path.glob(f"{ARTICLES_FILE}.before-rebuild-*")) == []  # articles.jsonl was whole
    assert (tmp_path / VERSIONS_FILE).read_bytes() == b"".join(lines[:2])  # rewritten at open: whole lines only
