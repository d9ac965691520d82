"""``scrapy wacz``: the archive of a crawl and a rerun of revisits (``archived_twice``, conftest) as a WACZ file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness import PROJECT_ROOT
from sasscrawl import archive


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


def test_a_warc_file_cut_by_a_kill_is_packaged_up_to_its_last_whole_record(archived_twice, tmp_path):
    warc_dir = tmp_path / "warc"
    shutil.copytree(archived_twice.warc_dir, warc_dir)
    cut = warc_dir / archived_twice.second_warcs[-1].name
    cut.write_bytes(cut.read_bytes()[:-100])
    output = tmp_path / "cut.wacz"
    done = wacz(tmp_path, "-o", str(output), "--warc-dir", str(warc_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"WARC file {cut.name} ends in a cut record: packaged up to its last whole record" in done.stderr
    check = subprocess.run([Path(sys.executable).parent / "wacz", "validate", "-f", str(output)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    packaged = zipfile.ZipFile(output).read(f"archive/{cut.name}")
    assert len(packaged) == archive.intact_length(cut) < cut.stat().st_size
