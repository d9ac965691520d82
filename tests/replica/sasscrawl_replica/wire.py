"""What the replica server sends for one request, and how its bytes go on the wire.

Most answers are plain: a status, headers and a body sent whole with its Content-Length. The
fault mode (``faults``) also needs what real networks do to answers: a connection reset half-way
through the body, a body shorter than its Content-Length, a slow trickle, an oversized body
streamed with chunked transfer coding. ``Wire`` says which; ``server`` carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus

XML_CONTENT_TYPE = "text/xml; charset=utf-8"

@dataclass(frozen=True)
class Wire:
    """How to send a response when not plainly; the defaults send it plainly.

    ``cut_after``: send only this many body bytes, then hang up (Content-Length still promises all).
    ``reset``: hang up with a TCP reset (SO_LINGER 0) instead of a FIN.
    ``trickle``: (bytes, seconds): send the body that many bytes at a time, pausing between.
    ``chunked``: chunked transfer coding instead of a Content-Length.
    ``filler``: after the body, stream this many spaces (an oversized page not held in memory).
    """

    cut_after: int | None = None
    reset: bool = False
    trickle: tuple[int, float] | None = None
    chunked: bool = False
    filler: int = 0


PLAIN = Wire()


@dataclass(frozen=True)
class Response:
    """What the server sends. ``delay``: seconds to stall before sending (a stalled page)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay: float = 0.0
    wire: Wire = field(default=PLAIN)


def xml_response(text: str, *, content_type: str = XML_CONTENT_TYPE, delay: float = 0.0,
                 wire: Wire = PLAIN) -> Response:
    return Response(200, [("Content-Type", content_type)], text.encode(), delay=delay, wire=wire)


def text_response(text: str) -> Response:
    return Response(200, [("Content-Type", "text/plain; charset=utf-8")], text.encode())


def status_page(status: int, headers: list[tuple[str, str]] | None = None) -> Response:
    reason = HTTPStatus(status).phrase
    body = f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
    return Response(status, [("Content-Type", "text/html; charset=utf-8"), *(headers or [])], body.encode())


def redirect(status: int, location: str) -> Response:
    return status_page(status, [("Location", location)])
