"""The image index: what is mirrored, by image key, saved with its article and kept across runs."""

from sasscrawl.store import ArticleStore


def test_image_index_is_saved_with_the_article_and_persists(tmp_path, stores, make):
    """A mirrored image is known across runs (so it is not downloaded again) once its article is saved."""
    record = make(5)
    url = record["images"][0]["url"]
    info = {"path": "images/en.sass.cn/upload/images/2026/2/2/x.001.jpeg", "sha256": "ab" * 32, "size": 1234,
            "contentType": "image/jpeg", "width": 800, "height": 600}
    record["images"] = [{"url": url, **info, "status": "downloaded", "error": None}]
    store = ArticleStore(tmp_path)
    assert store.images.image(url) is None
    store.save(record)
    assert store.images.image(url) == info
    record["images"][0] = {"url": url, **info, "size": 99, "status": "cached", "error": None}
    store.save(record)
    assert store.images.image(url)["size"] == 99
    failed = {"url": "http://en.sass.cn/upload/other.jpeg", "path": None, "sha256": None, "size": None,
              "contentType": None, "width": None, "height": None, "status": "failed", "error": "HTTP 404"}
    store.save({**record, "images": [failed]})
    assert store.images.image(failed["url"]) is None  # a failed image is not mirrored
    store.close()
    assert stores(tmp_path).images.image(url) == {**info, "size": 99}
