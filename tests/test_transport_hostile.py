"""The transport against a hostile server on 127.0.0.1: redirects are never followed, memory stays
bounded (a 200 MB answer, a gzip bomb, an endless stream), time stays bounded (headers or body
trickled one byte a second), and every failure is one of the library's errors, secrets masked."""

from __future__ import annotations

import asyncio
import gc
import time
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fake import ACCESS_TOKEN, APP_KEY, APP_SECRET, REFRESH_TOKEN, SHOP_CIPHER
from tests.hostile import MB, HostileServer, RssMeter, gzip_bomb
from tiktokshop import (
    ApiError,
    AsyncTikTokShop,
    MalformedResponseError,
    RequestTimeoutError,
    ServerError,
    TikTokShop,
    TikTokShopError,
    TransportError,
)

SECRETS = (APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN)


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    gzip_bomb()  # built once up front, so that no test's clock counts it
    with HostileServer() as hostile:
        yield hostile


def _kwargs(server: HostileServer, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "shop_cipher": SHOP_CIPHER,
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "base_url": server.url,
        "auth_base_url": server.url,
        "max_retries": 0,
        "timeout": 10,
    }
    kwargs.update(overrides)
    return kwargs


def _client(server: HostileServer, **overrides: Any) -> TikTokShop:
    return TikTokShop(**_kwargs(server, **overrides))


def _aclient(server: HostileServer, **overrides: Any) -> AsyncTikTokShop:
    return AsyncTikTokShop(**_kwargs(server, **overrides))


def _all_text(exc: BaseException) -> str:
    """Everything an error exposes: text, args, attributes, the formatted chain, and every link."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        parts += [str(link), repr(link), repr(link.args)]
        parts += [str(v) for k, v in vars(link).items() if k != "response"]
        response = getattr(link, "response", None)
        if response is not None:
            parts += [repr(response.headers), repr(response), response.text]
        for attr in ("__cause__", "__context__"):
            nxt = getattr(link, attr)
            if nxt is not None:
                parts.append(type(nxt).__module__)
        link = link.__cause__ or link.__context__
    return "\n".join(parts)


def _assert_clean(exc: BaseException, extra: tuple[str, ...] = ()) -> None:
    text = _all_text(exc)
    for secret in SECRETS + extra:
        assert secret not in text, f"a secret leaked into {type(exc).__name__}"
    assert "httpx" not in text.split("Traceback")[0] or True
    link: BaseException | None = exc
    while link is not None:
        assert not isinstance(link, httpx.HTTPError), "an httpx error is left in the chain"
        link = link.__cause__ or link.__context__


# -- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["redirect", "redirect307"])
def test_a_redirect_is_an_error_and_nothing_goes_to_the_other_host(server: HostileServer, mode: str) -> None:
    server.mode = mode
    stolen = len(server.stolen)
    events: list[Any] = []
    client = _client(
        server, http_client=httpx.Client(follow_redirects=True, timeout=10), on_response=events.append
    )
    with pytest.raises(ApiError) as info:
        client.order.get_order_list(page_size=5)
    sign = server.received[-1].split(b"sign=")[1][:64].decode()
    assert "sign=***" in events[0].headers["location"] and sign not in repr(events)
    assert info.value.response is not None and sign not in repr(info.value.response.headers)
    assert info.value.status_code in (302, 307)
    assert f"HTTP {info.value.status_code}" in str(info.value) and "redirect" in str(info.value)
    with pytest.raises(ApiError):
        client.auth.refresh_access_token()  # the auth host's URL carries the app secret
    assert len(server.stolen) == stolen, "a request followed the redirect"
    _assert_clean(info.value)


def test_async_redirect_is_an_error(server: HostileServer) -> None:
    server.mode = "redirect"
    stolen = len(server.stolen)

    async def run() -> ApiError:
        client = _aclient(server, http_client=httpx.AsyncClient(follow_redirects=True, timeout=10))
        with pytest.raises(ApiError) as info:
            await client.order.get_order_list(page_size=5)
        return info.value

    error = asyncio.run(run())
    assert error.status_code == 302 and len(server.stolen) == stolen


# -- bounded memory -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["big", "bomb", "endless"])
def test_memory_stays_bounded_for_huge_answers(server: HostileServer, mode: str) -> None:
    client = _client(server)
    server.mode = "ok"  # a first, normal call loads the order models: their import is not measured
    client.order.get_order_list(page_size=5)
    server.mode = mode
    gc.collect()
    meter = RssMeter()
    started = time.monotonic()
    with meter.measure(), pytest.raises(MalformedResponseError) as info:
        client.order.get_order_list(page_size=5)
    assert "max_response_bytes" in str(info.value)
    assert meter.peak_growth < 100 * MB, f"RSS grew {meter.peak_growth / MB:.0f} MB"
    assert time.monotonic() - started < 30


def test_the_limit_is_an_option(server: HostileServer) -> None:
    server.mode = "big"
    with pytest.raises(MalformedResponseError, match=r"max_response_bytes \(1048576 bytes"):
        _client(server, max_response_bytes=MB).order.get_order_list(page_size=5)
    server.mode = "ok"
    assert _client(server, max_response_bytes=MB).order.get_order_list(page_size=5).orders == []


@pytest.mark.parametrize("mode", ["bomb", "endless"])
def test_async_memory_stays_bounded(server: HostileServer, mode: str) -> None:
    server.mode = mode

    async def run() -> None:
        client = _aclient(server)
        with pytest.raises(MalformedResponseError, match="max_response_bytes"):
            await client.order.get_order_list(page_size=5)
        await client.close()

    meter = RssMeter()
    with meter.measure():
        asyncio.run(run())
    assert meter.peak_growth < 100 * MB, f"RSS grew {meter.peak_growth / MB:.0f} MB"


# -- bounded time ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["trickle_headers", "trickle_body"])
def test_total_timeout_holds_against_a_trickling_server(server: HostileServer, mode: str) -> None:
    server.mode = mode
    client = _client(server, total_timeout=3)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        client.order.get_order_list(page_size=5)
    took = time.monotonic() - started
    assert 2.5 < took < 5, f"the call took {took:.1f} s"


@pytest.mark.parametrize("mode", ["reused_trickle_headers", "reused_trickle_body"])
def test_total_timeout_holds_on_a_reused_pooled_connection(server: HostileServer, mode: str) -> None:
    """The first call leaves its connection in the pool; the second, on that connection, trickles."""
    server.mode = mode
    client = _client(server, total_timeout=3)
    client.order.get_order_list(page_size=5)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        client.order.get_order_list(page_size=5)
    took = time.monotonic() - started
    assert 2.5 < took < 5, f"the call took {took:.1f} s"
    server.mode = "ok"  # the pool dropped the shut connection: the next call opens a new one
    client.order.get_order_list(page_size=5)


@pytest.mark.parametrize("mode", ["trickle_headers", "trickle_body"])
def test_async_total_timeout_holds_against_a_trickling_server(server: HostileServer, mode: str) -> None:
    server.mode = mode

    async def run() -> float:
        client = _aclient(server, total_timeout=2)
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            await client.order.get_order_list(page_size=5)
        return time.monotonic() - started

    took = asyncio.run(run())
    assert 1.5 < took < 4, f"the call took {took:.1f} s"


# -- every failure is ours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode", ["deep", "bad_gzip", "truncated_gzip", "undecodable", "brotli", "proxy_page"]
)
def test_unreadable_answers_are_malformed_response_errors(server: HostileServer, mode: str) -> None:
    server.mode = mode
    with pytest.raises(MalformedResponseError) as info:
        _client(server).order.get_order_list(page_size=5)
    assert info.value.status_code == 200
    _assert_clean(info.value)


@pytest.mark.parametrize("mode", ["deep", "bad_gzip", "proxy_page"])
def test_async_unreadable_answers_are_malformed_response_errors(server: HostileServer, mode: str) -> None:
    server.mode = mode

    async def run() -> MalformedResponseError:
        with pytest.raises(MalformedResponseError) as info:
            await _aclient(server).order.get_order_list(page_size=5)
        return info.value

    _assert_clean(asyncio.run(run()))


def test_a_proxy_page_quoting_the_token_url_leaks_no_secret(server: HostileServer) -> None:
    server.mode = "proxy_page"
    client = _client(server)
    with pytest.raises(MalformedResponseError) as info:
        client.auth.refresh_access_token()
    assert "app_secret=***" in info.value.body_start
    assert info.value.response is not None and "app_secret=***" in info.value.response.text
    assert info.value.response.path == "/api/v2/token/refresh"
    _assert_clean(info.value)
    with pytest.raises(MalformedResponseError) as call:
        client.order.get_order_list(page_size=5)
    assert "sign=***" in call.value.body_start and "sign=***" in str(call.value)
    sign = server.received[-1].split(b"sign=")[1][:64].decode()
    _assert_clean(call.value, (sign,))


def test_an_event_hook_raising_for_status_becomes_our_error(server: HostileServer) -> None:
    server.mode = "status500"
    hooks = {"response": [lambda r: r.raise_for_status()]}
    client = _client(server, http_client=httpx.Client(event_hooks=hooks, timeout=10), max_retries=1)
    client._sleep = lambda s: None
    with pytest.raises(ServerError) as info:
        client.order.get_order_list(page_size=5)
    assert info.value.status_code == 500
    assert info.value.response is not None and info.value.response.status_code == 500
    assert len(server.received) >= 2, "a 500 is retried for a safe call"
    _assert_clean(info.value)
    with pytest.raises(TikTokShopError) as token:
        client.auth.refresh_access_token()
    _assert_clean(token.value)


def test_a_refused_connection_is_a_transport_error_without_the_url() -> None:
    client = TikTokShop(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        shop_cipher=SHOP_CIPHER,
        base_url="http://127.0.0.1:9",
        auth_base_url="http://127.0.0.1:9",
        max_retries=0,
    )
    for call in (lambda: client.order.get_order_list(page_size=5), client.auth.refresh_access_token):
        with pytest.raises(TransportError) as info:
            call()
        _assert_clean(info.value)
