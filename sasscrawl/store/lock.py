"""One run at a time on a data folder: an exclusive ``flock`` on ``DATA_DIR/.lock``.

Taken before anything else is written (the folder is created if missing, and a symbolic
link among the names sasscrawl writes is refused first: see
:data:`sasscrawl.store.layout.LINKS_REFUSED`). The kernel drops the lock with the process,
so a killed crawl never leaves a stale one.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sasscrawl import files
from sasscrawl.store.errors import DataDirLocked, StoreError
from sasscrawl.store.layout import LINKS_REFUSED, LOCK_FILE


class DataDirLock:
    """This process's exclusive hold on ``data_dir``, until :meth:`release`."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            files.refuse_links(data_dir, LINKS_REFUSED)
            # Not through a link planted since: it would make the crawl create a file elsewhere.
            lock = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
            self._file = os.fdopen(lock, "r+")
        except OSError as error:
            raise StoreError(f"cannot use DATA_DIR {data_dir}: {error.strerror or error}") from error
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise DataDirLocked(
                f"another crawl is using DATA_DIR {data_dir} (it holds {data_dir / LOCK_FILE}); "
                "wait for it to finish or use another DATA_DIR"
            ) from None

    def release(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
