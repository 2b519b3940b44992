"""HTTP plumbing: a threaded HTTP/1.1 server on 127.0.0.1, and an in-process httpx transport.

Both turn what they receive into an ``App`` ``Request`` and send back its ``Answer``; a dropped
answer closes the connection (server) or raises ``httpx.RemoteProtocolError`` (transport), which
is what a client sees when a connection dies mid-request.
"""

# pyright: standard

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from ._app import Answer, App, Request

__all__ = ["SandboxServer", "SandboxTransport"]

logger = logging.getLogger("tiktokshop.sandbox")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small answers go out at once, not after a delayed ACK
    server: SandboxServer  # pyright: ignore[reportIncompatibleVariableOverride]  # what it is here

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        headers = {key.lower(): value for key, value in self.headers.items()}
        answer = self.server.app.handle(Request(self.command, self.path, headers, body))
        if answer.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status)
        names = set()
        for name, value in answer.headers:
            names.add(name.lower())
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("content-length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds the query (sign, app_secret, codes): log the method and path only.
        logger.debug("%s %s", self.command, (self.path or "").split("?")[0])

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, (self.path or "").split("?")[0], code)


class SandboxServer(ThreadingHTTPServer):
    """The HTTP face of an ``App``, on 127.0.0.1; ``port=0`` picks a free port."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024  # many clients connecting at once are queued, not dropped (no SYN retries)

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up is routine for a test server: note it quietly, never print a traceback."""
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def start(self) -> None:
        """Serve from a background thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close every open connection (kept-alive ones included)."""
        self.shutdown()
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class SandboxTransport(httpx.BaseTransport):
    """An httpx transport that hands requests straight to the sandbox's handler: no sockets, same answers."""

    def __init__(self, app: App) -> None:
        self._app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` in-process. Raises ``httpx.RemoteProtocolError`` for a dropped connection."""
        body = request.read()
        headers = {key.lower(): value for key, value in request.headers.items()}
        answer: Answer = self._app.handle(
            Request(request.method, request.url.raw_path.decode("ascii"), headers, body)
        )
        if answer.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)
