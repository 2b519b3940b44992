"""A deliberately hostile HTTP server on 127.0.0.1, for the transport tests.

Every request gets the answer of the server's current ``mode``: a redirect to another server, an
answer of 200 MB, a gzip bomb, an endless chunked stream, headers or a body trickled one byte a
second, JSON nested 100,000 deep, a broken gzip body, undecodable bytes, or a proxy's error page
that quotes the request URL. It records what it received (and whether anyone reached ``/steal``).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Iterator
from functools import cache

MB = 1024 * 1024


@cache
def gzip_bomb() -> bytes:
    """One gzip member that inflates to 1 GiB of zeros (about 1 MB on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MB)
    parts = [compressor.compress(block) for _ in range(1024)]
    parts.append(compressor.flush())
    return b"".join(parts)


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"code":0,"message":"ok","request_id":"r","data":{"x":' + b"[" * depth + b"]" * depth + b"}}"


def envelope(data: object, code: int = 0) -> bytes:
    return json.dumps({"code": code, "message": "m", "request_id": "req-h", "data": data}).encode()


class HostileServer:
    """``with HostileServer() as server: server.mode = "big"``; ``server.url`` is its base URL."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.received: list[bytes] = []
        self.stolen: list[bytes] = []
        self.trickled = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):
                    outer._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- one exchange ------------------------------------------------------------------------------

    def _read_request(self, sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head

    def _handle(self, sock: socket.socket) -> None:
        head = self._read_request(sock)
        if not head:
            return
        target = head.split(b"\r\n")[0].split(b" ")[1]
        if target.startswith(b"/steal"):
            self.stolen.append(head)
            sock.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            return
        self.received.append(head)
        getattr(self, "_mode_" + self.mode)(sock, target)

    @staticmethod
    def _send(sock: socket.socket, status: str, body: bytes, *headers: str) -> None:
        lines = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", "connection: close", *headers]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _mode_ok(self, sock: socket.socket, target: bytes) -> None:
        self._send(
            sock, "200 OK", envelope({"orders": [], "next_page_token": ""}), "content-type: application/json"
        )

    def _mode_redirect(self, sock: socket.socket, target: bytes) -> None:
        self._send(sock, "302 Found", b"", f"location: {self.url}/steal{target.decode()}")

    def _mode_redirect307(self, sock: socket.socket, target: bytes) -> None:
        self._send(sock, "307 Temporary Redirect", b"", f"location: {self.url}/steal{target.decode()}")

    def _mode_big(self, sock: socket.socket, target: bytes) -> None:
        total = 200 * MB
        sock.sendall(
            f"HTTP/1.1 200 OK\r\ncontent-length: {total}\r\ncontent-type: application/json\r\n\r\n".encode()
        )
        block = b" " * MB
        for _ in range(200):
            sock.sendall(block)

    def _mode_bomb(self, sock: socket.socket, target: bytes) -> None:
        self._send(sock, "200 OK", gzip_bomb(), "content-encoding: gzip", "content-type: application/json")

    def _mode_endless(self, sock: socket.socket, target: bytes) -> None:
        sock.sendall(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n"
        )
        chunk = b"%x\r\n" % (64 * 1024) + b" " * (64 * 1024) + b"\r\n"
        for _ in range(100_000):  # 6 GB: "endless" for any test
            sock.sendall(chunk)

    def _trickle(self, sock: socket.socket, data: bytes) -> None:
        for byte in data:
            sock.sendall(bytes([byte]))
            self.trickled += 1
            time.sleep(1.0)

    def _mode_trickle_headers(self, sock: socket.socket, target: bytes) -> None:
        self._trickle(sock, b"HTTP/1.1 200 OK\r\nx-slow: " + b"a" * 60 + b"\r\n\r\n")

    def _mode_trickle_body(self, sock: socket.socket, target: bytes) -> None:
        body = envelope({"orders": []})
        sock.sendall(f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n\r\n".encode())
        self._trickle(sock, body)

    def _answer_then(self, sock: socket.socket, then: str) -> None:
        """Answer the first request and keep the connection open; trickle on the next one."""
        body = envelope({"orders": [], "next_page_token": ""})
        head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\ncontent-type: application/json\r\n\r\n"
        sock.sendall(head.encode() + body)
        if self._read_request(sock):
            getattr(self, "_mode_" + then)(sock, b"")

    def _mode_reused_trickle_headers(self, sock: socket.socket, target: bytes) -> None:
        self._answer_then(sock, "trickle_headers")

    def _mode_reused_trickle_body(self, sock: socket.socket, target: bytes) -> None:
        self._answer_then(sock, "trickle_body")

    def _mode_deep(self, sock: socket.socket, target: bytes) -> None:
        self._send(sock, "200 OK", deep_json(), "content-type: application/json")

    def _mode_bad_gzip(self, sock: socket.socket, target: bytes) -> None:
        self._send(sock, "200 OK", b"\x1f\x8b\x08\x00garbage" + os.urandom(64), "content-encoding: gzip")

    def _mode_truncated_gzip(self, sock: socket.socket, target: bytes) -> None:
        whole = gzip.compress(envelope({"orders": []}))
        self._send(sock, "200 OK", whole[: len(whole) // 2], "content-encoding: gzip")

    def _mode_undecodable(self, sock: socket.socket, target: bytes) -> None:
        self._send(sock, "200 OK", b"\xff\xfe\xfa" + bytes(range(128, 256)), "content-type: application/json")

    def _mode_brotli(self, sock: socket.socket, target: bytes) -> None:
        self._send(sock, "200 OK", b"\x0b\x02\x80{}\x03", "content-encoding: br")

    def _mode_proxy_page(self, sock: socket.socket, target: bytes) -> None:
        page = (
            b"<html><body>502 Bad Gateway while fetching http://upstream"
            + target
            + b" ("
            + target
            + b")</body></html>"
        )
        self._send(sock, "200 OK", page, "content-type: text/html")

    def _mode_status500(self, sock: socket.socket, target: bytes) -> None:
        self._send(
            sock, "500 Internal Server Error", b"<html>" + target + b"</html>", "content-type: text/html"
        )


class RssMeter:
    """The growth of this process's resident memory while the block runs (sampled every 5 ms)."""

    def __init__(self) -> None:
        self.peak_growth = 0
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    @contextlib.contextmanager
    def measure(self) -> Iterator[RssMeter]:
        base = self.rss()
        peak = base

        def sample() -> None:
            nonlocal peak
            while not self._stop.is_set():
                peak = max(peak, self.rss())
                time.sleep(0.005)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()
            peak = max(peak, self.rss())
            self.peak_growth = peak - base
