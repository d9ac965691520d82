"""Network failures in one line with their cause, no traceback (extensions/quiet_tracebacks.py), from real crawls."""

from __future__ import annotations

import re
import socket
import struct
import threading
from urllib.parse import urlsplit

import pytest

from harness import run_crawl


class BadNetwork:
    """A TCP server on 127.0.0.1 that resets every connection once the request arrived, or never answers."""

    def __init__(self, reset: bool):
        self.reset = reset
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed: the test is over
                return
            if self.reset:
                connection.recv(65536)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
            else:
                self.held.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def bad_network():
    servers = []

    def start(reset: bool) -> BadNetwork:
        servers.append(BadNetwork(reset))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def assert_one_line_each(result, host: str, cause: str) -> None:
    """The run's start page failed for ``cause``: exit 1, no traceback, and three ERROR lines that each name it."""
    assert result.returncode == 1
    assert "Traceback (most recent call last)" not in result.log
    errors = [line for line in result.log.splitlines() if " ERROR: " in line and "[Spidermon]" not in line]
    assert [line.split(" ERROR: ")[1].split(" ")[0] for line in errors] == ["Could", "The", "Run"], errors
    assert f"robots.txt for <GET http://{host}/103002/default.aspx>, so crawling as if it allowed all: " in errors[0]
    assert all(cause in line for line in errors), errors
    assert re.search(r"Run problem: .*the start page could not be fetched: \w+Error: ", errors[2])


@pytest.mark.parametrize("failure, cause", [
    ("dns", "DNS lookup failed: no results for hostname lookup: sasscrawl-test.invalid"),
    ("reset", "Connection to the other side was lost in a non-clean fashion"),
    ("timeout", "took longer than 1.0 seconds"),
])
def test_network_failures_are_one_line_with_their_cause(tmp_path, bad_network, failure, cause):
    host = {"dns": lambda: "sasscrawl-test.invalid", "reset": lambda: f"127.0.0.1:{bad_network(reset=True).port}",
            "timeout": lambda: f"127.0.0.1:{bad_network(reset=False).port}"}[failure]()
    # One retry, not Scrapy's three: the line must still come once, after the retry gives up (4 s, not 8, for a timeout).
    result = run_crawl(f"http://{host}/103002/default.aspx", tmp_path, settings={"DOWNLOAD_TIMEOUT": "1",
                                                                              "RETRY_TIMES": "1"})
    assert_one_line_each(result, host, cause)


def test_a_refused_connection_is_one_line_with_its_cause(unreachable_start_crawl):
    """The session's run refused at its start page (conftest), DOWNLOAD_TIMEOUT 1 too."""
    assert_one_line_each(unreachable_start_crawl.result, urlsplit(unreachable_start_crawl.start_url).netloc,
                         "Connection was refused by other side")
