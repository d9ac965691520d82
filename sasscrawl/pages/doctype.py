"""DOCTYPEs cut out of a page before it is parsed, by a scan that looks at each character once.

libxml2 never resolves an entity here, but it still reads an internal subset, and its guard
against entity amplification then ends the parse at a bomb's first reference: the page would
lose everything after it. So DOCTYPEs go before parsing, found by a forward scan (a regular
expression with nested repetition backtracked exponentially on a real attack page).
"""

from __future__ import annotations

import re


def _scan_tokens(kind: type) -> dict:
    def token(text: str):
        return text.encode() if kind is bytes else text

    return {
        "doctype": re.compile(token("<!doctype"), re.IGNORECASE),  # a fixed-length literal: linear
        "declaration_stop": re.compile(token(r"""[\[>"']""")),
        "subset_stop": re.compile(token(r"""[\]"'<]""")),
        "comment": token("<!--"), "comment_end": token("-->"), "pi": token("<?"), "pi_end": token("?>"),
        "quotes": (token('"'), token("'")), "open": token("["), "close": token("]"), "end": token(">"),
    }


_SCAN_TOKENS = {bytes: _scan_tokens(bytes), str: _scan_tokens(str)}


def without_doctypes(data: bytes | str) -> tuple[bytes | str, bool]:
    """``data`` without its DOCTYPE declarations, internal subsets included, and whether it had any.

    Quoted strings, comments and processing instructions inside a declaration are skipped whole,
    so a ``]`` or ``>`` inside them does not end it. A DOCTYPE that never ends is left alone, and
    the scan stops there: whatever follows it was scanned already, and the parser's own options
    still keep its entities unresolved. A byte-level scan cannot see a UTF-16 DOCTYPE; the repair
    path scans the decoded text again.
    """
    tokens = _SCAN_TOKENS[type(data)]
    pieces, position, found = [], 0, False
    while (start := tokens["doctype"].search(data, position)) is not None:
        end = _doctype_end(data, start.end(), tokens)
        if end is None:
            break
        pieces.append(data[position:start.start()])
        position, found = end, True
    if not found:
        return data, False
    pieces.append(data[position:])
    return data[:0].join(pieces), True


def _doctype_end(data: bytes | str, position: int, tokens: dict) -> int | None:
    """Where the DOCTYPE whose keyword ends at ``position`` ends, just after its ``>``; None if it never does."""
    in_subset = False
    while True:
        stop = tokens["subset_stop" if in_subset else "declaration_stop"].search(data, position)
        if stop is None:
            return None
        found = data[stop.start():stop.end()]
        position = stop.end()
        if found in tokens["quotes"]:
            position = data.find(found, position)
            if position < 0:
                return None
            position += 1
        elif found == tokens["open"]:
            in_subset = True
        elif found == tokens["close"]:
            in_subset = False
        elif found == tokens["end"]:
            return position
        elif data.startswith(tokens["comment"], stop.start()) or data.startswith(tokens["pi"], stop.start()):
            closing = tokens["comment_end" if data.startswith(tokens["comment"], stop.start()) else "pi_end"]
            position = data.find(closing, position)
            if position < 0:
                return None
            position += len(closing)
