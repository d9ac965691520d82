"""sasscrawl.version: an installed distribution's version, "unknown" for one that is not installed."""

from __future__ import annotations

from importlib.metadata import version

from sasscrawl.version import installed_version


def test_an_installed_distribution_gives_its_version():
    assert installed_version("scrapy") == version("scrapy")


def test_a_distribution_not_installed_is_unknown():
    assert installed_version("sasscrawl-no-such-distribution") == "unknown"
