"""``scrapy export`` as a user runs it: formats, the output folder, the card's Parquet, and its errors.

One process per way the command ends (written: exit 0; a bad option: 2; a data folder it cannot use or write: 3, one
``Not exported`` line); the other inputs of those ways run the command in this process (``export_in_process``) with
the same assertions. pandas is imported by the tests that use it, not at collection: every xdist worker collects every module.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from contextlib import closing

import pytest

from export_fixtures import export_in_process, misfits, run_export


@pytest.fixture
def data_dir(exports_crawl, tmp_path):
    """The shared crawl's saved articles and run summaries, without its exports or card."""
    assert exports_crawl.result.returncode == 0, exports_crawl.result.log[-3000:]
    copy = tmp_path / "data"
    copy.mkdir()
    for name in ("state.sqlite3", "articles.jsonl"):
        shutil.copy(exports_crawl.result.data_dir / name, copy / name)
    shutil.copytree(exports_crawl.result.data_dir / "runs", copy / "runs")
    return copy


@pytest.fixture
def exported_data_dir(exports_crawl, tmp_path):
    """The shared crawl's data folder, copied, with the three formats and the card its end wrote (the same
    ``write_dataset`` as ``scrapy export``'s): the files an export that fails must leave as they were."""
    assert exports_crawl.result.returncode == 0, exports_crawl.result.log[-3000:]
    data_dir = exports_crawl.copy_data_dir(tmp_path / "data")
    assert sorted(path.name for path in (data_dir / "exports").iterdir()) == \
        ["articles.csv", "articles.parquet", "articles.sqlite", "metadata.json"]
    return data_dir


def test_all_three_formats_by_default(data_dir, exports_crawl):
    done = run_export(data_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Exported {len(exports_crawl.result.records)} articles" in done.stderr
    assert sorted(path.name for path in (data_dir / "exports").iterdir()) == \
        ["articles.csv", "articles.parquet", "articles.sqlite", "metadata.json"]
    assert (data_dir / "README.md").is_file()


def test_formats_elsewhere_and_the_cards_parquet_at_home(data_dir, exports_crawl, tmp_path):
    """-o sends the formats asked for elsewhere; the card and the Parquet file it names stay in DATA_DIR."""
    import pandas as pd

    out = tmp_path / "out"
    done = export_in_process(data_dir, "--format", "csv,SQLite", "--format", " csv ", "-o", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(path.name for path in out.iterdir()) == ["articles.csv", "articles.sqlite", "metadata.json"]
    assert sorted(path.name for path in (data_dir / "exports").iterdir()) == ["articles.parquet"]
    frame = pd.read_parquet(data_dir / "exports" / "articles.parquet")
    assert len(frame) == len(exports_crawl.result.records)
    assert "path: \"exports/articles.parquet\"" in (data_dir / "README.md").read_text("utf-8")


def test_a_bad_format_is_a_usage_error(data_dir):
    done = run_export(data_dir, "--format", "parquet,xls")
    assert done.returncode == 2
    assert "--format: unknown export format xls: choose from parquet, sqlite, csv" in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr and not (data_dir / "exports").exists()


def test_a_missing_data_folder_is_refused_and_not_made(tmp_path):
    done = export_in_process(tmp_path / "nothing-here")
    assert done.returncode == 3
    assert "Not exported:" in done.stderr and "holds no saved articles" in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr and not (tmp_path / "nothing-here").exists()


def test_an_output_that_cannot_be_written_leaves_the_earlier_files(exported_data_dir, tmp_path):
    data_dir = exported_data_dir
    before = {path.name: path.read_bytes() for path in (data_dir / "exports").iterdir()}
    card = (data_dir / "README.md").read_bytes()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    done = export_in_process(data_dir, "-o", str(blocker / "exports"))

    assert done.returncode == 3
    assert "Not exported: cannot write" in done.stderr and "Traceback (most recent call last)" not in done.stderr
    assert {path.name: path.read_bytes() for path in (data_dir / "exports").iterdir()} == before
    assert (data_dir / "README.md").read_bytes() == card


def test_a_file_that_cannot_be_put_in_place_leaves_every_file_as_it_was(exported_data_dir):
    """Every file is whole before the first is renamed: a folder standing where the last SQLite file goes (its
    Datasette metadata) leaves the CSV, the database, the Parquet file and the card as they were, not half-replaced."""
    data_dir = exported_data_dir
    (data_dir / "exports" / "metadata.json").unlink()
    (data_dir / "exports" / "metadata.json").mkdir()
    before = {path: path.stat().st_ino for path in [*(data_dir / "exports").iterdir(), data_dir / "README.md"]}

    done = export_in_process(data_dir)

    assert done.returncode == 3
    assert "Not exported: cannot write" in done.stderr and "metadata.json" in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr
    assert {path: path.stat().st_ino for path in before} == before
    assert not list((data_dir / "exports").glob("*.tmp")) and not list(data_dir.glob("*.tmp"))


def test_records_that_do_not_fit_are_left_out_of_every_file_and_the_rest_written(data_dir, exports_crawl):
    import pandas as pd

    records = exports_crawl.result.records
    with (data_dir / "articles.jsonl").open("a", encoding="utf-8") as out:
        out.writelines(json.dumps(misfit) + "\n" for misfit in misfits(records))
    (data_dir / "state.sqlite3").unlink()  # the journal is rebuilt from articles.jsonl, the misfits with it

    done = export_in_process(data_dir)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback (most recent call last)" not in done.stderr
    for misfit in misfits(records):
        assert f"Left out of the exports: article {misfit['articleId']} does not fit: " in done.stderr
    assert "Left 2 saved records out of the exports: they do not fit the record schema" in done.stderr
    assert f"Exported {len(records)} articles" in done.stderr
    exports = data_dir / "exports"
    assert len(pd.read_parquet(exports / "articles.parquet")) == len(records)
    with (exports / "articles.csv").open(encoding="utf-8", newline="") as rows:
        assert sum(1 for _ in csv.reader(rows)) == len(records) + 1
    with closing(sqlite3.connect(exports / "articles.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(records)
    assert f"- Counts: {len(records)} articles," in (data_dir / "README.md").read_text("utf-8")


def test_a_disk_full_while_sqlite_builds_is_the_data_folders_failure(exported_data_dir):
    """SQLite reports a full disk as its own error (not an OSError): one line, exit 3, nothing replaced."""
    data_dir = exported_data_dir
    sizes = {path.name: path.stat().st_size for path in (data_dir / "exports").iterdir()}
    before = {path: path.stat().st_ino for path in [*(data_dir / "exports").iterdir(), data_dir / "README.md"]}
    # Room for every other file (the Parquet file is written beside the database), not for the database.
    limit = max(size for name, size in sizes.items() if name != "articles.sqlite") + 4096
    assert limit < sizes["articles.sqlite"] - 4096

    done = run_export(data_dir, "--format", "sqlite", file_size_limit=limit)

    assert done.returncode == 3, done.stderr[-3000:]
    assert "Traceback (most recent call last)" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "Not exported:" in line]
    assert f"cannot build {data_dir / 'exports' / 'articles.sqlite'} (" in line
    assert line.endswith("; the files written before are untouched")
    assert {path: path.stat().st_ino for path in before} == before
    assert not list((data_dir / "exports").glob("*.tmp"))
