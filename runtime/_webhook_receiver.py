"""``WebhookReceiver``: verify -> parse -> de-duplicate -> dispatch, answered within TikTok's 3 s.

TikTok expects HTTP 200 with an empty body within 3 seconds (401 for a bad signature) and retries
an unanswered or failed delivery 4 times (2 min, 30 min, 3 h and 12 h after the previous failure),
so one notification (``tts_notification_id``) can arrive more than once and up to ~16 h late.
Imports no web framework: ``asgi_app()`` and ``wsgi_app()`` speak the protocols directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast

from ._errors import ConfigurationError
from .webhooks import (
    WebhookEvent,
    WebhookPayloadError,
    WebhookSignatureError,
    construct_event,
)

if TYPE_CHECKING:
    import sqlite3
    from concurrent.futures import Executor

__all__ = [
    "DEFAULT_REPLAY_WINDOW",
    "RETRY_SCHEDULE",
    "DedupStore",
    "MemoryDedupStore",
    "RedisDedupStore",
    "SqliteDedupStore",
    "WebhookReceiver",
    "WebhookResult",
]

logger = logging.getLogger("tiktokshop.webhooks")

#: TikTok's retries of a failed delivery: seconds after the previous failure.
RETRY_SCHEDULE: tuple[int, ...] = (120, 1800, 3 * 3600, 12 * 3600)
#: How old (by its ``timestamp``) an event may be and still be accepted: TikTok's whole retry
#: schedule (15 h 32 min) plus slack for slow attempts and clock skew. Older ones are refused.
DEFAULT_REPLAY_WINDOW = 17 * 3600.0
#: How far ahead of our clock an event's timestamp may be (clock skew).
FUTURE_SKEW = 300.0
MAX_BODY = 1 << 20

Handler = Callable[[Any], Awaitable[None] | None]
#: A handler as registered: it may take the event's own class (``OrderStatusChangeEvent``).
H = TypeVar("H", bound=Callable[[Any], Any])
Outcome = Literal[
    "handled",
    "unhandled",
    "duplicate",
    "bad_signature",
    "malformed",
    "too_old",
    "handler_failed",
    "store_failed",
]


class DedupStore(Protocol):
    """Where the receiver remembers the notifications it has taken (by ``tts_notification_id``)."""

    def claim(self, key: str, *, now: float, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (Unix seconds; ``now`` is the receiver's time);
        ``False`` if it is already recorded and not expired."""
        ...

    def release(self, key: str) -> None:
        """Forget ``key`` (its handling failed: TikTok's retry must be handled again)."""
        ...


class MemoryDedupStore:
    """A process-local ``DedupStore`` (thread-safe). ``max_entries`` bounds memory: the entries
    nearest to expiry go first. Use a shared store (SQLite, Redis) when several processes receive."""

    #: Never blocks: the async path calls it directly.
    nonblocking = True

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}
        self._max = max_entries

    def claim(self, key: str, *, now: float, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at``; ``False`` if it is already recorded and not expired."""
        with self._lock:
            current = self._seen.get(key)
            if current is not None and current > now:
                return False
            if len(self._seen) >= self._max:
                for old in [k for k, exp in self._seen.items() if exp <= now]:
                    del self._seen[old]
                while len(self._seen) >= self._max:
                    del self._seen[min(self._seen, key=self._seen.__getitem__)]
            self._seen[key] = expires_at
            return True

    def release(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._seen.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


class SqliteDedupStore:
    """A ``DedupStore`` in a SQLite file (write-ahead log), shared by the processes of one machine.
    One connection per store, used under a lock; ``close()`` ends it.

    Raises ``ConfigurationError`` when the file cannot be opened.
    """

    def __init__(self, path: str | Path) -> None:
        import sqlite3

        self._path = str(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._claims = 0
        try:
            db = sqlite3.connect(self._path, timeout=10, isolation_level="IMMEDIATE", check_same_thread=False)
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot open the webhook store {self._path}: {exc}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")  # other processes read while one writes
            db.execute("PRAGMA synchronous=NORMAL")  # with WAL: no fsync per commit, never corrupt
            with db:
                db.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)")
        except sqlite3.Error as exc:
            db.close()
            raise ConfigurationError(f"cannot open the webhook store {self._path}: {exc}") from None
        self._db = db

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise ConfigurationError("this SqliteDedupStore is closed")
        return self._db

    def claim(self, key: str, *, now: float, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at``; ``False`` if it is already recorded and not expired."""
        with self._lock, self._conn() as db:
            db.execute("DELETE FROM seen WHERE key = ? AND expires_at <= ?", (key, now))
            cursor = db.execute(
                "INSERT OR IGNORE INTO seen (key, expires_at) VALUES (?, ?)", (key, expires_at)
            )
            fresh = cursor.rowcount == 1
        self._claims += 1
        if self._claims % 100 == 0:  # now and then, drop every expired entry
            with self._lock, self._conn() as db:
                db.execute("DELETE FROM seen WHERE expires_at <= ?", (now,))
        return fresh

    def release(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock, self._conn() as db:
            db.execute("DELETE FROM seen WHERE key = ?", (key,))

    def close(self) -> None:
        """Close the connection (further use raises ``ConfigurationError``)."""
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            db.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


class RedisDedupStore:
    """A ``DedupStore`` in Redis, shared by every worker on every machine: each claim is one
    ``SET key 1 NX PX ttl``, so entries expire on Redis's own clock. Give a redis-py client
    (``redis.Redis``) or a URL (``redis://host:6379/0``; needs ``pip install 'tiktokshop[redis]'``).

    Raises ``ConfigurationError`` for a URL without redis-py installed.
    """

    def __init__(self, client: Any, *, prefix: str = "tiktokshop:webhook:") -> None:
        if isinstance(client, str):
            try:
                import redis
            except ImportError:
                raise ConfigurationError(
                    "RedisDedupStore needs redis-py: pip install 'tiktokshop[redis]'"
                ) from None
            client = redis.Redis.from_url(client)  # pyright: ignore[reportUnknownMemberType]
        self._redis = client
        self._prefix = prefix

    def claim(self, key: str, *, now: float, expires_at: float) -> bool:
        """Record ``key`` for ``expires_at - now`` seconds; ``False`` if it is already recorded."""
        ttl_ms = max(1, int((expires_at - now) * 1000))
        return bool(self._redis.set(self._prefix + key, b"1", nx=True, px=ttl_ms))

    def release(self, key: str) -> None:
        """Forget ``key``."""
        self._redis.delete(self._prefix + key)


@dataclass
class WebhookResult:
    """What the receiver made of one delivery: the HTTP ``status`` to answer (the body is always
    empty), the ``outcome`` and the ``event`` (``None`` unless it was verified and parsed)."""

    status: int
    outcome: Outcome
    event: WebhookEvent[Any] | None = None
    detail: str = ""
    background: list[Handler] = field(default_factory=list, repr=False)


def _header(headers: Mapping[str, Any] | Iterable[tuple[Any, Any]] | None, name: str) -> object:
    """The value of header ``name`` (any case) in a mapping or a list of pairs (str or bytes)."""
    if headers is None:
        return None
    if isinstance(headers, Mapping):
        mapping = cast("Mapping[Any, Any]", headers)
        for key in (name, name.title(), name.lower()):
            if key in mapping:
                return mapping[key]
        pairs: Iterable[tuple[Any, Any]] = mapping.items()
    else:
        pairs = headers
    for key, value in pairs:
        if isinstance(key, (bytes, bytearray)):
            key = bytes(key).decode("latin-1")
        if isinstance(key, str) and key.lower() == name:
            return value
    return None


class WebhookReceiver:
    """Verify, parse, de-duplicate and dispatch TikTok Shop webhooks.

        webhooks = WebhookReceiver(app_key=..., app_secret=...)

        @webhooks.on("ORDER_STATUS_CHANGE")
        def order_changed(event: OrderStatusChangeEvent) -> None: ...

        app.add_route("/webhooks/tiktok", webhooks.asgi_app(), methods=["POST"])  # FastAPI
        app.mount("/webhooks/tiktok", webhooks.asgi_app())  # or this (the URL then ends in /)
        flask_app.wsgi_app = DispatcherMiddleware(flask_app.wsgi_app,
                                                  {"/webhooks/tiktok": webhooks.wsgi_app()})

    Each delivery is answered 200 with an empty body once handled (or when it is a duplicate, or
    no handler wants its type), 401 on a bad signature, 400 when it is not an event or older than
    ``replay_window`` seconds, 500 when a handler raised: the claim is then released so TikTok's
    retry is handled again. Handlers registered with ``background=True`` run after the answer
    (a thread pool; in ``asgi_app`` after the response is sent), for work that may take longer than
    TikTok's 3 seconds: their failures are logged, not retried. ``store`` de-duplicates by
    ``tts_notification_id`` (default: ``MemoryDedupStore``; ``SqliteDedupStore`` for the workers
    of one machine, ``RedisDedupStore`` for several, or any ``DedupStore``); when the store fails,
    the answer is 500 (TikTok retries).
    """

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        store: DedupStore | None = None,
        replay_window: float = DEFAULT_REPLAY_WINDOW,
        clock: Callable[[], float] = time.time,
        executor: Executor | None = None,
    ) -> None:
        if not app_key or not app_secret:
            raise ConfigurationError(
                "WebhookReceiver needs app_key and app_secret (the app's, from Partner Center)"
            )
        self._app_key = app_key
        self._app_secret = app_secret
        self.store: DedupStore = store if store is not None else MemoryDedupStore()
        self.replay_window = replay_window
        self._clock = clock
        self._executor = executor
        self._executor_lock = threading.Lock()
        self._handlers: dict[int | str, list[tuple[Handler, bool]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return (
            f"<WebhookReceiver app_key={self._app_key!r} handlers={sum(map(len, self._handlers.values()))}>"
        )

    # -- registration ----------------------------------------------------------------------------

    def on(
        self, event_type: int | str | type[WebhookEvent[Any]], *, background: bool = False
    ) -> Callable[[H], H]:
        """Register the decorated function for ``event_type``: a type name (``"ORDER_STATUS_CHANGE"``),
        a number (also one the spec does not know yet), an event class, or ``"*"`` for every event.

        Raises ``ConfigurationError`` for a name that is not a documented type.
        """
        key = self._key(event_type)

        def register(handler: H) -> H:
            self._handlers.setdefault(key, []).append((handler, background))
            return handler

        return register

    @staticmethod
    def _key(event_type: int | str | type[WebhookEvent[Any]]) -> int | str:
        from .types.webhooks import EVENT_CLASSES_BY_NAME

        if isinstance(event_type, type):
            number = getattr(event_type, "TYPE", None)
            if number is None:
                raise ConfigurationError("on(): give an event class of a documented type, a name or a number")
            return int(number)
        if isinstance(event_type, bool) or not isinstance(event_type, (int, str)):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError("on(): the event type is a name, a number or an event class")
        if isinstance(event_type, int) or event_type == "*":
            return event_type
        cls = EVENT_CLASSES_BY_NAME.get(event_type.strip().upper())
        if cls is None:
            raise ConfigurationError(
                f"on(): {event_type!r} is not a documented webhook type "
                "(see tiktokshop.types.webhooks.EVENT_CLASSES_BY_NAME, or give its number)"
            )
        return int(cls.TYPE)  # type: ignore[arg-type]

    def _handlers_for(self, event: WebhookEvent[Any]) -> list[tuple[Handler, bool]]:
        return [*self._handlers.get(event.type, []), *self._handlers.get("*", [])]

    # -- the steps -------------------------------------------------------------------------------

    def _check(
        self, body: object, headers: Mapping[str, Any] | Iterable[tuple[Any, Any]] | None
    ) -> WebhookResult:
        """Verify and parse; check the replay window. Touches no store."""
        if not isinstance(body, (bytes, bytearray)):
            return WebhookResult(400, "malformed", detail="the body is not bytes")
        try:
            event = construct_event(
                bytes(body),
                _header(headers, "authorization"),  # type: ignore[arg-type]
                app_key=self._app_key,
                app_secret=self._app_secret,
            )
        except WebhookSignatureError as exc:
            return WebhookResult(401, "bad_signature", detail=str(exc))
        except WebhookPayloadError as exc:
            return WebhookResult(400, "malformed", detail=str(exc))
        now = self._clock()
        if event.timestamp is not None:
            if event.timestamp < now - self.replay_window:
                return WebhookResult(400, "too_old", event, f"sent {now - event.timestamp:.0f} s ago")
            if event.timestamp > now + FUTURE_SKEW:
                return WebhookResult(400, "too_old", event, "its timestamp is in the future")
        return WebhookResult(200, "unhandled", event)

    def _dedup_key(self, event: WebhookEvent[Any]) -> str | None:
        if not event.tts_notification_id:
            return None
        return f"{event.shop_id or ''}:{event.tts_notification_id}"

    def _expiry(self, event: WebhookEvent[Any]) -> float:
        sent = event.timestamp if event.timestamp is not None else self._clock()
        return max(sent, self._clock()) + self.replay_window

    def handle(
        self, body: bytes, headers: Mapping[str, Any] | Iterable[tuple[Any, Any]] | None
    ) -> WebhookResult:
        """Handle one delivery: its raw ``body`` and its headers (any mapping or list of pairs).

        Runs the handlers (async ones with ``asyncio.run``); background ones go to a thread pool.
        Never raises for anything in the request: the result says what to answer.
        """
        result = self._check(body, headers)
        if result.event is None or result.status != 200:
            return self._log(result)
        event = result.event
        key = self._dedup_key(event)
        if key is not None:
            try:
                fresh = self.store.claim(key, now=self._clock(), expires_at=self._expiry(event))
            except Exception as exc:
                return self._store_failed(result, exc)
            if not fresh:
                result.outcome = "duplicate"
                return self._log(result)
        handlers = self._handlers_for(event)
        try:
            for handler, background in handlers:
                if background:
                    result.background.append(handler)
                    continue
                outcome = handler(event)
                if inspect.isawaitable(outcome):
                    asyncio.run(_await(outcome))
        except Exception as exc:
            return self._failed(result, key, exc)
        result.outcome = "handled" if handlers else "unhandled"
        for handler in result.background:
            self._submit(handler, event)
        return self._log(result)

    async def handle_async(
        self,
        body: bytes,
        headers: Mapping[str, Any] | Iterable[tuple[Any, Any]] | None,
        *,
        defer: bool = False,
    ) -> WebhookResult:
        """``handle`` for async apps: async handlers are awaited, sync ones run in a thread, the
        store is called in a thread unless it never blocks. Background handlers are started as
        tasks, or left in ``result.background`` for the caller to run after answering (``defer``).
        """
        result = self._check(body, headers)
        if result.event is None or result.status != 200:
            return self._log(result)
        event = result.event
        key = self._dedup_key(event)
        if key is not None:
            try:
                if getattr(self.store, "nonblocking", False):
                    fresh = self.store.claim(key, now=self._clock(), expires_at=self._expiry(event))
                else:
                    fresh = await asyncio.to_thread(
                        self.store.claim, key, now=self._clock(), expires_at=self._expiry(event)
                    )
            except Exception as exc:
                return self._store_failed(result, exc)
            if not fresh:
                result.outcome = "duplicate"
                return self._log(result)
        handlers = self._handlers_for(event)
        try:
            for handler, background in handlers:
                if background:
                    result.background.append(handler)
                elif inspect.iscoroutinefunction(handler):
                    await handler(event)
                else:
                    outcome = await asyncio.to_thread(handler, event)
                    if inspect.isawaitable(outcome):
                        await outcome
        except Exception as exc:
            if key is not None and not getattr(self.store, "nonblocking", False):
                await asyncio.to_thread(self.store.release, key)
                key = None
            return self._failed(result, key, exc)
        result.outcome = "handled" if handlers else "unhandled"
        if not defer:
            for handler in result.background:
                task = asyncio.get_running_loop().create_task(self.run_background(handler, event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return self._log(result)

    async def run_background(self, handler: Handler, event: WebhookEvent[Any]) -> None:
        """Run one background handler (in a thread if it is sync); log its failure, never raise it."""
        try:
            if inspect.iscoroutinefunction(handler):
                await handler(event)
            else:
                outcome = await asyncio.to_thread(handler, event)
                if inspect.isawaitable(outcome):
                    await outcome
        except Exception:
            logger.exception("background webhook handler %s failed", getattr(handler, "__name__", handler))

    def _store_failed(self, result: WebhookResult, exc: Exception) -> WebhookResult:
        result.status, result.outcome = 500, "store_failed"
        result.detail = f"the de-duplication store failed: {type(exc).__name__}"
        logger.error("webhook store failed (%s); answering 500 so that TikTok retries", type(exc).__name__)
        return self._log(result)

    def _failed(self, result: WebhookResult, key: str | None, exc: Exception) -> WebhookResult:
        if key is not None:
            with contextlib.suppress(Exception):
                self.store.release(key)
        result.status, result.outcome, result.background = 500, "handler_failed", []
        result.detail = f"{type(exc).__name__} in a handler"
        logger.exception("webhook handler failed; answering 500 so that TikTok retries", exc_info=exc)
        return self._log(result)

    def _submit(self, handler: Handler, event: WebhookEvent[Any]) -> None:
        with self._executor_lock:
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tiktokshop-webhooks")
            executor = self._executor

        def run() -> None:
            try:
                outcome = handler(event)
                if inspect.isawaitable(outcome):
                    asyncio.run(_await(outcome))
            except Exception:
                logger.exception(
                    "background webhook handler %s failed", getattr(handler, "__name__", handler)
                )

        executor.submit(run)

    def _log(self, result: WebhookResult) -> WebhookResult:
        event = result.event
        logger.info(
            "webhook %s type=%s id=%s -> %s %s",
            result.outcome,
            event.type if event is not None else "-",
            event.tts_notification_id if event is not None else "-",
            result.status,
            result.detail,
        )
        return result

    def close(self, *, wait: bool = True) -> None:
        """Stop the background thread pool (it waits for running handlers when ``wait``)."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait)

    # -- adapters --------------------------------------------------------------------------------

    def asgi_app(self) -> Callable[[dict[str, Any], Any, Any], Awaitable[None]]:
        """A bare ASGI app (no framework imported) that receives webhooks at any path. In FastAPI or
        Starlette: ``app.add_route("/webhooks/tiktok", receiver.asgi_app(), methods=["POST"])``
        (or ``app.mount(...)``, whose URL then ends with ``/``); or serve it with any ASGI server.
        Background handlers run after the response is sent."""

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    elif message["type"] == "lifespan.shutdown":
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            if scope["type"] != "http":
                return
            if scope.get("method") != "POST":
                await _asgi_answer(send, 405, [(b"allow", b"POST")])
                return
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY:
                    await _asgi_answer(send, 413)
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            result = await self.handle_async(b"".join(chunks), scope.get("headers", []), defer=True)
            await _asgi_answer(send, result.status)
            for handler in result.background:
                assert result.event is not None
                await self.run_background(handler, result.event)

        return _AsgiApp(app)

    def wsgi_app(self) -> Callable[[dict[str, Any], Callable[..., Any]], Iterator[bytes]]:
        """A bare WSGI app (no framework imported) that receives webhooks at any path: mount it in
        Flask with werkzeug's ``DispatcherMiddleware``, in Django from a view (see ``handle``), or
        serve it with any WSGI server. Background handlers run in a thread pool."""

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
            if environ.get("REQUEST_METHOD") != "POST":
                start_response("405 Method Not Allowed", [("Allow", "POST"), ("Content-Length", "0")])
                return iter([b""])
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                start_response("413 Content Too Large", [("Content-Length", "0")])
                return iter([b""])
            body = environ["wsgi.input"].read(length) if length else b""
            headers = {"authorization": environ.get("HTTP_AUTHORIZATION")}
            result = self.handle(body, headers)
            start_response(f"{result.status} {_REASONS[result.status]}", [("Content-Length", "0")])
            return iter([b""])

        return app


class _AsgiApp:
    """An ASGI callable that is not a function, so that Starlette routes to it as an app."""

    def __init__(self, app: Callable[[dict[str, Any], Any, Any], Awaitable[None]]) -> None:
        self._app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self._app(scope, receive, send)


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    405: "Method Not Allowed",
    413: "Content Too Large",
    500: "Internal Server Error",
}


async def _await(awaitable: Awaitable[None]) -> None:
    await awaitable


async def _asgi_answer(send: Any, status: int, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", b"0"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": b""})
