"""The store's facade: an article saved with its frontier entry closed and its images indexed, in one
transaction; nothing saved is lost to a kill; mirrored images marked damaged."""

import json
import signal

from sasscrawl.store import ARTICLES_FILE
from store_fixtures import CRASH_CHILD, frontier, read_lines, run_child, snapshot_ids


def test_save_reports_new_changed_updated(tmp_path, stores, make):
    """The run's stats (articles/new, /changed, /updated) come straight from save()'s answer."""
    store = stores(tmp_path)
    assert store.save(make(1, "v1", image_status="failed")) == "new"
    assert store.journal.content_hash(1) == make(1, "v1")["contentHash"]
    assert not store.journal.is_complete(1, make(1, "v1")["contentHash"])  # an image still failed

    assert store.save(make(1, "v1", image_status="downloaded")) == "updated"
    assert store.journal.is_complete(1, make(1, "v1")["contentHash"])
    assert not store.journal.is_complete(1, make(1, "v2")["contentHash"])  # other text: must be fetched again

    assert store.save(make(1, "v2")) == "changed"
    assert store.journal.content_hash(1) == make(1, "v2")["contentHash"]
    assert store.journal.count() == 1


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
    assert store.journal.known_ids() == {1, 2, 3, 4, 5}
    assert [record["headline"] for record in store.journal.records()] == [f"标题 {i}" for i in (1, 2, 3, 4, 5)]
    assert snapshot_ids(data / ARTICLES_FILE) == [1, 2, 3, 4, 5]  # re-snapshotted at open, before any save


def test_mark_gone_takes_article_off_frontier_and_save_brings_it_back(tmp_path, stores, make):
    """A 404/410 article is remembered as gone; if it reappears and is saved, it is no longer gone."""
    store = stores(tmp_path)
    store.frontier.add_pending([("http://en.sass.cn/103002/8.aspx", 8), ("http://en.sass.cn/103002/6.aspx", 6)])
    store.frontier.mark_gone(8, 404)
    assert frontier(store) == [("http://en.sass.cn/103002/6.aspx", 6, 0)]
    assert store.frontier.gone_ids() == {8}
    store.frontier.mark_gone(8, 410)
    assert store.frontier.gone_ids() == {8}

    store.frontier.add_pending([("http://en.sass.cn/103002/8.aspx", 8)])
    store.save(make(8))
    assert store.frontier.gone_ids() == set()
    assert frontier(store) == [("http://en.sass.cn/103002/6.aspx", 6, 0)]


def test_save_closes_the_articles_frontier_entries(tmp_path, stores, make):
    """Saving an article finishes every pending URL of that article, and only those."""
    store = stores(tmp_path)
    store.frontier.add_pending([("http://en.sass.cn/103002/3.aspx", 3), ("http://en.sass.cn/103002/3.aspx?x=1", 3),
                       ("http://en.sass.cn/103002/4.aspx", 4), ("http://en.sass.cn/103002/default.aspx", None)])
    store.save(make(3))
    assert frontier(store) == [("http://en.sass.cn/103002/4.aspx", 4, 0), ("http://en.sass.cn/103002/default.aspx", None, 0)]


def test_images_found_damaged_are_marked_failed_and_leave_the_index(tmp_path, stores, make):
    """The next run's image mirror fetches them again: their records say failed, and why; the index forgets them."""
    store = stores(tmp_path)
    first, second = make(1), make(2)
    shared = first["images"][0]["url"]
    for record in (first, second):
        record["images"] = [{**image, "path": f"images/x/{index}", "sha256": "ab" * 32, "size": 3,
                             "contentType": "image/jpeg", "width": 1, "height": 1, "status": "downloaded"}
                            for index, image in enumerate(record["images"])]
        store.save(record)
    spelt_otherwise = shared.replace("http://en.sass.cn/", "http://EN.sass.cn:80/")
    assert store.mark_images_damaged({spelt_otherwise: "is missing"}) == [1, 2]
    assert store.images.image(shared) is None
    damaged = [record for record in store.journal.records_with_failed_images()]
    assert [record["articleId"] for record in damaged] == [1, 2]
    assert damaged[0]["images"][0] == {"url": shared, "path": None, "sha256": None, "size": None,
                                       "contentType": None, "width": None, "height": None, "status": "failed",
                                       "error": "mirrored file is missing"}
    assert damaged[0]["images"][1:] == first["images"][1:]
    store.close()
    assert [json.loads(line)["images"][0]["status"] for line in read_lines(tmp_path / ARTICLES_FILE)] == ["failed"] * 2
