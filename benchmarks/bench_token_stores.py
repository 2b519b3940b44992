"""What a token store's operations cost, per call, for 200 and 2000 sellers (2 shops each): a load
(a client reads its seller's record before calls, at most every 0.1 s per process), a save (after
each refresh) and a seller's lock taken and released. CPU time (``process_time``) and wall time,
so that figures hold on a busy machine. Figures, not pass/fail.

Run: `make bench` or `.venv/bin/python benchmarks/bench_token_stores.py`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tiktokshop import AuthorizedShop, JsonFileTokenStore, SellerRecord, SqliteTokenStore, TokenState


def _seller(i: int) -> str:
    return f"seller{i:05d}"


def _record(i: int, n: int = 0) -> SellerRecord:
    return SellerRecord(
        _seller(i),
        TokenState(f"{'A' * 40}{n:08d}", 2_000_000_000 + n, f"{'R' * 40}{n:08d}", 2_100_000_000 + n),
        name=f"Seller {i}",
        region="GB",
        shops=tuple(AuthorizedShop(f"{i}{j}", "C" * 30, "GB", f"Shop {j}") for j in range(2)),
    )


def _time(repeat: int, action: Callable[[int], Any]) -> str:
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(repeat):
        action(n)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return f"{cpu / repeat * 1e6:7.0f} us CPU {wall / repeat * 1e6:7.0f} us wall"


def _lock(store: Any, seller: str) -> None:
    with store.lock(seller):
        pass


def main() -> None:
    for sellers in (200, 2000):
        with tempfile.TemporaryDirectory() as workdir:
            stores = {
                "JsonFileTokenStore": JsonFileTokenStore(os.path.join(workdir, "tokens.json")),
                "SqliteTokenStore": SqliteTokenStore(os.path.join(workdir, "tokens.db")),
            }
            for name, store in stores.items():
                for i in range(sellers):
                    store.save(_record(i))
                print(f"{name}, {sellers} sellers:")
                print(f"    load          {_time(500, lambda n, s=store, k=sellers: s.load(_seller(n % k)))}")
                print(
                    f"    save          {_time(100, lambda n, s=store, k=sellers: s.save(_record(n % k, n)))}"
                )
                print(
                    f"    lock + unlock {_time(300, lambda n, s=store, k=sellers: _lock(s, _seller(n % k)))}"
                )
            stores["JsonFileTokenStore"].close()


if __name__ == "__main__":
    main()
