"""Where a mirrored image goes on disk, and what is known about its bytes. No Scrapy here.

The mirror keeps the site's layout: ``images/<host>[:port]/<url path>``. A URL is
chosen by a web server, so every path segment is decoded once and re-encoded
with a small safe alphabet: ``/`` inside a segment, ``..``, ``.``, NUL and other
odd bytes cannot act on the file system, and distinct URLs give distinct paths
(the encoding is injective; ``@`` marks the query, ``~`` a hashed overlong name
or path). Escapes of reserved characters are not decoded but kept, as ``%25XX``:
RFC 3986 makes ``a%3Bb`` and ``a;b`` different resources, so they get different
files, while ``%41`` and ``A`` (unreserved) are one resource and share one.
Names stay under 255 bytes and whole paths under 4096, the limits of
Linux file systems. One clash is left to the disk: ``/a`` as a file and
``/a/b.jpg`` need ``a`` to be both; the second image then fails with its error.
"""

from __future__ import annotations

import hashlib
import io
import re
from urllib.parse import quote, unquote_to_bytes, urlsplit

from PIL import Image, UnidentifiedImageError

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


def mirror_path(url: str) -> str:
    """``http://en.sass.cn/upload/a/b.jpg`` → ``images/en.sass.cn/upload/a/b.jpg`` (POSIX, relative to DATA_DIR)."""
    parts = urlsplit(url)
    host = _segment((parts.hostname or "").rstrip(".")) + (f":{parts.port}" if parts.port else "")
    names = [_segment(segment) for segment in parts.path.split("/")[1:] or [""]]
    if parts.query:
        # The query is escaped as it stands, not decoded: a=1&b=2 and a=1%26b=2 are different resources.
        names[-1] = f"{names[-1]}@{_encode(parts.query)}"
    names = [_bounded(name) for name in names]
    path = "/".join([MIRROR_FOLDER, _bounded(host), *names])
    if len(path) > MAX_PATH_BYTES:
        path = "/".join([MIRROR_FOLDER, _bounded(host), "~" + hashlib.sha256(path.encode("ascii")).hexdigest()])
    return path


def describe_image(body: bytes, content_type: str | None) -> dict:
    """Checksum, size, type and pixel size of served bytes; the header is read, nothing is re-encoded."""
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
