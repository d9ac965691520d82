"""Versions of installed distributions, as sasscrawl reports them (the dataset card, the WARC files' warcinfo)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

UNKNOWN = "unknown"


def installed_version(distribution: str) -> str:
    """``distribution``'s installed version; "unknown" when it is not installed (sasscrawl run from a checkout)."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return UNKNOWN
