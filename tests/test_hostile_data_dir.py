"""A data folder with links planted in it, before the run or while it runs, through the real ``scrapy crawl``.

Whatever a link points at lies outside DATA_DIR: the crawl must never write there. A link at the
temporary names older versions used is inert; a link in place of one of DATA_DIR's folders stops
the run before it fetches anything (exit 3, one line saying why: one folder in the run's process, each
folder in this one); a link swapped in while the run goes costs only the writes that would have gone
through it, each with its line and its counter.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from harness import CrawlResult, run_crawl, start_in_process
from sandbox import Sandbox
from sasscrawl.health import EXIT_DATA_DIR

DATA_FOLDERS = ("runs", "images", "warc", "snapshots")
ARTICLE_PATH = re.compile(r"/103002/\d+\.aspx")


def test_links_at_the_old_temporary_names_are_never_written_through(clean_site, serve, tmp_path):
    """The snapshot once wrote to .articles.jsonl.tmp and the WARC index to .index.cdxj.tmp, following a link there."""
    data_dir = tmp_path / "data"
    (data_dir / "warc").mkdir(parents=True)
    targets = {data_dir / ".articles.jsonl.tmp": tmp_path / "outside-articles",
               data_dir / "warc" / ".index.cdxj.tmp": tmp_path / "outside-index"}
    for link, target in targets.items():
        target.write_bytes(b"an archivist's file, not the crawler's\n")
        link.symlink_to(target)

    result = run_crawl(serve(clean_site).start_url, data_dir, "archive=warc")

    assert result.returncode == 0, result.log[-3000:]
    for link, target in targets.items():
        assert target.read_bytes() == b"an archivist's file, not the crawler's\n"
        assert link.is_symlink()  # left as found
    assert {record["articleId"] for record in result.records} == clean_site.expected_article_ids()
    assert not (data_dir / "articles.jsonl").is_symlink() and not (data_dir / "warc" / "index.cdxj").is_symlink()
    assert (data_dir / "warc" / "index.cdxj").stat().st_size > 0


def test_a_linked_data_folder_stops_the_run_before_it_crawls(clean_site, serve, tmp_path):
    """The run's process, for one folder: every folder takes this way out (the test below, in this process)."""
    server = serve(clean_site)
    sandbox = Sandbox(tmp_path / "sandbox")
    elsewhere = sandbox.root / "elsewhere"
    elsewhere.mkdir()
    sandbox.data_dir.mkdir()
    (sandbox.data_dir / "images").symlink_to(elsewhere, target_is_directory=True)

    result = sandbox.crawl(server.start_url, "archive=warc", settings={"SPLASH_URL": "http://127.0.0.1:9"})

    assert result.returncode == EXIT_DATA_DIR, result.log[-3000:]
    refusals = [line for line in result.log.splitlines() if "Not crawling:" in line]
    assert len(refusals) == 1, refusals
    assert f"{sandbox.data_dir / 'images'} is a symbolic link" in refusals[0]
    assert "Traceback (most recent call last)" not in result.log
    assert [request.path for request in server.requests if request.path != "/robots.txt"] == []
    assert sandbox.files_outside_data_dir() == []
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("folder", DATA_FOLDERS)
def test_each_linked_data_folder_is_refused_before_the_first_request(tmp_path, folder, caplog):
    """The spider of an archiving, snapshotting run, made in this process: its start ends before its first request,
    with one ``Not crawling`` line and the data folder's exit status, and nothing written through the link."""
    data_dir, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    data_dir.mkdir()
    (data_dir / folder).symlink_to(elsewhere, target_is_directory=True)
    started = start_in_process(caplog, {"DATA_DIR": str(data_dir), "SPLASH_URL": "http://127.0.0.1:9"},
                               start_url="http://127.0.0.1:9/103002/default.aspx", archive="warc")
    assert started.exit_status == EXIT_DATA_DIR and started.requests == []
    refusals = [record.getMessage() for record in caplog.records if "Not crawling:" in record.getMessage()]
    assert len(refusals) == 1, refusals
    assert f"{data_dir / folder} is a symbolic link" in refusals[0]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", "elsewhere"]
    assert list(elsewhere.iterdir()) == []


class _Splash(BaseHTTPRequestHandler):
    """Renders every page as the same small HTML and PNG: enough for the crawl to write snapshots."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        png = io.BytesIO()
        Image.new("RGB", (2, 2)).save(png, format="PNG")
        body = json.dumps({"html": "<html><h1>rendered</h1></html>",
                           "png": base64.b64encode(png.getvalue()).decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def splash():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Splash)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_links_swapped_in_while_the_run_goes_are_never_written_through(clean_site, serve, tmp_path, splash):
    """The replica holds the first article page until every data folder is a link; then the crawl goes on."""
    reached, release = threading.Event(), threading.Event()
    answer = clean_site.response

    def held(method, path, host):
        if ARTICLE_PATH.fullmatch(path.split("?")[0]) and not reached.is_set():
            reached.set()
            release.wait(60)
        return answer(method, path, host)

    clean_site.response = held
    server = serve(clean_site)
    sandbox = Sandbox(tmp_path / "sandbox")
    elsewhere = sandbox.root / "elsewhere"
    process = sandbox.start(server.start_url, "archive=warc", settings={"SPLASH_URL": splash})
    try:
        assert reached.wait(60), "the crawl never asked for an article"
        for folder in DATA_FOLDERS:
            (elsewhere / folder).mkdir(parents=True)
            if (sandbox.data_dir / folder).exists():
                (sandbox.data_dir / folder).rename(sandbox.data_dir / f"{folder}-before-the-link")
            (sandbox.data_dir / folder).symlink_to(elsewhere / folder, target_is_directory=True)
    finally:
        release.set()
        _, log = process.communicate(timeout=120)
    result = CrawlResult(process.returncode, log, sandbox.data_dir)

    assert "Traceback (most recent call last)" not in result.log
    assert sandbox.files_outside_data_dir() == []
    assert {record["articleId"] for record in result.records} == clean_site.expected_article_ids()
    assert result.stat("sasscrawl/summary/failed") == 1 and "Could not write the run summary" in result.log
    assert result.stat("sasscrawl/warc/close_failed") == 1 and "Could not finish the WARC archive" in result.log
    assert result.stat("sasscrawl/images/failed") >= 1 and result.stat("sasscrawl/snapshots/failed") >= 1
    refused = [line for line in result.log.splitlines() if "is a symbolic link" in line]
    assert {folder for folder in DATA_FOLDERS if any(f"{sandbox.data_dir / folder} is a" in line
                                                     for line in refused)} == set(DATA_FOLDERS)
