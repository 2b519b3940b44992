"""Benchmark: order search on a sandbox holding 100,000 orders, over real HTTP with the client.

    make bench      (or: .venv/bin/python benchmarks/bench_sandbox_search.py [--orders N] [--requests N])

Prints how long the seed took, the sandbox's memory (resident set growth while it was built),
and requests per second with latency percentiles for a fixed mix of searches: status and
create/update time filters, both sort fields and orders, page sizes 20-100, and next pages.
Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tiktokshop.sandbox import ORDER_STATUSES, Sandbox

DAY = 86400


def rss_bytes() -> int:
    """Current resident set size (Linux /proc), else the peak from getrusage."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * resource.getpagesize()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()

    import tiktokshop.sandbox._app as app_module

    app_module.load_operations()  # import every domain first: its memory is not the sandbox's
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    sandbox = Sandbox(orders=args.orders, seed=1)
    seeded = time.perf_counter() - started
    gc.collect()
    grown = rss_bytes() - before
    print(f"seed: {args.orders:,} orders in {seeded:.2f} s; sandbox memory +{grown / 2**20:.0f} MiB RSS")

    rng = random.Random(7)
    now = int(sandbox.clock.now())
    statuses: list[Any] = [None, *ORDER_STATUSES]
    latencies: list[float] = []
    returned = 0
    with sandbox, sandbox.client(max_retries=0) as client:
        previous = None
        started = time.perf_counter()
        for n in range(args.requests):
            t0 = time.perf_counter()
            if previous is not None and n % 4 == 3 and previous.has_next_page():
                page = previous.next_page()
            else:
                filters: dict[str, Any] = {"order_status": rng.choice(statuses)}
                window = rng.choice((1, 7, 30))
                start = now - rng.randrange(window, 90) * DAY
                field = rng.choice(("create_time", "update_time"))
                if rng.random() < 0.8:
                    filters[f"{field}_ge"] = start
                    filters[f"{field}_lt"] = start + window * DAY
                if rng.random() < 0.15:  # a filter on the other field: the index cannot serve it alone
                    other = "update_time" if field == "create_time" else "create_time"
                    filters[f"{other}_ge"] = start
                page = client.order.get_order_list(
                    page_size=rng.choice((20, 50, 100)),
                    sort_field=rng.choice(("create_time", "update_time")),
                    sort_order=rng.choice(("ASC", "DESC")),
                    **filters,
                )
            latencies.append(time.perf_counter() - t0)
            returned += len(page.orders or [])
            previous = page
        elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    print(
        f"search: {args.requests:,} requests in {elapsed:.2f} s = {args.requests / elapsed:,.0f} requests/s "
        f"(p50 {p50:.1f} ms, p95 {p95:.1f} ms; {returned / args.requests:.0f} orders per answer; "
        "client and server in one process)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
