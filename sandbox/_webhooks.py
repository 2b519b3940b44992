"""Webhook delivery: signed events POSTed from a background thread to local subscribers.

Each event is JSON ``{type, tts_notification_id, shop_id, timestamp, data}``; the ``Authorization``
header is the lowercase hex HMAC-SHA256, keyed with the app secret, of ``app_key + raw body``.
Only ``127.0.0.1``/``localhost`` URLs are accepted. The queue is bounded: when it is full, new
events are counted in ``dropped`` instead of blocking the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = ["Delivery", "Webhooks", "sign_webhook"]

logger = logging.getLogger("tiktokshop.sandbox")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def sign_webhook(app_key: str, app_secret: str, body: bytes) -> str:
    """The ``Authorization`` value TikTok sends with a webhook whose raw body is ``body``."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event: where, what, and the HTTP status (or the error)."""

    url: str
    event: dict[str, Any]
    status: int | None
    error: str | None = None


class Webhooks:
    """Subscriptions and the delivery thread of one sandbox."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        now: Callable[[], float],
        *,
        queue_size: int = 1000,
        timeout: float = 5.0,
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self._now = now
        self._timeout = timeout
        self._queue: queue.Queue[tuple[str, bytes, dict[str, Any]] | None] = queue.Queue(queue_size)
        self._lock = threading.Lock()
        self._urls: list[str] = []
        self._thread: threading.Thread | None = None
        self._count = 0
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self.dropped = 0

    def subscribe(self, url: str) -> None:
        """Deliver every future event to ``url``.

        Raises ``ValueError`` unless it is an http(s) URL on 127.0.0.1 or localhost.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in _LOCAL_HOSTS:
            raise ValueError("the sandbox delivers webhooks only to http(s) URLs on 127.0.0.1 or localhost")
        with self._lock:
            if url not in self._urls:
                self._urls.append(url)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
                self._thread.start()

    def unsubscribe(self, url: str) -> None:
        """Stop delivering to ``url`` (no error if it was not subscribed)."""
        with self._lock:
            if url in self._urls:
                self._urls.remove(url)

    @property
    def urls(self) -> list[str]:
        """The subscribed URLs."""
        with self._lock:
            return list(self._urls)

    def emit(self, event_type: int, shop_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Record an event and queue it for every subscriber; returns the event."""
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
            urls = list(self._urls)
        body = json.dumps(event, separators=(",", ":")).encode()
        for url in urls:
            try:
                self._queue.put_nowait((url, body, event))
            except queue.Full:
                with self._lock:
                    self.dropped += 1
                logger.warning("webhook queue full: event %s dropped", event["tts_notification_id"])
        return event

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until every queued event was attempted; ``False`` if ``timeout`` seconds passed first."""
        done = threading.Event()

        def joiner() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=joiner, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        """Stop the delivery thread (queued events not yet sent are abandoned)."""
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
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    self._deliver(http, *item)
                finally:
                    self._queue.task_done()

    def _deliver(self, http: httpx.Client, url: str, body: bytes, event: dict[str, Any]) -> None:
        headers = {
            "content-type": "application/json",
            "authorization": sign_webhook(self._app_key, self._app_secret, body),
        }
        try:
            response = http.post(url, content=body, headers=headers)
            delivery = Delivery(url, event, response.status_code)
        except httpx.HTTPError as exc:
            delivery = Delivery(url, event, None, type(exc).__name__)
            logger.warning("webhook to %s failed: %s", urlsplit(url).path, type(exc).__name__)
        with self._lock:
            self.deliveries.append(delivery)
