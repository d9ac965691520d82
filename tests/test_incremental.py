"""Scheduled reruns against the replica: cheap when nothing changed, complete after kills."""

from __future__ import annotations

import json
import logging
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from export_fixtures import export_in_process
from harness import PROJECT_ROOT, PROJECT_SETTINGS, CrawlResult, crawl_command, run_crawl, signal_after
from sasscrawl.extensions.data_folder import STORE_ERROR, RunDataFolder
from sasscrawl.health import EXIT_DATA_DIR, EXIT_INTERRUPTED, run_exit_status
from sasscrawl_replica import ReplicaServer, build_site
from sasscrawl.store import VERSIONS_FILE, ArticleStore
from sasscrawl.store.layout import DATASET_CARD, EXPORTS_FOLDER

ARTICLE_PATH = re.compile(r"^/103002/\d+\.aspx$")


def article_paths(requests) -> list[str]:
    return [request.path for request in requests if ARTICLE_PATH.match(request.path)]


def read_jsonl(path) -> list[dict]:
    """Every line must be whole, valid JSON: a reader may look at any moment."""
    raw = path.read_bytes() if path.exists() else b""
    assert raw == b"" or raw.endswith(b"\n")
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def test_rerun_on_unchanged_site_fetches_no_article_and_writes_nothing(clean_crawl, tmp_path):
    first, server = clean_crawl.result, clean_crawl.server
    assert first.returncode == 0
    assert len(first.records) == len(clean_crawl.site.articles)
    data_dir = clean_crawl.copy_data_dir(tmp_path / "data")
    before = (data_dir / "articles.jsonl").read_bytes()
    asked_before = len(server.requests)

    second = run_crawl(server.start_url, data_dir)

    assert second.returncode == 0, second.log[-2000:]
    assert [request.path for request in server.requests[asked_before:]] == ["/robots.txt", "/103002/default.aspx"]
    assert (data_dir / "articles.jsonl").read_bytes() == before
    assert second.summary["articles"]["new"] == 0 and second.summary["requests"] == 2


@dataclass
class AfterFirstRun:
    """A data folder as a first crawl of ``site`` left it, ``site`` served where it was crawled: this test's own."""

    site: object
    server: ReplicaServer
    data_dir: Path
    first: CrawlResult


@pytest.fixture
def after_first_run(clean_crawl, clean_site, tmp_path):
    """A copy of the session's ``clean_crawl`` data folder, and a new site, the same as the one crawled, for this test
    to change, served by the crawl's server (the folder's records name its port) with its request log cleared; the
    crawl's own site is served again after the test."""
    server = clean_crawl.server
    server.site = clean_site
    server.clear_log()
    yield AfterFirstRun(clean_site, server, clean_crawl.copy_data_dir(tmp_path / "data"), clean_crawl.result)
    server.site = clean_crawl.site


def test_new_articles_are_found_and_added(after_first_run):
    site, server, data_dir = after_first_run.site, after_first_run.server, after_first_run.data_dir
    added = [site.add_article(), site.add_article()]

    rerun = run_crawl(server.start_url, data_dir)

    assert rerun.returncode == 0
    assert sorted(article_paths(server.requests)) == sorted(f"/103002/{spec.id}.aspx" for spec in added)
    ids = [record["articleId"] for record in rerun.records]
    assert sorted(ids) == sorted(spec.id for spec in site.articles)
    assert rerun.summary["articles"]["new"] == 2


def test_changed_article_replaces_its_record_under_refresh(after_first_run):
    site, server, data_dir = after_first_run.site, after_first_run.server, after_first_run.data_dir
    first = {record["articleId"]: record for record in after_first_run.first.records}
    changed, viewed = site.articles[3].id, site.articles[4].id
    site.change_article(changed)
    site.set_views(viewed, 9999)

    plain = run_crawl(server.start_url, data_dir)
    assert {r["articleId"]: r for r in plain.records} == first  # a plain run does not re-check known articles

    refreshed = run_crawl(server.start_url, data_dir, "refresh=all")
    after = {record["articleId"]: record for record in refreshed.records}
    assert refreshed.returncode == 0
    assert len(after) == len(first)
    assert after[changed]["contentHash"] != first[changed]["contentHash"]
    assert after[changed]["articleBody"] != first[changed]["articleBody"]
    assert after[viewed] == first[viewed]  # a view count is not a change
    assert refreshed.summary["articles"]["changed"] == 1
    assert refreshed.summary["articles"]["unchanged"] == len(first) - 1


def test_refresh_n_rechecks_only_the_newest(clean_crawl, tmp_path):
    server = clean_crawl.server
    asked_before = len(server.requests)
    run_crawl(server.start_url, clean_crawl.copy_data_dir(tmp_path / "data"), "refresh=3")
    newest = sorted(clean_crawl.site.articles, key=lambda spec: (spec.date_published, spec.id))[-3:]
    assert sorted(article_paths(server.requests[asked_before:])) == sorted(f"/103002/{spec.id}.aspx" for spec in newest)


def test_interrupted_run_is_continued_from_where_it_stopped(serve, tmp_path):
    """Killed after the newest articles, the next run must reach the older ones although page 1 shows only known ids."""
    site = build_site(articles=60, seed=11, quirks=False)
    server = serve(site)
    kill_after_articles(server, tmp_path, articles=12, sig=signal.SIGKILL)
    saved = known_ids(tmp_path)
    assert 0 < len(saved) < len(site.articles)
    server.clear_log()

    rerun = run_crawl(server.start_url, tmp_path)

    assert rerun.returncode == 0, rerun.log[-2000:]
    assert {record["articleId"] for record in rerun.records} == {spec.id for spec in site.articles}
    refetched = {int(path.split("/")[-1].split(".")[0]) for path in article_paths(server.requests)} & saved
    assert refetched == set()


@pytest.mark.parametrize("moment", [0, 1, 7, 25])
def test_sigkill_at_any_moment_loses_nothing(serve, tmp_path, moment):
    site = build_site(articles=50, seed=5, quirks=False)
    server = serve(site)
    kill_after_articles(server, tmp_path, articles=moment, sig=signal.SIGKILL)
    after_kill = read_jsonl(tmp_path / "articles.jsonl")
    assert len({r["articleId"] for r in after_kill}) == len(after_kill)  # never a duplicate, even right after a kill

    rerun = run_crawl(server.start_url, tmp_path)

    assert rerun.returncode == 0, rerun.log[-2000:]
    records = read_jsonl(tmp_path / "articles.jsonl")
    ids = [record["articleId"] for record in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == {spec.id for spec in site.articles}


def test_graceful_stop_finishes_items_in_flight(serve, tmp_path):
    """SIGTERM while an article page is on its way: that page is still saved, and the final snapshot written.

    The replica holds one article page until the crawl has logged the signal, so the page is in flight
    when the graceful stop begins: synchronised on the replica and the crawl's log, not on time.
    """
    site = build_site(articles=50, seed=6, quirks=False)
    held_id = site.articles[-3].id  # on the first listing page: asked for early
    reached, release = threading.Event(), threading.Event()
    answer = site.response

    def held(method, path, host):
        if path == f"/103002/{held_id}.aspx":
            reached.set()
            release.wait(60)
        return answer(method, path, host)

    site.response = held
    server = serve(site)
    process = subprocess.Popen(crawl_command(server.start_url, tmp_path), cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert reached.wait(60), "the crawl never asked for the held page"
        process.send_signal(signal.SIGTERM)
        assert any("shutting down gracefully" in line for line in process.stderr)  # reads up to that line
    finally:
        release.set()
        process.communicate(timeout=120)
    assert process.returncode == EXIT_INTERRUPTED
    saved = known_ids(tmp_path)
    assert held_id in saved and len(saved) < len(site.articles)
    records = read_jsonl(tmp_path / "articles.jsonl")
    assert {record["articleId"] for record in records} == saved  # the final snapshot was written on the way out


def kill_after_articles(server, data_dir, articles: int, sig: int) -> subprocess.Popen:
    """Start a crawl and send ``sig`` once it has logged ``articles`` saved items (0: its first page); wait for the exit.

    Synchronised on the crawl's own log ("Scraped from" comes after the last pipeline), not on time.
    """
    command = crawl_command(server.start_url, data_dir, settings={
        "SNAPSHOT_SHARE": "0.2", "LOG_LEVEL": "DEBUG", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"})
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    marker = "Scraped from" if articles else "Crawled (200)"
    seen = signal_after(process, marker, max(articles, 1), sig, ignore="robots.txt")
    assert seen >= max(articles, 1), "the crawl ended before the moment to stop it"
    return process


def known_ids(data_dir) -> set[int]:
    store = ArticleStore(data_dir)
    try:
        return store.journal.known_ids()
    finally:
        store.close(snapshot=False)


def test_two_runs_on_one_data_dir_refuse(clean_site, serve, tmp_path):
    server = serve(clean_site)
    holder = ArticleStore(tmp_path)
    try:
        second = run_crawl(server.start_url, tmp_path)
    finally:
        holder.close()
    assert second.returncode == 3
    assert "another crawl is using DATA_DIR" in second.log
    assert "Traceback (most recent call last)" not in second.log
    assert [r for r in server.requests if r.path != "/robots.txt"] == []


def test_unwritable_data_dir_is_a_clear_error(tmp_path, caplog):
    """The path of test_two_runs_on_one_data_dir_refuse's crawl (the folder's StoreError at the open: one line, exit
    status 3), taken in-process here with the project's settings: the crawl's exit status is run_exit_status's."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    crawler = get_crawler(settings_dict={**PROJECT_SETTINGS, "DATA_DIR": str(blocker / "data")})
    with caplog.at_level(logging.INFO):
        assert RunDataFolder.of(crawler).open() is None
    assert run_exit_status(crawler.stats.get_stats(), crawler.settings) == EXIT_DATA_DIR
    assert "cannot use DATA_DIR" in crawler.stats.get_value(STORE_ERROR)
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("Not crawling: cannot use DATA_DIR"), errors
    assert not any(record.exc_info for record in caplog.records)


def test_disk_full_keeps_the_existing_file_and_exits_non_zero(after_first_run):
    """RLIMIT_FSIZE makes every write past the limit fail with EFBIG, as a full disk would."""
    site, server, data_dir = after_first_run.site, after_first_run.server, after_first_run.data_dir
    before = (data_dir / "articles.jsonl").read_bytes()
    for _ in range(5):
        site.add_article()
    limit = (data_dir / "state.sqlite3").stat().st_size + 4096
    limited = [
        sys.executable, "-c",
        "import resource, signal, sys, runpy;"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}));"
        "sys.argv = ['scrapy'] + sys.argv[1:]; runpy.run_module('scrapy', run_name='__main__')",
        *crawl_command(server.start_url, data_dir, settings={"SNAPSHOT_SHARE": "0"})[3:],
    ]
    completed = subprocess.run(limited, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert after_first_run.first.returncode == 0
    assert completed.returncode == 3, completed.stderr[-3000:]
    assert "data folder failure" in completed.stderr or "Stopping the crawl" in completed.stderr
    assert (data_dir / "articles.jsonl").read_bytes() == before


@dataclass
class ScheduledRuns:
    """Ten plain runs on an unchanged quirky site, then one with ``-a retry=failed``: results and requests of each."""

    site: object
    origin: str
    runs: list
    summaries: list  # read right after each run: the data folder is shared
    requests: list  # per run: the paths the replica served, in order

    def article_requests(self, run: int, article_id: int) -> int:
        return self.requests[run - 1].count(f"/103002/{article_id}.aspx")


@pytest.fixture(scope="module")
def scheduled_runs(tmp_path_factory):
    """The bundled replica with its default quirks: a stalled page, a 500 page and a page without a headline.

    DOWNLOAD_TIMEOUT is cut to 1 s (the page stalls for 30 s): it still times out, sooner.
    """
    site = build_site(articles=60, quirks=True)
    data_dir = tmp_path_factory.mktemp("scheduled")
    runs, summaries, requests = [], [], []
    with ReplicaServer(site) as server:
        for arguments in [()] * 10 + [("retry=failed",)]:
            server.clear_log()
            runs.append(run_crawl(server.start_url, data_dir, *arguments, settings={"DOWNLOAD_TIMEOUT": "1"}))
            summaries.append(runs[-1].summary)
            requests.append(server.paths())
    return ScheduledRuns(site, server.origin, runs, summaries, requests)


class TestScheduledRuns:
    """Eleven runs on one data folder, read by several tests: a class of its own, so that pytest-xdist
    schedules them as one unit apart from the rest of this module (tests/conftest.py groups by class)."""

    def test_a_section_with_a_few_broken_pages_is_healthy_on_every_run(self, scheduled_runs):
        problems = [summary["problems"] for summary in scheduled_runs.summaries]
        assert [run.returncode for run in scheduled_runs.runs] == [0] * 11, problems
        assert scheduled_runs.runs[0].stat("sasscrawl/articles/failed") == 3  # the stall, the 500 and no headline

    def test_chronic_pages_back_off_so_reruns_stay_cheap(self, scheduled_runs):
        """Runs 4 to 10 of an unchanged site cost on average at most 4 requests."""
        counts = [run.stat("downloader/request_count") for run in scheduled_runs.runs[3:10]]
        assert counts == [len(paths) for paths in scheduled_runs.requests[3:10]]
        assert sum(counts) / len(counts) <= 4, counts

    def test_a_chronic_page_is_fetched_only_when_due_and_retried_once(self, scheduled_runs):
        """Failed in runs 1 and 2: chronic, then due after 1, 2, 4 runs (runs 3, 5, 9), with one retry each time."""
        bad = scheduled_runs.site.quirks.bad_inputs
        for kind in ("stall", "always_500"):
            attempts = [scheduled_runs.article_requests(run, bad[kind]) for run in range(1, 11)]
            assert attempts == [4, 4, 2, 0, 2, 0, 0, 0, 2, 0], kind
        no_headline = [scheduled_runs.article_requests(run, bad["no_headline"]) for run in range(1, 11)]
        assert no_headline == [1, 1, 1, 0, 1, 0, 0, 0, 1, 0]

    def test_chronic_pages_not_due_are_counted_and_listed(self, scheduled_runs):
        bad = scheduled_runs.site.quirks.bad_inputs
        fourth, tenth = scheduled_runs.runs[3], scheduled_runs.summaries[9]
        assert fourth.stat("sasscrawl/articles/chronic") == 3 and fourth.stat("sasscrawl/articles/failed") == 0
        assert "and 3 chronic pages not due for a retry" in fourth.log
        chronic = {page["articleId"]: page for page in tenth["chronicPages"]}
        assert set(chronic) == {bad["stall"], bad["always_500"], bad["no_headline"]}
        page = chronic[bad["stall"]]
        # Failed in runs 1, 2, 3, 5 and 9: next due 8 runs after run 9, of which run 10 was one.
        assert page["failures"] == 5 and page["nextRetryInRuns"] == 7
        assert page["url"] == f"{scheduled_runs.origin}/103002/{bad['stall']}.aspx"
        next_retry = datetime.fromisoformat(page["nextRetryBy"])
        assert timedelta(days=7) < next_retry - datetime.now(timezone.utc) <= timedelta(days=8)
        assert "Chronic pages, known to fail: 3: " in scheduled_runs.runs[9].log

    def test_retry_failed_fetches_every_chronic_page_now(self, scheduled_runs):
        bad = scheduled_runs.site.quirks.bad_inputs
        kinds = ("stall", "always_500", "no_headline")
        assert [scheduled_runs.article_requests(11, bad[kind]) for kind in kinds] == [2, 2, 1]
        assert scheduled_runs.runs[10].stat("sasscrawl/articles/chronic") == 0
        assert scheduled_runs.summaries[10]["chronicPages"][0]["failures"] == 6

    def test_a_complete_run_leaves_only_its_failures_in_the_frontier(self, scheduled_runs):
        """A redirected alias (show.aspx?id=N, its target already fetched) must not look like an interrupted walk."""
        assert all("resuming an interrupted walk" not in run.log for run in scheduled_runs.runs)
        assert "frontier of 3 URLs from earlier runs" in scheduled_runs.runs[1].log
        assert scheduled_runs.runs[0].stat("sasscrawl/pages/redirected_to_known") == 1


def test_a_rebuilt_journal_walks_the_whole_listing_once(clean_crawl, tmp_path):
    """A damaged state file loses the frontier: the next run must still find what the snapshot lacked."""
    assert clean_crawl.result.returncode == 0
    server, data_dir = clean_crawl.server, clean_crawl.copy_data_dir(tmp_path / "data")
    lines = (data_dir / "articles.jsonl").read_text("utf-8").splitlines()
    oldest = {json.loads(line)["articleId"] for line in lines[:5]}  # sorted by id: the oldest, deep in the listing
    (data_dir / "articles.jsonl").write_text("\n".join(lines[5:]) + "\n", "utf-8")
    (data_dir / "state.sqlite3").write_bytes(b"garbage, as after a crash mid-write" * 100)
    for suffix in ("-wal", "-shm"):
        (data_dir / f"state.sqlite3{suffix}").unlink(missing_ok=True)

    rerun = run_crawl(server.start_url, data_dir)

    assert rerun.returncode == 0, rerun.log[-2000:]
    assert "is corrupt" in rerun.log
    assert {record["articleId"] for record in rerun.records} == {spec.id for spec in clean_crawl.site.articles}
    assert rerun.summary["articles"]["new"] == len(oldest)
    third = run_crawl(server.start_url, data_dir)  # walked once: back to the cheap rerun
    assert third.summary["requests"] == 2


def test_a_rebuild_that_skips_a_line_counts_it_and_keeps_the_file_as_it_was(clean_crawl, tmp_path):
    """One odd line once made the rebuild fail and the next snapshot empty articles.jsonl."""
    assert clean_crawl.result.returncode == 0
    data_dir = clean_crawl.copy_data_dir(tmp_path / "data")
    lines = (data_dir / "articles.jsonl").read_bytes().splitlines(keepends=True)
    original = b"".join([*lines[:3], b'{"articleId": 1.5, "contentHash": "edited by hand"}\n', *lines[3:]])
    (data_dir / "articles.jsonl").write_bytes(original)
    for path in data_dir.glob("state.sqlite3*"):
        path.unlink()

    rerun = run_crawl(clean_crawl.server.start_url, data_dir)

    assert rerun.stat("sasscrawl/store/rebuild_skipped_lines") == 1
    assert "Skipping line 4 of" in rerun.log and "articleId 1.5 is not an integer" in rerun.log
    assert [path.read_bytes() for path in data_dir.glob("articles.jsonl.before-rebuild-*")] == [original]
    articles = clean_crawl.site.articles
    assert sorted(record["articleId"] for record in rerun.records) == sorted(spec.id for spec in articles)
    assert rerun.summary["articles"]["new"] == 0


def test_a_listing_url_too_long_to_request_is_not_left_in_the_frontier(serve, tmp_path):
    """Scrapy drops a URL over URLLENGTH_LIMIT; were it in the frontier, every later run would try it again."""
    site = build_site(articles=6, seed=12, quirks=False, long_links=True)  # 10 kB in-section listing links
    result = run_crawl(serve(site).start_url, tmp_path)
    assert result.returncode == 0
    assert result.stat("sasscrawl/listings/too_long") >= 1 and not result.stat("urllength/request_ignored_count")
    store = ArticleStore(tmp_path)
    try:
        assert store.frontier.pending() == []
    finally:
        store.close()


@dataclass
class Refreshes:
    """Three runs on one data folder (``EXPORTS=sqlite``): a first crawl; a refresh after one article's text changed,
    one was removed and one added; a refresh of the unchanged site. What each left, read right after it."""

    first: dict  # the first run's records by id
    runs: list
    summaries: list  # read right after each run, as the records: the data folder is shared
    second: dict  # the second run's records by id
    versions: list  # versions.jsonl's lines after each run
    versions_bytes: list
    exported_versions: list  # the versions table of the SQLite export each run wrote: (articleId, contentHash, text)
    cards: list  # DATA_DIR/README.md after each run
    changed: int
    removed: int
    added: int
    data_dir: Path


@pytest.fixture(scope="module")
def refreshes(tmp_path_factory):
    site = build_site(articles=12, seed=21, quirks=False)
    data_dir = tmp_path_factory.mktemp("refreshes")
    changed, removed = site.articles[3].id, site.articles[6].id
    runs, summaries, records, versions, versions_bytes, exported_versions, cards = [], [], [], [], [], [], []
    with ReplicaServer(site) as server:
        for arguments in [(), ("refresh=all",), ("refresh=all",)]:
            runs.append(run_crawl(server.start_url, data_dir, *arguments, settings={"EXPORTS": "sqlite"}))
            summaries.append(runs[-1].summary)
            records.append({record["articleId"]: record for record in runs[-1].records})
            versions.append(read_jsonl(data_dir / VERSIONS_FILE))
            versions_bytes.append((data_dir / VERSIONS_FILE).read_bytes() if versions[-1] else b"")
            with closing(sqlite3.connect(data_dir / EXPORTS_FOLDER / "articles.sqlite")) as database:
                exported_versions.append([
                    (article_id, content_hash, json.loads(record)["articleBody"]) for article_id, content_hash, record
                    in database.execute("SELECT articleId, contentHash, record FROM versions ORDER BY rowid")])
            cards.append((data_dir / DATASET_CARD).read_text("utf-8"))
            if len(runs) == 1:
                site.change_article(changed)
                site.remove_article(removed)
                added = site.add_article().id
    return Refreshes(records[0], runs, summaries, records[1], versions, versions_bytes, exported_versions, cards,
                     changed, removed, added, data_dir)


class TestRefreshes:
    def test_every_run_succeeds(self, refreshes):
        assert [run.returncode for run in refreshes.runs] == [0, 0, 0], refreshes.runs[1].log[-3000:]

    def test_a_changed_text_keeps_the_old_record_in_versions_jsonl(self, refreshes):
        assert refreshes.versions[0] == []
        [version] = refreshes.versions[1]
        old = refreshes.first[refreshes.changed]
        assert version["articleId"] == refreshes.changed
        assert version["record"] == old
        assert version["contentHash"] == old["contentHash"]
        assert version["dateDownloaded"] == old["dateDownloaded"]
        superseded_at = datetime.fromisoformat(version["supersededAt"])
        assert superseded_at.utcoffset() == timedelta(0)
        assert datetime.fromisoformat(refreshes.summaries[1]["startedAt"]) <= superseded_at
        new = refreshes.second[refreshes.changed]
        assert new["contentHash"] != old["contentHash"] and new["articleBody"] != old["articleBody"]

    def test_each_run_lists_the_articles_it_added_changed_and_found_gone(self, refreshes):
        first, second, third = (summary["articleIds"] for summary in refreshes.summaries)
        assert first == {"added": sorted(refreshes.first), "changed": [], "gone": []}
        assert second == {"added": [refreshes.added], "changed": [refreshes.changed], "gone": [refreshes.removed]}
        assert third == {"added": [], "changed": [], "gone": []}
        # The summary's counts stay as they were: the removed article answered 404 again in the third run.
        assert refreshes.summaries[1]["articles"]["changed"] == 1
        assert refreshes.summaries[2]["articles"]["gone"] == 1

    def test_the_crawls_own_exports_hold_the_version_that_run_superseded(self, refreshes):
        """The SQLite export and the card a refresh writes at its end count the version it has just superseded."""
        old = refreshes.first[refreshes.changed]
        superseded = (refreshes.changed, old["contentHash"], old["articleBody"])
        assert refreshes.exported_versions == [[], [superseded], [superseded]]
        assert ["1 superseded versions" in card for card in refreshes.cards] == [False, True, True]
        assert "0 superseded versions" in refreshes.cards[0]

    def test_the_sqlite_export_holds_the_superseded_version_with_its_old_text(self, refreshes, tmp_path):
        """``scrapy export --format sqlite -o DIR``, in-process: the command as a process of its own runs in
        test_export_command and test_exports_sqlite."""
        exported = export_in_process(refreshes.data_dir, "--format", "sqlite", "-o", str(tmp_path))
        assert exported.returncode == 0, exported.stderr[-3000:]
        with closing(sqlite3.connect(tmp_path / "articles.sqlite")) as database:
            rows = database.execute("SELECT articleId, contentHash, record FROM versions").fetchall()
            [current] = database.execute("SELECT articleBody FROM articles WHERE articleId = ?",
                                         (refreshes.changed,)).fetchone()
        old = refreshes.first[refreshes.changed]
        versions = [(article_id, content_hash, json.loads(record)["articleBody"])
                    for article_id, content_hash, record in rows]
        assert versions == [(refreshes.changed, old["contentHash"], old["articleBody"])]
        assert current == refreshes.second[refreshes.changed]["articleBody"] != old["articleBody"]

    def test_the_dataset_card_and_parquet_are_written_again_by_the_runs_that_changed_articles_only(self, refreshes):
        written = ["Dataset card and exports written in" in run.log for run in refreshes.runs]
        assert written == [True, True, False]
        assert "Dataset card and exports left as they are" in refreshes.runs[2].log

    def test_an_unchanged_refresh_keeps_no_version(self, refreshes):
        assert refreshes.versions_bytes[2] == refreshes.versions_bytes[1]
        assert refreshes.summaries[2]["articles"]["changed"] == 0
