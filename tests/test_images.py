"""The image mirror against the replica: byte-exact files, their facts in the record, failures retried."""

from __future__ import annotations

import hashlib
import io
import json
import os

import pytest
from PIL import Image

from harness import command_in_process, run_crawl
from sasscrawl_replica import build_site


@pytest.fixture(scope="module")
def mirrored(quirky_crawl):
    """The session's crawl of the quirky replica (conftest): its images, among them an EXIF JPEG and an RGBA PNG."""
    return quirky_crawl.site, quirky_crawl.server, quirky_crawl.result


def served_bytes(site, path: str) -> bytes:
    return site.response("GET", path, "127.0.0.1").body


def test_every_image_is_mirrored_byte_for_byte_in_the_site_layout(mirrored):
    site, server, result = mirrored
    images = [image for record in result.records for image in record["images"]]
    assert images and all(image["status"] == "downloaded" for image in images)
    for image in images:
        path = image["url"][len(server.origin):]
        assert image["path"] == f"images/127.0.0.1:{server.port}{path}"
        stored = (result.data_dir / image["path"]).read_bytes()
        assert stored == served_bytes(site, path)
        assert image["sha256"] == hashlib.sha256(stored).hexdigest() and image["size"] == len(stored)
        with Image.open(io.BytesIO(stored)) as decoded:
            assert (image["width"], image["height"]) == decoded.size
        assert image["error"] is None


def test_exif_jpeg_and_transparent_png_keep_their_bytes(mirrored):
    site, server, result = mirrored
    by_url = {image["url"]: image for record in result.records for image in record["images"]}
    jpeg = by_url[server.origin + site.quirks.exif_image_path]
    png = by_url[server.origin + site.quirks.png_image_path]
    jpeg_bytes = (result.data_dir / jpeg["path"]).read_bytes()
    png_bytes = (result.data_dir / png["path"]).read_bytes()
    assert jpeg_bytes == served_bytes(site, site.quirks.exif_image_path)
    assert png_bytes == served_bytes(site, site.quirks.png_image_path)
    with Image.open(io.BytesIO(jpeg_bytes)) as decoded:
        assert decoded.getexif().get(0x0112) == 6  # orientation kept, not applied
    with Image.open(io.BytesIO(png_bytes)) as decoded:
        assert decoded.mode == "RGBA" and decoded.getextrema()[3][0] < 255
    assert jpeg["contentType"] == "image/jpeg" and png["contentType"] == "image/png"


def test_summary_counts_images(mirrored):
    _, _, result = mirrored
    images = [image for record in result.records for image in record["images"]]
    summary = result.summary["images"]
    assert summary["downloaded"] == len({image["url"] for image in images})
    assert summary["bytes"] == sum({image["url"]: image["size"] for image in images}.values())
    assert summary["failed"] == 0


def test_failed_image_keeps_the_article_and_is_retried_later(image_retry):
    """The crawl and rerun of conftest's ``image_retry`` (on a terminal: test_progress reads their bars)."""
    site, broken = image_retry.site, image_retry.image_path
    record = next(r for r in image_retry.first_records if r["articleId"] == image_retry.article_id)
    entry = next(image for image in record["images"] if image["url"].endswith(broken))
    assert image_retry.first.returncode == 0
    assert entry["status"] == "failed" and entry["error"] == "HTTP 404" and entry["path"] is None
    assert "Image not mirrored" in image_retry.first.log

    second = image_retry.rerun
    record = next(r for r in second.records if r["articleId"] == image_retry.article_id)
    entry = next(image for image in record["images"] if image["url"].endswith(broken))
    assert entry["status"] == "downloaded"
    assert (second.data_dir / entry["path"]).read_bytes() == served_bytes(site, broken)
    image_requests = [r.path for r in image_retry.rerun_requests if r.path.startswith("/upload/")]
    assert image_requests == [broken]  # the others are mirrored already: never downloaded again
    assert not any(r.path == f"/103002/{image_retry.article_id}.aspx" for r in image_retry.rerun_requests)


def test_image_that_times_out_is_failed_with_its_error(image_timeout_crawl):
    """conftest's crawl with a stalled image (test_progress reads its progress lines)."""
    site, result = image_timeout_crawl.site, image_timeout_crawl.result
    victim = next(spec for spec in site.articles if spec.image_paths)
    record = next(r for r in result.records if r["articleId"] == victim.id)
    entry = record["images"][0]
    assert result.returncode == 0
    assert entry["status"] == "failed" and "DownloadTimeoutError" in entry["error"]
    assert "Traceback (most recent call last)" not in result.log


def test_mirror_store_never_writes_through_a_linked_folder(tmp_path):
    """Not through a link there before the run, nor one swapped in after the folder was written to."""
    import shutil

    from sasscrawl.mirror import mirror_path
    from sasscrawl.pipelines.images import MirrorStore

    outside = tmp_path / "outside"
    outside.mkdir()
    store = MirrorStore(str(tmp_path / "data"))
    first, second = mirror_path("http://h/upload/a.jpeg"), mirror_path("http://h/upload/b.jpeg")
    store.persist_file(first, io.BytesIO(b"a"), info=None)
    folder = tmp_path / "data" / first.rsplit("/", 1)[0]
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)
    with pytest.raises(OSError, match="is a symbolic link"):
        store.persist_file(second, io.BytesIO(b"b"), info=None)
    linked_mirror = MirrorStore(str(tmp_path / "other"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "images").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OSError, match="is a symbolic link"):
        linked_mirror.persist_file(first, io.BytesIO(b"x"), info=None)
    with pytest.raises(OSError, match="outside the mirror"):
        store.persist_file("runs/x.json", io.BytesIO(b"x"), info=None)
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")
    for old_name in ("~a.jpeg.part", ".a.jpeg.tmp"):  # the temporary names once used, fixed and so plantable
        planted = tmp_path / "third" / first.replace("a.jpeg", old_name)
        planted.parent.mkdir(parents=True, exist_ok=True)
        for plant in (lambda: planted.symlink_to(outside / "target"), lambda: os.link(secret, planted),
                      lambda: os.mkfifo(planted)):
            plant()  # in place of the temporary file: a link, a hard link, a pipe that would block the write
            MirrorStore(str(tmp_path / "third")).persist_file(first, io.BytesIO(b"c"), info=None)
            assert (tmp_path / "third" / first).read_bytes() == b"c" and os.path.lexists(planted)
            planted.unlink()
    assert list(outside.iterdir()) == [] and secret.read_bytes() == b"secret"


def test_mirror_store_creates_folders_again_after_they_were_removed(tmp_path):
    import shutil

    from sasscrawl.mirror import mirror_path
    from sasscrawl.pipelines.images import MirrorStore

    store = MirrorStore(str(tmp_path))
    first, second = mirror_path("http://h/upload/a.jpeg"), mirror_path("http://h/upload/b.jpeg")
    store.persist_file(first, io.BytesIO(b"a"), info=None)
    shutil.rmtree(tmp_path / "images")  # the whole mirror, mid-run
    store.persist_file(second, io.BytesIO(b"b"), info=None)
    assert (tmp_path / second).read_bytes() == b"b"


def test_one_image_under_any_spelling_is_downloaded_once_and_found_by_rerun_and_reextract(serve, tmp_path):
    """An IDN host (ⓛⓞⓒⓐⓛⓗⓞⓢⓣ for localhost), a space and non-ASCII in the path: Scrapy sends another spelling
    than the page's, and the crawl, its rerun and ``scrapy reextract`` must still agree on one image and one file.

    ``scrapy reextract -o FILE`` runs in-process (:func:`harness.command_in_process`); the command as a process of
    its own runs in test_archive.
    """
    from sasscrawl.commands.reextract import Command as ReextractCommand
    from sasscrawl_replica.faults import SPELLING_IMAGE_MARKER

    site = build_site(articles=6, seed=12, quirks=False, faults={"image_url_spellings"})
    server = serve(site)
    start_url = f"http://localhost:{server.port}{site.start_path}"  # the IDN host is in scope
    data_dir = tmp_path / "data"
    first = run_crawl(start_url, data_dir, "archive=warc")
    spelled = {image["url"]: image for record in first.records for image in record["images"]
               if SPELLING_IMAGE_MARKER in image["url"]}
    assert len(spelled) == 3 and all(image["status"] == "downloaded" for image in spelled.values()), spelled
    image_requests = [request.path for request in server.requests if SPELLING_IMAGE_MARKER in request.path]
    assert len(image_requests) == len(set(image_requests)) == 3

    server.clear_log()
    site.change_article(site.faults.article_ids["image_url_spellings"])  # so its images go through the mirror again
    rerun = run_crawl(start_url, data_dir, "refresh=all")
    again = {image["url"]: image for record in rerun.records for image in record["images"] if image["url"] in spelled}
    assert {url: image["status"] for url, image in again.items()} == dict.fromkeys(spelled, "cached")
    assert not [request.path for request in server.requests if SPELLING_IMAGE_MARKER in request.path]

    output = tmp_path / "rebuilt.jsonl"
    done = command_in_process(ReextractCommand, data_dir, "-o", str(output))
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    rebuilt = {image["url"]: image for record in records for image in record["images"] if image["url"] in spelled}
    assert {url: (image["status"], image["path"], image["sha256"]) for url, image in rebuilt.items()} == {
        url: ("downloaded", image["path"], image["sha256"]) for url, image in spelled.items()}
