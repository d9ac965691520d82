"""Damaged page bytes made into text lxml's recovering parser reads as much of as it can."""

from __future__ import annotations

import re

from sasscrawl.pages.doctype import without_doctypes
from sasscrawl.pages.encoding import decode, without_declaration
from sasscrawl.pages.text import CONTROL_CHARS

_BARE_AMPERSAND = re.compile(r"&(?!(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9._-]*);)")
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")


def is_truncated(body: bytes) -> bool:
    """Cut off before its end: the page does not end with ``</html>``."""
    return not body[-64:].rstrip().endswith(b"</html>")


def repair(body: bytes) -> tuple[str, bool]:
    """Turn damaged page bytes into text that lxml can recover as much as possible from.

    Also says whether the declared encoding was refused (see :func:`sasscrawl.pages.encoding.decode`).
    A page cut off inside its CDATA body keeps what arrived of the body.
    """
    text, encoding_refused = decode(body)
    text = without_declaration(text)
    text = without_doctypes(text)[0]  # one the byte-level scan could not see, in UTF-16 say
    text = CONTROL_CHARS.sub("", text)
    head, cdata_open, cdata = text.partition("<![CDATA[")
    if cdata_open:
        if "]]>" not in cdata:
            cdata += "]]>"  # cut off inside the body: keep what arrived
        body_html, close, rest = cdata.partition("]]>")
        text = _repair_markup(head) + cdata_open + body_html + close + _repair_markup(rest)
    else:
        text = _repair_markup(text)
    return text, encoding_refused


def _repair_markup(text: str) -> str:
    """Escape bare ``&``; a reference to a UTF-16 surrogate (``&#xD800;``) becomes U+FFFD.

    lxml's recovery turns a surrogate reference into bytes that are not UTF-8, and reading that
    text back raises: one such reference would cost the whole page.
    """
    def surrogate_to_replacement(match: re.Match) -> str:
        digits = match[1] or match[2]
        if len(digits.lstrip("0")) > 8:  # no character; and int() refuses 4,300 decimal digits
            return match[0]
        code = int(digits, 16 if match[1] else 10)
        return "\ufffd" if 0xD800 <= code <= 0xDFFF else match[0]

    return _BARE_AMPERSAND.sub("&amp;", _CHARACTER_REFERENCE.sub(surrogate_to_replacement, text))
