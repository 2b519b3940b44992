"""Tokens that die early, refreshes that overlap the rate limiter's wait, and the JSON file store's
cache: a seller's shops on separate workers learn of a rejected token from the store (one rejected
call, one refresh), a rejected call gives its slot back, a refresh due by a call's slot happens
while the call waits for it, and the file store keeps every record under concurrent processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tiktokshop._base_client as base_client
from tests.fleet import seller_record
from tiktokshop import (
    AsyncTikTokShop,
    JsonFileTokenStore,
    MemoryTokenStore,
    RateLimiter,
    SellerRecord,
    SqliteTokenStore,
    TikTokShop,
    TokenState,
    TokenStoreError,
)
from tiktokshop.sandbox import Sandbox, SandboxSeller

LIST = "order.get_order_list"
REFRESH = "auth.refresh_access_token"


def _app(sb: Sandbox, **kwargs: Any) -> TikTokShop:
    return TikTokShop(
        app_key=sb.app_key, app_secret=sb.app_secret, base_url=sb.url, auth_base_url=sb.url, **kwargs
    )


def _store(kind: str, tmp_path: Path, redis_url: Callable[[], str]) -> Any:
    if kind == "json":
        return JsonFileTokenStore(tmp_path / "tokens.json")
    if kind == "sqlite":
        return SqliteTokenStore(tmp_path / "tokens.db")
    from tiktokshop import RedisTokenStore

    return RedisTokenStore(redis_url(), prefix=f"stale{os.getpid()}{id(tmp_path)}")


def _refused(sb: Sandbox) -> list[int | None]:
    return [r.code for r in sb.requests.for_op(LIST) if r.code != 0]


@pytest.fixture
def recheck_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call rereads its seller's record (the tests call faster than ``STORE_RECHECK``)."""
    monkeypatch.setattr(base_client, "STORE_RECHECK", 0.0)


@pytest.mark.usefixtures("recheck_always")
@pytest.mark.parametrize("kind", ["json", "sqlite", "redis"])
def test_early_expiry_costs_one_rejected_call_and_one_refresh_across_workers(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    """Two workers (each with its own store object, as two processes), each serving one shop of
    a seller whose token TikTok rejects before its expiry: the first rejection refreshes, the
    other worker reads the new token from the store before it sends."""
    with Sandbox(orders=0, seed=41) as sb:
        seller = sb.add_seller(shops=2)
        stores = [_store(kind, tmp_path, lambda: request.getfixturevalue("redis_url")) for _ in range(3)]
        stores[0].save(seller_record(seller))
        apps = [_app(sb, token_store=store) for store in stores[1:]]
        shops = [
            app.for_seller(seller.open_id).for_shop(s.id) for app, s in zip(apps, seller.shops, strict=True)
        ]
        for shop in shops:
            shop.order.get_order_list(page_size=1)
        sb.expire_access_tokens(seller.open_id)
        for _ in range(2):
            for shop in shops:
                assert shop.order.get_order_list(page_size=1).request_id
        assert _refused(sb) == [105002]
        assert len(sb.requests.for_op(REFRESH)) == 1
        for app in apps:
            app.close()
        for store in stores:
            if hasattr(store, "close"):
                store.close()


@pytest.mark.usefixtures("recheck_always")
def test_async_workers_on_one_file_share_the_early_expiry_too(tmp_path: Path) -> None:
    async def main(sb: Sandbox, seller: SandboxSeller) -> None:
        apps = [
            AsyncTikTokShop(
                app_key=sb.app_key,
                app_secret=sb.app_secret,
                base_url=sb.url,
                auth_base_url=sb.url,
                token_store=JsonFileTokenStore(tmp_path / "tokens.json"),
            )
            for _ in seller.shops
        ]
        shops = []
        for app, shop in zip(apps, seller.shops, strict=True):
            one = app.for_seller(seller.open_id)
            await one.load_seller()
            shops.append(one.for_shop(shop.id))
        for shop in shops:
            await shop.order.get_order_list(page_size=1)
        sb.expire_access_tokens(seller.open_id)
        for shop in shops:
            await shop.order.get_order_list(page_size=1)
        for app in apps:
            await app.close()

    with Sandbox(orders=0, seed=42) as sb:
        seller = sb.add_seller(shops=2)
        JsonFileTokenStore(tmp_path / "tokens.json").save(seller_record(seller))
        asyncio.run(main(sb, seller))
        assert _refused(sb) == [105002]
        assert len(sb.requests.for_op(REFRESH)) == 1


def test_rejection_marks_the_stored_token_stale_before_refreshing() -> None:
    """What the store sees: the rejected token saved as expiring now, then the new tokens."""
    saved: list[SellerRecord] = []

    class Recording(MemoryTokenStore):
        def save(self, record: SellerRecord) -> None:
            saved.append(record.copy())
            super().save(record)

    with Sandbox(orders=0, seed=43) as sb:
        seller = sb.add_seller(shops=1)
        record = seller_record(seller)
        app = _app(sb, token_store=Recording(record))
        sb.expire_access_tokens(seller.open_id)
        app.for_seller(seller.open_id).for_shop(seller.shops[0].id).order.get_order_list(page_size=1)
        app.close()
        stale, fresh = saved[-2:]
        assert stale.tokens.access_token == seller.access_token
        assert (stale.tokens.access_token_expire or 0) < seller.access_token_expire
        assert fresh.tokens.access_token not in (None, seller.access_token)
        assert fresh.tokens.refresh_token != seller.refresh_token


@pytest.mark.usefixtures("recheck_always")
def test_a_token_another_worker_marked_stale_is_refreshed_before_sending(tmp_path: Path) -> None:
    with Sandbox(orders=0, seed=44) as sb:
        seller = sb.add_seller(shops=1)
        store = JsonFileTokenStore(tmp_path / "tokens.json")
        store.save(seller_record(seller))
        app = _app(sb, token_store=JsonFileTokenStore(tmp_path / "tokens.json"))
        shop = app.for_seller(seller.open_id).for_shop(seller.shops[0].id)
        shop.order.get_order_list(page_size=1)
        sb.expire_access_tokens(seller.open_id)
        marked = seller_record(seller)  # another worker was refused this token and marked it
        marked.tokens.access_token_expire = int(sb.clock.now()) - 1
        store.save(marked)
        shop.order.get_order_list(page_size=1)
        assert _refused(sb) == []
        assert len(sb.requests.for_op(REFRESH)) == 1
        app.close()


def test_a_rejected_call_gives_its_slot_back_and_is_repeated_at_once() -> None:
    """TikTok checks the token before it counts the call against the shop's limit: the repeat
    after the refresh takes the rejected call's slot, not the next one."""
    now = [1000.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(overrides={LIST: (None, 0.5)}, clock=lambda: now[0], sleep=sleep)
    with Sandbox(orders=0, seed=45) as sb:
        seller = sb.add_seller(shops=1)
        app = _app(sb, token_store=MemoryTokenStore(seller_record(seller)), rate_limiter=limiter)
        shop = app.for_seller(seller.open_id).for_shop(seller.shops[0].id)
        shop.order.get_order_list(page_size=1)
        sb.expire_access_tokens(seller.open_id)
        shop.order.get_order_list(page_size=1)
        assert _refused(sb) == [105002]
        assert sleeps == [pytest.approx(2.0)]  # the slot of the second call, once
        shop.order.get_order_list(page_size=1)
        assert sleeps == [pytest.approx(2.0)] * 2  # then the normal spacing again
        app.close()


def test_a_refresh_due_by_the_slot_happens_while_the_call_waits() -> None:
    events: list[str] = []
    now = [1000.0]

    def sleep(seconds: float) -> None:
        events.append("wait")
        now[0] += seconds

    limiter = RateLimiter(overrides={LIST: (None, 0.5)}, clock=lambda: now[0], sleep=sleep)
    with Sandbox(orders=0, seed=46) as sb:
        seller = sb.add_seller(shops=1)
        record = seller_record(seller)
        record.tokens.access_token_expire = int(sb.clock.now()) + 3  # due within 1 s of the 2nd slot
        app = _app(
            sb,
            token_store=MemoryTokenStore(record),
            rate_limiter=limiter,
            token_refresh_margin=1,
            on_request=lambda e: events.append(e.operation),
        )
        shop = app.for_seller(seller.open_id).for_shop(seller.shops[0].id)
        shop.order.get_order_list(page_size=1)
        shop.order.get_order_list(page_size=1)
        assert events == [LIST, REFRESH, "wait", LIST]
        app.close()


# -- the JSON file store under processes ---------------------------------------------------------


def _saver(path: str, worker: int, sellers: int, rounds: int, failures: Any) -> None:
    store = JsonFileTokenStore(path)
    try:
        for n in range(1, rounds + 1):
            for i in range(sellers):
                seller = f"w{worker}-s{i}"
                store.save(SellerRecord(seller, TokenState(f"a-{n}", n, f"r-{n}", n)))
            for i in range(sellers):  # read back through the same (caching) store
                loaded = store.load(f"w{worker}-s{i}")
                if loaded is None or loaded.tokens.access_token != f"a-{n}":
                    failures.put(f"w{worker}-s{i} round {n}: {loaded}")
    except Exception as exc:
        failures.put(repr(exc))
    failures.put(None)


def test_file_store_keeps_every_sellers_record_under_concurrent_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "tokens.json")
    watcher = JsonFileTokenStore(path)
    watcher.save(SellerRecord("first", TokenState("a-0", 0, "r-0", 0)))
    assert watcher.sellers() == ["first"]  # cached now: it must see the others' saves below
    ctx = multiprocessing.get_context("spawn")
    failures = ctx.Queue()
    procs = [ctx.Process(target=_saver, args=(path, w, 15, 3, failures)) for w in range(4)]
    for proc in procs:
        proc.start()
    problems = []
    done = 0
    while done < len(procs):
        item = failures.get(timeout=120)
        if item is None:
            done += 1
        else:
            problems.append(item)
    for proc in procs:
        proc.join(30)
    assert problems == []
    expected = ["first"] + [f"w{w}-s{i}" for w in range(4) for i in range(15)]
    for store in (watcher, JsonFileTokenStore(path)):
        assert store.sellers() == sorted(expected)
        assert all((r := store.load(s)) is not None and r.tokens.access_token == "a-3" for s in expected[1:])
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_file_store_sees_every_rewrite_of_the_same_size(tmp_path: Path) -> None:
    """Saves one after another that leave the file the same size, within one clock tick: a
    store that read the file before still sees each new version."""
    path = tmp_path / "tokens.json"
    writer, reader = JsonFileTokenStore(path), JsonFileTokenStore(path)
    for n in range(100, 300):
        writer.save(SellerRecord("s", TokenState(f"a-{n}", n, f"r-{n}", n)))
        loaded = reader.load("s")
        assert loaded is not None and loaded.tokens.access_token == f"a-{n}"


def test_file_store_after_a_failed_save_keeps_the_old_records_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokens.json"
    store = JsonFileTokenStore(path)
    store.save(SellerRecord("a", TokenState("a-1", 1, "r-1", 1)))

    def crash(*args: object) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash)
        with pytest.raises(TokenStoreError, match="Input/output"):
            store.save(SellerRecord("b", TokenState("b-1", 1, "r-1", 1)))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert store.sellers() == ["a"]
    store.save(SellerRecord("c", TokenState("c-1", 1, "r-1", 1)))
    assert JsonFileTokenStore(path).sellers() == ["a", "b", "c"]  # the failed one goes with the next
    store.close()
