"""The journal of saved articles: what is known, what is complete, what is newest."""

import time
from datetime import datetime, timezone



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
