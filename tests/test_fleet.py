"""Many sellers on many workers: one refresh per seller per expiry across processes, no failed
call, no HTTP 429 (the issue's scenarios at test size; benchmarks/bench_sellers.py runs them full)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fleet import FleetResult, run_fleet


def _check(result: FleetResult) -> None:
    assert result.errors == [], result.errors[:3]
    assert result.http_429 == 0
    assert set(result.refreshes.values()) == {1}, result.refreshes
    assert result.calls > result.shops  # every shop was called before and after the expiry


@pytest.mark.parametrize("mode", ["threads", "async"])
def test_fleet_sharing_a_token_file(tmp_path: Path, mode: str) -> None:
    _check(
        run_fleet(
            store="file", mode=mode, processes=2, concurrency=4, sellers=6, duration=5, workdir=str(tmp_path)
        )
    )


@pytest.mark.parametrize("mode", ["threads", "async"])
def test_fleet_sharing_tokens_and_limits_through_redis(tmp_path: Path, redis_url: str, mode: str) -> None:
    _check(
        run_fleet(
            store="redis",
            mode=mode,
            processes=2,
            concurrency=4,
            sellers=6,
            duration=5,
            workdir=str(tmp_path),
            redis_url=redis_url,
            share=2,  # each shop served by two workers in two processes, paced by one Redis bucket
        )
    )


@pytest.mark.parametrize("store", ["redis", "file"])
def test_killed_lock_holder_blocks_nobody_for_long(tmp_path: Path, redis_url: str, store: str) -> None:
    """A worker killed -9 while it holds a seller's refresh lock: the others refresh once the lock
    expires (Redis) or at once (the OS drops a dead process's file lock); no call fails, no token is lost."""
    result = run_fleet(
        store=store,
        processes=2,
        concurrency=3,
        sellers=4,
        duration=7,
        workdir=str(tmp_path),
        redis_url=redis_url,
        kill_lock_holder=True,
        lock_ttl=2.0,
    )
    _check(result)
