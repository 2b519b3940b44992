"""Per-call options, with_options(), raw answers, client.request() and the on_request/on_response
hooks, against the in-process fake (sync and async)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.fake import ACCESS_TOKEN, API, APP_KEY, APP_SECRET, AUTH, REFRESH_TOKEN, SHOP_CIPHER, FakeTikTok
from tiktokshop import (
    AsyncTikTokShop,
    ConfigurationError,
    NotFoundError,
    RateLimitError,
    RawResponse,
    RequestEvent,
    RequestTimeoutError,
    ResponseEvent,
    ServerError,
    ValidationError,
)
from tiktokshop.types.order import GetOrderListPage

SEARCH = ("POST", "/order/202309/orders/search")
SHOPS = ("GET", "/authorization/202309/shops")


def _orders(seen: Any) -> dict[str, Any]:
    return {"orders": [{"id": "1"}], "next_page_token": ""}


async def _no_sleep(seconds: float) -> None:
    return None


def _aclient(fake: FakeTikTok, **overrides: Any) -> AsyncTikTokShop:
    kwargs: dict[str, Any] = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
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


# -- per-call options ------------------------------------------------------------------------------


def test_extra_query_body_and_headers_are_sent_and_signed(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, _orders)
    client = fake.client()
    client.order.get_order_list(
        page_size=5,
        order_status="UNPAID",
        extra_query={"new_flag": True, "ids": ["a", "b"]},
        extra_body={"new_field": {"x": 1}},
        extra_headers={"X-Request-Tag": "t1"},
    )
    seen = fake.seen[-1]
    assert seen.signature_ok is True  # the fake signs query and body independently
    assert seen.query["new_flag"] == "true" and seen.query["ids"] == "a,b"
    assert seen.json == {"order_status": "UNPAID", "new_field": {"x": 1}}
    assert seen.headers["x-request-tag"] == "t1"


def test_extra_body_on_a_bodyless_post_and_extra_query_on_a_get(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})
    fake.client().authorization.get_authorized_shops(extra_query={"lang": "en"})
    assert fake.seen[-1].query["lang"] == "en" and fake.seen[-1].signature_ok
    with pytest.raises(ValidationError, match="extra_body: this call sends no JSON body") as info:
        fake.client().authorization.get_authorized_shops(extra_body={"x": 1})
    assert info.value.field == "extra_body"
    assert len(fake.seen) == 1


def test_per_call_timeout_and_max_retries(fake: FakeTikTok) -> None:
    timeouts: list[Any] = []

    def slow(seen: Any) -> Any:
        return httpx.Response(503, text="busy")

    fake.on(*SEARCH, slow)
    client = fake.client(max_retries=3)
    with pytest.raises(ServerError):
        client.order.get_order_list(page_size=5, max_retries=0)
    assert len(fake.seen) == 1
    with pytest.raises(ServerError):
        client.order.get_order_list(page_size=5)
    assert len(fake.seen) == 5

    def capture(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return fake(request)

    client = fake.client(http_client=httpx.Client(transport=httpx.MockTransport(capture)), max_retries=0)
    fake.on(*SEARCH, _orders)
    client.order.get_order_list(page_size=5, timeout=2.5)
    client.order.get_order_list(page_size=5, timeout=httpx.Timeout(1.0, read=7.0))
    client.order.get_order_list(page_size=5)
    assert timeouts[0]["read"] == 2.5 and timeouts[0]["connect"] == 2.5
    assert timeouts[1]["read"] == 7.0 and timeouts[1]["connect"] == 1.0
    assert timeouts[2]["read"] == 5.0  # the pool's own (httpx's default)


@pytest.mark.parametrize(
    "options, field",
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"extra_query": {"sign": "x"}}, "extra_query.sign"),
        ({"extra_query": {"app_secret": "x"}}, "extra_query.app_secret"),
        ({"extra_query": {"shop_cipher": "x"}}, "extra_query.shop_cipher"),
        ({"extra_query": {"x": float("inf")}}, "extra_query.x"),
        ({"extra_query": {"x": {"nested": 1}}}, "extra_query.x"),
        ({"extra_query": ["x"]}, "extra_query"),
        ({"extra_body": {"x": float("nan")}}, "extra_body.x"),
        ({"extra_body": {"x": b"bytes"}}, "extra_body.x"),
        ({"extra_headers": {"x-tts-access-token": "t"}}, "extra_headers"),
        ({"extra_headers": {"X-A": "line\r\nbreak"}}, "extra_headers"),
        ({"extra_headers": {"bad name": "v"}}, "extra_headers"),
    ],
)
def test_bad_options_are_refused_before_sending(
    fake: FakeTikTok, options: dict[str, Any], field: str
) -> None:
    fake.on(*SEARCH, _orders)
    with pytest.raises(ValidationError) as info:
        fake.client().order.get_order_list(page_size=5, **options)
    assert info.value.field == field
    assert fake.seen == []


def test_async_methods_take_the_same_options(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, _orders)

    async def run() -> None:
        client = _aclient(fake)
        await client.order.get_order_list(
            page_size=5, extra_query={"q": 1}, extra_body={"b": 2}, extra_headers={"x-t": "1"}, timeout=3
        )
        with pytest.raises(ValidationError):
            await client.order.get_order_list(page_size=5, max_retries=-1)

    asyncio.run(run())
    assert len(fake.seen) == 1 and fake.seen[0].signature_ok
    assert fake.seen[0].query["q"] == "1" and fake.seen[0].json == {"b": 2}


# -- with_options ----------------------------------------------------------------------------------


def test_with_options_shares_the_pool_and_the_tokens(fake: FakeTikTok) -> None:
    fake.on(
        *SEARCH,
        lambda s: fake.envelope(None, code=105002, message="expired") if len(fake.seen) == 1 else _orders(s),
    )
    client = fake.client(max_retries=2)
    quick = client.with_options(max_retries=0, timeout=4, total_timeout=9)
    assert quick._http is client._http and quick._tokens is client._tokens
    assert quick._config.max_retries == 0 and quick._config.total_timeout == 9
    assert client._config.max_retries == 2 and client._config.total_timeout == 120
    quick.order.get_order_list(page_size=5)  # refreshes the shared token once
    assert len(fake.token_calls) == 1
    assert client.access_token == quick.access_token == fake.access_token
    assert quick.order is not client.order and quick.order._client is quick
    quick.close()
    client.order.get_order_list(page_size=5)  # the copy did not close the shared pool
    assert quick.with_options(total_timeout=None)._config.total_timeout is None


def test_with_options_refuses_bad_values(fake: FakeTikTok) -> None:
    client = fake.client()
    for bad in (
        {"max_retries": -1},
        {"timeout": 0},
        {"total_timeout": -3},
        {"max_response_bytes": 0},
        {"on_request": 5},
    ):
        with pytest.raises(ConfigurationError):
            client.with_options(**bad)


# -- raw answers -----------------------------------------------------------------------------------


def test_with_raw_response_gives_status_headers_bytes_and_the_typed_model(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, lambda s: fake.envelope(_orders(s), headers={"x-tt-logid": "log-1"}))
    client = fake.client()
    raw = client.order.with_raw_response.get_order_list(page_size=5)
    assert isinstance(raw, RawResponse)
    assert raw.status_code == 200 and raw.headers["x-tt-logid"] == "log-1"
    assert raw.request_id and raw.request_id.startswith("req-")
    assert json.loads(raw.content)["data"]["orders"] == [{"id": "1"}]
    page = raw.parse()
    assert isinstance(page, GetOrderListPage) and page.orders and page.orders[0].id == "1"
    assert page.request_id == raw.request_id and raw.parse() is page
    assert raw.method == "POST" and raw.path == "/order/202309/orders/search"
    assert "sign" not in repr(raw) and APP_SECRET not in repr(vars(raw))
    assert client.order.get_order_list(page_size=5).orders  # plain calls are unaffected


def test_raw_pages_still_page(fake: FakeTikTok) -> None:
    pages = {"": (["1", "2"], "t2"), "t2": (["3"], "")}
    fake.on(
        *SEARCH,
        lambda s: {
            "orders": [{"id": i} for i in pages[s.query.get("page_token", "")][0]],
            "next_page_token": pages[s.query.get("page_token", "")][1],
        },
    )
    raw = fake.client().order.with_raw_response.get_order_list(page_size=2)
    assert [o.id for o in raw.parse().auto_paging_iter()] == ["1", "2", "3"]


def test_errors_keep_the_response_without_the_signed_url(fake: FakeTikTok) -> None:
    fake.on(
        *SEARCH, lambda s: httpx.Response(429, headers={"retry-after": "2", "x-a": "b"}, text="slow down")
    )
    with pytest.raises(RateLimitError) as info:
        fake.client(max_retries=0).order.with_raw_response.get_order_list(page_size=5)
    response = info.value.response
    assert response is not None
    assert response.status_code == 429 and response.headers["x-a"] == "b" and response.content == b"slow down"
    sign = fake.seen[-1].query["sign"]
    assert sign not in repr(vars(response)) and APP_SECRET not in repr(vars(response))
    with pytest.raises(RuntimeError):
        response.parse()


def test_async_with_raw_response(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, _orders)

    async def run() -> RawResponse[GetOrderListPage]:
        return await _aclient(fake).order.with_raw_response.get_order_list(page_size=5)

    raw = asyncio.run(run())
    assert raw.status_code == 200 and raw.parse().orders is not None


# -- client.request ---------------------------------------------------------------------------------


def test_request_calls_any_path_signed_with_the_shop_cipher(fake: FakeTikTok) -> None:
    fake.on("POST", "/order/202999/brand_new/search", lambda s: {"echo": s.json, "q": s.query.get("x")})
    client = fake.client()
    data = client.request("POST", "/order/202999/brand_new/search", query={"x": 1}, body={"a": [1, 2]})
    assert data == {"echo": {"a": [1, 2]}, "q": "1"}
    seen = fake.seen[-1]
    assert seen.signature_ok and seen.query["shop_cipher"] == SHOP_CIPHER
    fake.on(*SHOPS, {"shops": []})
    assert client.request("GET", "/authorization/202309/shops", shop_cipher=False) == {"shops": []}
    assert "shop_cipher" not in fake.seen[-1].query


def test_request_refreshes_the_token_and_retries_reads(fake: FakeTikTok) -> None:
    answers = [fake.envelope(None, code=105002, message="expired"), httpx.Response(503, text="x")]
    fake.on("GET", "/x/202999/thing", lambda s: answers.pop(0) if answers else {"ok": True})
    client = fake.client()
    assert client.request("GET", "/x/202999/thing") == {"ok": True}
    assert len(fake.token_calls) == 1 and len(fake.seen) == 3
    with pytest.raises(NotFoundError):
        client.request("POST", "/x/202999/missing", max_retries=3)
    assert len(fake.seen) == 4


@pytest.mark.parametrize(
    "args",
    [
        ("GET", "no-slash"),
        ("GET", "/a/../b"),
        ("GET", "/a?x=1"),
        ("FETCH", "/a"),
        ("GET", "/a", {"body": {"x": 1}}),
        ("POST", "/a", {"body": {"x": float("nan")}}),
        ("POST", "/a", {"query": {"sign": "1"}}),
        ("POST", "/a", {"shop_cipher": 7}),
        ("POST", "/a", {"body": [1]}),
    ],
)
def test_request_refuses_bad_input_before_sending(fake: FakeTikTok, args: tuple[Any, ...]) -> None:
    kwargs = args[2] if len(args) > 2 else {}
    with pytest.raises(ValidationError):
        fake.client().request(args[0], args[1], **kwargs)
    assert fake.seen == []


def test_async_request(fake: FakeTikTok) -> None:
    fake.on("POST", "/x/202999/thing", lambda s: {"got": s.json})

    async def run() -> dict[str, Any]:
        return await _aclient(fake).request("POST", "/x/202999/thing", body={"k": "v"})

    assert asyncio.run(run()) == {"got": {"k": "v"}}
    assert fake.seen[-1].signature_ok


# -- hooks -----------------------------------------------------------------------------------------


def _secrets(fake: FakeTikTok) -> set[str]:
    found = {APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN, fake.access_token, fake.refresh_token}
    found |= {s.query["sign"] for s in fake.seen if "sign" in s.query}
    return found


def test_hooks_see_every_attempt_and_no_secret(fake: FakeTikTok) -> None:
    answers = [httpx.Response(503, text="busy"), fake.envelope(None, code=105002, message="expired")]
    fake.on(*SEARCH, lambda s: answers.pop(0) if answers else _orders(s))
    events: list[Any] = []
    client = fake.client(on_request=events.append, on_response=events.append, max_retries=2)
    client.order.get_order_list(page_size=5)
    requests = [e for e in events if isinstance(e, RequestEvent)]
    responses = [e for e in events if isinstance(e, ResponseEvent)]
    ops = [(e.operation, e.attempt) for e in requests]
    assert ops == [
        ("order.get_order_list", 1),
        ("order.get_order_list", 2),
        ("auth.refresh_access_token", 1),
        ("order.get_order_list", 2),
    ]
    assert [(e.status_code, e.error) for e in responses] == [
        (503, "ServerError"),
        (200, "AuthenticationError"),
        (200, None),
        (200, None),
    ]
    assert responses[-1].request_id and responses[-1].elapsed >= 0
    assert requests[0].query["sign"] == "***" and requests[0].headers["x-tts-access-token"] == "***"
    assert requests[2].query["app_secret"] == "***" and requests[2].query["refresh_token"] == "***"
    assert requests[0].path == "/order/202309/orders/search" and requests[0].method == "POST"
    text = repr(events)
    leaked = [s for s in _secrets(fake) if s in text]
    assert leaked == []


def test_async_hooks(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, _orders)
    events: list[Any] = []

    async def run() -> None:
        await _aclient(fake, on_request=events.append, on_response=events.append).order.get_order_list(
            page_size=5
        )

    asyncio.run(run())
    assert [type(e).__name__ for e in events] == ["RequestEvent", "ResponseEvent"]
    assert events[1].status_code == 200 and events[0].query["sign"] == "***"


def test_hooks_on_a_failed_connection(fake: FakeTikTok) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    events: list[Any] = []
    client = fake.client(
        http_client=httpx.Client(transport=httpx.MockTransport(refuse)),
        on_response=events.append,
        max_retries=0,
    )
    with pytest.raises(RequestTimeoutError):
        client.order.get_order_list(page_size=5)
    assert events[0].status_code is None and events[0].error == "RequestTimeoutError"


# -- client settings that cannot be sent ----------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        {"app_secret": "sec\ud800ret"},
        {"app_key": "key\udcff"},
        {"access_token": "tök"},
        {"refresh_token": "a\nb"},
        {"shop_cipher": 5},
        {"max_response_bytes": -1},
        {"total_timeout": float("nan")},
        {"timeout": -2},
        {"on_response": "print"},
    ],
)
def test_unusable_client_settings_are_configuration_errors(fake: FakeTikTok, setting: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        fake.client(**setting)
    value = next(iter(setting.values()))
    if isinstance(value, str):
        assert value not in str(info.value), "the setting's value is never echoed"


def test_retry_after_waits_are_spread_by_jitter(fake: FakeTikTok) -> None:
    state = {"n": 0}

    def answer(seen: Any) -> Any:
        state["n"] += 1
        if state["n"] % 2:
            return httpx.Response(429, headers={"retry-after": "1"}, text="")
        return _orders(seen)

    fake.on(*SEARCH, answer)
    sleeps: list[float] = []
    client = fake.client(sleep=sleeps.append)
    for _ in range(300):
        client.order.get_order_list(page_size=5)
    assert len(sleeps) == 300 and min(sleeps) >= 1.0, "never earlier than asked"
    assert max(sleeps) - min(sleeps) >= 0.1, "spread over at least 10% of the wait"
    assert len({round(s, 3) for s in sleeps}) > 100, "not a herd at one instant"


def test_the_pool_sees_the_callers_context(fake: FakeTikTok) -> None:
    import contextvars

    tag: contextvars.ContextVar[str] = contextvars.ContextVar("tag", default="unset")
    seen_tags: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_tags.append(tag.get())  # e.g. tracing that propagates through contextvars
        return fake(request)

    fake.on(*SEARCH, _orders)
    client = fake.client(http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    tag.set("request-42")
    client.order.get_order_list(page_size=5)
    assert seen_tags == ["request-42"]


def test_with_raw_response_request_gives_the_answer_as_it_came(fake: FakeTikTok) -> None:
    fake.on("POST", "/order/202999/brand_new/search", lambda s: {"echo": s.json})
    client = fake.client()
    raw = client.with_raw_response.request("POST", "/order/202999/brand_new/search", body={"a": 1})
    assert isinstance(raw, RawResponse)
    assert raw.status_code == 200 and raw.request_id and raw.path == "/order/202999/brand_new/search"
    assert json.loads(raw.content)["data"] == {"echo": {"a": 1}}
    assert fake.seen[-1].signature_ok
    assert "sign" not in repr(raw) and APP_SECRET not in repr(vars(raw))
    assert client.request("POST", "/order/202999/brand_new/search", body={"a": 2}) == {"echo": {"a": 2}}

    async def run() -> RawResponse[dict[str, Any]]:
        return await _aclient(fake).with_raw_response.request("POST", "/order/202999/brand_new/search")

    araw = asyncio.run(run())
    assert araw.status_code == 200 and json.loads(araw.content)["data"] == {"echo": {}}
