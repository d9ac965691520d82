"""Where a mirrored image goes on disk, and what is known about its bytes. No Scrapy here.

An image has one name, :func:`image_key`: its URL in the crawl's normal form
(:func:`sasscrawl.section.normal_url`: IDNA host, default port dropped, escapes of
unreserved characters decoded, dot segments removed, fragment dropped). The crawl
requests the key, the image index is keyed by it, the rerun and ``scrapy
reextract`` look images up by it, and :func:`mirror_path` is made from it, so
every spelling of one resource (``ⓛⓞⓒⓐⓛⓗⓞⓢⓣ`` or ``localhost``, ``a b`` or
``a%20b``) is one image, downloaded once, in one file.

The mirror keeps the site's layout: ``images/<authority>/<url path>``, the
authority being the host, with ``:port`` when the port is not the scheme's
default. http is the common case and has that layout exactly; https goes one
folder down, ``images/https/<authority>/...``. A URL is chosen by a web server,
so the host and every path segment are decoded once and re-encoded with a small
safe alphabet: ``/`` inside a segment, ``..``, ``.``, NUL and other odd bytes
cannot act on the file system. Escapes of reserved characters are not decoded
but kept, as ``%25XX``: RFC 3986 makes ``a%3Bb`` and ``a;b`` different
resources, so they get different files.

Distinct keys give distinct paths, that is: two URLs that can carry different
bytes (scheme, host, port, path, query) never share a file. Why:

- an encoded host or segment holds only ASCII letters, digits, ``-._!$&'()+,;=``
  and ``%XX`` escapes: never ``:``, ``/``, ``@`` or ``~``, and never ``%68``
  (``h`` needs no escape). So ``host:port`` reads back one way; the query,
  escaped too, is set off by ``@`` at the end of the last name;
- the first folder ``https`` marks the https scheme: an http host named
  ``https`` (default port) is written ``%68ttps``, which no other host gives;
- a name over ``MAX_NAME_BYTES`` keeps a prefix and gets ``~`` and a hash of
  the whole (no other name holds ``~``), and a path over ``MAX_PATH_BYTES``
  becomes ``~`` and a hash under its authority folder: names stay under the
  255-byte limit of Linux file systems and whole paths under 4096, and only a
  collision of SHA-256 prefixes (128 bits) could make two paths one;
- user info (``http://u@host/``) is no part of the path: such URLs are never
  fetched (the parser drops them).

One clash is left to the disk: ``/a`` as a file and ``/a/b.jpg`` need ``a`` to be
both; the second image then fails with its error.
"""

from __future__ import annotations

import hashlib
import io
import re
from urllib.parse import quote, unquote_to_bytes, urlsplit

from sasscrawl.section import normal_url

MIRROR_FOLDER = "images"
FAILED_IMAGE = {"path": None, "sha256": None, "size": None, "contentType": None, "width": None, "height": None,
                "status": "failed"}
"""An ``images`` entry's facts when the image could not be had (its ``error`` says why)."""
MAX_NAME_BYTES = 150
MAX_PATH_BYTES = 3000
_SAFE = "-._!$&'()+,;="  # besides ASCII letters and digits; never '%', '@', '~', '/'
_RESERVED = frozenset(b":/?#[]@!$&'()*+,;=%")  # RFC 3986 gen-delims and sub-delims, and '%' itself
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def _encode(raw: bytes | str) -> str:
    # quote() never escapes '~'; escaping it keeps '~' free to mark hashed names.
    return quote(raw, safe=_SAFE).replace("~", "%7E")


def _bounded(name: str) -> str:
    if len(name) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(name.encode("ascii")).hexdigest()[:32]
    return f"{name[:MAX_NAME_BYTES - 40]}~{digest}"


def _segment(raw: str) -> str:
    pieces, start = [], 0
    for escape in _ESCAPE.finditer(raw):
        if int(escape[1], 16) in _RESERVED:
            pieces += [_encode(unquote_to_bytes(raw[start:escape.start()])), "%25" + escape[1].upper()]
            start = escape.end()
    encoded = "".join(pieces) + _encode(unquote_to_bytes(raw[start:]))
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    return encoded or "%"  # an empty segment (a//b) must stay distinct from none


def image_key(url: str) -> str:
    """An image's one name, whatever spelling a page gave its URL (see the module docstring)."""
    return normal_url(url)


def mirror_path(url: str) -> str:
    """``http://en.sass.cn/upload/a/b.jpg`` → ``images/en.sass.cn/upload/a/b.jpg`` (POSIX, relative to DATA_DIR).

    Made from the URL's :func:`image_key`, so every spelling of one image gives its one path.
    """
    parts = urlsplit(image_key(url))
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    authority = _bounded(_segment(parts.hostname or "") + (f":{parts.port}" if parts.port else ""))
    if parts.scheme == "https":
        folders = [MIRROR_FOLDER, "https", authority]
    else:
        folders = [MIRROR_FOLDER, "%68ttps" if authority == "https" else authority]
    names = [_segment(segment) for segment in parts.path.split("/")[1:]]
    if parts.query:
        # The query is escaped as it stands, not decoded: a=1&b=2 and a=1%26b=2 are different resources.
        names[-1] = f"{names[-1]}@{_encode(parts.query)}"
    path = "/".join([*folders, *(_bounded(name) for name in names)])
    if len(path) > MAX_PATH_BYTES:
        path = "/".join([*folders, "~" + hashlib.sha256(path.encode("ascii")).hexdigest()])
    return path


def describe_image(body: bytes, content_type: str | None) -> dict:
    """Checksum, size, type and pixel size of served bytes; the header is read, nothing is re-encoded.

    Pillow is imported here, by the first image described: a run that mirrors no image never loads it.
    """
    from PIL import Image, UnidentifiedImageError

    width = height = None
    image_type = None
    try:
        with Image.open(io.BytesIO(body)) as image:
            width, height = image.size
            image_type = Image.MIME.get(image.format or "")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pass
    return {
        "sha256": hashlib.sha256(body).hexdigest(),
        "size": len(body),
        "contentType": (content_type or "").split(";")[0].strip().lower() or image_type,
        "width": width,
        "height": height,
    }
