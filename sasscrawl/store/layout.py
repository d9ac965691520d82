"""The names sasscrawl gives to what it keeps in ``DATA_DIR``: one place for the data folder's layout.

The image mirror's folder is named in :mod:`sasscrawl.mirror` and the snapshots' in
:mod:`sasscrawl.snapshots`, beside the code that names the files in them.
"""

from __future__ import annotations

from sasscrawl.mirror import MIRROR_FOLDER
from sasscrawl.snapshots import SNAPSHOT_FOLDER

ARTICLES_FILE = "articles.jsonl"
STATE_FILE = "state.sqlite3"
STATE_SUFFIXES = ("", "-wal", "-shm")
"""The state file and the companions SQLite keeps beside it in WAL mode."""
REBUILD_FILE = f"{STATE_FILE}.rebuild"
LOCK_FILE = ".lock"
RUNS_FOLDER = "runs"
WARC_FOLDER = "warc"
INDEX_FILE = "index.cdxj"
"""The CDXJ index beside the WARC files."""
VERSIONS_FILE = "versions.jsonl"
"""Superseded versions of refreshed articles, one line each: what articles.jsonl no longer holds."""
EXPORTS_FOLDER = "exports"
"""Where ``scrapy export`` (and the ``EXPORTS`` setting) writes Parquet, SQLite and CSV by default."""
SITE_FOLDER = "site"
"""Where ``scrapy render`` (and ``RENDER_SITE``) writes the offline HTML mirror by default."""
DATASET_CARD = "README.md"
"""The Hugging Face dataset card written at DATA_DIR's top."""
LINKS_REFUSED = (MIRROR_FOLDER, RUNS_FOLDER, WARC_FOLDER, SNAPSHOT_FOLDER, SITE_FOLDER, LOCK_FILE,
                 *(STATE_FILE + suffix for suffix in STATE_SUFFIXES))
"""What a run refuses to start with as a symbolic link: what it wrote there would land outside DATA_DIR."""
OWN_FOLDERS = (None, RUNS_FOLDER, WARC_FOLDER, SNAPSHOT_FOLDER, EXPORTS_FOLDER)
"""DATA_DIR and the folders where sasscrawl names every file: a kill's leftover temporary files are cleared there."""
