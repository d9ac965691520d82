"""Where a mirrored image goes on disk, and what is known about its bytes. No Scrapy here.

The mirror keeps the site's layout: ``images/<host>[:port]/<url path>``. A URL is
chosen by a web server, so every path segment is decoded once and re-encoded
with a small safe alphabet: ``/`` inside a segment, ``..``, ``.``, NUL and other
odd bytes cannot act on the file system, and distinct URLs give distinct paths
(the encoding is injective; ``@`` marks the query, ``~`` a hashed overlong name).
"""

from __future__ import annotations

import hashlib
import io
from urllib.parse import quote, unquote_to_bytes, urlsplit

from PIL import Image, UnidentifiedImageError

MIRROR_FOLDER = "images"
MAX_SEGMENT_BYTES = 150
_SAFE = "-._!$&'()+,;="  # besides ASCII letters and digits; never '%', '@', '~', '/'


def _segment(raw: str) -> str:
    encoded = quote(unquote_to_bytes(raw), safe=_SAFE)
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    if len(encoded) > MAX_SEGMENT_BYTES:
        digest = hashlib.sha256(encoded.encode("ascii")).hexdigest()[:32]
        encoded = f"{encoded[:MAX_SEGMENT_BYTES - 40]}~{digest}"
    return encoded or "%"  # an empty segment (a//b) must stay distinct from none


def mirror_path(url: str) -> str:
    """``http://en.sass.cn/upload/a/b.jpg`` → ``images/en.sass.cn/upload/a/b.jpg`` (POSIX, relative to DATA_DIR)."""
    parts = urlsplit(url)
    host = _segment((parts.hostname or "").rstrip(".")) + (f":{parts.port}" if parts.port else "")
    segments = parts.path.split("/")[1:] or [""]
    names = [_segment(segment) for segment in segments]
    if parts.query:
        names[-1] = f"{names[-1]}@{quote(unquote_to_bytes(parts.query), safe=_SAFE)}"
    return "/".join([MIRROR_FOLDER, host, *names])


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
