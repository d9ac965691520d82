"""The data folder's state, in parts with one job each; no Scrapy here.

- :mod:`.layout`: the names of what sasscrawl keeps in ``DATA_DIR``.
- :mod:`.lock`: one process at a time on a data folder; links refused before anything is written.
- :mod:`.state`: ``state.sqlite3``, its tables, transactions and counters.
- :mod:`.repair`: a kill's leftovers cleared; a missing or damaged state file rebuilt from ``articles.jsonl``.
- :mod:`.journal`: the saved articles, one row each, their latest version; the versions they superseded.
- :mod:`.frontier`: the URLs a run decided to fetch and has not finished, chronic back-off, articles gone.
- :mod:`.images`: the image index, what is mirrored by image key.
- :mod:`.export`: ``articles.jsonl`` and ``versions.jsonl``, the journal's snapshots, replaced whole.
- :mod:`.folder`: :class:`ArticleStore`, which opens them in that order and does what spans them.

A crawl reaches the store through :class:`sasscrawl.extensions.data_folder.RunDataFolder`.
"""

from sasscrawl.store.errors import DataDirLocked, StoreError
from sasscrawl.store.folder import ArticleStore, RunChanges
from sasscrawl.store.frontier import CHRONIC_AFTER_FAILURES, DAY_SECONDS, FrontierEntry
from sasscrawl.store.images import MIRRORED
from sasscrawl.store.journal import LAST_NEW_ARTICLE, newest_date_published, serialise
from sasscrawl.store.layout import ARTICLES_FILE, LOCK_FILE, RUNS_FOLDER, STATE_FILE, VERSIONS_FILE

__all__ = ["ARTICLES_FILE", "CHRONIC_AFTER_FAILURES", "DAY_SECONDS", "LAST_NEW_ARTICLE", "LOCK_FILE", "MIRRORED",
           "RUNS_FOLDER", "STATE_FILE", "VERSIONS_FILE", "ArticleStore", "DataDirLocked", "FrontierEntry", "RunChanges",
           "StoreError",
           "newest_date_published", "serialise"]
