"""File names of the offline mirror: one per URL, portable, and no two URLs share one.

A page's file is ``<scheme>/<authority>/<path segments>.html`` below the site folder
(``http/en.sass.cn/103002/5554.aspx.html``), a file copied from the archive (the
stylesheet's CSS and images) the same under ``assets/`` without the ``.html``. The URL is
taken in its normal form (:func:`sasscrawl.section.normal_url`), so every spelling of one
URL gives one file. Each segment keeps ASCII letters, digits and ``-_.=``; every other
byte of its UTF-8 is written ``~XX`` (upper-case hex), ``~`` itself included. So a name
holds no ``:``, ``?``, ``%``, ``@``, ``\\`` or anything Windows, macOS or Linux refuses,
and needs no escaping in a link. Why no two URLs share a file:

- the escapes decode one way: ``~`` is always an escape, and an escape is ``~`` and two hex digits;
- the query, escaped with ``.`` escaped too, follows ``@`` (otherwise always escaped) at the end
  of the last name, before its extension: ``default.aspx?page=2`` → ``default@page=2.aspx.html``
  reads back as one name and one query;
- a folder whose name ends in ``.html`` gets that ``.`` escaped, so no folder is named like a page;
  pages and assets live in different trees (``http``/``https`` against ``assets``), and
  ``index.html`` and the manifest sit at the top, where every other name is a scheme;
- ``.``, ``..``, a name ending in ``.`` and Windows' device names (``CON``, ``NUL.txt``, ...) get
  their first or last character escaped; an empty segment (``a//b``) is ``~``, which no escape gives;
- a name over ``MAX_NAME_BYTES`` keeps a prefix and ends in ``~~`` and 32 hex digits of its SHA-256
  (``~~`` appears nowhere else): only a collision of 128-bit hash prefixes could make two names one.

What is left to the reader's disk: a case-insensitive file system (Windows, macOS) takes
``A.aspx`` and ``a.aspx`` for one file, and a path over 260 characters needs Windows' long paths.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from sasscrawl.section import normal_url

ASSETS_FOLDER = "assets"
SCHEMES = ("http", "https")
"""The top folders of the pages' files: one per scheme."""
PAGE_SUFFIX = ".html"
MAX_NAME_BYTES = 150
_KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=")
_DEVICE = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)


def _escape(text: str, keep: frozenset[int] = _KEPT) -> str:
    return "".join(chr(byte) if byte in keep else f"~{byte:02X}" for byte in text.encode("utf-8"))


def _segment(raw: str, folder: bool) -> str:
    if not raw:
        return "~"
    name = _escape(raw)
    if _DEVICE.fullmatch(name) or name in (".", ".."):
        name = f"~{ord(name[0]):02X}{name[1:]}"
    if name.endswith("."):
        name = name[:-1] + "~2E"
    if folder and name.endswith(PAGE_SUFFIX):
        name = name[: -len(PAGE_SUFFIX)] + "~2E" + PAGE_SUFFIX[1:]
    return name


def _bounded(name: str) -> str:
    if len(name) <= MAX_NAME_BYTES:
        return name
    return f"{name[:MAX_NAME_BYTES - 34]}~~{hashlib.sha256(name.encode('ascii')).hexdigest()[:32]}"


def _file(url: str, suffix: str) -> list[str]:
    parts = urlsplit(normal_url(url))
    if parts.scheme not in SCHEMES or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    *folders, last = parts.path.split("/")[1:] or [""]
    stem, dot, extension = last.rpartition(".")
    if not (stem and extension):  # no extension: "a", ".profile", "a.", ""
        stem, extension = last, ""
    name = _segment(stem, folder=False)
    if parts.query:
        name += "@" + _escape(parts.query, _KEPT - {ord(".")})
    if extension:
        name += "." + _segment(extension, folder=False)
    return [parts.scheme, _bounded(_segment(parts.netloc, folder=True)),
            *(_bounded(_segment(folder, folder=True)) for folder in folders), _bounded(name + suffix)]


def page_file(url: str) -> str:
    """``http://en.sass.cn/103002/default.aspx?page=2`` → ``http/en.sass.cn/103002/default@page=2.aspx.html``."""
    return "/".join(_file(url, PAGE_SUFFIX))


def asset_file(url: str) -> str:
    """``http://en.sass.cn/ui/css/site.css`` → ``assets/http/en.sass.cn/ui/css/site.css``."""
    return "/".join([ASSETS_FOLDER, *_file(url, "")])
