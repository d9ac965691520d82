"""One run at a time on a data folder, and a data folder that cannot be used refused in words a user can act on."""

import subprocess
import sys

import pytest

from sasscrawl.store import LOCK_FILE, ArticleStore, DataDirLocked, StoreError
from store_fixtures import PROJECT


def test_second_store_on_same_dir_is_refused_until_close(tmp_path, stores, make):
    """Two crawls on one DATA_DIR would interleave snapshots; the second must be told why it cannot start."""
    first = stores(tmp_path)
    first.save(make(1))
    with pytest.raises(DataDirLocked) as refused:
        ArticleStore(tmp_path)
    assert str(tmp_path / LOCK_FILE) in str(refused.value)
    assert isinstance(refused.value, StoreError)
    assert first.journal.known_ids() == {1}  # the refused opener did not disturb the holder
    first.close()

    second = stores(tmp_path)
    assert second.journal.known_ids() == {1}


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
