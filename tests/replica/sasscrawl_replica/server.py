"""Serve a ``ReplicaSite`` over real HTTP on a local port, logging every request.

Tests crawl the replica through real sockets, then read ``server.requests`` to prove what the
crawler did and did not fetch (which hosts, which paths, which User-Agent). A response's ``Wire``
(see ``wire``) makes the server misbehave the way networks do: reset mid-body, short body,
trickle, chunked oversized stream.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .site import ReplicaSite
from .wire import Wire

POLL_INTERVAL_SECONDS = 0.05
FILLER_CHUNK = 64 * 1024


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    host: str
    user_agent: str
    time: float


class ReplicaServer:
    """A threaded HTTP/1.1 server for ``site`` in a daemon thread.

    ``with ReplicaServer(site) as server: ...`` or ``start()``/``stop()``. ``port=0`` picks a
    free port. Stalled responses, trickles and streamed bodies wait on or check an event that
``stop()`` sets, so stopping never hangs.
    """

    def __init__(self, site: ReplicaSite, host: str = "127.0.0.1", port: int = 0):
        self.site = site
        self.host = host
        self.port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._log_changed = threading.Condition()
        self._requests: list[RequestRecord] = []

    def start(self) -> ReplicaServer:
        if self._httpd:
            raise RuntimeError("server already started")
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(POLL_INTERVAL_SECONDS,),
                                        name=f"replica-server:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._httpd:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    @property
    def start_url(self) -> str:
        return self.url(self.site.start_path)

    # Request log ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request received so far, in arrival order."""
        with self._log_changed:
            return list(self._requests)

    def paths(self) -> list[str]:
        """Requested paths (with query), in arrival order."""
        return [record.path for record in self.requests]

    def clear_log(self) -> None:
        with self._log_changed:
            self._requests.clear()

    def wait_for(self, path: str, timeout: float) -> bool:
        """Block until ``path`` has been requested (True) or ``timeout`` passes (False)."""
        with self._log_changed:
            return self._log_changed.wait_for(lambda: any(r.path == path for r in self._requests), timeout)

    def wait_until(self, condition, timeout: float) -> bool:
        """Block until ``condition(requests so far)`` is true (True) or ``timeout`` passes (False)."""
        with self._log_changed:
            return self._log_changed.wait_for(lambda: condition(self._requests), timeout)

    def _record(self, record: RequestRecord) -> None:
        with self._log_changed:
            self._requests.append(record)
            self._log_changed.notify_all()


class _HTTPServer(ThreadingHTTPServer):
    request_queue_size = 128
    """The listen backlog. socketserver's default, 5, is below what a crawl opens at once (8 connections a host,
    more with images): the kernel then dropped connections, and the crawler's TCP retry cost it about 0.4 s a run
    that the real site (IIS) does not cost it."""
    def __init__(self, address: tuple[str, int], replica: ReplicaServer):
        self.replica = replica
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address):
        """A client that hangs up (a crawler timing out, a killed crawl) is normal here, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def version_string(self) -> str:
        """The Server header of the real site's stack (ASP.NET pages)."""
        return "Microsoft-IIS/10.0"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        replica = self.server.replica
        host_header = self.headers.get("Host", "")
        replica._record(RequestRecord(self.command, self.path, host_header,
                                      self.headers.get("User-Agent", ""), time.monotonic()))
        response = replica.site.response(self.command, self.path, host_header or f"{replica.host}:{replica.port}")
        if response.delay and replica._stopping.wait(response.delay):
            self.close_connection = True
            return
        wire = response.wire
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if wire.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(response.body) + wire.filler))
        self.end_headers()
        if not send_body:
            return
        try:
            self._send_body(response.body, wire, replica._stopping)
        except ConnectionError:  # the client gave up (a size limit, a timeout): normal here
            self.close_connection = True
            return
        if wire.cut_after is not None:
            self._hang_up(reset=wire.reset)

    def _send_body(self, body: bytes, wire: Wire, stopping: threading.Event) -> None:
        """Write the body as ``wire`` says; a stopping server ends a trickle or a stream at once."""
        if wire.cut_after is not None:
            body = body[:wire.cut_after]
        step, pause = wire.trickle or (len(body) or 1, 0.0)
        for start in range(0, len(body), step):
            self._write(body[start:start + step], wire.chunked)
            if pause and stopping.wait(pause):
                raise ConnectionAbortedError("server stopping")
        filler = b" " * FILLER_CHUNK
        for start in range(0, wire.filler, FILLER_CHUNK):
            if stopping.is_set():
                raise ConnectionAbortedError("server stopping")
            self._write(filler[:wire.filler - start], wire.chunked)
        if wire.chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _write(self, data: bytes, chunked: bool) -> None:
        if chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def _hang_up(self, reset: bool) -> None:
        """Close the connection now: with a FIN, or with a TCP reset (SO_LINGER 0) if ``reset``.

        The descriptor is detached and closed at once: the socket's file objects would otherwise
        keep it open, and the server's own shutdown would send a FIN before the reset.
        """
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(self.connection.detach())
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Silent: a crawl makes thousands of requests and the log lives in ``requests``."""
