"""Client-side rate limiting: one bucket per app+shop per endpoint (per app for shop-less calls).

TikTok limits each API per combination of app and shop (50 requests per second by default, some
endpoints lower; the figures are in ``spec/api.yaml`` and each operation's ``rate_limit``). A
call reserves the next free slot of its bucket (GCRA: a "theoretical arrival time" per bucket),
waits until then and is sent; a call whose slot lies beyond its deadline takes nothing and is
refused at once, and a reservation not used (the wait was cancelled, the call failed before it
was sent, or TikTok refused it at its token check, before its limit) is handed back.

``RateLimiter`` keeps the buckets in this process; ``RedisRateLimiter`` (``tiktokshop[redis]``)
keeps them in Redis for a whole fleet of workers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

from ._operation import Operation

__all__ = ["Limiter", "RateLimiter"]

Rate = float | Literal["spec"] | None


@runtime_checkable
class Limiter(Protocol):
    """What the clients need of a rate limiter (``RateLimiter``, ``RedisRateLimiter``)."""

    def reserve(
        self, op: Operation[Any], shop: str | None, max_wait: float | None = None, *, app: str = ""
    ) -> float | None:
        """Reserve ``op``'s next slot for ``shop``: the seconds until it (0: now), or ``None``
        (nothing taken) when it lies more than ``max_wait`` seconds away."""

    def refund(self, op: Operation[Any], shop: str | None, *, app: str = "") -> None:
        """Hand back a reserved slot that will not be used."""

    async def areserve(
        self, op: Operation[Any], shop: str | None, max_wait: float | None = None, *, app: str = ""
    ) -> float | None:
        """``reserve`` for the async client (never blocks the event loop)."""

    async def arefund(self, op: Operation[Any], shop: str | None, *, app: str = "") -> None:
        """``refund`` for the async client."""

    def sleep(self, seconds: float) -> None:
        """Wait, blocking (the sync client paces calls with it)."""


class _Rates:
    """The rates of an operation: overrides, then the operation's own, then the defaults."""

    def __init__(
        self,
        per_app: Rate,
        per_shop: Rate,
        burst: float,
        overrides: Mapping[str, tuple[float | None, float | None]] | None,
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

    def _bucket(self, op: Operation[Any], shop: str | None, app: str) -> tuple[str, float] | None:
        """The bucket of a call and its rate: per app+shop for a call to a shop, else per app."""
        per_app, per_shop = self._rates(op)
        if shop:
            return (f"{app}|{shop}|{op.id}", per_shop) if per_shop else None
        return (f"{app}||{op.id}", per_app) if per_app else None


class RateLimiter(_Rates):
    """Keeps calls under TikTok's limits before they are sent, instead of meeting HTTP 429s.

    A call to a shop uses its (app, shop, endpoint) bucket at ``per_shop`` requests per second; a
    call that names no shop its (app, endpoint) bucket at ``per_app``. Rates come from
    ``overrides`` (by operation id, e.g. ``"order.get_order_list": (None, 20)``), then the
    operation's own limit in the spec, then ``per_app`` / ``per_shop`` (default ``"spec"``: the
    spec's defaults). ``None`` means no limit. ``burst`` is how many calls may go at once after a
    quiet spell (default 1: strictly even spacing). One limiter serves any number of clients
    (every seller and shop of one app), threads and tasks of one process; for several processes
    or machines use ``RedisRateLimiter``, or give each of N processes ``1/N`` of the rates.
    Raises ``ValueError`` for a rate <= 0 or a burst < 1.
    """

    def __init__(
        self,
        *,
        per_app: Rate = "spec",
        per_shop: Rate = "spec",
        burst: float = 1.0,
        overrides: Mapping[str, tuple[float | None, float | None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(per_app, per_shop, burst, overrides)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def reserve(
        self, op: Operation[Any], shop: str | None, max_wait: float | None = None, *, app: str = ""
    ) -> float | None:
        """Reserve ``op``'s next slot for ``shop``: the seconds until it (0: now), or ``None``
        (nothing taken) when it lies more than ``max_wait`` seconds away. Never blocks."""
        bucket = self._bucket(op, shop, app)
        if bucket is None:
            return 0.0
        key, rate = bucket
        interval = 1.0 / rate
        tolerance = (self._burst - 1.0) * interval
        with self._lock:
            now = self._clock()
            tat = self._tat.get(key, now)
            wait = max(0.0, tat - tolerance - now)
            if wait < 1e-9:  # float refills (0.02 s x 50/s) may land a hair off
                wait = 0.0
            if max_wait is not None and wait > max_wait:
                return None
            self._tat[key] = max(tat, now) + interval
            return wait

    def refund(self, op: Operation[Any], shop: str | None, *, app: str = "") -> None:
        """Hand back a slot reserved and not used."""
        bucket = self._bucket(op, shop, app)
        if bucket is not None:
            with self._lock:
                if bucket[0] in self._tat:
                    self._tat[bucket[0]] -= 1.0 / bucket[1]

    async def areserve(
        self, op: Operation[Any], shop: str | None, max_wait: float | None = None, *, app: str = ""
    ) -> float | None:
        """``reserve`` (in memory: never waits)."""
        return self.reserve(op, shop, max_wait, app=app)

    async def arefund(self, op: Operation[Any], shop: str | None, *, app: str = "") -> None:
        """``refund`` (in memory)."""
        self.refund(op, shop, app=app)

    def try_acquire(self, op: Operation[Any], shop: str | None, *, app: str = "") -> float:
        """Take a slot for ``op`` and ``shop`` if one is free now (return 0), else take nothing
        and return the seconds until the next one."""
        wait = self.reserve(op, shop, 0.0, app=app)
        if wait is not None:
            return 0.0
        bucket = self._bucket(op, shop, app)
        assert bucket is not None
        with self._lock:
            tat = self._tat.get(bucket[0], 0.0)
            return max(1e-6, tat - (self._burst - 1.0) / bucket[1] - self._clock())

    def sleep(self, seconds: float) -> None:
        """Wait, blocking, on the limiter's clock (the sync client paces calls with it)."""
        self._sleep(seconds)

    def acquire(self, op: Operation[Any], shop: str | None, *, app: str = "") -> float:
        """Wait (blocking) until ``op`` may be sent for ``shop``; return the seconds waited."""
        wait = self.reserve(op, shop, app=app) or 0.0
        if wait > 0:
            self.sleep(wait)
        return wait
