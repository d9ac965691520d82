"""Whole files or nothing: a reader (or a kill) never sees one half-written."""

from __future__ import annotations

import os
from pathlib import Path


def replace_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` (``.<name>.tmp``), then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
