"""Client-side rate limiting: token buckets per app and per shop, per endpoint, shared by threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from ._operation import Operation

__all__ = ["RateLimiter"]


class _Bucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now


class RateLimiter:
    """Keeps calls under TikTok's limits before they are sent, instead of meeting HTTP 429s.

    TikTok limits each endpoint per app and per shop. Each (endpoint, app) and (endpoint, shop)
    pair gets a token bucket refilled at its rate (requests per second); a call waits until both
    of its buckets have a token. Rates come from ``overrides`` (by operation id, e.g.
    ``"order.get_order_list": (100, 20)``), then the operation's own limit in the spec, then
    ``per_app`` / ``per_shop`` (default ``"spec"``: the spec's defaults in ``spec/api.yaml``).
    ``None`` means no limit at that level. ``burst`` is how many calls may go at once after a
    quiet spell (default 1: strictly even spacing). One limiter may serve many clients (all the
    shops of one app) and threads.
    """

    def __init__(
        self,
        *,
        per_app: float | Literal["spec"] | None = "spec",
        per_shop: float | Literal["spec"] | None = "spec",
        burst: float = 1.0,
        overrides: Mapping[str, tuple[float | None, float | None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        for name, value in (("per_app", per_app), ("per_shop", per_shop)):
            if value is not None and not isinstance(value, str) and value <= 0:
                raise ValueError(f"{name} must be a positive rate (requests per second) or None")
        self._per_app = per_app
        self._per_shop = per_shop
        self._burst = float(burst)
        self._overrides = dict(overrides or {})
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}

    def _rates(self, op: Operation[Any]) -> tuple[float | None, float | None]:
        if op.id in self._overrides:
            return self._overrides[op.id]
        if op.rate_limit is not None:
            return op.rate_limit
        from .resources._api import DEFAULT_RATE_LIMIT

        return (
            DEFAULT_RATE_LIMIT[0] if isinstance(self._per_app, str) else self._per_app,
            DEFAULT_RATE_LIMIT[1] if isinstance(self._per_shop, str) else self._per_shop,
        )

    def try_acquire(self, op: Operation[Any], shop: str | None) -> float:
        """Take a token for ``op`` and ``shop`` if both buckets have one (return 0), else return
        the seconds to wait before trying again. Never blocks: sync and async callers share it."""
        per_app, per_shop = self._rates(op)
        keys: list[tuple[tuple[str, str, str], float]] = []
        if per_app is not None:
            keys.append((("app", "", op.id), per_app))
        if per_shop is not None and shop:
            keys.append((("shop", shop, op.id), per_shop))
        with self._lock:
            now = self._clock()
            buckets = []
            for key, rate in keys:
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = _Bucket(rate, min(self._burst, max(rate, 1.0)), now)
                buckets.append(bucket)
            # Take from every bucket only when all have a token, so no token is wasted.
            waits = []
            for bucket in buckets:
                bucket.tokens = min(bucket.capacity, bucket.tokens + (now - bucket.updated) * bucket.rate)
                bucket.updated = now
                # A hair of tolerance: float refills (0.02 s x 50/s) may land just under 1.
                waits.append(0.0 if bucket.tokens >= 1 - 1e-9 else (1 - bucket.tokens) / bucket.rate)
            wait = max(waits, default=0.0)
            if wait == 0.0:
                for bucket in buckets:
                    bucket.tokens = max(0.0, bucket.tokens - 1)
            return wait

    def sleep(self, seconds: float) -> None:
        """Wait, blocking, on the limiter's clock (the sync client paces calls with it)."""
        self._sleep(seconds)

    def acquire(self, op: Operation[Any], shop: str | None) -> float:
        """Wait (blocking) until ``op`` may be sent for ``shop``; return the seconds waited."""
        waited = 0.0
        while (wait := self.try_acquire(op, shop)) > 0:
            self.sleep(wait)
            waited += wait
        return waited
