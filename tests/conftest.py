"""Shared fixtures: replica sites served over real HTTP on 127.0.0.1."""

import pytest

from sasscrawl.replica import ReplicaServer, build_site


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
