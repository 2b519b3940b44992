"""Per-call options, with_options(), raw answers, client.request() and the hooks against the sandbox,
which checks signatures, tokens and shop ciphers as TikTok does (over HTTP and in-process; sync
and async)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tiktokshop import (
    ApiError,
    AsyncTikTokShop,
    MalformedResponseError,
    RawResponse,
    RequestEvent,
    RequestTimeoutError,
    ResponseEvent,
    ServerError,
    ValidationError,
)
from tiktokshop.sandbox import Sandbox

LIST = "order.get_order_list"
SEARCH_PATH = "/order/202309/orders/search"


def _async_client(sb: Sandbox, **overrides: Any) -> AsyncTikTokShop:
    kwargs: dict[str, Any] = {
        "app_key": sb.app_key,
        "app_secret": sb.app_secret,
        "shop_cipher": sb.shop_cipher,
        "access_token": sb.access_token,
        "refresh_token": sb.refresh_token,
        "base_url": sb.url,
        "auth_base_url": sb.url,
        "clock": sb.clock.now,
    }
    kwargs.update(overrides)
    return AsyncTikTokShop(**kwargs)


def test_extra_query_and_body_are_signed_as_the_sandbox_checks(served: Sandbox) -> None:
    with served.client() as client:
        page = client.order.get_order_list(
            page_size=5,
            extra_query={"sort_order": "DESC"},  # fields the method also takes, sent through the extras
            extra_body={"order_status": "UNPAID"},
            extra_headers={"x-trace": "t"},
        )
        assert page.orders is not None and all(o.status == "UNPAID" for o in page.orders)
        with pytest.raises(ApiError) as info:  # signed correctly, then refused as TikTok would
            client.order.get_order_list(page_size=5, extra_query={"x_new_param": "1"})
    assert "x_new_param: unknown field" in str(info.value), "refused for the field, not the signature"
    log = served.requests.for_op(LIST)
    assert log[0].code == 0 and log[0].query.get("sort_order") == "DESC"


def test_per_call_timeout_ends_a_slow_call(served: Sandbox) -> None:
    served.faults.inject(LIST, "slow", delay=3)
    with served.client(max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            client.order.get_order_list(page_size=5, timeout=0.5)
        assert time.monotonic() - started < 2.5
        quick = client.with_options(total_timeout=0.5)
        served.faults.inject(LIST, "slow", delay=3)
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            quick.order.get_order_list(page_size=5)
        assert time.monotonic() - started < 2.5
        assert client.order.get_order_list(page_size=5).orders is not None  # the original is unchanged


def test_per_call_max_retries(served: Sandbox) -> None:
    served.faults.inject(LIST, "http_5xx", times=2)
    with served.client(sleep=lambda s: None, max_retries=0) as client:
        with pytest.raises(ServerError):
            client.order.get_order_list(page_size=5)
        assert client.order.get_order_list(page_size=5, max_retries=1).orders is not None
    assert [r.status for r in served.requests.for_op(LIST)] == [503, 503, 200]


def test_raw_response_over_http(served: Sandbox) -> None:
    with served.client() as client:
        raw = client.order.with_raw_response.get_order_list(page_size=5)
        assert isinstance(raw, RawResponse) and raw.status_code == 200
        assert raw.request_id == served.requests.for_op(LIST)[-1].request_id
        assert raw.headers["content-type"].startswith("application/json")
        assert raw.json()["code"] == 0 and raw.parse().orders is not None
        served.faults.inject(LIST, "http_429", retry_after=1)
        with pytest.raises(ApiError) as info:
            client.with_options(max_retries=0).order.get_order_list(page_size=5)
        assert info.value.response is not None and info.value.response.status_code == 429
        assert "retry-after" in info.value.response.headers


def test_request_reaches_any_path(sandbox: Sandbox) -> None:
    client = sandbox.client()
    data = client.request("POST", SEARCH_PATH, query={"page_size": 3}, body={"order_status": "UNPAID"})
    assert isinstance(data, dict) and len(data["orders"]) <= 3
    shops = client.request("GET", "/authorization/202309/shops", shop_cipher=False)
    assert shops["shops"][0]["cipher"] == sandbox.shop_cipher
    assert [r.code for r in sandbox.requests] == [0, 0]


def test_hooks_see_no_secret(served: Sandbox) -> None:
    events: list[Any] = []
    served.faults.inject(LIST, "http_5xx", times=1)
    with served.client(on_request=events.append, on_response=events.append, sleep=lambda s: None) as client:
        client.order.get_order_list(page_size=5)
        client.auth.refresh_access_token()
        secrets = {served.app_secret, served.access_token, served.refresh_token}
        secrets |= {client.access_token or "", client.refresh_token or ""}
    requests = [e for e in events if isinstance(e, RequestEvent)]
    responses = [e for e in events if isinstance(e, ResponseEvent)]
    assert [e.attempt for e in requests] == [1, 2, 1]
    assert [e.status_code for e in responses] == [503, 200, 200]
    assert responses[1].request_id == served.requests.for_op(LIST)[-1].request_id
    text = repr(events)
    assert [s for s in secrets if s and s in text] == []


def test_async_call_control_against_the_sandbox(served: Sandbox) -> None:
    events: list[Any] = []

    async def run() -> None:
        async with _async_client(served, on_response=events.append) as client:
            page = await client.order.get_order_list(
                page_size=5, extra_query={"sort_order": "ASC"}, timeout=5
            )
            assert page.orders is not None
            raw = await client.order.with_raw_response.get_order_list(page_size=5)
            assert raw.status_code == 200 and raw.parse().orders is not None
            data = await client.with_options(max_retries=0).request(
                "POST", SEARCH_PATH, query={"page_size": 2}
            )
            assert "orders" in data
            served.faults.inject(LIST, "slow", delay=3)
            with pytest.raises(RequestTimeoutError):
                await client.order.get_order_list(page_size=5, timeout=0.5, max_retries=0)

    asyncio.run(run())
    assert [e.status_code for e in events][:3] == [200, 200, 200]


def test_answers_over_the_size_limit_and_malformed_answers(served: Sandbox) -> None:
    with served.client(max_response_bytes=2_000) as client:
        with pytest.raises(MalformedResponseError, match="max_response_bytes"):
            client.order.get_order_list(page_size=50)
        assert client.with_options(max_response_bytes=10_000_000).order.get_order_list(page_size=50).orders
        served.faults.inject(LIST, "malformed_json")
        with pytest.raises(MalformedResponseError) as info:
            client.with_options(max_response_bytes=10_000_000).order.get_order_list(page_size=5)
        assert info.value.response is not None and info.value.response.status_code == 200

    async def run() -> None:
        async with _async_client(served, max_response_bytes=2_000) as client:
            with pytest.raises(MalformedResponseError, match="max_response_bytes"):
                await client.order.get_order_list(page_size=50)

    asyncio.run(run())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page_size": 10**5000},
        {"page_size": float("nan")},
        {"page_size": 5, "shop_cipher": "\ud800"},
        {"page_size": 5, "extra_query": {"q": "x" * 70_000}},
        {"page_size": 5, "extra_body": {"x": b"raw"}},
    ],
)
def test_bad_input_never_reaches_the_sandbox(served: Sandbox, kwargs: dict[str, Any]) -> None:
    with served.client() as client, pytest.raises(ValidationError) as info:
        client.order.get_order_list(**kwargs)
    assert len(served.requests) == 0
    assert served.app_secret not in str(info.value) and served.access_token not in str(info.value)

    async def run() -> None:
        async with _async_client(served) as client:
            with pytest.raises(ValidationError):
                await client.order.get_order_list(**kwargs)

    asyncio.run(run())
    assert len(served.requests) == 0
