"""Sellers and shops against the sandbox: onboarding, one token pair for every shop, "authorize
again", the limiter's deadline, the sandbox's documented limits, and the Redis store and limiter."""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import time
from pathlib import Path

import pytest

from tiktokshop import (
    AsyncTikTokShop,
    AuthenticationError,
    JsonFileTokenStore,
    RateLimiter,
    RateLimitError,
    RateLimitWaitError,
    ReauthorizationRequired,
    RequestTimeoutError,
    SellerRecord,
    TikTokShop,
    TokenState,
)
from tiktokshop.sandbox import Sandbox

LIST = "order.get_order_list"
REFRESH = "auth.refresh_access_token"


def _app(sb: Sandbox, **kwargs: object) -> TikTokShop:
    return TikTokShop(
        app_key=sb.app_key,
        app_secret=sb.app_secret,
        base_url=sb.url,
        auth_base_url=sb.url,
        clock=sb.clock.now,
        **kwargs,  # type: ignore[arg-type]
    )


def test_onboarding_two_sellers_then_calling_every_shop(tmp_path: Path) -> None:
    with Sandbox(orders=20, seed=31) as sb:
        second = sb.add_seller(shops=2)
        store = JsonFileTokenStore(tmp_path / "tokens.json")
        app = _app(sb, token_store=store)
        for open_id in (sb.state.open_id, second.open_id):  # each seller's callback brings a code
            onboarding = app.for_seller("new")
            token = onboarding.auth.get_access_token(sb.issue_auth_code(open_id), load_shops=True)
            assert token.open_id == open_id == onboarding.seller_id
        assert sorted(store.sellers()) == sorted([sb.state.open_id, second.open_id])
        worker = _app(sb, token_store=JsonFileTokenStore(tmp_path / "tokens.json"))
        for open_id in store.sellers():
            seller = worker.for_seller(open_id)
            assert len(seller.shops) == 2
            for shop in seller.shops:
                page = seller.for_shop(shop).order.get_order_list(page_size=5)
                assert page.request_id
        sb.expire_access_tokens()
        for open_id in store.sellers():  # one refresh per seller serves both of its shops
            seller = worker.for_seller(open_id)
            for shop in seller.shops:
                seller.for_shop(shop.id).order.get_order_list(page_size=5)
        assert len(sb.requests.for_op(REFRESH)) == 2
        refused = [r.code for r in sb.requests.for_op(LIST)[-6:] if r.code != 0]
        assert refused == [105002, 105002]  # the first call of each seller learnt of the expiry
        worker.close()
        app.close()


def test_a_shop_keyed_store_would_have_failed_and_a_seller_keyed_one_does_not() -> None:
    """The old README's advice (one store entry per shop) spends one refresh token twice."""
    with Sandbox(orders=10, seed=32) as sb:
        client = sb.client(seller=sb.state.open_id, access_token_expire=None)
        shops = [client.for_shop(shop_cipher=s.cipher, shop_id=s.id) for s in sb.shops]
        sb.expire_access_tokens()
        for shop in shops:
            shop.order.get_order_list(page_size=1)
        client.close()
        refreshes = sb.requests.for_op(REFRESH)
        assert len(refreshes) == 1 and refreshes[0].code == 0


def test_revoked_authorization_raises_reauthorization_required() -> None:
    with Sandbox(orders=10, seed=33) as sb:
        with sb.client(seller=sb.state.open_id) as client:
            sb.revoke()
            with pytest.raises(ReauthorizationRequired) as info:
                client.order.get_order_list(page_size=1)
        error = info.value
        assert isinstance(error, AuthenticationError) and error.seller == sb.state.open_id
        assert error.code == 36004014 and sb.state.open_id in str(error)
        again = pickle.loads(pickle.dumps(error))
        assert isinstance(again, ReauthorizationRequired) and again.seller == error.seller
        assert client.refresh_token not in str(error)


def test_async_reauthorization_required_when_the_refresh_token_expired() -> None:
    with Sandbox(orders=10, seed=34) as sb:

        async def main() -> None:
            async with AsyncTikTokShop(
                app_key=sb.app_key,
                app_secret=sb.app_secret,
                base_url=sb.url,
                auth_base_url=sb.url,
                seller="seller-9",
                shop_cipher=sb.shop_cipher,
                access_token=sb.access_token,
                refresh_token=sb.refresh_token,
                access_token_expire=int(sb.clock.now()) - 1,
                refresh_token_expire=int(sb.clock.now()) - 1,
            ) as client:
                with pytest.raises(ReauthorizationRequired, match="seller-9 must authorize"):
                    await client.order.get_order_list(page_size=1)

        asyncio.run(main())
        assert len(sb.requests) == 0, "known in advance: nothing was sent"


def test_limiter_that_cannot_serve_in_time_sends_nothing_and_keeps_no_slot() -> None:
    with Sandbox(orders=10, seed=35) as sb:
        limiter = RateLimiter(overrides={LIST: (None, 0.5)})  # one call per 2 s for the shop
        client = sb.client(rate_limiter=limiter, total_timeout=0.5)
        patient = client.for_shop(shop_cipher=sb.shop_cipher)
        client.order.get_order_list(page_size=1)
        sent = len(sb.requests)
        started = time.monotonic()
        with pytest.raises(RateLimitWaitError, match="nothing was sent") as info:
            client.order.get_order_list(page_size=1)
        assert time.monotonic() - started < 0.3, "refused at once, not after waiting"
        assert isinstance(info.value, RequestTimeoutError) and info.value.nothing_sent
        assert len(sb.requests) == sent
        # The refused call took no slot: the next one waits for the first slot, not a later one.
        started = time.monotonic()
        patient._config = dataclasses.replace(patient._config, total_timeout=5)
        patient.order.get_order_list(page_size=1)
        assert time.monotonic() - started < 2.2
        client.close()


def test_cancelled_wait_gives_the_slot_back() -> None:
    with Sandbox(orders=10, seed=36) as sb:
        limiter = RateLimiter(overrides={LIST: (None, 1.0)})

        async def main() -> float:
            async with AsyncTikTokShop(
                app_key=sb.app_key,
                app_secret=sb.app_secret,
                base_url=sb.url,
                auth_base_url=sb.url,
                shop_cipher=sb.shop_cipher,
                access_token=sb.access_token,
                rate_limiter=limiter,
            ) as client:
                await client.order.get_order_list(page_size=1)
                waiting = [asyncio.create_task(client.order.get_order_list(page_size=1)) for _ in range(3)]
                await asyncio.sleep(0.1)
                for task in waiting:
                    task.cancel()
                await asyncio.gather(*waiting, return_exceptions=True)
                started = time.monotonic()
                await client.order.get_order_list(page_size=1)
                return time.monotonic() - started

        assert asyncio.run(main()) < 1.5, "three cancelled reservations were handed back"


def test_sandbox_rate_limits_true_enforces_the_documented_default() -> None:
    from tiktokshop.resources._api import DEFAULT_RATE_LIMIT

    assert DEFAULT_RATE_LIMIT == (50.0, 50.0)
    with Sandbox(orders=10, seed=37, rate_limits=True) as sb:
        client = sb.client(max_retries=0)
        refused = None
        for _ in range(120):
            try:
                client.order.get_order_list(page_size=1)
            except RateLimitError as exc:
                refused = exc
                break
        assert refused is not None, "more than 50 calls a second for one shop are refused"
        assert refused.code == 36009002 and refused.status_code == 429 and refused.retry_after
        ok = [r for r in sb.requests if r.status == 200]
        assert len(ok) >= 50
        other = client.for_shop(shop_cipher=sb.shops[1].cipher)
        other.order.get_order_list(page_size=1)  # another shop has its own limit
        client.close()


# -- Redis ----------------------------------------------------------------------------------------


def test_redis_store_round_trip_sync_and_async(redis_url: str) -> None:
    from tiktokshop import RedisTokenStore, TokenStoreError

    store = RedisTokenStore(redis_url, prefix="rt")
    record = SellerRecord("s1", TokenState("a", 1, "r", 2), name="One")
    store.save(record)
    assert store.load("s1").tokens.access_token == "a"  # type: ignore[union-attr]
    assert store.sellers() == ["s1"] and store.load("nobody") is None

    async def main() -> None:
        await store.asave(SellerRecord("s2", TokenState("b", 1, "r2", 2)))
        assert (await store.aload("s2")).tokens.refresh_token == "r2"  # type: ignore[union-attr]
        assert await store.asellers() == ["s1", "s2"]
        async with store.alock("s1"):
            with pytest.raises(TokenStoreError, match="not free"):
                async with other.alock("s1"):
                    pass
        await store.aclose()
        await other.aclose()

    other = RedisTokenStore(redis_url, prefix="rt", lock_timeout=0.2)
    asyncio.run(main())
    with store.lock("s1"), pytest.raises(TokenStoreError, match="not free"):  # noqa: SIM117
        with RedisTokenStore(redis_url, prefix="rt", lock_timeout=0.2).lock("s1"):
            pass
    dead = RedisTokenStore("redis://127.0.0.1:1/0", prefix="x")
    with pytest.raises(TokenStoreError, match="ConnectionError"):
        dead.load("s1")


def test_redis_limiter_spaces_calls_of_many_limiters_as_one(redis_url: str) -> None:
    from tiktokshop import RedisRateLimiter
    from tiktokshop.resources.order import OPERATIONS

    op = next(o for o in OPERATIONS if o.id == LIST)
    limiters = [RedisRateLimiter(redis_url, prefix="rl", overrides={LIST: (None, 10.0)}) for _ in range(3)]
    waits = [limiters[i % 3].reserve(op, "shop-a", app="k") for i in range(9)]
    assert waits[0] == 0 and waits == sorted(waits)
    assert waits[-1] == pytest.approx(0.8, abs=0.05)  # 9 calls at 10/s: the last 0.8 s out
    assert limiters[0].reserve(op, "shop-a", 0.1, app="k") is None  # beyond max_wait: nothing taken
    assert limiters[1].reserve(op, "shop-b", app="k") == 0  # another shop, its own bucket
    limiters[2].refund(op, "shop-a", app="k")
    again = limiters[0].reserve(op, "shop-a", app="k")
    assert again is not None and again == pytest.approx(waits[-1], abs=0.05)

    async def main() -> float | None:
        try:
            return await limiters[0].areserve(op, "shop-c", app="k")
        finally:
            await limiters[0].aclose()

    assert asyncio.run(main()) == 0
