"""Deploy to a real Scrapyd with scrapyd-deploy, schedule jobs over its HTTP API, read what they wrote.

Scrapyd runs on 127.0.0.1 from this environment (it comes with the test extra). The
project is deployed from a copy, with the ``local`` target of scrapy.cfg pointed
at the test's port: scrapyd-deploy writes build files beside scrapy.cfg.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import PROJECT_ROOT, free_port, start_in_process
from sasscrawl_replica import ReplicaServer, build_site

BIN = Path(sys.executable).parent
PROJECT_FILES = ("sasscrawl", "scrapy.cfg", "pyproject.toml", "README.md")


def call(url: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=10) as response:
        return json.loads(response.read())


def wait_until(condition, timeout: float, what: str):
    """Poll an HTTP API until ``condition()`` is truthy: Scrapyd offers no way to be told."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def running_scrapyd(home: Path):
    """A Scrapyd server on 127.0.0.1 with its folders in ``home``, nothing deployed: its URL."""
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = {home}/eggs\nlogs_dir = {home}/logs\nitems_dir =\n"
        f"dbs_dir = {home}/dbs\nmax_proc = 2\npoll_interval = 0.2\n"
    )
    server = subprocess.Popen([BIN / "scrapyd"], cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"

    def ready():
        try:
            return call(url + "daemonstatus.json")["status"] == "ok"
        except OSError:
            return False

    try:
        wait_until(ready, 30, "Scrapyd to listen")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory):
    home = tmp_path_factory.mktemp("scrapyd")
    with running_scrapyd(home) as url:
        project = tmp_path_factory.mktemp("project")
        for name in PROJECT_FILES:
            source = PROJECT_ROOT / name
            if source.is_dir():
                shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, project / name)
        config = project / "scrapy.cfg"
        config.write_text(config.read_text().replace("http://localhost:6800/", url))
        deploy = subprocess.run([BIN / "scrapyd-deploy", "local"], cwd=project, capture_output=True, text=True,
                                timeout=120)
        assert deploy.returncode == 0, deploy.stderr
        assert '"status": "ok"' in deploy.stdout and '"spiders": 1' in deploy.stdout
        yield url, home


def run_job(scrapyd, arguments: list[tuple[str, str]]) -> str:
    """Schedule ``commentary`` with these arguments, wait for it to finish, return its log."""
    url, _ = scrapyd
    job = call(url + "schedule.json", [("project", "sasscrawl"), ("spider", "commentary"), *arguments])["jobid"]
    return job_log(scrapyd, job)


def job_log(scrapyd, job: str) -> str:
    """Wait for the job to finish, return its log."""
    url, home = scrapyd

    def finished():
        jobs = call(url + "listjobs.json?project=sasscrawl")["finished"]
        return any(entry["id"] == job for entry in jobs)

    wait_until(finished, 120, f"job {job}")
    return (home / "logs" / "sasscrawl" / "commentary" / f"{job}.log").read_text("utf-8")


FAST = [("setting", "DOWNLOAD_DELAY=0"), ("setting", "AUTOTHROTTLE_ENABLED=False"),
        ("setting", "CONCURRENT_REQUESTS_PER_DOMAIN=8")]


def scrapyd_cron_command(url: str, data_dir: Path) -> str:
    """The shipped line's command, aimed at this Scrapyd and data folder."""
    crontab = PROJECT_ROOT / "deploy" / "cron" / "scrapyd-schedule.crontab"
    job_line = next(line for line in crontab.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return job_line.split(None, 5)[5].replace("http://localhost:6800/", url).replace("/var/lib/sasscrawl", str(data_dir))


def job_ids(url: str) -> set[str]:
    """Every job Scrapyd knows of, whatever its state."""
    jobs = call(url + "listjobs.json?project=sasscrawl")
    return {entry["id"] for state in ("pending", "running", "finished") for entry in jobs[state]}


@pytest.fixture(scope="module")
def cron_job(scrapyd, tmp_path_factory):
    """The shipped cron line run once against the module's Scrapyd, and the job it scheduled run to its end: the cron
    test judges what the line printed and what the job wrote; the scheduled-job test reads the job's log and reruns
    it on a copy of its data folder. (Each used to schedule a first crawl of its own.)"""
    url, _ = scrapyd
    data_dir = tmp_path_factory.mktemp("cron-data")
    site = build_site(articles=5, seed=22, quirks=False)
    with ReplicaServer(site) as server:
        command = scrapyd_cron_command(url, data_dir).replace(
            "-d spider=commentary", f"-d spider=commentary -d start_url={server.start_url} "
            "-d setting=DOWNLOAD_DELAY=0 -d setting=AUTOTHROTTLE_ENABLED=False")
        before = job_ids(url)
        done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
        log, records = "", []
        if done.returncode == 0:  # else the cron test says how it failed
            [job] = wait_until(lambda: job_ids(url) - before, 30, "the cron line's job")
            log = job_log(scrapyd, job)
            records = [json.loads(line) for line in (data_dir / "articles.jsonl").read_text("utf-8").splitlines()]
        yield SimpleNamespace(done=done, site=site, server=server, data_dir=data_dir, log=log, records=records)


def test_scheduled_job_crawls_the_replica(scrapyd, cron_job, tmp_path):
    site, server, log, records = cron_job.site, cron_job.server, cron_job.log, cron_job.records
    assert sorted(record["articleId"] for record in records) == sorted(spec.id for spec in site.articles)
    assert "[Spidermon] OK" in log and "healthy" in log
    assert f"INFO: DATA_DIR is {cron_job.data_dir.resolve()}" in log

    data_dir = shutil.copytree(cron_job.data_dir, tmp_path / "data")
    log = run_job(scrapyd, [("start_url", server.start_url), ("setting", f"DATA_DIR={data_dir}"), ("refresh", "2"),
                            *FAST])
    assert "articles new 0, changed 0, unchanged 2" in log  # the same arguments as on the command line


BAD_JOBS = [
    ([("start_url", "http://127.0.0.1:1/103002/default.aspx"), ("colour", "blue")],
     "Not crawling: unknown spider argument(s) colour; known: start_url, refresh, archive, retry"),
    ([("start_url", "ftp://example.test/103002/default.aspx")], "Not crawling: start_url must be an http(s) URL"),
    ([("start_url", "http://127.0.0.1:1/default.aspx")], "Not crawling: start_url must point into a section folder"),
    ([("start_url", "http://127.0.0.1:1/103002/default.aspx"), ("setting", "DATA_DIRR=/elsewhere")],
     "Not crawling: unknown setting DATA_DIRR (did you mean DATA_DIR?)"),
]
"""A job's arguments and the one line that refuses them. Each is the spider's ``argument_error``, logged by
``_open_store`` before anything is fetched: one job through Scrapyd for a bad spider argument (``-a``) and one for a
bad setting (``-s``) prove that path; every input's line is checked in-process."""


@pytest.mark.parametrize("arguments, message", [BAD_JOBS[0], BAD_JOBS[3]])
def test_bad_job_arguments_fail_fast_with_one_clear_line(scrapyd, tmp_path, arguments, message):
    log = run_job(scrapyd, [*arguments, ("setting", f"DATA_DIR={tmp_path}")])
    assert log.count(message) == 1
    assert "Crawl results/Run started: arguments, data folder and start page usable... FAIL" in log
    assert "Traceback (most recent call last)" not in log
    assert "downloader/request_count" not in log  # nothing was fetched
    assert not (tmp_path / "articles.jsonl").exists()


@pytest.mark.parametrize("arguments, message", BAD_JOBS)
def test_each_bad_job_argument_is_refused_with_its_one_line(tmp_path, caplog, arguments, message):
    """The spider as Scrapyd's job makes it (settings at project priority or above, arguments as ``-a`` with the job's
    ``_job``), in-process."""
    settings = {"DATA_DIR": str(tmp_path), **dict(value.split("=", 1) for name, value in arguments if name == "setting")}
    started = start_in_process(caplog, settings, **{name: value for name, value in arguments if name != "setting"},
                               _job="a-job-id")
    assert started.requests == []
    assert sum(message in error for error in started.errors) == 1
    assert not (tmp_path / "articles.jsonl").exists()


def test_unreachable_start_page_is_reported_by_the_monitors(scrapyd, tmp_path):
    port = free_port()
    log = run_job(scrapyd, [("start_url", f"http://127.0.0.1:{port}/103002/default.aspx"),
                            ("setting", f"DATA_DIR={tmp_path}"), ("setting", "RETRY_TIMES=0")])
    assert "the start page could not be fetched" in log
    assert "Traceback (most recent call last)" not in log


def test_the_shipped_scrapyd_cron_line_schedules_a_job(cron_job):
    done = cron_job.done
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert len(cron_job.records) == len(cron_job.site.articles)  # written by the job it scheduled


def test_the_shipped_scrapyd_cron_line_speaks_up_when_scrapyd_refuses_the_job(tmp_path):
    """Scrapyd refuses with HTTP 200 and {"status": "error"}: cron must get output and a failure."""
    with running_scrapyd(tmp_path) as url:  # nothing deployed
        done = subprocess.run(["sh", "-c", scrapyd_cron_command(url, tmp_path / "data")], capture_output=True,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout.startswith("Scrapyd did not schedule the sasscrawl job: {")
    assert "project 'sasscrawl' not found" in done.stdout


def test_the_shipped_scrapyd_cron_line_speaks_up_when_scrapyd_is_down(tmp_path):
    done = subprocess.run(["sh", "-c", scrapyd_cron_command(f"http://127.0.0.1:{free_port()}/", tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout.startswith("Scrapyd did not schedule the sasscrawl job: curl: (7)")
