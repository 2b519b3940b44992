"""Sending one request and reading its answer so that no server can hold the caller or its memory.

- Redirects are never followed, whatever the ``httpx`` client says (a signed URL, the access
  token and, on token calls, the app secret must not travel to another host).
- The body is streamed and decompressed here (gzip or deflate) with a limit on the decompressed
  size: an answer too large, a compression bomb or an endless stream stops at the limit.
- A deadline bounds the whole exchange, headers and body, even when a server trickles bytes:
  the blocking client waits for a worker thread and closes the connection when time runs out;
  the async client cancels the exchange.
- An ``httpx.HTTPStatusError`` raised by a pool's own event hook is not an outcome: the answer
  it carries is read like any other.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
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
    return httpx.Response(response.status_code, headers=headers, content=body)


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


def _read(
    response: httpx.Response, limit: int, where: str, cancelled: threading.Event | None
) -> httpx.Response:
    done = _already_read(response, limit, where)
    if done is not None:
        return done
    decoder = _Decoder(response.headers.get("content-encoding", ""), limit, where, response.status_code)
    parts: list[bytes] = []
    for chunk in response.iter_raw():
        if cancelled is not None and cancelled.is_set():
            raise DeadlineExceeded("the call's total_timeout ran out")
        parts.extend(decoder.feed(chunk))
    parts.extend(decoder.finish())
    return _rebuilt(response, b"".join(parts))


def _exchange(
    http: httpx.Client, request: httpx.Request, limit: int, where: str, cancelled: threading.Event | None
) -> httpx.Response:
    try:
        response = http.send(request, stream=True, follow_redirects=False)
    except httpx.HTTPStatusError as exc:  # a pool's event hook called raise_for_status()
        response = exc.response
    try:
        return _read(response, limit, where, cancelled)
    finally:
        response.close()


def _watch(request: httpx.Request, sockets: list[socket.socket]) -> None:
    """Note each socket the exchange opens (httpcore's trace), to shut it down on the deadline."""
    previous = request.extensions.get("trace")

    def trace(name: str, info: dict[str, Any]) -> None:
        if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                sockets.append(sock)
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
    outcome: list[Any] = []
    done = threading.Event()
    cancelled = threading.Event()
    sockets: list[socket.socket] = []
    _watch(request, sockets)

    def run() -> None:
        try:
            outcome.append((True, _exchange(http, request, limit, where, cancelled)))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append((False, exc))
        finally:
            done.set()

    context = contextvars.copy_context()  # the pool's hooks and tracing see the caller's context
    worker = threading.Thread(target=context.run, args=(run,), name="tiktokshop-send", daemon=True)
    worker.start()
    if not done.wait(max(0.0, deadline - time.monotonic())):
        cancelled.set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        raise DeadlineExceeded("the call's total_timeout ran out")
    ok, value = outcome[0]
    if ok:
        result: httpx.Response = value
        return result
    raise value


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
    try:
        return await asyncio.wait_for(
            _aexchange(http, request, limit, where), max(0.0, deadline - time.monotonic())
        )
    except asyncio.TimeoutError:
        pass
    raise DeadlineExceeded("the call's total_timeout ran out")
