"""The journal of saved articles: what is known, what is complete, what is newest; the versions a new text replaced."""

import json
import signal
import time
from datetime import datetime, timedelta, timezone

import pytest

from sasscrawl.store import VERSIONS_FILE
from store_fixtures import CRASH_CHILD, read_lines, run_child


def test_known_ids_content_hash_and_is_complete_for_unknown(tmp_path, stores, make):
    """Unknown articles are neither known nor complete, so the spider fetches them."""
    store = stores(tmp_path)
    assert store.journal.known_ids() == set()
    store.save(make(7))
    store.save(make(3))
    assert store.journal.known_ids() == {3, 7}
    assert store.journal.content_hash(99) is None
    assert not store.journal.is_complete(99, make(99)["contentHash"])


def test_newest_ids_orders_by_publication_date_then_id(tmp_path, stores, make):
    """A refresh re-checks the newest articles first: by datePublished, ties by id, undated last."""
    store = stores(tmp_path)
    store.save(make(10, date="2025-12-01T09:00:00+08:00"))
    store.save(make(11, date="2026-02-01T09:00:00+08:00"))
    store.save(make(12, date="2026-01-15T09:00:00+08:00"))
    store.save(make(13, date=None))
    store.save(make(9, date="2026-02-01T09:00:00+08:00"))
    assert store.journal.newest_ids(None) == [11, 9, 12, 10, 13]
    assert store.journal.newest_ids(2) == [11, 9]
    assert store.journal.newest_ids(0) == []


def test_records_with_failed_images(tmp_path, stores, make):
    """The next run retries exactly the articles with a failed image, and forgets them once mirrored."""
    store = stores(tmp_path)
    store.save(make(5, image_status="failed"))
    store.save(make(2, image_status="downloaded"))
    partly = make(9, image_status="cached")
    partly["images"][1].update(status="failed", error="HTTP 503")
    store.save(partly)
    assert [record["articleId"] for record in store.journal.records_with_failed_images()] == [5, 9]
    assert list(store.journal.records_with_failed_images())[1] == partly
    assert not store.journal.is_complete(9, partly["contentHash"])

    store.save(make(5, image_status="downloaded"))
    assert [record["articleId"] for record in store.journal.records_with_failed_images()] == [9]


def test_when_the_last_new_article_was_saved(tmp_path, stores, make):
    store = stores(tmp_path)
    assert store.journal.last_new_article_at() is None
    before = time.time()
    store.save(make(1))
    first = store.journal.last_new_article_at()
    assert before - 1 <= first <= time.time()
    store.save(make(1, "v2"))  # a change is not a new article
    assert store.journal.last_new_article_at() == first


def test_newest_date_published_compares_instants(tmp_path, stores, make):
    store = stores(tmp_path)
    assert store.journal.newest_date_published() is None
    store.save(make(1, date="2026-01-30T20:00:00+08:00"))  # 12:00 UTC
    store.save(make(2, date="2026-01-30T13:00:00+00:00"))  # later, though it sorts first as text
    assert store.journal.newest_date_published() == datetime(2026, 1, 30, 13, tzinfo=timezone.utc)


def versions_file(data_dir) -> list[dict]:
    return [json.loads(line) for line in read_lines(data_dir / VERSIONS_FILE)]


def test_a_changed_text_keeps_the_record_it_replaces_as_a_version(tmp_path, stores, make):
    """Only a new text supersedes: images mirrored later or the very record again keep no version."""
    store = stores(tmp_path)
    first = make(4, image_status="failed")
    store.save(first)
    store.save(make(7))
    mirrored = make(4, image_status="downloaded")
    assert store.save(mirrored) == "updated"
    assert store.journal.version_count() == 0
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert store.save(make(4, "v2")) == "changed"
    assert store.save(make(4, "v2")) == "unchanged"
    store.save(make(7, "v2"))
    store.save(make(4, "v3"))

    assert store.journal.version_count() == 3
    versions = [json.loads(line) for line in store.journal.version_lines()]
    assert [(v["articleId"], v["record"]) for v in versions] == [(4, mirrored), (7, make(7)), (4, make(4, "v2"))]
    first_version = versions[0]
    assert first_version["contentHash"] == mirrored["contentHash"] != make(4, "v2")["contentHash"]
    assert first_version["dateDownloaded"] == mirrored["dateDownloaded"]
    superseded_at = datetime.fromisoformat(first_version["supersededAt"])
    assert superseded_at.utcoffset() == timedelta(0) and before <= superseded_at <= datetime.now(timezone.utc)
    assert store.changes.as_lists() == {"added": [4, 7], "changed": [], "gone": []}  # added in this handle's run
    store.close()
    assert versions_file(tmp_path) == versions


def test_the_changes_of_one_handle_are_listed_for_its_run(tmp_path, stores, make):
    """added, changed and gone are this handle's (one run's): an article gone already is not gone again."""
    store = stores(tmp_path)
    for article_id in (1, 2, 3):
        store.save(make(article_id))
    store.mark_gone(3, 404)
    store.close()
    store = stores(tmp_path)
    store.save(make(1, "v2"))
    store.save(make(2))  # the same text: unchanged
    store.save(make(9))
    store.mark_gone(3, 404)  # still gone: not news
    store.mark_gone(2, 410)
    assert store.changes.as_lists() == {"added": [9], "changed": [1], "gone": [2]}


def test_no_version_no_versions_file(tmp_path, stores, make):
    """versions.jsonl appears with the first superseded version; a folder where no text changed has none."""
    store = stores(tmp_path)
    store.save(make(1))
    store.close()
    assert not (tmp_path / VERSIONS_FILE).exists()


def test_a_kill_after_a_change_loses_no_version(tmp_path, stores, make):
    """The version is journaled with the new text, in one transaction: the next open writes versions.jsonl."""
    data = tmp_path / "data"
    records = [make(1), make(2), make(1, "v2"), make(2, "v2"), make(1, "v3")]
    (tmp_path / "records.json").write_text(json.dumps(records), encoding="utf-8")
    child = run_child(CRASH_CHILD, str(data), str(tmp_path / "records.json"))
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert not (data / VERSIONS_FILE).exists()  # no snapshot was due during the run

    store = stores(data)
    assert [version["record"] for version in versions_file(data)] == [make(1), make(2), make(1, "v2")]
    assert [record["contentHash"] for record in store.journal.records()] == [make(1, "v3")["contentHash"],
                                                                           make(2, "v2")["contentHash"]]


@pytest.mark.parametrize("damage", ["missing", "torn", "grown"])
def test_a_versions_file_missing_or_damaged_is_rewritten_at_open(tmp_path, stores, make, damage):
    store = stores(tmp_path)
    store.save(make(1))
    store.save(make(1, "v2"))
    store.save(make(1, "v3"))
    store.close()
    path = tmp_path / VERSIONS_FILE
    whole = path.read_bytes()
    if damage == "missing":
        path.unlink()
    elif damage == "torn":
        path.write_bytes(whole[:len(whole) // 2 + 3])
    else:
        path.write_bytes(whole + whole[:40])

    stores(tmp_path)
    assert path.read_bytes() == whole
