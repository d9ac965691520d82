"""pywb 2.10 replays the archive of a crawl and a rerun of revisits (``archived_twice``, conftest).

pywb lives in a venv of its own, ``.pywb-venv`` at the project root (``scripts/pywb-install``,
run by ``.ci/run``): it pins an older cryptography than the project's venv has.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest

from harness import PROJECT_ROOT, free_port
from sasscrawl import archive
from sasscrawl.pages.document import Document
from sasscrawl.section import article_id_from_path

PYWB = PROJECT_ROOT / ".pywb-venv" / "bin"
COLLECTION = "sass"
READY_WITHIN = 60
"""Seconds wayback may take to listen before the fixture gives up: a bound on a failure, not a wait."""

pytestmark = pytest.mark.skipif(not (PYWB / "wayback").exists(),
                                reason="pywb is not installed: run scripts/pywb-install (.ci/run does)")


@pytest.fixture(scope="module")
def wayback(archived_twice, tmp_path_factory):
    """wayback on a free port, in both modes: a collection of the crawl's WARC files, and proxy mode on it."""
    root = tmp_path_factory.mktemp("pywb")
    for command in (["init", COLLECTION], ["add", COLLECTION, *map(str, sorted(archived_twice.warc_dir.glob("*.warc.gz")))]):
        done = subprocess.run([PYWB / "wb-manager", *command], cwd=root, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    (root / "config.yaml").write_text(f"proxy:\n  coll: {COLLECTION}\n")
    port = free_port()
    log = (root / "wayback.log").open("w")
    process = subprocess.Popen([PYWB / "wayback", "-p", str(port), "-b", "127.0.0.1"], cwd=root, stdout=log, stderr=log)
    try:
        _wait_until_listening(process, port, root / "wayback.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_until_listening(process: subprocess.Popen, port: int, log) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"wayback exited with status {process.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # between polls of the port
    pytest.fail(f"wayback did not listen on port {port} within {READY_WITHIN} s: {log.read_text()[-2000:]}")


def _get(url: str, proxy: str | None = None):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy} if proxy else {}))
    with opener.open(url, timeout=30) as response:
        return response.status, response.headers, response.read()


def _article_captures(archived_twice) -> tuple[archive.Capture, archive.Capture]:
    """An article's capture in the first run and its revisit in the rerun."""
    captures = [capture for capture in archive.iter_captures(archived_twice.warc_dir)
                if article_id_from_path(urlsplit(capture.url).path) is not None]
    revisit = next(capture for capture in captures if capture.original is not None)
    return revisit.original, revisit


def _timestamp(capture: archive.Capture) -> str:
    return datetime.fromisoformat(capture.date).strftime("%Y%m%d%H%M%S")


def _memento_datetime(headers) -> datetime:
    return parsedate_to_datetime(headers["Memento-Datetime"])


def test_raw_mode_replays_an_article_byte_for_byte(wayback, archived_twice):
    original, _ = _article_captures(archived_twice)
    status, headers, body = _get(f"{wayback}/{COLLECTION}/{_timestamp(original)}id_/{original.url}")
    assert status == 200 and headers["Content-Type"] == original.content_type
    assert body == archive.read_payload(original)
    assert _memento_datetime(headers) == datetime.fromisoformat(original.date).replace(microsecond=0)


def test_proxy_mode_replays_the_articles_xml_with_its_stylesheet_reference_and_the_stylesheet(wayback, archived_twice):
    original, _ = _article_captures(archived_twice)
    status, headers, body = _get(original.url, proxy=wayback)
    assert status == 200 and body == archive.read_payload(original)
    stylesheet = Document(body, original.url).stylesheet_url
    assert stylesheet == f"{archived_twice.start_url.split('/103002/')[0]}/ui/templates/normal/view.xsl"
    status, headers, xsl = _get(stylesheet, proxy=wayback)
    assert status == 200 and b"<xsl:stylesheet" in xsl


def test_a_revisit_replays_with_the_original_payload(wayback, archived_twice):
    original, revisit = _article_captures(archived_twice)
    status, headers, body = _get(f"{wayback}/{COLLECTION}/{_timestamp(revisit)}id_/{revisit.url}")
    assert status == 200 and body == archive.read_payload(original)
    assert _memento_datetime(headers) == datetime.fromisoformat(revisit.date).replace(microsecond=0)  # the revisit's
