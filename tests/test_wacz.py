"""``scrapy wacz``: the archive of a crawl and a rerun of revisits (``archived_twice``, conftest) as a WACZ file."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness import PROJECT_ROOT, command_in_process

from sasscrawl import archive
from sasscrawl.commands.wacz import Command as WaczCommand
from sasscrawl.store.lock import DataDirLock


def wacz(data_dir: Path, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "wacz", "-s", f"DATA_DIR={data_dir}", *options],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def package(archived_twice, tmp_path_factory):
    output = tmp_path_factory.mktemp("wacz") / "sasscrawl.wacz"
    done = wacz(archived_twice.first.data_dir, "-o", str(output))
    assert done.returncode == 0, done.stderr[-3000:]
    return output, done


def test_the_package_passes_wacz_validate(package):
    output, _ = package
    check = subprocess.run([Path(sys.executable).parent / "wacz", "validate", "-f", str(output)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "the passed WACZ is valid" in check.stdout


def test_the_package_holds_every_warc_file_and_an_index(package, archived_twice):
    output, _ = package
    names = zipfile.ZipFile(output).namelist()
    warcs = sorted(archived_twice.warc_dir.glob("*.warc.gz"))
    assert sorted(name for name in names if name.startswith("archive/")) == [f"archive/{p.name}" for p in warcs]
    assert {"indexes/index.cdx.gz", "datapackage.json", "datapackage-digest.json", "pages/pages.jsonl"} <= set(names)


def test_the_pages_list_has_every_article_with_its_headline_and_text_and_the_listings(package, archived_twice):
    output, done = package
    lines = zipfile.ZipFile(output).read("pages/pages.jsonl").decode("utf-8").splitlines()
    header, pages = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert header["format"] == "json-pages-1.0" and header["hasText"] is True
    by_url = {page["url"]: page for page in pages}
    records = archived_twice.second.records
    assert len(records) == 60
    for record in records:
        page = by_url[record["url"]]
        assert page["title"] == record["headline"] and page["text"] == record["articleBody"]
        assert page["ts"].startswith(record["dateDownloaded"][:19])  # the capture the record came from
    listings = [page for page in pages if "text" not in page]
    assert archived_twice.start_url in {page["url"] for page in listings}
    assert len(pages) == len(records) + len(listings) and f"{len(pages)} pages" in done.stderr


def test_without_py_wacz_it_exits_2_naming_the_extra(archived_twice, tmp_path):
    """A ``wacz`` package that fails to import stands for one not installed."""
    (tmp_path / "wacz").mkdir()
    (tmp_path / "wacz" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = wacz(archived_twice.first.data_dir, "-o", str(tmp_path / "out.wacz"), env=env)
    assert done.returncode == 2
    assert "pip install 'sasscrawl[wacz]'" in done.stderr
    assert not (tmp_path / "out.wacz").exists()


def archive_copy(archived_twice, data_dir: Path) -> Path:
    """A data folder holding a copy of the archive, for a test that changes it or locks it."""
    shutil.copytree(archived_twice.warc_dir, data_dir / "warc")
    return data_dir


def test_a_warc_file_cut_by_a_kill_is_packaged_up_to_its_last_whole_record(archived_twice, tmp_path, capsys):
    """Checked by ``wacz validate`` run here: test_the_package_passes_wacz_validate runs it as the process."""
    from wacz.main import main as wacz_main  # py-wacz: not imported while every xdist worker collects the tests

    data_dir = archive_copy(archived_twice, tmp_path / "data")
    cut = data_dir / "warc" / archived_twice.second_warcs[-1].name
    cut.write_bytes(cut.read_bytes()[:-100])
    output = tmp_path / "out" / "cut.wacz"
    output.parent.mkdir()
    done = wacz(data_dir, "-o", str(output))
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"WARC file {cut.name} ends in a cut record: packaged up to its last whole record" in done.stderr
    assert list(output.parent.iterdir()) == [output]  # the copy of the cut file was made elsewhere, and is gone
    status = wacz_main(["validate", "-f", str(output)])
    printed = capsys.readouterr()
    assert status == 0, printed.out + printed.err
    assert "the passed WACZ is valid" in printed.out
    packaged = zipfile.ZipFile(output).read(f"archive/{cut.name}")
    assert len(packaged) == archive.intact_length(cut) < cut.stat().st_size


def test_it_waits_for_no_crawl_a_data_folder_in_use_is_refused(archived_twice, tmp_path):
    """A crawl holds the data folder's lock while it appends to a WARC file: packaging then would read a cut record.
    (``flock``: a second open of the lock file conflicts in one process as in two.)"""
    data_dir = archive_copy(archived_twice, tmp_path / "data")
    lock = DataDirLock(data_dir)
    try:
        done = command_in_process(WaczCommand, data_dir, "-o", str(tmp_path / "out.wacz"))
    finally:
        lock.release()
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Not packaged: another crawl is using DATA_DIR" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == [data_dir]


def test_an_output_naming_a_folder_is_refused_before_any_work(archived_twice, tmp_path):
    (tmp_path / "folder.wacz").mkdir()
    done = wacz(archived_twice.first.data_dir, "-o", str(tmp_path / "folder.wacz"))
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"{tmp_path / 'folder.wacz'} is a folder" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "folder.wacz"] and not any((tmp_path / "folder.wacz").iterdir())


def test_a_folder_it_cannot_write_in_costs_one_line_and_exit_3(archived_twice):
    """sysfs refuses a new file even to root, whom permission bits do not stop."""
    done = command_in_process(WaczCommand, archived_twice.first.data_dir, "-o", "/sys/sasscrawl.wacz")
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Not packaged into /sys/sasscrawl.wacz: " in done.stderr and "Traceback" not in done.stderr


def test_a_disk_that_fills_while_a_cut_file_is_copied_costs_one_line_and_leaves_nothing(archived_twice, tmp_path):
    """A file size limit (RLIMIT_FSIZE: EFBIG, as ENOSPC would) stops the copy of a cut WARC file in the work folder."""
    data_dir = archive_copy(archived_twice, tmp_path / "data")
    cut = data_dir / "warc" / archived_twice.second_warcs[-1].name
    cut.write_bytes(cut.read_bytes()[:-100])
    (tmp_path / "temp").mkdir()
    (tmp_path / "out").mkdir()
    limit = cut.stat().st_size // 2
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "wacz", "-s", f"DATA_DIR={data_dir}", "-o", str(tmp_path / "out" / "x.wacz")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "TMPDIR": str(tmp_path / "temp")},
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
    assert done.returncode == 3, done.stderr[-3000:]
    assert (f"Not packaged into {tmp_path / 'out' / 'x.wacz'}: cannot copy the whole records of {cut.name} into the "
            "work folder") in done.stderr and "Traceback" not in done.stderr
    assert list((tmp_path / "temp").iterdir()) == [] and list((tmp_path / "out").iterdir()) == []
