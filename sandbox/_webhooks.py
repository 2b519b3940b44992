"""Webhook delivery: signed events POSTed from a background thread to local subscribers, with
TikTok's retry schedule on the sandbox's clock.

Each event is JSON ``{type, tts_notification_id, shop_id, timestamp, data}``; the ``Authorization``
header is the lowercase hex HMAC-SHA256, keyed with the app secret, of ``app_key + raw body``.
An attempt succeeds when the receiver answers HTTP 200 within ``timeout`` (TikTok's 3 seconds);
otherwise it is tried again 2 minutes, 30 minutes, 3 hours and 12 hours later (by the sandbox's
clock: advance it to see the retries). Only ``127.0.0.1``/``localhost`` URLs are accepted. The
queue is bounded: when it is full, new attempts are counted in ``dropped`` instead of blocking the API.
"""

# pyright: standard

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from tiktokshop.webhooks import RETRY_SCHEDULE

__all__ = ["RETRY_SCHEDULE", "Delivery", "PendingRetry", "Webhooks", "sign_webhook"]

logger = logging.getLogger("tiktokshop.sandbox")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def sign_webhook(app_key: str, app_secret: str, body: bytes) -> str:
    """The ``Authorization`` value TikTok sends with a webhook whose raw body is ``body``."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event: where, what, the HTTP status (or the error), which attempt
    (1 is the first, 2-5 TikTok's retries; 0 a duplicate sent on request), the sandbox time it was
    made at, and how long the receiver took to answer (seconds)."""

    url: str
    event: dict[str, Any]
    status: int | None
    error: str | None = None
    attempt: int = 1
    at: float = 0.0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the receiver took it (HTTP 200)."""
        return self.status == 200


@dataclass(frozen=True)
class PendingRetry:
    """A retry waiting for the sandbox's clock to reach ``due``."""

    due: float
    url: str
    attempt: int
    event: dict[str, Any]


class Webhooks:
    """Subscriptions, delivery thread and retries of one sandbox."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        now: Callable[[], float],
        *,
        queue_size: int = 1000,
        timeout: float = 3.0,
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self._now = now
        self._timeout = timeout
        self._queue: queue.Queue[tuple[str, bytes, dict[str, Any], int] | None] = queue.Queue(queue_size)
        self._lock = threading.Lock()
        self._urls: dict[str, frozenset[int] | None] = {}
        self._thread: threading.Thread | None = None
        self._count = 0
        self._pending: list[tuple[float, str, bytes, dict[str, Any], int]] = []
        self._bodies: dict[str, bytes] = {}
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self.dropped = 0

    def subscribe(self, url: str, types: Iterable[int] | None = None) -> None:
        """Deliver every future event (or only those of ``types``) to ``url``.

        Raises ``ValueError`` unless it is an http(s) URL on 127.0.0.1 or localhost.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOCAL_HOSTS:
            raise ValueError("the sandbox delivers webhooks only to http(s) URLs on 127.0.0.1 or localhost")
        with self._lock:
            self._urls[url] = frozenset(int(t) for t in types) if types is not None else None
            self._start()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def unsubscribe(self, url: str) -> None:
        """Stop delivering to ``url`` (no error if it was not subscribed); its pending retries are dropped."""
        with self._lock:
            self._urls.pop(url, None)
            self._pending = [p for p in self._pending if p[1] != url]

    @property
    def urls(self) -> list[str]:
        """The subscribed URLs."""
        with self._lock:
            return list(self._urls)

    @property
    def subscriptions(self) -> dict[str, list[int] | None]:
        """The subscribed URLs and the event types each takes (``None``: every type)."""
        with self._lock:
            return {url: sorted(t) if t is not None else None for url, t in self._urls.items()}

    @property
    def pending(self) -> list[PendingRetry]:
        """The retries not yet due, soonest first."""
        with self._lock:
            return [
                PendingRetry(due, url, attempt, event)
                for due, url, _, event, attempt in sorted(self._pending, key=lambda p: p[0])
            ]

    def emit(self, event_type: int, shop_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Record an event and queue it for every subscriber of its type; returns the event."""
        with self._lock:
            self._count += 1
            event = {
                "type": event_type,
                "tts_notification_id": f"7{self._count:018d}",
                "shop_id": shop_id,
                "timestamp": int(self._now()),
                "data": data,
            }
            self.events.append(event)
            urls = [url for url, types in self._urls.items() if types is None or event_type in types]
        body = json.dumps(event, separators=(",", ":")).encode()
        with self._lock:
            self._bodies[str(event["tts_notification_id"])] = body
        for url in urls:
            self._put(url, body, event, 1)
        return event

    def redeliver(self, notification_id: str, url: str | None = None) -> int:
        """Send an event already emitted once more, byte for byte (a duplicate, as TikTok may send),
        to ``url`` or every subscriber of its type; returns how many deliveries were queued.

        Raises ``KeyError`` for an unknown ``tts_notification_id``.
        """
        with self._lock:
            body = self._bodies[notification_id]
            event = next(e for e in self.events if e["tts_notification_id"] == notification_id)
            urls = (
                [url]
                if url is not None
                else [u for u, t in self._urls.items() if t is None or event["type"] in t]
            )
        for target in urls:
            self._put(target, body, event, 0)
        return len(urls)

    def _put(self, url: str, body: bytes, event: dict[str, Any], attempt: int) -> None:
        try:
            self._queue.put_nowait((url, body, event, attempt))
        except queue.Full:
            with self._lock:
                self.dropped += 1
            logger.warning("webhook queue full: event %s dropped", event["tts_notification_id"])

    def deliver_due(self) -> None:
        """Queue the retries that the clock has made due (the delivery thread also checks often)."""
        self._enqueue_due()

    def _enqueue_due(self) -> None:
        now = self._now()
        with self._lock:
            due = [p for p in self._pending if p[0] <= now]
            self._pending = [p for p in self._pending if p[0] > now]
        for _, url, body, event, attempt in sorted(due, key=lambda p: p[0]):
            self._put(url, body, event, attempt)

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until every queued attempt (and every retry now due by the clock) was made;
        ``False`` if ``timeout`` seconds passed first."""
        self._enqueue_due()
        done = threading.Event()

        def joiner() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=joiner, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        """Stop the delivery thread (queued attempts not yet made are abandoned)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            while True:
                try:
                    self._queue.get_nowait()
                    self._queue.task_done()
                except queue.Empty:
                    break
            self._queue.put(None)
            thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout, follow_redirects=False) as http:
            while True:
                try:
                    item = self._queue.get(timeout=0.05)
                except queue.Empty:
                    self._enqueue_due()
                    continue
                try:
                    if item is None:
                        return
                    self._deliver(http, *item)
                finally:
                    self._queue.task_done()

    def _deliver(
        self, http: httpx.Client, url: str, body: bytes, event: dict[str, Any], attempt: int
    ) -> None:
        headers = {
            "content-type": "application/json",
            "authorization": sign_webhook(self._app_key, self._app_secret, body),
        }
        at = self._now()
        started = time.perf_counter()
        try:
            response = http.post(url, content=body, headers=headers)
            delivery = Delivery(
                url, event, response.status_code, None, attempt, at, time.perf_counter() - started
            )
        except httpx.HTTPError as exc:
            delivery = Delivery(
                url, event, None, type(exc).__name__, attempt, at, time.perf_counter() - started
            )
            logger.warning("webhook to %s failed: %s", urlsplit(url).path, type(exc).__name__)
        with self._lock:
            self.deliveries.append(delivery)
            if not delivery.ok and 1 <= attempt <= len(RETRY_SCHEDULE) and url in self._urls:
                self._pending.append(
                    (self._now() + RETRY_SCHEDULE[attempt - 1], url, body, event, attempt + 1)
                )
