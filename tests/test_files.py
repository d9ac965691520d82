"""sasscrawl.files: every write lands inside its root, whole or not at all, and on the disk."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from sasscrawl import files
from sasscrawl.files import WriteRefused, create_file, refuse_links, remove_leftovers, replace_file, replacing_file


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder beside the root, with a file no write may ever touch."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious").write_bytes(b"precious")
    return folder


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "data"


def untouched(outside: Path) -> bool:
    return sorted(path.name for path in outside.iterdir()) == ["precious"] and \
        (outside / "precious").read_bytes() == b"precious"


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".tmp"))


# --- the write itself ------------------------------------------------------------------------------------


def test_replace_file_creates_folders_and_replaces_the_old_file(root):
    replace_file(root, "runs/a.json", b"one")
    replace_file(root, "runs/a.json", b"two")
    assert (root / "runs" / "a.json").read_bytes() == b"two"
    assert leftovers(root / "runs") == []


def test_streaming_form_writes_what_the_block_writes(root):
    with replacing_file(root, "articles.jsonl") as out:
        for number in range(3):
            out.write(b"%d\n" % number)
        assert not (root / "articles.jsonl").exists()  # nothing visible until the block ends
    assert (root / "articles.jsonl").read_bytes() == b"0\n1\n2\n"


def test_the_file_and_then_its_folder_are_flushed_to_disk(root, monkeypatch):
    """fsync of the written file before the rename, of the folder after it; of a new folder's parent too."""
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        synced.append((kind, (root / "warc" / "index.cdxj").exists()))
        real_fsync(fd)

    root.mkdir()
    monkeypatch.setattr(os, "fsync", recording_fsync)
    replace_file(root, "warc/index.cdxj", b"index")
    # The new folder warc/ (in root), the file (not yet renamed), then warc/ (renamed into).
    assert synced == [("folder", False), ("file", False), ("folder", True)]
    synced.clear()
    out = create_file(root, "warc/a.warc.gz")
    assert synced == [("folder", True)]  # its name is durable at once
    out.write(b"record")
    files.sync(out)
    out.close()
    assert synced == [("folder", True), ("file", True)]


def test_the_temporary_file_is_a_fresh_name_in_the_target_folder(root, monkeypatch):
    names = []
    real_open = os.open

    def recording_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            names.append((os.fsdecode(path), flags))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    replace_file(root, "articles.jsonl", b"a")
    replace_file(root, "articles.jsonl", b"b")
    (first, flags), (second, _) = names
    assert first != second and first.startswith(".articles.jsonl.") and first.endswith(".tmp")
    required = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    assert flags & required == required


@pytest.mark.parametrize("plant", ["symlink", "hard link", "fifo", "folder"])
def test_anything_planted_at_a_temporary_name_is_never_opened(root, outside, monkeypatch, plant):
    """Even at the very name the helper draws (forced here), and at the fixed names once used."""
    root.mkdir()
    drawn = iter(["0" * 16, "1" * 16])
    monkeypatch.setattr(files.secrets, "token_hex", lambda size: next(drawn))
    planted = [root / ".articles.jsonl.0000000000000000.tmp", root / ".articles.jsonl.tmp",
               root / "~articles.jsonl.part"]
    for path in planted:
        {"symlink": lambda: path.symlink_to(outside / "precious"),
         "hard link": lambda: os.link(outside / "precious", path),
         "fifo": lambda: os.mkfifo(path),  # opening it for writing would block the crawl for good
         "folder": lambda: path.mkdir()}[plant]()
    replace_file(root, "articles.jsonl", b"articles")
    assert (root / "articles.jsonl").read_bytes() == b"articles"
    assert untouched(outside)
    assert all(os.path.lexists(path) for path in planted)
    assert not os.path.lexists(root / ".articles.jsonl.1111111111111111.tmp")  # renamed into place


def test_a_link_at_the_target_is_replaced_never_followed(root, outside):
    root.mkdir()
    (root / "index.cdxj").symlink_to(outside / "precious")
    replace_file(root, "index.cdxj", b"index")
    assert not (root / "index.cdxj").is_symlink() and (root / "index.cdxj").read_bytes() == b"index"
    assert untouched(outside)


def test_a_root_that_is_a_link_is_the_users_choice(tmp_path):
    """DATA_DIR itself may be a link (to a larger disk, say): only what lies below it is checked."""
    (tmp_path / "disk").mkdir()
    (tmp_path / "data").symlink_to(tmp_path / "disk")
    replace_file(tmp_path / "data", "runs/a.json", b"{}")
    assert (tmp_path / "disk" / "runs" / "a.json").read_bytes() == b"{}"


def test_a_file_another_writer_made_is_flushed_then_renamed_into_place(root, monkeypatch):
    """SQLite's rebuilt journal: the file is flushed before the rename, the folder after it."""
    root.mkdir()
    (root / "state.sqlite3").write_bytes(b"old")
    (root / "state.sqlite3.rebuild").write_bytes(b"rebuilt")
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        synced.append((kind, (root / "state.sqlite3").read_bytes()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    files.rename_into_place(root, "state.sqlite3.rebuild", "state.sqlite3")
    assert synced == [("file", b"old"), ("folder", b"rebuilt")]
    assert sorted(path.name for path in root.iterdir()) == ["state.sqlite3"]


def test_a_made_file_that_is_a_link_is_not_renamed_into_place(root, outside):
    root.mkdir()
    (root / "made").symlink_to(outside / "precious")
    with pytest.raises(OSError):
        files.rename_into_place(root, "made", "target")
    assert not (root / "target").exists() and untouched(outside)


def test_a_copy_kept_survives_the_replacement_of_its_file(root):
    replace_file(root, "articles.jsonl", b"as it was\n")
    files.keep_copy(root, "articles.jsonl", "articles.jsonl.before-rebuild-1")
    replace_file(root, "articles.jsonl", b"rewritten\n")
    assert (root / "articles.jsonl.before-rebuild-1").read_bytes() == b"as it was\n"
    with pytest.raises(FileExistsError):
        files.keep_copy(root, "articles.jsonl", "articles.jsonl.before-rebuild-1")


# --- refusals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("linked", ["runs", "images/h", "images/h/upload"])
def test_a_linked_folder_on_the_way_is_refused(root, outside, linked):
    (root / linked).parent.mkdir(parents=True)
    (root / linked).symlink_to(outside, target_is_directory=True)
    for write in (lambda path: replace_file(root, path, b"x"), lambda path: create_file(root, path).close()):
        with pytest.raises(WriteRefused, match=f"{root / linked} is a symbolic link") as refused:
            write(f"{linked}/deeper/x.jpeg")
        assert refused.value.errno == errno.ELOOP
    assert untouched(outside)


def test_a_file_in_place_of_a_folder_is_refused(root):
    root.mkdir()
    (root / "runs").write_bytes(b"")
    with pytest.raises(WriteRefused, match="runs is not a directory"):
        replace_file(root, "runs/a.json", b"{}")


@pytest.mark.parametrize("path", ["../x", "runs/../../x", "/etc/x", ""])
def test_a_path_out_of_the_root_is_refused(root, path):
    with pytest.raises(WriteRefused, match="outside the folder"):
        replace_file(root, path, b"x")


def test_refuse_links_names_the_link(root, outside):
    root.mkdir()
    (root / "runs").mkdir()
    refuse_links(root, ["runs", "warc"])  # a real folder, a missing one: fine
    (root / "warc").symlink_to(outside)
    with pytest.raises(WriteRefused, match=f"{root / 'warc'} is a symbolic link"):
        refuse_links(root, ["runs", "warc"])


def test_a_file_built_at_a_path_of_its_own_replaces_the_old_one_when_whole(root):
    replace_file(root, "articles.sqlite", b"old")
    with files.building_file(root, "articles.sqlite") as path:
        assert leftovers(root) == [path.name] and path.stat().st_size == 0  # a fresh, empty temporary beside it
        path.write_bytes(b"new")
        assert (root / "articles.sqlite").read_bytes() == b"old"
    assert (root / "articles.sqlite").read_bytes() == b"new" and leftovers(root) == []


def test_a_file_built_in_a_folder_never_lands_through_a_link_swapped_in(root, outside):
    (root / "exports").mkdir(parents=True)
    with files.building_file(root, "exports/articles.sqlite") as path:
        (root / "exports").rename(root / "moved")
        (root / "exports").symlink_to(outside)  # swapped in while the writer works
        path.write_bytes(b"new")
    assert (root / "moved" / "articles.sqlite").read_bytes() == b"new" and untouched(outside)


def test_a_failing_builder_leaves_the_old_file_and_no_temporary(root):
    replace_file(root, "articles.sqlite", b"old")
    with pytest.raises(RuntimeError), files.building_file(root, "articles.sqlite") as path:
        path.write_bytes(b"half")
        raise RuntimeError("the export failed")
    assert (root / "articles.sqlite").read_bytes() == b"old" and leftovers(root) == []

# --- failures leave nothing behind ------------------------------------------------------------------------


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(root):
    replace_file(root, "articles.jsonl", b"old")
    with pytest.raises(RuntimeError), replacing_file(root, "articles.jsonl") as out:
        out.write(b"half")
        raise RuntimeError("the journal failed")
    assert (root / "articles.jsonl").read_bytes() == b"old"
    assert leftovers(root) == []


def test_a_failing_disk_leaves_the_old_file_and_no_temporary(root, monkeypatch):
    replace_file(root, "articles.jsonl", b"old")

    def failing_fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output error"):
        replace_file(root, "articles.jsonl", b"new")
    assert (root / "articles.jsonl").read_bytes() == b"old"
    assert leftovers(root) == []


def test_a_failing_rename_leaves_no_temporary(root):
    (root / "snapshots" / "1.html").mkdir(parents=True)  # a folder where the file should go
    with pytest.raises(IsADirectoryError):
        replace_file(root, "snapshots/1.html", b"<html/>")
    assert leftovers(root / "snapshots") == []


def test_create_file_never_opens_what_is_there(root, outside):
    root.mkdir()
    (root / "a.warc.gz").symlink_to(outside / "precious")
    with pytest.raises(FileExistsError):
        create_file(root, "a.warc.gz")
    assert untouched(outside)


# --- leftovers of a kill ------------------------------------------------------------------------------------


def test_remove_leftovers_clears_temporary_files_only(root, outside):
    (root / "runs").mkdir(parents=True)
    kept = [".articles.jsonl.tmp", "notes.tmp", ".x.0123456789ABCDEF.tmp", "articles.jsonl"]
    for name in kept:
        (root / name).write_bytes(b"")
    (root / ".articles.jsonl.0123456789abcdef.tmp").write_bytes(b"half")
    (root / ".index.cdxj.fedcba9876543210.tmp").symlink_to(outside / "precious")
    (root / "runs" / ".a.json.00112233445566aa.tmp").write_bytes(b"{")
    assert remove_leftovers(root) == 2
    assert remove_leftovers(root, "runs") == 1
    assert remove_leftovers(root, "warc") == 0  # missing: nothing to do
    assert sorted(path.name for path in root.iterdir()) == sorted([*kept, "runs"])
    assert list((root / "runs").iterdir()) == []
    assert untouched(outside)


# --- several files replaced together ---------------------------------------------------------------------


def test_a_batch_puts_its_files_in_place_only_once_every_one_is_whole(root):
    replace_file(root, "a.csv", b"old a")
    replace_file(root, "exports/b.sqlite", b"old b")
    with files.replacing_files() as batch:
        batch.write(root, "a.csv", b"new a")
        path = batch.build(root, "exports/b.sqlite")
        path.write_bytes(b"new b")
        assert (root / "a.csv").read_bytes() == b"old a" and (root / "exports/b.sqlite").read_bytes() == b"old b"
    assert (root / "a.csv").read_bytes() == b"new a" and (root / "exports/b.sqlite").read_bytes() == b"new b"
    assert leftovers(root) == leftovers(root / "exports") == []


def test_a_batch_that_fails_anywhere_replaces_none_of_its_files(root):
    replace_file(root, "a.csv", b"old a")
    (root / "c.json").mkdir()  # a folder stands where the last file goes: found before any rename
    before = (root / "a.csv").stat().st_ino
    with pytest.raises(IsADirectoryError, match="c.json"), files.replacing_files() as batch:
        batch.write(root, "a.csv", b"new a")
        batch.build(root, "b.sqlite").write_bytes(b"new b")
        batch.write(root, "c.json", b"{}")
    assert (root / "a.csv").read_bytes() == b"old a" and (root / "a.csv").stat().st_ino == before
    assert not (root / "b.sqlite").exists() and leftovers(root) == []
    with pytest.raises(RuntimeError), files.replacing_files() as batch:
        batch.write(root, "a.csv", b"new a")
        raise RuntimeError("a writer failed")
    assert (root / "a.csv").read_bytes() == b"old a" and leftovers(root) == []
