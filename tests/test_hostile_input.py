"""Every bad input is a ValidationError or ConfigurationError raised before anything is sent, with no
secret in its text, args or traceback (the cases a fuzzer found, each pinned down)."""

from __future__ import annotations

import asyncio
import io
import traceback
from typing import Any

import httpx
import pytest

from tests.fake import ACCESS_TOKEN, API, APP_KEY, APP_SECRET, AUTH, REFRESH_TOKEN, SHOP_CIPHER, FakeTikTok
from tiktokshop import AsyncTikTokShop, ConfigurationError, TikTokShopError, TransportError, ValidationError

SEARCH = ("POST", "/order/202309/orders/search")
LOOSE = "get_newest_conversation_messages"  # affiliate_seller: a loosely typed POST


def _cycle() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


def _deep(n: int = 100_000) -> list[Any]:
    value: list[Any] = []
    for _ in range(n):
        value = [value]
    return value


def _closed() -> io.BytesIO:
    handle = io.BytesIO(b"img")
    handle.close()
    return handle


def _assert_refused(fake: FakeTikTok, error: BaseException, field: str | None = None) -> None:
    assert isinstance(error, (ValidationError, ConfigurationError))
    assert fake.seen == [], "nothing was sent"
    text = "".join(traceback.format_exception(error)) + repr(error.args)
    for secret in (APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN):
        assert secret not in text
    if field is not None:
        assert getattr(error, "field", None) == field


CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("5,000-digit int", {"page_size": 10**5000}, "page_size"),
    ("5,000-digit int in a body list", {"page_size": 5, "warehouse_ids": [10**5000]}, "warehouse_ids.0"),
    ("cyclic list", {"page_size": 5, "warehouse_ids": _cycle()}, "warehouse_ids.0"),
    ("deep list", {"page_size": 5, "warehouse_ids": _deep()}, None),
    ("NaN", {"page_size": float("nan")}, "page_size"),
    ("infinity", {"page_size": 5, "create_time_ge": float("inf")}, "create_time_ge"),
    ("non-string shop_cipher", {"page_size": 5, "shop_cipher": 12345}, "shop_cipher"),
    ("lone-surrogate shop_cipher", {"page_size": 5, "shop_cipher": "ROW_\ud800"}, "shop_cipher"),
    ("lone surrogate in text", {"page_size": 5, "buyer_user_id": "u\udcff"}, "buyer_user_id"),
    ("URL over 64 KB", {"page_size": 5, "extra_query": {"q": "x" * 70_000}}, None),
]


@pytest.mark.parametrize("kwargs, field", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_before_sending(
    fake: FakeTikTok, kwargs: dict[str, Any], field: str | None
) -> None:
    fake.on(*SEARCH, {"orders": []})
    with pytest.raises(TikTokShopError) as info:
        fake.client().order.get_order_list(**kwargs)
    _assert_refused(fake, info.value, field)


def test_a_long_url_names_the_limit(fake: FakeTikTok) -> None:
    with pytest.raises(ValidationError, match="over the limit of 65536"):
        fake.client().order.get_order_detail(ids=["1" * 1500] * 50)
    assert fake.seen == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"body": {"raw": b"bytes"}},
        {"query": {"raw": b"bytes"}},
        {"body": {"n": float("nan")}},
        {"body": 5},
        {"query": [1]},
    ],
)
def test_loose_calls_refuse_what_json_cannot_hold(fake: FakeTikTok, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as info:
        getattr(fake.client().affiliate_seller, LOOSE)(**kwargs)
    _assert_refused(fake, info.value)


@pytest.mark.parametrize(
    "data", ["/tmp/" + "long/" * 2000 + "x.png", "/tmp/nul\x00.png", _closed(), "/no/such/file.png"]
)
def test_unusable_upload_files_are_refused(fake: FakeTikTok, data: Any) -> None:
    with pytest.raises(ValidationError) as info:
        fake.client().product.upload_product_image(data=data)
    _assert_refused(fake, info.value, "data")


def test_async_client_refuses_the_same(fake: FakeTikTok) -> None:
    async def run() -> BaseException:
        client = AsyncTikTokShop(
            app_key=APP_KEY,
            app_secret=APP_SECRET,
            shop_cipher=SHOP_CIPHER,
            access_token=ACCESS_TOKEN,
            base_url=API,
            auth_base_url=AUTH,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(fake)),
        )
        with pytest.raises(ValidationError) as info:
            await client.order.get_order_list(page_size=5, shop_cipher=b"bytes")  # type: ignore[arg-type]
        return info.value

    _assert_refused(fake, asyncio.run(run()), "shop_cipher")


@pytest.mark.parametrize(
    "raise_in_hook",
    [
        lambda r: r.raise_for_status(),
        lambda r: (_ for _ in ()).throw(httpx.DecodingError("bad", request=r.request)),
        lambda r: (_ for _ in ()).throw(httpx.InvalidURL("bad url " + str(r.request.url))),
        lambda r: (_ for _ in ()).throw(
            httpx.RemoteProtocolError("closed " + str(r.request.url), request=r.request)
        ),
    ],
)
def test_any_httpx_error_from_a_pool_hook_becomes_ours_without_secrets(
    fake: FakeTikTok, raise_in_hook: Any
) -> None:
    fake.on(*SEARCH, lambda s: httpx.Response(503, text=f"busy {s.query}"))
    pool = httpx.Client(transport=httpx.MockTransport(fake), event_hooks={"response": [raise_in_hook]})
    client = fake.client(http_client=pool, max_retries=1)
    with pytest.raises(TikTokShopError) as info:
        client.order.get_order_list(page_size=5)
    error = info.value
    text = "".join(traceback.format_exception(error)) + repr(error.args) + repr(vars(error))
    signs = {s.query["sign"] for s in fake.seen}
    for secret in (APP_SECRET, ACCESS_TOKEN, *signs):
        assert secret not in text
    link: BaseException | None = error
    while link is not None:
        assert not isinstance(link, httpx.HTTPError)
        link = link.__cause__ or link.__context__
    assert isinstance(error, (TransportError, TikTokShopError))
