"""Which text a page's bytes are: byte order mark, then the XML declaration, then UTF-8.

Only the repair path decodes here (see :mod:`sasscrawl.pages.repair`): a well-formed page is
handed to lxml as bytes, and lxml reads its declaration itself.
"""

from __future__ import annotations

import codecs
import re

DECLARATION_MAX = 1024
"""An XML declaration is looked for, and its encoding read, in this many leading bytes only."""
_ENCODING_PSEUDO_ATTRIBUTE = re.compile(rb"""\sencoding\s*=\s*["']([A-Za-z0-9._-]{1,64})["']""")
_NOT_DOCUMENT_ENCODINGS = frozenset(("idna", "punycode"))
"""Text codecs for host names, not documents: their decoders refuse errors="replace", punycode's is quadratic."""
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
"""UTF-32 before UTF-16: the UTF-32-LE mark begins with the UTF-16-LE one."""


def declared_encoding(body: bytes) -> str | None:
    """The encoding named by the XML declaration at the start of ``body``, as written; None without one."""
    head = body[:DECLARATION_MAX].lstrip()
    if not head.startswith(b"<?xml") or head[5:6] not in (b" ", b"\t", b"\r", b"\n"):
        return None
    end = head.find(b"?>")
    named = _ENCODING_PSEUDO_ATTRIBUTE.search(head, 0, end if end >= 0 else len(head))
    return named[1].decode("ascii") if named else None


def decode(body: bytes) -> tuple[str, bool]:
    """The page's text, and whether the encoding it declares was refused.

    A byte order mark decides first (as XML says). Then the declared encoding, if Python knows it
    as a text encoding for documents and it decodes the page: ``hex``, ``base64``, ``zlib``,
    ``rot13``, ``idna``, ``punycode`` and the like are refused, and the page is read as UTF-8.
    Bytes that do not decode become U+FFFD.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace"), False
    declared = declared_encoding(body)
    if declared is None:
        return body.decode("utf-8", errors="replace"), False
    try:
        codec = codecs.lookup(declared)
        if codec._is_text_encoding and codec.name not in _NOT_DOCUMENT_ENCODINGS:
            return body.decode(codec.name, errors="replace"), False
    except (LookupError, ValueError):  # unknown, or a codec that fails on these bytes (UnicodeError)
        pass
    return body.decode("utf-8", errors="replace"), True


def without_declaration(text: str) -> str:
    """``text`` without a leading XML declaration: lxml refuses text that declares an encoding."""
    head = text[:DECLARATION_MAX]
    start = len(head) - len(head.lstrip())
    if not text.startswith("<?xml", start) or text[start + 5:start + 6] not in (" ", "\t", "\r", "\n"):
        return text
    end = text.find("?>", start, start + DECLARATION_MAX)
    return text if end < 0 else text[end + 2:]
