"""The async client: same spec, same core (retries, tokens, signing), calls awaited."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.fake import API, APP_KEY, APP_SECRET, AUTH, SHOP_CIPHER, FakeTikTok
from tiktokshop import AsyncTikTokShop, ConfigurationError, ServerError, ValidationError
from tiktokshop.sandbox import Sandbox
from tiktokshop.types.order import GetOrderListPage

SEARCH = ("POST", "/order/202309/orders/search")
SHOPS = ("GET", "/authorization/202309/shops")


async def _no_sleep(seconds: float) -> None:
    return None


def _client(fake: FakeTikTok, **overrides: Any) -> AsyncTikTokShop:
    kwargs: dict[str, Any] = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "service_id": "7000000000000000001",
        "shop_cipher": SHOP_CIPHER,
        "access_token": fake.access_token,
        "refresh_token": fake.refresh_token,
        "base_url": API,
        "auth_base_url": AUTH,
        "sleep": _no_sleep,
        "http_client": httpx.AsyncClient(transport=httpx.MockTransport(fake)),
    }
    kwargs.update(overrides)
    return AsyncTikTokShop(**kwargs)


def test_calls_are_awaited_typed_and_signed(fake: FakeTikTok) -> None:
    pages = {"": (["1", "2"], "t2"), "t2": (["3"], "")}
    fake.on(
        *SEARCH,
        lambda s: {
            "orders": [{"id": i} for i in pages[s.query.get("page_token", "")][0]],
            "next_page_token": pages[s.query.get("page_token", "")][1],
        },
    )

    async def run() -> list[str]:
        async with _client(fake) as client:
            page = await client.order.get_order_list(page_size=2, order_status="UNPAID")
            assert isinstance(page, GetOrderListPage) and page.request_id
            return [o.id async for o in page.auto_paging_aiter()]  # type: ignore[misc]

    assert asyncio.run(run()) == ["1", "2", "3"]
    assert [s.json for s in fake.seen] == [{"order_status": "UNPAID"}] * 2
    assert all(s.signature_ok for s in fake.seen)


def test_bad_input_raises_before_sending(fake: FakeTikTok) -> None:
    async def run() -> None:
        async with _client(fake) as client:
            with pytest.raises(ValidationError) as info:
                await client.order.get_order_list(page_size="10")  # type: ignore[arg-type]
            assert info.value.field == "page_size"

    asyncio.run(run())
    assert fake.seen == []


def test_two_hundred_tasks_on_an_expired_token_share_one_refresh(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})

    async def run() -> None:
        async with _client(fake, access_token_expire=int(fake.now()) - 1) as client:
            await asyncio.gather(*(client.authorization.get_authorized_shops() for _ in range(200)))
            assert client.access_token == fake.access_token

    asyncio.run(run())
    assert len(fake.token_calls) == 1 and len(fake.seen) == 200


def test_expired_answer_refreshes_once_and_repeats(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})

    async def run() -> None:
        async with _client(fake) as client:
            fake.access_token = "rotated-by-tiktok"
            await asyncio.gather(*(client.authorization.get_authorized_shops() for _ in range(20)))

    asyncio.run(run())
    assert len(fake.token_calls) == 1


def test_auth_exchange_and_refresh(fake: FakeTikTok) -> None:
    async def run() -> None:
        async with _client(fake, access_token=None, refresh_token=None) as client:
            link = client.auth.authorization_url(state="s1")
            assert "state=s1" in link.url
            token = await client.auth.get_access_token("good-code")
            assert client.access_token == token.access_token
            again = await client.auth.refresh_access_token()
            assert client.refresh_token == again.refresh_token != token.refresh_token

    asyncio.run(run())
    assert [c.path for c in fake.token_calls] == ["/api/v2/token/get", "/api/v2/token/refresh"]


def test_retries_and_write_safety(fake: FakeTikTok) -> None:
    answers = [httpx.Response(503, text="busy"), fake.envelope({"orders": []})]
    fake.on(*SEARCH, lambda s: answers.pop(0))
    fake.on("POST", "/fulfillment/202309/packages/{package_id}/ship", lambda s: httpx.Response(503, text=""))

    async def run() -> None:
        async with _client(fake) as client:
            await client.order.get_order_list(page_size=5)
            with pytest.raises(ServerError):
                await client.fulfillment.ship_package("p1", handover_method="DROP_OFF")

    asyncio.run(run())
    assert [s.path.rsplit("/", 1)[-1] for s in fake.seen] == ["search", "search", "ship"]


def test_wrong_http_client_kind_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="AsyncClient"):
        AsyncTikTokShop(app_key="k", app_secret="s", http_client=httpx.Client())  # type: ignore[arg-type]


def test_against_the_sandbox_over_http() -> None:
    async def run(sb: Sandbox) -> None:
        kwargs = {
            "app_key": sb.app_key,
            "app_secret": sb.app_secret,
            "shop_cipher": sb.shop_cipher,
            "access_token": sb.access_token,
            "refresh_token": sb.refresh_token,
            "base_url": sb.url,
            "auth_base_url": sb.url,
            "clock": sb.clock.now,
        }
        async with AsyncTikTokShop(**kwargs) as client:
            page = await client.order.get_order_list(page_size=20, order_status="AWAITING_SHIPMENT")
            ids = [o.id async for o in page.auto_paging_aiter()]  # type: ignore[misc]
            assert len(ids) > 20 and len(set(ids)) == len(ids)
            detail = await client.order.get_order_detail(ids=ids[:1])
            package = (detail.orders or [])[0].packages[0].id  # type: ignore[index]
            other = client.for_shop(shop_cipher=sb.shop_cipher)  # same seller, same tokens
            assert other._http is client._http
            await other.fulfillment.ship_package(package, handover_method="DROP_OFF")
            sb.faults.inject("order.get_order_list", "http_5xx", times=1)
            await client.order.get_order_list(page_size=5)
            await client.auth.refresh_access_token()
            await client.authorization.get_authorized_shops()

    with Sandbox(orders=120, seed=12) as sb:
        asyncio.run(run(sb))
        ops = [r.op_id for r in sb.requests]
        assert "fulfillment.ship_package" in ops and ops.count("auth.refresh_access_token") == 1
        assert all(r.code == 0 for r in sb.requests if r.fault is None)
