"""Webhook receiver throughput (figures, not pass/fail): deliveries per second through
``WebhookReceiver.handle`` (verify, parse into the typed event, de-duplicate, dispatch to one
handler), with the in-memory and the SQLite store, and for duplicates; median of 3 runs."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tiktokshop.webhooks import (
    MemoryDedupStore,
    SqliteDedupStore,
    WebhookReceiver,
    expected_signature,
)

KEY, SECRET, N = "bench-key", "bench-secret", 3000


def deliveries() -> list[tuple[bytes, dict[str, str]]]:
    now = int(time.time())
    out = []
    for i in range(N):
        body = json.dumps(
            {
                "type": 1,
                "tts_notification_id": f"n{i}",
                "shop_id": "7001",
                "timestamp": now,
                "data": {
                    "order_id": str(576000 + i),
                    "order_status": "AWAITING_SHIPMENT",
                    "update_time": now,
                },
            }
        ).encode()
        out.append((body, {"Authorization": expected_signature(body, app_key=KEY, app_secret=SECRET)}))
    return out


def rate(store_factory: Any, items: list[tuple[bytes, dict[str, str]]], repeat: bool = False) -> float:
    runs = []
    for _ in range(3):
        receiver = WebhookReceiver(app_key=KEY, app_secret=SECRET, store=store_factory())
        receiver.on("ORDER_STATUS_CHANGE")(lambda event: None)
        if repeat:
            for body, headers in items:
                receiver.handle(body, headers)
        started = time.perf_counter()
        for body, headers in items:
            receiver.handle(body, headers)
        runs.append(len(items) / (time.perf_counter() - started))
    return statistics.median(runs)


def main() -> None:
    items = deliveries()
    print(f"memory store:            {rate(MemoryDedupStore, items):8.0f} deliveries/s")
    print(f"memory store, duplicates:{rate(MemoryDedupStore, items, repeat=True):8.0f} deliveries/s")
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(100))
        sqlite = rate(lambda: SqliteDedupStore(Path(tmp) / f"seen{next(counter)}.sqlite"), items[:500])
        print(f"sqlite store:            {sqlite:8.0f} deliveries/s")


if __name__ == "__main__":
    main()
