"""Bad input gets a clear error naming the field, and nothing is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.fake import FakeTikTok
from tiktokshop import ConfigurationError, TikTokShop, ValidationError


@pytest.fixture
def client(fake: FakeTikTok) -> TikTokShop:
    fake.on("POST", "/order/202309/orders/search", {"orders": []})
    fake.on("POST", "/fulfillment/202309/packages/{package_id}/ship", None)
    return fake.client()


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"page_size": "20"}, "page_size", "valid integer"),
        ({"page_size": True}, "page_size", "valid integer"),
        ({"page_size": 0}, "page_size", "greater than or equal to 1"),
        ({"page_size": 101}, "page_size", "less than or equal to 100"),
        ({"page_size": 10, "order_status": "SHIPPED"}, "order_status", "UNPAID"),
        ({"page_size": 10, "sort_order": "desc"}, "sort_order", "'ASC' or 'DESC'"),
        ({"page_size": 10, "create_time_ge": "yesterday"}, "create_time_ge", "valid integer"),
        ({"page_size": 10, "create_time_ge": datetime(2024, 1, 1)}, "create_time_ge", "naive datetime"),
        ({"page_size": 10, "warehouse_ids": "w1"}, "warehouse_ids", "valid list"),
        ({"page_size": 10, "warehouse_ids": [1]}, "warehouse_ids.0", "valid string"),
    ],
)
def test_mistyped_arguments(
    client: TikTokShop, fake: FakeTikTok, kwargs: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.order.get_order_list(**kwargs)
    assert info.value.field == field
    assert field in str(info.value) and words in str(info.value)
    assert "nothing was sent" in str(info.value)
    assert fake.seen == []


def test_missing_required_argument(client: TikTokShop, fake: FakeTikTok) -> None:
    with pytest.raises(TypeError, match="page_size"):
        client.order.get_order_list()  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="page_size: required"):
        client.order.get_order_list(page_size=None)  # type: ignore[arg-type]
    assert fake.seen == []


def test_unknown_keyword_argument(client: TikTokShop, fake: FakeTikTok) -> None:
    with pytest.raises(TypeError, match="pagesize"):
        client.order.get_order_list(pagesize=10)  # type: ignore[call-arg]
    assert fake.seen == []


def test_unknown_and_mistyped_nested_fields(client: TikTokShop, fake: FakeTikTok) -> None:
    with pytest.raises(ValidationError) as info:
        client.fulfillment.ship_package("p1", pickup_slot={"start_time": 1, "end_tme": 2})
    assert info.value.field == "pickup_slot.end_tme" and "unknown field" in str(info.value)
    with pytest.raises(ValidationError) as info:
        client.fulfillment.ship_package("p1", pickup_slot={"start_time": "soon"})
    assert info.value.field == "pickup_slot.start_time"
    with pytest.raises(ValidationError) as info:
        client.fulfillment.ship_package("p1", handover_method="COURIER")  # type: ignore[arg-type]
    assert info.value.field == "handover_method"
    assert fake.seen == []


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_path_argument_must_be_an_id(client: TikTokShop, fake: FakeTikTok, bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        client.fulfillment.ship_package(bad, handover_method="DROP_OFF")
    assert info.value.field == "package_id"
    assert fake.seen == []


def test_path_argument_is_encoded(client: TikTokShop, fake: FakeTikTok) -> None:
    client.fulfillment.ship_package("../a/b?c#d", handover_method="DROP_OFF")
    seen = fake.seen[-1]
    assert seen.raw_path == "/fulfillment/202309/packages/..%2Fa%2Fb%3Fc%23d/ship"
    assert seen.signature_ok


def test_shop_scoped_call_without_cipher(fake: FakeTikTok) -> None:
    client = fake.client(shop_cipher=None)
    with pytest.raises(ConfigurationError, match="shop_cipher"):
        client.order.get_order_list(page_size=10)
    assert fake.seen == []


def test_no_access_token(fake: FakeTikTok) -> None:
    client = fake.client(access_token=None, refresh_token=None)
    with pytest.raises(ConfigurationError, match="access token"):
        client.order.get_order_list(page_size=10)
    assert fake.seen == []


@pytest.mark.parametrize("text", ["a&b=c", "x#y", "../..", "line\nbreak", "sp ace", "百货", "%2F"])
def test_injection_like_query_values_are_encoded_and_signed(
    client: TikTokShop, fake: FakeTikTok, text: str
) -> None:
    client.order.get_order_list(page_size=10, page_token=text)
    seen = fake.seen[-1]
    assert seen.query["page_token"] == text
    assert seen.signature_ok


def test_client_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="app_secret"):
        TikTokShop(app_key="k", app_secret="")
    with pytest.raises(ConfigurationError, match="base_url"):
        TikTokShop(app_key="k", app_secret="s", base_url="open-api.example")
    with pytest.raises(ConfigurationError, match="max_retries"):
        TikTokShop(app_key="k", app_secret="s", max_retries=-1)
    with pytest.raises(ConfigurationError, match="access_token_expire"):
        TikTokShop(app_key="k", app_secret="s", access_token_expire=datetime(2030, 1, 1))


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOK_APP_KEY", "env-key")
    monkeypatch.setenv("TIKTOK_APP_SECRET", "env-secret")
    monkeypatch.setenv("TIKTOK_SHOP_CIPHER", "env-cipher")
    monkeypatch.setenv("TIKTOK_SERVICE_ID", "env-service")
    monkeypatch.setenv("TIKTOK_BASE_URL", "http://127.0.0.1:9")
    client = TikTokShop.from_env(shop_id="override")
    assert client._config.app_key == "env-key" and client._config.shop_cipher == "env-cipher"
    assert client._config.shop_id == "override" and client._config.base_url == "http://127.0.0.1:9"
    assert client.auth.authorization_url().service_id == "env-service"
    monkeypatch.delenv("TIKTOK_APP_SECRET")
    with pytest.raises(ConfigurationError, match="TIKTOK_APP_SECRET"):
        TikTokShop.from_env()
