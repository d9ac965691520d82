"""``scrapy verify`` and the mirror's own check at the start of each run, against the replica over HTTP."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness import FAST_SETTINGS, PROJECT_ROOT, CrawlResult, run_crawl


def verify(data_dir, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "scrapy", "verify", "-s", f"DATA_DIR={data_dir}", *options]
    for name, value in FAST_SETTINGS.items():
        command += ["-s", f"{name}={value}"]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def mirrored_images(records: list[dict]) -> list[tuple[int, dict]]:
    return [(record["articleId"], image) for record in records for image in record["images"]
            if image["status"] == "downloaded"]


@pytest.fixture
def crawled(clean_crawl, tmp_path):
    """The shared clean crawl's data folder, copied: these tests damage and repair it."""
    assert clean_crawl.result.returncode == 0
    data_dir = clean_crawl.copy_data_dir(tmp_path / "data")
    return clean_crawl.server, CrawlResult(clean_crawl.result.returncode, clean_crawl.result.log, data_dir)


def test_verify_passes_a_sound_mirror(crawled):
    _, result = crawled
    done = verify(result.data_dir)
    files = len({image["path"] for _, image in mirrored_images(result.records)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Verified {files} mirrored files: all match" in done.stderr


def test_verify_names_a_deleted_and_a_corrupted_file_and_repair_restores_them(crawled):
    server, result = crawled
    (deleted_id, deleted), (corrupted_id, corrupted) = mirrored_images(result.records)[:2]
    original = {image["path"]: (result.data_dir / image["path"]).read_bytes() for image in (deleted, corrupted)}
    (result.data_dir / deleted["path"]).unlink()
    damaged = bytearray(original[corrupted["path"]])
    damaged[len(damaged) // 2] ^= 0xFF  # the right size, the wrong bytes: a size check cannot see it
    (result.data_dir / corrupted["path"]).write_bytes(damaged)

    found = verify(result.data_dir)
    assert found.returncode == 1
    assert f"article {deleted_id}: {deleted['path']} is missing" in found.stderr
    assert f"article {corrupted_id}: {corrupted['path']} does not match its recorded sha256" in found.stderr
    assert "2 missing or damaged" in found.stderr

    repaired = verify(result.data_dir, "--repair", "-a", f"start_url={server.start_url}")
    assert repaired.returncode == 0, repaired.stderr[-3000:]
    for path, data in original.items():
        assert (result.data_dir / path).read_bytes() == data
    statuses = {image["url"]: image["status"] for record in result.records for image in record["images"]}
    assert statuses[deleted["url"]] == statuses[corrupted["url"]] == "downloaded"
    assert verify(result.data_dir).returncode == 0


def test_a_normal_run_downloads_a_deleted_and_a_cut_file_again(crawled):
    server, result = crawled
    (_, deleted), (_, cut) = mirrored_images(result.records)[:2]
    original = {image["path"]: (result.data_dir / image["path"]).read_bytes() for image in (deleted, cut)}
    (result.data_dir / deleted["path"]).unlink()
    (result.data_dir / cut["path"]).write_bytes(original[cut["path"]][:100])  # a power cut's torn file

    again = run_crawl(server.start_url, result.data_dir)

    assert again.returncode == 0, again.log[-3000:]
    for path, data in original.items():
        assert (result.data_dir / path).read_bytes() == data
    assert again.stat("sasscrawl/images/damaged") == 2 and again.stat("sasscrawl/images/downloaded") == 2
    assert "2 mirrored image files are missing or damaged" in again.log
    saved = {i["url"]: i for _, i in mirrored_images(again.records)}
    assert saved[deleted["url"]]["sha256"] == deleted["sha256"] and saved[cut["url"]]["sha256"] == cut["sha256"]


def test_verify_refuses_a_data_folder_another_run_holds(crawled):
    import fcntl

    _, result = crawled
    with open(result.data_dir / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = verify(result.data_dir)
    assert done.returncode == 3 and "another crawl is using DATA_DIR" in done.stderr
