"""What the fast reading of answers must keep: unknown fields at every level, new enum values,
``request_id`` on the answer, paging over several pages, error envelopes, and a clear
``MalformedResponseError`` for a body that is not an envelope or does not fit the model.

The transport is in-process (``httpx.MockTransport``) and answers raw bytes, so every test here
goes through the same bytes-to-model path as a call over the network.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tiktokshop import (
    ApiError,
    AsyncTikTokShop,
    MalformedResponseError,
    RateLimitError,
    ServerError,
    TikTokShop,
)
from tiktokshop.types.order import GetOrderListPage, GetOrderListResponseOrder

Answer = Callable[[httpx.Request], httpx.Response]


def envelope(data: Any, code: int = 0, message: str = "Success", request_id: str = "req-1") -> bytes:
    return json.dumps({"code": code, "message": message, "request_id": request_id, "data": data}).encode()


def client_for(answer: Answer) -> TikTokShop:
    http = httpx.Client(transport=httpx.MockTransport(answer))
    return TikTokShop(
        app_key="k", app_secret="s", access_token="t", shop_cipher="c", http_client=http, max_retries=0
    )


def fixed(body: bytes, status: int = 200) -> TikTokShop:
    return client_for(lambda request: httpx.Response(status, content=body))


ORDER = {
    "id": "5764",
    "status": "AWAITING_SHIPMENT",
    "payment": {"currency": "USD", "total_amount": "9.99", "brand_new_money_field": "1.00"},
    "line_items": [{"id": "li-1", "sku_id": "9", "gift_wrap": {"paper": "red"}}],
    "new_order_field": [1, 2, 3],
}


def test_unknown_fields_are_kept_at_every_level() -> None:
    data = {"orders": [ORDER], "total_count": 1, "next_page_token": "", "new_top_field": {"a": 1}}
    page = fixed(envelope(data)).order.get_order_list(page_size=10)
    assert isinstance(page, GetOrderListPage)
    order = page.orders[0]
    assert isinstance(order, GetOrderListResponseOrder)
    assert page.model_extra == {"new_top_field": {"a": 1}}
    assert order.model_extra == {"new_order_field": [1, 2, 3]}
    assert order.payment.model_extra == {"brand_new_money_field": "1.00"}
    assert order.line_items[0].model_extra == {"gift_wrap": {"paper": "red"}}
    dumped = page.model_dump(exclude_none=True)
    assert dumped["orders"][0]["line_items"][0]["gift_wrap"] == {"paper": "red"}


def test_new_enum_values_and_loose_scalars_are_accepted() -> None:
    order = {**ORDER, "status": "A_STATUS_TIKTOK_ADDED_LATER", "id": 5764, "create_time": "1700000000"}
    page = fixed(envelope({"orders": [order]})).order.get_order_list(page_size=10)
    assert page.orders[0].status == "A_STATUS_TIKTOK_ADDED_LATER"
    assert page.orders[0].id == "5764"  # a number where text is declared: kept, as text
    assert page.orders[0].create_time == 1700000000


def test_request_id_is_on_the_answer_only() -> None:
    page = fixed(envelope({"orders": [ORDER]}, request_id="2026112600ABC")).order.get_order_list(page_size=1)
    assert page.request_id == "2026112600ABC"
    nested = page.orders[0]
    assert nested.request_id is None
    # nested models carry no per-instance state besides their fields (what keeps parsing fast)
    assert nested.__pydantic_private__ is None and nested.line_items[0].__pydantic_private__ is None
    assert page.model_copy().request_id == "2026112600ABC"


@pytest.mark.parametrize("body", [envelope(None), b'{"code":0,"message":"ok","request_id":"r9"}'])
def test_no_data_gives_an_empty_answer_with_its_request_id(body: bytes) -> None:
    page = fixed(body).order.get_order_list(page_size=1)
    assert page.orders is None and page.page_items() == [] and not page.has_next_page()
    assert page.request_id in ("req-1", "r9")


def pages(count: int, per_page: int) -> tuple[Answer, list[str | None]]:
    """An answer that serves ``count`` pages, and the page tokens it was asked for."""
    asked: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        token = json.loads(request.content or b"{}").get("page_token") or request.url.params.get("page_token")
        asked.append(token)
        index = int(token) if token else 0
        orders = [{**ORDER, "id": f"{index}-{n}"} for n in range(per_page)]
        next_token = str(index + 1) if index + 1 < count else ""
        data = {"orders": orders, "next_page_token": next_token, "total_count": count * per_page}
        return httpx.Response(200, content=envelope(data, request_id=f"req-page-{index}"))

    return answer, asked


def test_auto_paging_walks_every_page_with_its_token() -> None:
    answer, asked = pages(4, 3)
    client = client_for(answer)
    first = client.order.get_order_list(page_size=3, order_status="AWAITING_SHIPMENT")
    ids = [order.id for order in first.auto_paging_iter()]
    assert ids == [f"{p}-{n}" for p in range(4) for n in range(3)]
    assert asked == [None, "1", "2", "3"]
    requests = [page.request_id for page in first.iter_pages()]
    assert requests == ["req-page-0", "req-page-1", "req-page-2", "req-page-3"]


def test_async_auto_paging_walks_every_page() -> None:
    answer, asked = pages(3, 2)

    async def run() -> list[str | None]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with AsyncTikTokShop(
            app_key="k", app_secret="s", access_token="t", shop_cipher="c", http_client=http
        ) as client:
            first = await client.order.get_order_list(page_size=2)
            assert first.request_id == "req-page-0"
            return [order.id async for order in first.auto_paging_aiter()]

    assert asyncio.run(run()) == ["0-0", "0-1", "1-0", "1-1", "2-0", "2-1"]
    assert asked == [None, "1", "2"]


def test_error_envelope_raises_the_api_error_with_code_and_request_id() -> None:
    """An error envelope whose data would not fit the answer's model is still TikTok's error."""
    body = envelope(
        {"orders": "not what a success holds"}, code=98765432, message="too many", request_id="r-err"
    )
    with pytest.raises(ApiError) as caught:
        fixed(body, status=429).order.get_order_list(page_size=1)
    assert isinstance(caught.value, RateLimitError)  # a code outside the table: the HTTP status decides
    assert not isinstance(caught.value, MalformedResponseError)
    assert caught.value.code == 98765432 and caught.value.request_id == "r-err"
    assert "too many" in str(caught.value)


def test_error_code_with_http_200_is_an_api_error() -> None:
    with pytest.raises(ApiError) as caught:
        fixed(envelope(None, code=12019999, message="nope")).order.get_order_list(page_size=1)
    assert caught.value.code == 12019999 and caught.value.status_code == 200


def test_http_error_with_a_success_code_is_still_an_error() -> None:
    with pytest.raises(ServerError) as caught:
        fixed(envelope({"orders": []}), status=503).order.get_order_list(page_size=1)
    assert caught.value.status_code == 503


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>bad gateway</html>", "not TikTok's JSON envelope"),
        (b'{"code": 0, "data": {"orders": [', "not TikTok's JSON envelope"),
        (b"[1, 2, 3]", "not TikTok's JSON envelope"),
        (b'{"message": "no code"}', "not TikTok's JSON envelope"),
        (b'{"code": "0", "data": {}}', "not an integer"),
        (b'{"code": true, "data": {}}', "not an integer"),
        (envelope({"orders": "a string"}), "orders"),
        (envelope({"orders": [{"line_items": {"not": "a list"}}]}), "orders.0.line_items"),
        (envelope([1, 2]), "does not fit GetOrderListPage"),
    ],
)
def test_a_body_that_does_not_fit_raises_malformed_response(body: bytes, words: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        fixed(body).order.get_order_list(page_size=1)
    assert words in str(caught.value)
    assert caught.value.status_code == 200


def test_models_of_a_domain_load_by_name() -> None:
    import tiktokshop.types.order as order_types

    assert set(order_types.__all__) <= set(dir(order_types))
    for name in order_types.__all__:
        model = getattr(order_types, name)
        assert model.__name__ == name
    with pytest.raises(AttributeError):
        order_types.NoSuchModel
