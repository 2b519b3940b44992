"""TikTok's errors become typed exceptions; transient failures are retried only where it is safe."""

from __future__ import annotations

import httpx
import pytest

from tests.fake import FakeTikTok
from tiktokshop import (
    ApiError,
    AuthenticationError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TikTokShopError,
    TransportError,
)

SEARCH = ("POST", "/order/202309/orders/search")
SHIP = ("POST", "/fulfillment/202309/packages/{package_id}/ship")


def test_nonzero_code_raises_with_code_message_request_id_status(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, lambda s: fake.envelope(None, code=36009999, message="Something odd"))
    with pytest.raises(ApiError) as info:
        fake.client().order.get_order_list(page_size=10)
    err = info.value
    assert (err.code, err.message, err.status_code) == (36009999, "Something odd", 200)
    assert err.request_id and err.request_id in str(err) and "order.get_order_list" in str(err)


def test_code_table_picks_the_class(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, lambda s: fake.envelope(None, code=106001, message="bad sign"))
    with pytest.raises(AuthenticationError):
        fake.client().order.get_order_list(page_size=10)


def test_http_status_without_envelope(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, lambda s: httpx.Response(404, text="not here"))
    with pytest.raises(NotFoundError) as info:
        fake.client(max_retries=0).order.get_order_list(page_size=10)
    assert info.value.status_code == 404 and info.value.code is None


def test_non_json_success_is_malformed(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, lambda s: httpx.Response(200, text="<html>gateway</html>"))
    with pytest.raises(MalformedResponseError) as info:
        fake.client().order.get_order_list(page_size=10)
    assert info.value.status_code == 200 and info.value.body_start.startswith("<html>")
    assert "<html>gateway" in str(info.value)


def test_data_of_the_wrong_shape_is_malformed(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, {"orders": "not a list"})
    with pytest.raises(MalformedResponseError, match="orders"):
        fake.client().order.get_order_list(page_size=10)


def test_safe_call_retried_on_5xx_then_succeeds(fake: FakeTikTok) -> None:
    answers = [
        httpx.Response(503, text="busy"),
        fake.envelope(None, code=36009003, message="internal"),
        fake.envelope({"orders": [{"id": "1"}]}),
    ]
    fake.on(*SEARCH, lambda s: answers.pop(0))
    sleeps: list[float] = []
    page = fake.client(sleep=sleeps.append).order.get_order_list(page_size=10)
    assert page.orders and page.orders[0].id == "1"
    assert len(fake.seen) == 3 and len(sleeps) == 2
    assert len({s.query["sign"] for s in fake.seen} | {s.query["timestamp"] for s in fake.seen}) >= 1
    assert all(s.signature_ok for s in fake.seen)


def test_retries_are_bounded(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, lambda s: httpx.Response(500, text="down"))
    with pytest.raises(ServerError):
        fake.client(max_retries=3).order.get_order_list(page_size=10)
    assert len(fake.seen) == 4


def test_rate_limit_honours_retry_after(fake: FakeTikTok) -> None:
    answers = [httpx.Response(429, headers={"retry-after": "7"}, text=""), fake.envelope({"orders": []})]
    fake.on(*SEARCH, lambda s: answers.pop(0))
    sleeps: list[float] = []
    fake.client(sleep=sleeps.append).order.get_order_list(page_size=10)
    assert len(sleeps) == 1 and 7.0 <= sleeps[0] <= 7.0 * 1.25  # the wait asked for, plus jitter


def test_rate_limit_error_carries_retry_after(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, lambda s: httpx.Response(429, headers={"retry-after": "3"}, text=""))
    with pytest.raises(RateLimitError) as info:
        fake.client(max_retries=0).order.get_order_list(page_size=10)
    assert info.value.retry_after == 3.0


def test_write_is_not_retried_after_it_may_have_reached_tiktok(fake: FakeTikTok) -> None:
    fake.on(*SHIP, lambda s: httpx.Response(503, text="busy"))
    with pytest.raises(ServerError):
        fake.client(max_retries=5).fulfillment.ship_package("p1", handover_method="DROP_OFF")
    assert len(fake.seen) == 1


def test_write_is_not_retried_after_a_read_timeout(fake: FakeTikTok) -> None:
    calls = []

    def transport(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    client = fake.client(http_client=httpx.Client(transport=httpx.MockTransport(transport)), max_retries=5)
    with pytest.raises(TransportError) as info:
        client.fulfillment.ship_package("p1", handover_method="DROP_OFF")
    assert len(calls) == 1 and not info.value.nothing_sent


def test_write_is_retried_when_nothing_was_sent(fake: FakeTikTok) -> None:
    calls = []

    def transport(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return fake(request)

    fake.on(*SHIP, None)
    client = fake.client(http_client=httpx.Client(transport=httpx.MockTransport(transport)))
    client.fulfillment.ship_package("p1", handover_method="DROP_OFF")
    assert len(calls) == 2 and len(fake.seen) == 1


def test_transport_error_message_has_no_url(fake: FakeTikTok) -> None:
    def transport(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    client = fake.client(http_client=httpx.Client(transport=httpx.MockTransport(transport)), max_retries=0)
    with pytest.raises(TransportError) as info:
        client.order.get_order_list(page_size=10)
    text = str(info.value)
    assert "cannot reach <url>" in text and "api.test" not in text and "sign" not in text
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_everything_derives_from_tiktokshop_error() -> None:
    for cls in (ApiError, AuthenticationError, MalformedResponseError, TransportError):
        assert issubclass(cls, TikTokShopError)
