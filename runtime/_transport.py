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
from typing import Any, cast

import httpx

from ._errors import MalformedResponseError

__all__ = ["Answer", "DeadlineExceeded", "asend", "send"]

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


class Answer:
    """A read answer: status, headers (without transfer framing) and the decompressed body.

    It carries no request: the signed URL stays out of everything built from the answer. The
    headers are copied only when read (by a hook, a raw response or an error).
    """

    __slots__ = ("_headers", "_source", "content", "status_code")

    def __init__(self, status_code: int, source: httpx.Headers, content: bytes) -> None:
        self.status_code = status_code
        self.content = content
        self._source = source
        self._headers: httpx.Headers | None = None

    @property
    def headers(self) -> httpx.Headers:
        """The answer's headers, without Content-Encoding, Content-Length and Transfer-Encoding
        (the body is held decompressed)."""
        headers = self._headers
        if headers is None:
            headers = httpx.Headers(
                [(k, v) for k, v in self._source.multi_items() if k.lower() not in _DROPPED_HEADERS]
            )
            self._headers = headers
        return headers

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.content.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<Answer [{self.status_code}]>"


def _is_redirect(response: httpx.Response) -> bool:
    return 300 <= response.status_code < 400


def _already_read(response: httpx.Response, limit: int, where: str) -> Answer | None:
    """The answer when nothing is left to stream: a redirect (never read), an answer an in-process
    transport built whole, or one a pool's event hook closed."""
    if _is_redirect(response):
        return Answer(response.status_code, response.headers, b"")
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
    return Answer(response.status_code, response.headers, body)


def _read(response: httpx.Response, limit: int, where: str, entry: _Entry | None) -> Answer:
    done = _already_read(response, limit, where)
    if done is not None:
        return done
    decoder = _Decoder(response.headers.get("content-encoding", ""), limit, where, response.status_code)
    parts: list[bytes] = []
    plain = decoder.zlib is None
    for chunk in response.iter_raw():
        if entry is not None and entry.cancelled:
            raise DeadlineExceeded("the call's total_timeout ran out")
        if plain:
            parts.append(decoder._count(chunk))  # pyright: ignore[reportPrivateUsage]
        else:
            parts.extend(decoder.feed(chunk))
    parts.extend(decoder.finish())
    return Answer(response.status_code, response.headers, b"".join(parts))


def _exchange(
    http: httpx.Client,
    transport: httpx.BaseTransport | None,
    request: httpx.Request,
    limit: int,
    where: str,
    entry: _Entry | None,
) -> Answer:
    if transport is not None:  # the client's own pool, no proxy: straight to its transport
        if http.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = transport.handle_request(request)
    else:
        try:
            response = http.send(request, stream=True, follow_redirects=False)
        except httpx.HTTPStatusError as exc:  # a pool's event hook called raise_for_status()
            response = exc.response
    try:
        if entry is not None:  # the body's socket, known once the headers are in
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
# Nothing is traced per request: the sockets are found when a deadline passes, in the frames of
# the thread that is blocked in the exchange (see ``_sockets_in_flight``), and the body's socket
# is also noted once the headers are in (httpx's ``network_stream`` response extension).


class _Entry:
    __slots__ = ("cancelled", "deadline", "done", "sockets", "thread")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.cancelled = False
        self.done = False
        self.sockets: list[socket.socket] = []
        self.thread = threading.get_ident()


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
                        for sock in entry.sockets + _sockets_in_flight(entry.thread):
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


def _sockets_of(value: object, depth: int = 0) -> Iterator[socket.socket]:
    """``value`` if it is a socket, else the sockets among its attributes (and theirs, once more):
    an ssl socket, httpcore's stream (``_sock``) or its connection (``_network_stream``)."""
    if isinstance(value, socket.socket):
        yield value
        return
    try:
        attrs = object.__getattribute__(value, "__dict__")
    except AttributeError:
        return
    if depth < 1 and isinstance(attrs, dict):
        for item in list(cast("dict[str, object]", attrs).values()):
            yield from _sockets_of(item, depth + 1)


def _sockets_in_flight(thread: int) -> list[socket.socket]:
    """The sockets the blocking exchange of ``thread`` is using: those held by the objects (and
    locals) of the frames between the innermost one and ``_exchange``. Empty when the thread is
    not inside an exchange (then nothing of the caller's own is touched)."""
    frame: FrameType | None = sys._current_frames().get(thread)  # pyright: ignore[reportPrivateUsage]
    found: list[socket.socket] = []
    for _ in range(64):
        if frame is None:
            return []
        if frame.f_code is _EXCHANGE_CODE:
            return found
        try:
            local = dict(frame.f_locals)
        except Exception:  # a frame whose locals cannot be read holds nothing we need
            local = {}
        owner = local.get("self")
        if owner is not None:
            found.extend(s for s in _sockets_of(owner) if s not in found)
        found.extend(v for v in local.values() if isinstance(v, socket.socket) and v not in found)
        frame = frame.f_back
    return []


_EXCHANGE_CODE = _exchange.__code__


def send(
    http: httpx.Client,
    request: httpx.Request,
    *,
    limit: int,
    deadline: float | None,
    where: str,
    transport: httpx.BaseTransport | None = None,
) -> Answer:
    """Send ``request`` and read its answer within ``limit`` bytes and by ``deadline`` (monotonic).

    ``transport`` is the transport of ``http`` when the client made the pool itself and no proxy
    applies: the request then skips ``httpx.Client.send`` (cookies, auth, hooks, which such a pool
    does not have). Raises what ``httpx`` raises for the network (``DeadlineExceeded`` when time
    ran out) and ``MalformedResponseError`` for an answer too large or badly compressed.
    """
    if deadline is None:
        return _exchange(http, transport, request, limit, where, None)
    if deadline <= time.monotonic():
        raise DeadlineExceeded("the call's total_timeout ran out")
    entry = _Entry(deadline)
    watchdog = _watchdog
    watchdog.add(entry)
    try:
        response = _exchange(http, transport, request, limit, where, entry)
    except Exception:
        if entry.cancelled:
            raise DeadlineExceeded("the call's total_timeout ran out") from None
        raise
    finally:
        watchdog.remove(entry)
    if entry.cancelled:  # the answer may have been cut short when its socket was shut down
        raise DeadlineExceeded("the call's total_timeout ran out")
    return response


async def _aread(response: httpx.Response, limit: int, where: str) -> Answer:
    done = _already_read(response, limit, where)
    if done is not None:
        return done
    decoder = _Decoder(response.headers.get("content-encoding", ""), limit, where, response.status_code)
    parts: list[bytes] = []
    plain = decoder.zlib is None
    chunks: AsyncIterator[bytes] = response.aiter_raw()
    async for chunk in chunks:
        if plain:
            parts.append(decoder._count(chunk))  # pyright: ignore[reportPrivateUsage]
        else:
            parts.extend(decoder.feed(chunk))
    parts.extend(decoder.finish())
    return Answer(response.status_code, response.headers, b"".join(parts))


async def _aexchange(
    http: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport | None,
    request: httpx.Request,
    limit: int,
    where: str,
) -> Answer:
    if transport is not None:  # the client's own pool, no proxy: straight to its transport
        if http.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = await transport.handle_async_request(request)
    else:
        try:
            response = await http.send(request, stream=True, follow_redirects=False)
        except httpx.HTTPStatusError as exc:  # a pool's event hook called raise_for_status()
            response = exc.response
    try:
        return await _aread(response, limit, where)
    finally:
        await response.aclose()


async def asend(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    limit: int,
    deadline: float | None,
    where: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Answer:
    """The async ``send`` (``transport`` as there): the exchange is cancelled when ``deadline``
    passes."""
    import asyncio  # here, not at the top: the blocking client never loads asyncio

    if deadline is None:
        return await _aexchange(http, transport, request, limit, where)
    timeout_at = getattr(asyncio, "timeout_at", None)  # Python 3.11+: no extra task per exchange
    try:
        if timeout_at is not None:
            async with timeout_at(asyncio.get_running_loop().time() + (deadline - time.monotonic())):
                return await _aexchange(http, transport, request, limit, where)
        return await asyncio.wait_for(
            _aexchange(http, transport, request, limit, where), max(0.0, deadline - time.monotonic())
        )
    except asyncio.TimeoutError:
        pass
    raise DeadlineExceeded("the call's total_timeout ran out")
