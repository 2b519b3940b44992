"""TikTok's errors become typed exceptions; transient failures are retried only where it is safe."""

from __future__ import annotations

import httpx
import pytest

from tests.fake import FakeTikTok
from tiktokshop import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
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


# -- TikTok's error table (spec/api.yaml), as TikTok documents it ----------------------------------

SHOPS = ("GET", "/authorization/202309/shops")


def test_too_many_requests_is_retried_with_backoff_then_raises_rate_limit_error(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, lambda s: fake.envelope(None, code=36009002, message="Too many requests", status=429))
    sleeps: list[float] = []
    with pytest.raises(RateLimitError) as info:
        fake.client(max_retries=3, sleep=sleeps.append).authorization.get_authorized_shops()
    assert len(fake.seen) == 4 and len(sleeps) == 3 and all(s >= 0 for s in sleeps)
    assert info.value.code == 36009002 and info.value.status_code == 429
    assert fake.token_calls == []


def test_credential_or_parameter_error_is_sent_once_and_says_what_to_check(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, lambda s: fake.envelope(None, code=36009004, message="Invalid credentials"))
    with pytest.raises(AuthenticationError) as info:
        fake.client(max_retries=3).authorization.get_authorized_shops()
    assert not isinstance(info.value, RateLimitError)
    assert len(fake.seen) == 1 and fake.token_calls == []
    message = str(info.value)
    assert info.value.code == 36009004
    for what in ("sign", "app_key", "timestamp", "shop_cipher", "category_asset_cipher"):
        assert what in message, what


def test_missing_scope_is_permission_denied_and_never_refreshes(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, lambda s: fake.envelope(None, code=105005, message="Access denied"))
    with pytest.raises(PermissionDeniedError) as info:
        fake.client(max_retries=3).authorization.get_authorized_shops()
    assert len(fake.seen) == 1 and fake.token_calls == []
    assert "scope" in str(info.value) and "authorize" in str(info.value)


def test_expired_token_code_refreshes_once_and_repeats(fake: FakeTikTok) -> None:
    answers = [fake.envelope(None, code=105002, message="Expired credentials")]
    fake.on(*SHOPS, lambda s: answers.pop(0) if answers else {"shops": []})
    page = fake.client().authorization.get_authorized_shops()
    assert page.shops == []
    assert len(fake.token_calls) == 1 and len(fake.seen) == 2
    assert (
        fake.seen[1].headers["x-tts-access-token"]
        == fake.access_token
        != fake.seen[0].headers["x-tts-access-token"]
    )


def test_bad_sign_suggests_checking_the_secret_and_clock(fake: FakeTikTok) -> None:
    with pytest.raises(AuthenticationError) as info:
        fake.client(app_secret="not-the-secret").authorization.get_authorized_shops()
    assert info.value.code == 106001 and len(fake.seen) == 1
    assert "app secret" in str(info.value) and "clock" in str(info.value)
    assert "not-the-secret" not in str(info.value)


def test_missing_shop_cipher_is_a_bad_request_naming_it(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, lambda s: fake.envelope(None, code=106013, message="Missing identifier"))
    with pytest.raises(BadRequestError) as info:
        fake.client(max_retries=3).authorization.get_authorized_shops()
    assert info.value.code == 106013 and "shop_cipher" in str(info.value) and len(fake.seen) == 1


@pytest.mark.parametrize("code", [36009003, 36009007])
def test_transient_codes_are_retried(fake: FakeTikTok, code: int) -> None:
    answers = [fake.envelope(None, code=code, message="transient")]
    fake.on(*SHOPS, lambda s: answers.pop(0) if answers else {"shops": []})
    fake.client().authorization.get_authorized_shops()
    assert len(fake.seen) == 2


def test_ip_not_on_the_allow_list_is_permission_denied(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, lambda s: fake.envelope(None, code=36009033, message="Access denied"))
    with pytest.raises(PermissionDeniedError, match="allow list"):
        fake.client(max_retries=3).authorization.get_authorized_shops()
    assert len(fake.seen) == 1


def test_a_listed_code_without_the_retry_flag_is_not_retried(fake: FakeTikTok) -> None:
    # 45101004 is a daily quota: a RateLimitError, but repeating the call cannot help until tomorrow.
    fake.on(*SHOPS, lambda s: fake.envelope(None, code=45101004, message="quota used up"))
    with pytest.raises(RateLimitError) as info:
        fake.client(max_retries=3, sleep=lambda s: None).authorization.get_authorized_shops()
    assert info.value.code == 45101004 and len(fake.seen) == 1


def test_an_unlisted_server_error_status_is_still_retried(fake: FakeTikTok) -> None:
    answers = [httpx.Response(503, text="busy")]
    fake.on(*SHOPS, lambda s: answers.pop(0) if answers else {"shops": []})
    fake.client(sleep=lambda s: None).authorization.get_authorized_shops()
    assert len(fake.seen) == 2
