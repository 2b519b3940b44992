"""Every call of the original package, against the in-process fake that re-checks each signature."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pytest

from tests.fake import ACCESS_TOKEN, SHOP_CIPHER, FakeTikTok
from tiktokshop import AccessToken, AuthorizationLink, ConfigurationError
from tiktokshop.types.fulfillment import GetPackageHandoverTimeSlotsResponse, PickupSlotInput
from tiktokshop.types.order import GetOrderDetailResponse, GetOrderListPage, GetOrderListResponseOrder
from tiktokshop.types.product import GetProductResponse


def _all_signed(fake: FakeTikTok) -> None:
    assert fake.seen, "the fake received requests"
    assert all(s.signature_ok for s in fake.seen)


def test_authorization_url(fake: FakeTikTok) -> None:
    client = fake.client()
    link = client.auth.authorization_url(state="xyz")
    assert isinstance(link, AuthorizationLink)
    assert link.state == "xyz" and link.service_id == "7000000000000000001"
    url = urlparse(link.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "services.tiktokshop.com", "/open/authorize")
    assert parse_qs(url.query) == {"service_id": ["7000000000000000001"], "state": ["xyz"]}
    us = client.auth.authorization_url(service_id="42", us=True)
    assert urlparse(us.url).netloc == "services.us.tiktokshop.com"
    assert us.service_id == "42" and len(us.state) >= 16  # a random state when none is given
    assert us.state != client.auth.authorization_url(service_id="42").state


def test_authorization_url_needs_service_id(fake: FakeTikTok) -> None:
    with pytest.raises(ConfigurationError, match="service_id"):
        fake.client(service_id=None).auth.authorization_url()


def test_get_access_token_then_client_uses_it(fake: FakeTikTok) -> None:
    client = fake.client(access_token=None, refresh_token=None)
    token = client.auth.get_access_token("good-code")
    assert isinstance(token, AccessToken)
    assert token.access_token == fake.access_token and token.seller_name == "Test Seller"
    assert token.request_id and token.granted_scopes == ["seller.order.info"]
    call = fake.token_calls[-1]
    assert call.path == "/api/v2/token/get"
    assert call.query["grant_type"] == "authorized_code" and call.query["auth_code"] == "good-code"
    fake.on("GET", "/authorization/202309/shops", {"shops": []})
    client.authorization.get_authorized_shops()
    assert fake.seen[-1].headers["x-tts-access-token"] == token.access_token


def test_refresh_access_token_rotates_both_tokens(fake: FakeTikTok) -> None:
    client = fake.client()
    old_refresh = client.refresh_token
    token = client.auth.refresh_access_token()
    assert client.access_token == token.access_token == fake.access_token
    assert client.refresh_token == token.refresh_token != old_refresh
    assert fake.token_calls[-1].query["refresh_token"] == old_refresh


def test_get_authorized_shops_sends_no_shop_cipher(fake: FakeTikTok) -> None:
    fake.on(
        "GET",
        "/authorization/202309/shops",
        {
            "shops": [
                {
                    "id": "7001",
                    "name": "Shop",
                    "region": "GB",
                    "seller_type": "LOCAL",
                    "cipher": "C9",
                    "code": "GBX",
                }
            ]
        },
    )
    shops = fake.client().authorization.get_authorized_shops()
    assert shops.shops is not None and shops.shops[0].cipher == "C9"
    assert shops.request_id and shops.request_id.startswith("req-")
    assert "shop_cipher" not in fake.seen[-1].query
    _all_signed(fake)


def test_get_order_list(fake: FakeTikTok) -> None:
    fake.on(
        "POST",
        "/order/202309/orders/search",
        {
            "orders": [
                {"id": "576", "status": "AWAITING_SHIPMENT", "create_time": 1700000000, "brand_new": 1}
            ],
            "next_page_token": "",
            "total_count": 1,
        },
    )
    since = datetime(2024, 1, 1, tzinfo=timezone.utc)
    page = fake.client().order.get_order_list(
        page_size=20,
        sort_field="create_time",
        sort_order="DESC",
        order_status="AWAITING_SHIPMENT",
        create_time_ge=since,
        create_time_lt=int((since + timedelta(days=1)).timestamp()),
    )
    assert isinstance(page, GetOrderListPage)
    assert page.orders and isinstance(page.orders[0], GetOrderListResponseOrder)
    assert page.orders[0].id == "576" and page.total_count == 1
    assert page.orders[0].model_extra == {"brand_new": 1}  # unknown fields are kept
    seen = fake.seen[-1]
    assert seen.method == "POST" and seen.path == "/order/202309/orders/search"
    assert seen.query["page_size"] == "20" and seen.query["sort_field"] == "create_time"
    assert seen.query["shop_cipher"] == SHOP_CIPHER
    assert seen.headers["x-tts-access-token"] == ACCESS_TOKEN
    assert seen.json == {
        "order_status": "AWAITING_SHIPMENT",
        "create_time_ge": 1704067200,
        "create_time_lt": 1704153600,
    }
    _all_signed(fake)


@pytest.mark.parametrize("status", ["ALL", None])
def test_order_status_all_or_omitted_sends_none(fake: FakeTikTok, status: str | None) -> None:
    fake.on("POST", "/order/202309/orders/search", {"orders": [], "next_page_token": ""})
    fake.client().order.get_order_list(page_size=10, order_status=status)
    assert "order_status" not in (fake.seen[-1].json or {})
    _all_signed(fake)


def test_get_order_list_pages(fake: FakeTikTok) -> None:
    pages = {"": (["1", "2"], "t2"), "t2": (["3"], "t3"), "t3": (["4"], "")}

    def handler(seen):  # type: ignore[no-untyped-def]
        ids, nxt = pages[seen.query.get("page_token", "")]
        return {"orders": [{"id": i} for i in ids], "next_page_token": nxt}

    fake.on("POST", "/order/202309/orders/search", handler)
    first = fake.client().order.get_order_list(page_size=2, order_status="UNPAID")
    assert first.has_next_page() and first.next_page_token == "t2"
    assert [o.id for o in first.auto_paging_iter()] == ["1", "2", "3", "4"]
    assert [s.query.get("page_token") for s in fake.seen] == [None, "t2", "t3"]
    assert all(s.json == {"order_status": "UNPAID"} for s in fake.seen)  # same filters on every page
    _all_signed(fake)


def test_get_order_detail_newest_and_older_version(fake: FakeTikTok) -> None:
    fake.on("GET", "/order/202507/orders", {"orders": [{"id": "1"}, {"id": "2"}]})
    fake.on("GET", "/order/202309/orders", {"orders": [{"id": "1"}]})
    client = fake.client()
    detail = client.order.get_order_detail(ids=["1", "2"])
    assert isinstance(detail, GetOrderDetailResponse)
    assert [o.id for o in detail.orders or []] == ["1", "2"]
    assert fake.seen[-1].path == "/order/202507/orders" and fake.seen[-1].query["ids"] == "1,2"
    client.order.get_order_detail_v202309(ids=("1",))
    assert fake.seen[-1].path == "/order/202309/orders" and fake.seen[-1].query["ids"] == "1"
    _all_signed(fake)


def test_get_price_detail(fake: FakeTikTok) -> None:
    fake.on("GET", "/order/202407/orders/{order_id}/price_detail", {"currency": "GBP", "total": "10.00"})
    price = fake.client().order.get_price_detail("5761")
    assert price.currency == "GBP"
    assert fake.seen[-1].path == "/order/202407/orders/5761/price_detail"
    _all_signed(fake)


def test_product_calls(fake: FakeTikTok) -> None:
    fake.on(
        "GET", "/product/202309/products/{product_id}", {"id": "p1", "title": "Mug", "status": "ACTIVATE"}
    )
    fake.on("GET", "/product/202309/categories", {"categories": [{"id": "c1", "is_leaf": True}]})
    fake.on(
        "GET", "/product/202309/brands", {"brands": [{"id": "b1", "name": "Acme"}], "next_page_token": ""}
    )
    fake.on("GET", "/product/202309/categories/{category_id}/attributes", {"attributes": [{"id": "a1"}]})
    fake.on("POST", "/product/202309/products", lambda seen: {"product_id": "p2", "skus": [{"id": "s1"}]})
    client = fake.client()
    product = client.product.get_product("p1")
    assert isinstance(product, GetProductResponse) and product.title == "Mug"
    assert fake.seen[-1].path == "/product/202309/products/p1"
    categories = client.product.get_categories()
    assert categories.categories and categories.categories[0].is_leaf is True
    brands = client.product.get_brands(category_id="c1", page_size=50)
    assert [b.name for b in brands.auto_paging_iter()] == ["Acme"]
    assert fake.seen[-1].query["category_id"] == "c1" and fake.seen[-1].query["page_size"] == "50"
    attributes = client.product.get_attributes("c1")
    assert attributes.attributes and attributes.attributes[0].id == "a1"
    created = client.product.create_product(
        title="Mug",
        description="<p>A mug</p>",
        category_id="c1",
        main_images=[{"uri": "img-1"}],
        skus=[
            {
                "seller_sku": "MUG-1",
                "price": {"amount": "9.99", "currency": "GBP"},
                "inventory": [{"warehouse_id": "w1", "quantity": 5}],
            }
        ],
        package_weight={"value": "0.3", "unit": "KILOGRAM"},
    )
    assert created.product_id == "p2"
    body = fake.seen[-1].json
    assert body["title"] == "Mug" and body["skus"][0]["inventory"][0]["quantity"] == 5
    _all_signed(fake)


def test_fulfillment_calls(fake: FakeTikTok) -> None:
    fake.on(
        "GET",
        "/fulfillment/202309/packages/{package_id}/handover_time_slots",
        {
            "can_pickup": True,
            "pickup_slots": [{"start_time": 1700000000, "end_time": 1700003600, "avaliable": True}],
        },
    )
    fake.on("POST", "/fulfillment/202309/packages/{package_id}/ship", None)
    fake.on(
        "GET",
        "/fulfillment/202309/packages/{package_id}/shipping_documents",
        {"doc_url": "https://docs.test/label.pdf", "tracking_number": "TT1"},
    )
    client = fake.client()
    slots = client.fulfillment.get_package_handover_time_slots("pkg1")
    assert isinstance(slots, GetPackageHandoverTimeSlotsResponse)
    slot = slots.pickup_slots[0] if slots.pickup_slots else None
    assert slot is not None and slot.start_time == 1700000000
    shipped = client.fulfillment.ship_package(
        "pkg1",
        handover_method="PICKUP",
        pickup_slot={"start_time": slot.start_time, "end_time": slot.end_time},
    )
    assert shipped.request_id
    assert fake.seen[-1].json == {
        "handover_method": "PICKUP",
        "pickup_slot": {"start_time": 1700000000, "end_time": 1700003600},
    }
    client.fulfillment.ship_package("pkg2", pickup_slot=PickupSlotInput(start_time=1, end_time=2))
    assert fake.seen[-1].json == {"pickup_slot": {"start_time": 1, "end_time": 2}}
    doc = client.fulfillment.get_package_shipping_document("pkg1", document_type="SHIPPING_LABEL")
    assert doc.doc_url == "https://docs.test/label.pdf"
    assert fake.seen[-1].query["document_type"] == "SHIPPING_LABEL"
    _all_signed(fake)


def test_shop_cipher_per_call_overrides_client(fake: FakeTikTok) -> None:
    fake.on("GET", "/product/202309/categories", {"categories": []})
    fake.client().product.get_categories(shop_cipher="OTHER")
    assert fake.seen[-1].query["shop_cipher"] == "OTHER"


def test_body_bytes_signed_are_bytes_sent(fake: FakeTikTok) -> None:
    fake.on("POST", "/product/202309/products", {"product_id": "p"})
    fake.client().product.create_product(
        title='Tasse à café ☕ "quoted"',
        description="d&e=f#g",
        category_id="c",
        main_images=[{"uri": "u"}],
        skus=[
            {
                "seller_sku": "s",
                "price": {"amount": "1", "currency": "GBP"},
                "inventory": [{"warehouse_id": "w", "quantity": 1}],
            }
        ],
        package_weight={"value": "1", "unit": "KILOGRAM"},
    )
    seen = fake.seen[-1]
    assert seen.signature_ok
    assert json.loads(seen.body)["title"] == 'Tasse à café ☕ "quoted"'
