"""Project commands (``COMMANDS_MODULE``)."""

from pathlib import Path

from scrapy.exceptions import UsageError


def require_warc_files(warc_dir: Path) -> None:
    """The commands that read the archive stop with a usage error when ``warc_dir`` holds no WARC file."""
    if not any(warc_dir.glob("*.warc.gz")):
        raise UsageError(f"no WARC files in {warc_dir}: crawl with -a archive=warc first", print_help=False)
