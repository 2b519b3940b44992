"""Many sellers on many workers against the sandbox over HTTP, rate limits on, every access token
expiring mid-run (at the time stored with them, which the clients see coming; in one scenario
unannounced: the sandbox rejects them): refreshes per seller, failed calls, HTTP 429s, throughput
against the sandbox's limit over the steady state, latency. Token stores: one JSON file, and Redis
(which also holds the fleet's rate limiter).

Run: `make bench` or `.venv/bin/python benchmarks/bench_sellers.py [--quick]`. Figures, not pass/fail.
Each scenario also says where the steady state's calls short of the limit went: the clients'
pacing (95% of the limit), gaps around the expiry, calls late for their slot elsewhere, and the
window's edges.
The sandbox allows 0.5 calls per second per shop on the endpoint used (412 shops: 206 calls/s),
a figure a 2-core machine can serve; clients pace themselves at 95% of it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fleet import REFUSAL_GRACE, FleetResult, run_fleet
from tests.redis_server import redis_server

SCENARIOS = [
    (
        "file  8 processes x 25 threads",
        {"store": "file", "mode": "threads", "processes": 8, "concurrency": 25},
    ),
    (
        "redis 8 processes x 25 threads",
        {"store": "redis", "mode": "threads", "processes": 8, "concurrency": 25},
    ),
    ("file  1 process x 200 tasks", {"store": "file", "mode": "async", "processes": 1, "concurrency": 200}),
    ("redis 1 process x 200 tasks", {"store": "redis", "mode": "async", "processes": 1, "concurrency": 200}),
    ("file  4 processes x 50 tasks", {"store": "file", "mode": "async", "processes": 4, "concurrency": 50}),
    ("redis 4 processes x 50 tasks", {"store": "redis", "mode": "async", "processes": 4, "concurrency": 50}),
    (
        "file  8 x 25 threads, tokens expiring unannounced",
        {"store": "file", "mode": "threads", "processes": 8, "concurrency": 25, "known_expiry": False},
    ),
    (
        "redis 8 x 25 threads, tokens expiring unannounced",
        {"store": "redis", "mode": "threads", "processes": 8, "concurrency": 25, "known_expiry": False},
    ),
    (
        "file  4 x 25 threads, lock holder killed -9",
        {"store": "file", "mode": "threads", "processes": 4, "concurrency": 25, "kill_lock_holder": True},
    ),
    (
        "redis 4 x 25 threads, lock holder killed -9",
        {"store": "redis", "mode": "threads", "processes": 4, "concurrency": 25, "kill_lock_holder": True},
    ),
]


def verdict(result: FleetResult, known_expiry: bool) -> str:
    twice = sum(1 for n in result.refreshes.values() if n > 1)
    reached = sum(1 for n in result.refreshes.values() if n == 1)
    share = result.throughput / result.limit_qps
    checks = [
        (f"no seller refreshed twice ({reached}/{len(result.refreshes)} called after the expiry)", not twice),
        ("0 failed", result.failed == 0),
        ("0 HTTP 429", result.http_429 == 0),
        (">= 90% of the limit", share >= 0.9),
        (
            ("0 calls rejected", result.rejected == 0)
            if known_expiry
            else (
                f"one rejected call per seller but for calls already sent ({result.rejected}; "
                f"{result.rejected_twice} sellers more than once, {result.rejected_late} refused over "
                f"{REFUSAL_GRACE} s after their first refusal)",
                result.rejected_late == 0,
            )
        ),
    ]
    return ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks)


def main() -> None:
    quick = "--quick" in sys.argv
    sellers, duration = (40, 6.0) if quick else (200, 12.0)
    started = time.time()
    with redis_server() as url, tempfile.TemporaryDirectory() as workdir:
        for index, (name, options) in enumerate(SCENARIOS):
            load = os.getloadavg()[0]
            result = run_fleet(
                sellers=sellers,
                duration=duration,
                expire_after=duration / 3,
                sandbox_rate=0.5,
                workdir=f"{workdir}/{index}",
                redis_url=url,
                lock_ttl=3.0,
                seed=index + 1,
                **{"known_expiry": True, **options},  # type: ignore[arg-type]
            )
            print(f"{name} (load average {load:.1f} -> {os.getloadavg()[0]:.1f}): {result.summary()}")
            print(f"    {verdict(result, options.get('known_expiry', True))}")
            print(f"    short of the limit: {result.loss_summary()}")
            for error in result.errors[:3]:
                print(f"    error: {error}")
    print(f"total {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
