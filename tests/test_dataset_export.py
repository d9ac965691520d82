"""The end of each crawl: the card and its Parquet, the EXPORTS formats when asked, none rewritten by a run that changed
nothing; a bad EXPORTS refuses."""

from __future__ import annotations

import json

from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from export_fixtures import misfits
from harness import free_port, opened_in_process, run_crawl
from sasscrawl import settings as project_settings
from sasscrawl.extensions.data_folder import RunDataFolder
from sasscrawl.extensions.dataset import DatasetExport
from sasscrawl.health import EXIT_USAGE, run_exit_status
from sasscrawl.setting_names import misspelt_settings
from sasscrawl.spiders.commentary import CommentarySpider


def test_a_run_without_exports_writes_the_card_and_its_parquet_only(clean_crawl):
    result = clean_crawl.result
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(path.name for path in (result.data_dir / "exports").iterdir()) == ["articles.parquet"]
    assert (result.data_dir / "README.md").is_file()
    assert "Dataset card and exports written in" in result.log and result.stat("sasscrawl/exports/files") == 2


def test_exports_writes_the_formats_it_names(exports_crawl):
    result = exports_crawl.result
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(path.name for path in (result.data_dir / "exports").iterdir()) == \
        ["articles.csv", "articles.parquet", "articles.sqlite", "metadata.json"]
    assert not [path for path in result.data_dir.rglob("*.tmp")]


def test_a_run_that_changed_no_article_leaves_the_card_and_exports_alone_unless_a_file_is_missing(clean_crawl,
                                                                                                   tmp_path):
    data_dir = clean_crawl.copy_data_dir(tmp_path / "data")
    card, parquet = data_dir / "README.md", data_dir / "exports/articles.parquet"
    written = {path: path.stat().st_mtime_ns for path in (card, parquet)}
    rerun = run_crawl(clean_crawl.server.start_url, data_dir)
    assert rerun.returncode == 0, rerun.log[-3000:]
    assert "Dataset card and exports left as they are: no article changed since they were written" in rerun.log
    assert {path: path.stat().st_mtime_ns for path in written} == written
    assert rerun.stat("sasscrawl/exports/files") == 0
    # A format newly named in EXPORTS has no file yet: the run writes them all.
    with_csv = run_crawl(clean_crawl.server.start_url, data_dir, settings={"EXPORTS": "csv"})
    assert with_csv.returncode == 0, with_csv.log[-3000:]
    assert (data_dir / "exports/articles.csv").is_file() and with_csv.stat("sasscrawl/exports/files") == 3
    assert all(path.stat().st_mtime_ns != mtime for path, mtime in written.items())


def test_records_that_do_not_fit_never_stop_the_runs_end(clean_crawl, tmp_path):
    """A journal holding records the exports cannot take: the run writes the others, names and counts these."""
    data_dir = clean_crawl.copy_data_dir(tmp_path / "data")
    with (data_dir / "articles.jsonl").open("a", encoding="utf-8") as out:
        out.writelines(json.dumps(misfit) + "\n" for misfit in misfits(clean_crawl.result.records))
    (data_dir / "state.sqlite3").unlink()  # rebuilt from articles.jsonl, the misfits with it

    rerun = run_crawl(clean_crawl.server.start_url, data_dir, settings={"EXPORTS": "sqlite,csv"})

    assert rerun.returncode == 0, rerun.log[-3000:]
    assert "Traceback (most recent call last)" not in rerun.log
    assert rerun.stat("sasscrawl/exports/skipped_records") == 2 and rerun.stat("sasscrawl/exports/files") == 5
    assert rerun.log.count("Left out of the exports: article ") == 2
    card = (data_dir / "README.md").read_text("utf-8")
    assert f"- Counts: {len(clean_crawl.result.records)} articles," in card


def test_an_export_that_cannot_be_put_in_place_is_the_data_folders_failure_and_replaces_nothing(clean_crawl,
                                                                                                 tmp_path):
    data_dir = clean_crawl.copy_data_dir(tmp_path / "data")
    (data_dir / "exports" / "articles.csv").mkdir()  # a folder where EXPORTS' file goes
    before = {path: path.stat().st_ino for path in (data_dir / "README.md", data_dir / "exports/articles.parquet")}

    rerun = run_crawl(clean_crawl.server.start_url, data_dir, settings={"EXPORTS": "csv"})

    assert rerun.returncode == 3, rerun.log[-3000:]
    assert "Traceback (most recent call last)" not in rerun.log
    assert "cannot write the exports and the dataset card: cannot write " in rerun.log
    assert "articles.csv (a folder stands where the file goes)" in rerun.log
    assert {path: path.stat().st_ino for path in before} == before
    assert not list(data_dir.rglob("*.tmp"))


def test_a_run_that_saved_nothing_writes_no_card(tmp_path):
    """(Nor does it load pyarrow: tests/test_crawl_command.py, test_a_run_imports_only_what_it_uses.)"""
    dead = f"http://127.0.0.1:{free_port()}/103002/default.aspx"  # nobody listens: the run fails at once
    result = run_crawl(dead, tmp_path / "data", settings={"RETRY_TIMES": "0"})
    assert result.returncode == 1, result.log[-3000:]
    assert not (tmp_path / "data" / "README.md").exists() and not (tmp_path / "data" / "exports").exists()
    assert "Dataset card and exports" not in result.log


def test_a_bad_export_format_refuses_the_run(tmp_path, caplog):
    """The spider and the extensions made in this process: a bad EXPORTS closes the spider as it opens, with one
    ``Not crawling`` line and exit status 2 (the way out of a bad ALERT_ACTIONS, which tests/test_alerts.py proves
    in the run's process: no request is sent), and the run's end writes no card."""
    crawler = get_crawler(CommentarySpider, {"DATA_DIR": str(tmp_path / "data"), "EXPORTS": "parquet, xlsx",
                                             "EXTENSIONS_BASE": {},  # Scrapy's own need a reactor
                                             "EXTENSIONS": {DatasetExport: 40, RunDataFolder: 50}})
    spider = CommentarySpider.from_crawler(crawler, start_url="http://127.0.0.1:9/103002/default.aspx")
    crawler._apply_settings()  # makes the extensions
    refusals = opened_in_process(crawler, spider, caplog)
    assert [(type(refusal), refusal.reason) for refusal in refusals] == [(CloseSpider, "setting_error")]
    assert "Not crawling: EXPORTS setting: unknown export format xlsx: choose from parquet, sqlite, csv" in caplog.text
    crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="setting_error")
    assert not [record for record in caplog.records if record.exc_info]
    assert run_exit_status(crawler.stats.get_stats(), crawler.settings) == EXIT_USAGE
    assert not (tmp_path / "data" / "README.md").exists()


def test_exports_is_a_known_setting_and_a_typo_of_it_is_refused():
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.setdict({"EXPORTS": "csv", "EXPORT": "csv"}, priority="cmdline")
    assert misspelt_settings(settings) == "unknown setting EXPORT (did you mean EXPORTS?)"
