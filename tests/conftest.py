"""Shared fixtures: replica sites served over real HTTP on 127.0.0.1, the fault suite's tally, the fuzz report.

The suite runs on four pytest-xdist workers (``-n 4 --dist loadscope``, pyproject.toml): most tests
wait on a subprocess crawl, idle about half the time, so four keep two cores busy. Each module (or
class) runs on one worker, so a module-scoped crawl runs once; a session-scoped one runs once on
each worker that needs it, so the modules that share one of the crawls in ``ONE_WORKER_CRAWLS`` are
sent to the same worker (:func:`pytest_xdist_make_scheduler`). The workers' tallies are added up
on the controller (:func:`pytest_sessionfinish`, :func:`pytest_testnodedown`).
"""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from fault_tally import FaultTally
from harness import ARCHIVE_OPERATOR, CrawlResult, ServedCrawl, free_port, run_crawl, run_on_terminal
from sasscrawl_replica import ReplicaServer, build_site

pytest_plugins = ["store_fixtures"]  # records to save and stores that get closed, for tests/test_store_*.py

TALLY = pytest.StashKey[FaultTally]()
FUZZ_REPORT = pytest.StashKey[list[str]]()


ONE_WORKER_CRAWLS = {"archived_crawl": "archive", "archived_twice": "archive", "archive_settings_crawl": "archive",
                     "exports_crawl": "exports", "quirky_crawl": "quirky", "image_retry": "quirky",
                     "image_timeout_crawl": "quirky", "failing_pages_crawl": "verdict", "unreachable_start_crawl": "verdict"}
"""Session crawls → the xdist group of every test module that names one: the crawl then runs on one worker, not
on each worker that has one of those modules.

``clean_crawl`` is left out on purpose: its modules are the suite's longest, and one worker for all of
them would take longer than the crawl they would share."""


def shared_crawl_groups(tests_folder: Path, root: Path) -> dict[str, str]:
    """Test module (as node ids name it) → its group, for the modules whose text names a crawl of ONE_WORKER_CRAWLS."""
    groups = {}
    for module in sorted(tests_folder.glob("test_*.py")):
        text = module.read_text("utf-8")
        for fixture, group in ONE_WORKER_CRAWLS.items():
            if re.search(rf"\b{fixture}\b", text):
                groups[module.relative_to(root).as_posix()] = group
                break
    return groups


LONGEST_FIRST = ("verdict", "archive", "tests/test_incremental.py", "tests/test_kill_loop.py",
                 "tests/test_incremental.py::TestScheduledRuns", "quirky", "exports", "tests/test_faults.py",
                 "tests/test_snapshots.py")
"""The units of work that take longest (20 to 45 s each in ``--durations``), handed out before the others: a worker
that started one of them last would run alone at the end while the others idle. The rest keep the files' order."""


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` (a module, or a class, per unit of work), with the modules sharing a session crawl as one
    unit and the longest units first. (xdist's own ``loadgroup`` cannot do it under pytest 9: it renames node ids
    in a way pytest 9 ignores.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    groups = shared_crawl_groups(Path(__file__).parent, config.rootpath)

    class SharedCrawlScheduling(LoadScopeScheduling):
        longest_first = False

        def _split_scope(self, nodeid: str) -> str:
            return groups.get(nodeid.split("::", 1)[0]) or super()._split_scope(nodeid)

        def _assign_work_unit(self, node) -> None:
            if not self.longest_first:  # the queue is complete when the first unit is handed out
                for scope in reversed(LONGEST_FIRST):
                    if scope in self.workqueue:
                        self.workqueue.move_to_end(scope, last=False)
                self.longest_first = True
            super()._assign_work_unit(node)

    return SharedCrawlScheduling(config, log)


@pytest.fixture
def serve():
    """Start replica servers for a test and stop them after it: ``serve(site)`` → running server."""
    servers = []

    def start(site):
        server = ReplicaServer(site)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def build_clean_site():
    """A quirk-free replica: every article reachable, no faults."""
    return build_site(articles=25, seed=7, quirks=False)


@pytest.fixture
def clean_site():
    """The quirk-free replica, new for each test: it may change it."""
    return build_clean_site()


@pytest.fixture(scope="session")
def clean_crawl(tmp_path_factory):
    """One crawl of the quirk-free replica, for the tests that read a healthy first run or work on a copy of it."""
    with ReplicaServer(build_clean_site()) as server:
        result = run_crawl(server.start_url, tmp_path_factory.mktemp("clean-crawl"))
        yield ServedCrawl(server.site, server, result, server.requests)


@pytest.fixture(scope="session")
def archived_crawl(tmp_path_factory):
    """One archiving crawl of a quirk-free replica of 64 articles; its end renders the offline mirror (RENDER_SITE)."""
    with ReplicaServer(build_site(articles=64, seed=14, quirks=False)) as server:
        result = run_crawl(server.start_url, tmp_path_factory.mktemp("archived-crawl"), "archive=warc")
        yield ServedCrawl(server.site, server, result, server.requests)


@pytest.fixture(scope="session")
def exports_crawl(tmp_path_factory):
    """One crawl of the quirk-free replica with ``EXPORTS`` of every format: the exports, the card and the records
    they were written from, for the tests of sasscrawl/exports/ (they read it; a test that changes it works on a copy)."""
    with ReplicaServer(build_clean_site()) as server:
        result = run_crawl(server.start_url, tmp_path_factory.mktemp("exports-crawl"),
                           settings={"EXPORTS": "parquet,sqlite,csv"})
        yield ServedCrawl(server.site, server, result, server.requests)


@pytest.fixture(scope="session")
def quirky_crawl(tmp_path_factory):
    """One crawl of the replica full of traps (test_commentary has one assertion per trap): a page that stalls for
    3 s against a 1 s DOWNLOAD_TIMEOUT and two retries, and a canary file that its XXE pages aim at."""
    canary = tmp_path_factory.mktemp("canary") / "secret.txt"
    canary.write_text("XXE-CANARY-4f1c9")
    site = build_site(articles=30, seed=3, stall_seconds=3, xxe_canary_path=str(canary))
    with ReplicaServer(site) as server:
        result = run_crawl(server.start_url, tmp_path_factory.mktemp("quirky-crawl"),
                           settings={"DOWNLOAD_TIMEOUT": "1", "RETRY_TIMES": "2"})
        yield ServedCrawl(site, server, result, server.requests)


@pytest.fixture(scope="session")
def failing_pages_crawl(tmp_path_factory):
    """The quirky replica (a 500 page, a page without headline, ...) crawled with FAILED_PAGES_MAX_SHARE 0.01 and
    no retries: too many of its pages fail."""
    with ReplicaServer(build_site(articles=30, seed=3, stall_seconds=0)) as server:
        result = run_crawl(server.start_url, tmp_path_factory.mktemp("failing-pages"),
                           settings={"FAILED_PAGES_MAX_SHARE": "0.01", "RETRY_TIMES": "0"})
        yield ServedCrawl(server.site, server, result, server.requests)


@dataclass
class ArchivedTwice:
    """A replica crawled with archiving on, then again with ``-a refresh=all`` on the unchanged site."""

    site: object
    start_url: str
    first: CrawlResult
    second: CrawlResult
    first_warcs: list[Path]
    """The WARC files the first run wrote; the others are the second's."""

    @property
    def warc_dir(self) -> Path:
        return self.first.data_dir / "warc"

    @property
    def second_warcs(self) -> list[Path]:
        return sorted(set(self.warc_dir.glob("*.warc.gz")) - set(self.first_warcs))


@pytest.fixture(scope="session")
def archived_twice(tmp_path_factory):
    """60 articles (the size issue 14 judges revisits at), archived by a crawl and by a rerun refreshing them all.

    Read only: the archive tests, ``scrapy wacz`` and pywb's replay share it.
    """
    with ReplicaServer(build_site(articles=60, seed=11, quirks=False)) as server:
        data_dir = tmp_path_factory.mktemp("archived-twice")
        first = run_crawl(server.start_url, data_dir, "archive=warc")
        first_warcs = sorted((data_dir / "warc").glob("*.warc.gz"))
        second = run_crawl(server.start_url, data_dir, "archive=warc", "refresh=all")
    return ArchivedTwice(server.site, server.start_url, first, second, first_warcs)


@pytest.fixture(scope="session")
def archive_settings_crawl(tmp_path_factory):
    """One small archiving crawl with three settings that touch apart: WARC_MAX_RECORD_SIZE 2000 (records truncated),
    WARC_OPERATOR (named in warcinfo) and RENDER_SITE off (no mirror). test_archive and test_render each judge one
    or two of them on this one run, where each took a crawl of its own."""
    with ReplicaServer(build_site(articles=4, seed=32, quirks=False)) as server:
        result = run_crawl(server.start_url, tmp_path_factory.mktemp("archive-settings"), "archive=warc",
                           settings={"WARC_MAX_RECORD_SIZE": "2000", "RENDER_SITE": "False",
                                     "WARC_OPERATOR": ARCHIVE_OPERATOR})
        yield ServedCrawl(server.site, server, result, server.requests)


@pytest.fixture(scope="session")
def fault_tally(request, tmp_path_factory):
    """The fault suite's figures for this session, printed and saved as JSON at its end."""
    return request.config.stash.setdefault(TALLY, FaultTally(tmp_path_factory.getbasetemp() / "fault-summary.json"))


@pytest.fixture(scope="session")
def fuzz_report(request):
    """Lines the fuzz tests (test_fuzz.py) leave for the end of the session: inputs tried, the slowest."""
    return request.config.stash.setdefault(FUZZ_REPORT, [])


@dataclass
class UnreachableStart:
    start_url: str
    """On 127.0.0.1, at a port nothing listens at: every connection is refused."""
    result: CrawlResult
    real_data_dir: Path
    """Where ``result.data_dir`` (a symbolic link, then ``..``, then the link again) leads."""


@pytest.fixture(scope="session")
def unreachable_start_crawl(tmp_path_factory):
    """One run that fails at once, its start page refused (DOWNLOAD_TIMEOUT 1, retries as configured), with
    Python's import times in its log (PYTHONPROFILEIMPORTTIME) and DATA_DIR given through a symbolic link and ``..``.

    Read only, by test_crawl_command (exit status, modules imported, data folder named) and
    test_quiet_tracebacks (a refused connection in one line): what each reads of it is the same whichever
    of these run options it was given.
    """
    root = tmp_path_factory.mktemp("unreachable-start")
    (root / "real").mkdir()
    (root / "link").symlink_to(root / "real")
    start_url = f"http://127.0.0.1:{free_port()}/103002/default.aspx"
    result = run_crawl(start_url, root / "link" / ".." / "link", settings={"DOWNLOAD_TIMEOUT": "1"},
                       env={"PYTHONPROFILEIMPORTTIME": "1"})
    return UnreachableStart(start_url, result, (root / "real").resolve())


@dataclass
class ImageRetry:
    """A crawl while one image answers 404, then a rerun once it is served again: both on a terminal."""

    site: object
    article_id: int
    """The article whose first image failed."""
    image_path: str
    first: CrawlResult
    first_records: list[dict]
    """articles.jsonl as the first run left it (``first.records`` reads the folder as the rerun left it)."""
    rerun: CrawlResult
    rerun_requests: list
    """What the replica served in the rerun."""


@pytest.fixture(scope="session")
def image_retry(tmp_path_factory):
    """Read only, by test_images (the article kept, its image mirrored by the rerun and nothing else fetched again)
    and test_progress (the first run's bar full, the rerun's 1/1 articles): one pair of crawls for both."""
    site = build_site(articles=15, seed=9, quirks=False)
    victim = next(spec for spec in site.articles if spec.image_paths)
    site.fail_image(victim.image_paths[0], 404)
    data_dir = tmp_path_factory.mktemp("image-retry")
    with ReplicaServer(site) as server:
        first = run_on_terminal(server.start_url, data_dir)
        first_records = first.records
        site.restore_image(victim.image_paths[0])
        server.clear_log()
        rerun = run_on_terminal(server.start_url, data_dir)
        return ImageRetry(site, victim.id, victim.image_paths[0], first, first_records, rerun, server.requests)


@pytest.fixture(scope="session")
def image_timeout_crawl(tmp_path_factory):
    """A crawl in which one image stalls past DOWNLOAD_TIMEOUT (1 s, no retries), logging its progress every 0.05 s:
    test_images reads the failed image, test_progress the progress lines (one request at a time, 0.05 s apart)."""
    site = build_site(articles=6, seed=10, quirks=False)
    victim = next(spec for spec in site.articles if spec.image_paths)
    site.fail_image(victim.image_paths[0], 404, stall_seconds=5)
    with ReplicaServer(site) as server:
        result = run_crawl(server.start_url, tmp_path_factory.mktemp("image-timeout"), settings={
            "DOWNLOAD_TIMEOUT": "1", "RETRY_TIMES": "0",
            "PROGRESS_INTERVAL": "0.05", "DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
        yield ServedCrawl(site, server, result, server.requests)


def pytest_sessionfinish(session):
    """In an xdist worker: hand this worker's tally and fuzz lines to the controller."""
    if (output := getattr(session.config, "workeroutput", None)) is not None:
        tally = session.config.stash.get(TALLY, None)
        output["fault_tally"] = tally.figures() if tally is not None else None
        output["fuzz_report"] = session.config.stash.get(FUZZ_REPORT, [])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """On the xdist controller: add each worker's tally and fuzz lines to the session's, printed at its end."""
    output = getattr(node, "workeroutput", {})
    if output.get("fault_tally"):
        base = node.config._tmp_path_factory.getbasetemp()  # what tmp_path_factory gives the tests, here
        node.config.stash.setdefault(TALLY, FaultTally(base / "fault-summary.json")).merge(output["fault_tally"])
    node.config.stash.setdefault(FUZZ_REPORT, []).extend(output.get("fuzz_report", []))


def pytest_terminal_summary(terminalreporter, config):
    tally = config.stash.get(TALLY, None)
    if tally is not None:
        tally.write_json()
        terminalreporter.write_sep("=", "fault and attack suite")
        terminalreporter.write_line(tally.render())
        terminalreporter.write_line(f"(saved as {tally.json_path})")
    if fuzz_lines := config.stash.get(FUZZ_REPORT, None):
        terminalreporter.write_sep("=", "fuzzing")
        for line in fuzz_lines:
            terminalreporter.write_line(line)
