"""Failures on demand: the next N requests to an operation fail the way real networks and TikTok do."""

# pyright: standard

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["FAULT_KINDS", "Fault", "FaultKind", "Faults", "RateLimiter"]

FaultKind = Literal[
    "http_429",  # HTTP 429 with Retry-After, nothing processed
    "http_5xx",  # HTTP 5xx (``status``) with a gateway page, nothing processed
    "rate_limit_code",  # HTTP 200 envelope with TikTok's rate-limit code, nothing processed
    "internal_code",  # HTTP 200 envelope with TikTok's internal-error code, nothing processed
    "drop_before",  # the connection closes before the request is processed
    "drop_after",  # the request is processed (state changes), then the connection closes unanswered
    "slow",  # the answer comes after ``delay`` seconds (real time)
    "malformed_json",  # the request is processed, the answer is not JSON
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass
class Fault:
    """One armed fault: its operation (an op id like ``order.get_order_list``, or ``*``), kind and count."""

    op: str
    kind: FaultKind
    remaining: int
    retry_after: float = 1.0
    status: int = 503
    delay: float = 1.0


class Faults:
    """The faults armed on a sandbox. ``inject`` arms one; each matching request uses one up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []

    def inject(
        self,
        op: str,
        kind: FaultKind,
        *,
        times: int = 1,
        retry_after: float = 1.0,
        status: int = 503,
        delay: float = 1.0,
    ) -> Fault:
        """Make the next ``times`` requests to ``op`` (an operation id, or ``*`` for any) fail as ``kind``.

        ``retry_after`` is the Retry-After of ``http_429``, ``status`` the status of ``http_5xx``,
        ``delay`` the seconds of ``slow``. Raises ``ValueError`` for an unknown kind or bad numbers.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if kind == "http_5xx" and not 500 <= status <= 599:
            raise ValueError("status of http_5xx must be 500 to 599")
        fault = Fault(op, kind, times, retry_after=retry_after, status=status, delay=delay)
        with self._lock:
            self._armed.append(fault)
        return fault

    def take(self, op_id: str) -> Fault | None:
        """Use up one fault armed for ``op_id`` (the first armed, exact or ``*``), if any."""
        with self._lock:
            for fault in self._armed:
                if fault.op in (op_id, "*"):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._armed.remove(fault)
                    return fault
        return None

    @property
    def pending(self) -> list[Fault]:
        """The faults still armed (a copy)."""
        with self._lock:
            return list(self._armed)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._armed.clear()


class RateLimiter:
    """Requests per second per operation, enforced per app and per shop with token buckets.

    ``limits`` maps an op id (or ``*``) to requests per second for the app and for each shop;
    ``spec_limits`` gives an operation's own ``(per app, per shop)`` limits from the spec, used when
    ``limits`` names none. A call to a shop counts in its app+shop bucket, a call that names no shop
    in the app's. Buckets hold one second of requests (at least two, so a client pacing calls evenly
    at the limit is not refused for network jitter) and refill on ``monotonic`` time.
    """

    def __init__(
        self,
        limits: Mapping[str, float],
        spec_limits: Callable[[str], tuple[float | None, float | None] | None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        for op_id, rate in limits.items():
            if rate <= 0:
                raise ValueError(f"rate limit of {op_id} must be > 0 requests per second")
        self._limits = dict(limits)
        self._spec = spec_limits
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def _rates(self, op_id: str) -> tuple[float | None, float | None]:
        rate = self._limits.get(op_id, self._limits.get("*"))
        if rate is not None:
            return rate, rate
        spec = self._spec(op_id) if self._spec is not None else None
        return spec if spec is not None else (None, None)

    def acquire(self, op_id: str, shop_id: str | None) -> float:
        """Take one request from the bucket of ``op_id`` for this app and ``shop_id`` (TikTok counts
        each app+shop pair; a call that names no shop counts for the app); returns 0, or the
        seconds to wait when over."""
        per_app, per_shop = self._rates(op_id)
        key, rate = (
            (f"shop:{shop_id}:{op_id}", per_shop) if shop_id is not None else (f"app:{op_id}", per_app)
        )
        if rate is None:
            return 0.0
        capacity = max(rate, 2.0)
        now = self._monotonic()
        with self._lock:
            level, last = self._buckets.get((key, ""), (capacity, now))
            level = min(capacity, level + (now - last) * rate)
            if level < 1:
                return math.ceil((1 - level) / rate * 1000) / 1000
            self._buckets[(key, "")] = (level - 1, now)
        return 0.0
