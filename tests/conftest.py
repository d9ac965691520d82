"""Shared fixtures: replica sites served over real HTTP on 127.0.0.1, the fault suite's tally, the fuzz report."""

import pytest

from fault_tally import FaultTally
from sasscrawl_replica import ReplicaServer, build_site

pytest_plugins = ["store_fixtures"]  # records to save and stores that get closed, for tests/test_store_*.py

TALLY = pytest.StashKey[FaultTally]()
FUZZ_REPORT = pytest.StashKey[list[str]]()


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


@pytest.fixture
def clean_site():
    """A quirk-free replica: every article reachable, no faults."""
    return build_site(articles=25, seed=7, quirks=False)


@pytest.fixture(scope="session")
def fault_tally(request, tmp_path_factory):
    """The fault suite's figures for this session, printed and saved as JSON at its end."""
    return request.config.stash.setdefault(TALLY, FaultTally(tmp_path_factory.getbasetemp() / "fault-summary.json"))


@pytest.fixture(scope="session")
def fuzz_report(request):
    """Lines the fuzz tests (test_fuzz.py) leave for the end of the session: inputs tried, the slowest."""
    return request.config.stash.setdefault(FUZZ_REPORT, [])


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
