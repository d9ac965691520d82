"""Plain-text values as the site writes them: whitespace, dates, bylines, counts."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

SITE_TZ = timezone(timedelta(hours=8))
"""The site publishes Beijing time without an offset."""

_SITE_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2})")
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d")

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
"""What no text in a record holds: C0 controls but tab, line feed and carriage return; DEL; C1 controls;
the non-characters U+FFFE and U+FFFF."""
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:[,;&]|\band\b)\s*", re.IGNORECASE)


def normalise_text(text: str | None) -> str:
    """Collapse whitespace (``&nbsp;`` included) and drop control characters."""
    if not text:
        return ""
    return squash(CONTROL_CHARS.sub("", text))


def squash(text: str) -> str:
    """Runs of white space (``&nbsp;`` included) as one space, trimmed: for text already free of control characters."""
    return " ".join(text.split())


def parse_site_date(raw: str) -> str | None:
    """``2026-01-30 12:00`` → ``2026-01-30T12:00:00+08:00``; None when unparseable."""
    if match := _SITE_DATE.fullmatch(raw):  # the site's own format, without strptime's cost
        try:
            return datetime(*map(int, match.groups()), tzinfo=SITE_TZ).isoformat()
        except ValueError:
            return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=SITE_TZ).isoformat()
        except ValueError:
            continue
    return None


def split_authors(raw: str) -> list[dict]:
    """The h5 byline as ``[{name, nameRaw}]``; ALL-CAPS names are title-cased."""
    authors = []
    for piece in _AUTHOR_SEPARATORS.split(normalise_text(raw)):  # single spaces: the separators' \s* stay linear
        name_raw = normalise_text(piece)
        if name_raw:
            authors.append({"name": name_raw.title() if name_raw.isupper() else name_raw, "nameRaw": name_raw})
    return authors


def content_hash(headline: str, body: str) -> str:
    """What decides whether an article changed: its text, nothing volatile."""
    return hashlib.sha256(f"{normalise_text(headline)}\n{body}".encode("utf-8")).hexdigest()


def int_or_none(text: str) -> int | None:
    """A count or id as the page writes it (``1,234``); None for anything else, 19 digits and more included."""
    text = text.replace(",", "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def shown(value: str, limit: int = 100) -> str:
    """A page's value for a log line: quoted, and cut short if long."""
    return repr(value[:limit] + "…" if len(value) > limit else value)
