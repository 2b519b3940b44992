"""Sending one request and reading its answer so that no server can hold the caller or its memory.

- Redirects are never followed, whatever the ``httpx`` client says (a signed URL, the access
  token and, on token calls, the app secret must not travel to another host).
- The body is streamed and decompressed here (gzip or deflate) with a limit on the decompressed
  size: an answer too large, a compression bomb or an endless stream stops at the limit.
- A deadline bounds the whole exchange, headers and body, even when a server trickles bytes:
  the blocking client reads in the caller's thread while one watchdog thread per process shuts
  down the exchange's sockets when time runs out;
  the async client cancels the exchange.
- An ``httpx.HTTPStatusError`` raised by a pool's own event hook is not an outcome: the answer
  it carries is read like any other.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import os
import socket
import sys
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from types import FrameType
from typing import Any

import httpx

from ._errors import MalformedResponseError

__all__ = ["DeadlineExceeded", "asend", "send"]

#: What the client asks servers to compress with (the encodings read here).
ACCEPT_ENCODING = "gzip, deflate"
_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class DeadlineExceeded(httpx.TimeoutException):
    """The call's ``total_timeout`` ran out while this exchange was under way."""


class _Decoder:
    """Decompress ``Content-Encoding`` gzip or deflate into at most ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int, where: str, status: int) -> None:
        self.limit = limit
        self.where = where
        self.status = status
        self.size = 0
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        self.zlib: Any = None
        if len(codings) > 1:
            raise self._error(f"answers with several encodings ({encoding}) are not read")
        if codings:
            if codings[0] in ("gzip", "x-gzip"):
                self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif codings[0] == "deflate":
                self.zlib = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header, detected
            else:
                raise self._error(
                    f"the answer's Content-Encoding {codings[0]!r} is not one the client asked for"
                )

    def _error(self, problem: str) -> MalformedResponseError:
        return MalformedResponseError(
            f"{self.where}: {problem} (HTTP {self.status})", status_code=self.status
        )

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise self._error(
                f"the answer is larger than max_response_bytes ({self.limit} bytes, decompressed); "
                "reading stopped there"
            )
        return data

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if self.zlib is None:
            yield self._count(chunk)
            return
        data = chunk
        while data:
            try:
                out = self.zlib.decompress(data, self.limit - self.size + 1)
            except zlib.error:
                raise self._error("the answer's compressed body is broken") from None
            yield self._count(out)
            data = self.zlib.unconsumed_tail
            if self.zlib.eof:
                return

    def finish(self) -> Iterator[bytes]:
        if self.zlib is not None:
            try:
                out = self.zlib.flush()
            except zlib.error:
                raise self._error("the answer's compressed body is broken") from None
            yield self._count(out)


def _rebuilt(response: httpx.Response, body: bytes) -> httpx.Response:
    """A read answer: status, headers (without transfer framing) and the decompressed body.

    It carries no request: the signed URL stays out of everything built from the answer.
    """
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_HEADERS]
    rebuilt = httpx.Response(response.status_code, headers=headers, stream=httpx.ByteStream(body))
    rebuilt.read()  # a whole body in memory: read at once, and half the cost of ``content=``
    return rebuilt


def _is_redirect(response: httpx.Response) -> bool:
    return 300 <= response.status_code < 400


def _already_read(response: httpx.Response, limit: int, where: str) -> httpx.Response | None:
    """The answer when nothing is left to stream: a redirect (never read), an answer an in-process
    transport built whole, or one a pool's event hook closed."""
    if _is_redirect(response):
        return _rebuilt(response, b"")
    if not (response.is_closed or response.is_stream_consumed):
        return None
    try:
        body = response.content
    except httpx.ResponseNotRead:
        body = b""
    if len(body) > limit:
        raise MalformedResponseError(
            f"{where}: the answer is larger than max_response_bytes ({limit} bytes, decompressed)",
            status_code=response.status_code,
        )
    return _rebuilt(response, body)


def _read(response: httpx.Response, limit: int, where: str, entry: _Entry | None) -> httpx.Response:
    done = _already_read(response, limit, where)
    if done is not None:
        return done
    decoder = _Decoder(response.headers.get("content-encoding", ""), limit, where, response.status_code)
    parts: list[bytes] = []
    for chunk in response.iter_raw():
        if entry is not None and entry.cancelled:
            raise DeadlineExceeded("the call's total_timeout ran out")
        parts.extend(decoder.feed(chunk))
    parts.extend(decoder.finish())
    return _rebuilt(response, b"".join(parts))


def _exchange(
    http: httpx.Client, request: httpx.Request, limit: int, where: str, entry: _Entry | None
) -> httpx.Response:
    try:
        response = http.send(request, stream=True, follow_redirects=False)
    except httpx.HTTPStatusError as exc:  # a pool's event hook called raise_for_status()
        response = exc.response
    try:
        if entry is not None and not entry.sockets:  # a transport that gave no trace: its stream
            _note(entry, response.extensions.get("network_stream"))
        return _read(response, limit, where, entry)
    finally:
        response.close()


# -- the deadline watchdog ------------------------------------------------------------------------
# One daemon thread per process, started on first use, holds a heap of the blocking exchanges in
# flight by deadline. When a deadline passes it marks the exchange cancelled and shuts down the
# sockets it uses, so that a read blocked on a trickling server returns at once; the caller's
# thread then turns the read error into ``DeadlineExceeded``. Registering is a lock and a heap
# push; an exchange that ends is marked done and popped when it reaches the top of the heap.


class _Entry:
    __slots__ = ("cancelled", "deadline", "done", "sockets")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.cancelled = False
        self.done = False
        self.sockets: list[socket.socket] = []


class _Watchdog:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.heap: list[tuple[float, int, _Entry]] = []
        self.count = itertools.count()
        self.until = math.inf  # when the thread wakes next, if nobody notifies it
        self.thread: threading.Thread | None = None

    def add(self, entry: _Entry) -> None:
        with self.lock:
            heapq.heappush(self.heap, (entry.deadline, next(self.count), entry))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="tiktokshop-deadlines", daemon=True)
                self.thread.start()
            if entry.deadline < self.until:
                self.until = entry.deadline
                self.wake.notify()

    def remove(self, entry: _Entry) -> None:
        with self.lock:
            entry.done = True
            heap = self.heap
            while heap and heap[0][2].done:
                heapq.heappop(heap)

    def _run(self) -> None:
        heap = self.heap
        with self.lock:
            while True:
                while heap and heap[0][2].done:
                    heapq.heappop(heap)
                now = time.monotonic()
                while heap and heap[0][0] <= now:
                    entry = heapq.heappop(heap)[2]
                    if not entry.done:
                        entry.cancelled = True
                        for sock in entry.sockets:
                            _shut(sock)
                    while heap and heap[0][2].done:
                        heapq.heappop(heap)
                self.until = heap[0][0] if heap else math.inf
                self.wake.wait(None if not heap else max(0.0, self.until - now))


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_watchdog = _Watchdog()


def _after_fork() -> None:  # the thread does not survive a fork: the child starts its own
    global _watchdog
    _watchdog = _Watchdog()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _note(entry: _Entry, stream: Any) -> None:
    """Record the socket under ``stream`` (an httpcore network stream) for ``entry``."""
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket) and sock not in entry.sockets:
        entry.sockets.append(sock)
        if entry.cancelled:  # the deadline passed while this socket was being opened
            _shut(sock)


def _pooled_stream() -> Any:
    """The network stream of the HTTP/1.1 connection that is sending the current request.

    httpcore's trace events name only the request; the connection (new or reused from the pool)
    is the ``self`` of the ``handle_request`` frame a few levels up from the trace callback.
    """
    frame: FrameType | None = sys._getframe(2)  # pyright: ignore[reportPrivateUsage]
    for _ in range(6):
        if frame is None:
            return None
        if frame.f_code.co_name == "handle_request":
            connection = frame.f_locals.get("self")
            return getattr(connection, "_network_stream", None)
        frame = frame.f_back
    return None


def _watch(request: httpx.Request, entry: _Entry) -> None:
    """Note each socket the exchange uses (httpcore's trace), to shut it down on the deadline."""
    previous = request.extensions.get("trace")

    def trace(name: str, info: dict[str, Any]) -> None:
        if name == "http11.send_request_headers.started":
            _note(entry, _pooled_stream())
        elif name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            _note(entry, info.get("return_value"))
        if previous is not None:
            previous(name, info)

    request.extensions["trace"] = trace


def send(
    http: httpx.Client, request: httpx.Request, *, limit: int, deadline: float | None, where: str
) -> httpx.Response:
    """Send ``request`` and read its answer within ``limit`` bytes and by ``deadline`` (monotonic).

    Raises what ``httpx`` raises for the network (``DeadlineExceeded`` when time ran out) and
    ``MalformedResponseError`` for an answer too large or badly compressed.
    """
    if deadline is None:
        return _exchange(http, request, limit, where, None)
    if deadline <= time.monotonic():
        raise DeadlineExceeded("the call's total_timeout ran out")
    entry = _Entry(deadline)
    _watch(request, entry)
    watchdog = _watchdog
    watchdog.add(entry)
    try:
        response = _exchange(http, request, limit, where, entry)
    except Exception:
        if entry.cancelled:
            raise DeadlineExceeded("the call's total_timeout ran out") from None
        raise
    finally:
        watchdog.remove(entry)
    if entry.cancelled:  # the answer may have been cut short when its socket was shut down
        raise DeadlineExceeded("the call's total_timeout ran out")
    return response


async def _aread(response: httpx.Response, limit: int, where: str) -> httpx.Response:
    done = _already_read(response, limit, where)
    if done is not None:
        return done
    decoder = _Decoder(response.headers.get("content-encoding", ""), limit, where, response.status_code)
    parts: list[bytes] = []
    chunks: AsyncIterator[bytes] = response.aiter_raw()
    async for chunk in chunks:
        parts.extend(decoder.feed(chunk))
    parts.extend(decoder.finish())
    return _rebuilt(response, b"".join(parts))


async def _aexchange(
    http: httpx.AsyncClient, request: httpx.Request, limit: int, where: str
) -> httpx.Response:
    try:
        response = await http.send(request, stream=True, follow_redirects=False)
    except httpx.HTTPStatusError as exc:  # a pool's event hook called raise_for_status()
        response = exc.response
    try:
        return await _aread(response, limit, where)
    finally:
        await response.aclose()


async def asend(
    http: httpx.AsyncClient, request: httpx.Request, *, limit: int, deadline: float | None, where: str
) -> httpx.Response:
    """The async ``send``: the exchange is cancelled when ``deadline`` passes."""
    import asyncio  # here, not at the top: the blocking client never loads asyncio

    if deadline is None:
        return await _aexchange(http, request, limit, where)
    timeout_at = getattr(asyncio, "timeout_at", None)  # Python 3.11+: no extra task per exchange
    try:
        if timeout_at is not None:
            async with timeout_at(asyncio.get_running_loop().time() + (deadline - time.monotonic())):
                return await _aexchange(http, request, limit, where)
        return await asyncio.wait_for(
            _aexchange(http, request, limit, where), max(0.0, deadline - time.monotonic())
        )
    except asyncio.TimeoutError:
        pass
    raise DeadlineExceeded("the call's total_timeout ran out")
