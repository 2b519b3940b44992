"""Every request is checked as TikTok checks it; each failure has its code."""

from __future__ import annotations

import pytest

from tests.sandbox._raw import code, send
from tiktokshop import AuthenticationError
from tiktokshop.resources._api import ERROR_CODES
from tiktokshop.sandbox import ERRORS, Sandbox
from tiktokshop.sandbox._auth import compute_sign

SEARCH = "/order/202309/orders/search"
SHOPS = "/authorization/202309/shops"
C = {name: kind.code for name, kind in ERRORS.items()}


def test_a_well_formed_request_succeeds(sandbox: Sandbox) -> None:
    r = send(sandbox, "POST", SEARCH, {"page_size": "5"}, {"order_status": "UNPAID"})
    assert r.status_code == 200 and code(r) == 0
    assert len(r.json()["data"]["orders"]) == 5 and r.json()["request_id"]


def test_reference_check_value_of_the_signature() -> None:
    query = {"app_key": "abc", "timestamp": "1700000000", "shop_cipher": "C1", "page_size": "20"}
    expected = "c42c6ca9a8ef882bc8487ff47a69fad0edb797d373c8f37113d4f27f2ae0dfaa"
    assert compute_sign("s3cr3t", SEARCH, query, '{"order_status":"UNPAID"}') == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"app_key": "not-our-app"}, C["UNKNOWN_APP_KEY"]),
        ({"drop": ("app_key",)}, C["UNKNOWN_APP_KEY"]),
        ({"timestamp": 1_767_225_600 - 301}, C["TIMESTAMP_OUT_OF_RANGE"]),
        ({"timestamp": 1_767_225_600 + 31}, C["TIMESTAMP_OUT_OF_RANGE"]),
        ({"drop": ("timestamp",)}, C["TIMESTAMP_OUT_OF_RANGE"]),
        ({"secret": "wrong-secret"}, 106001),
        ({"sign": "0" * 64}, 106001),
        ({"token": None}, C["MISSING_ACCESS_TOKEN"]),
        ({"token": "SBXAT_made_up"}, 105001),
        ({"shop_cipher": None}, C["SHOP_CIPHER_REQUIRED"]),
        ({"shop_cipher": "GCP_not_a_shop"}, C["INVALID_SHOP_CIPHER"]),
    ],
)
def test_each_failed_check_answers_with_its_code(sandbox: Sandbox, kwargs: dict, expected: int) -> None:
    r = send(sandbox, "POST", SEARCH, {"page_size": "5"}, {"order_status": "UNPAID"}, **kwargs)
    assert code(r) == expected
    assert set(r.json()) == {"code", "message", "data", "request_id"} and r.json()["message"]


@pytest.mark.parametrize("offset", [-300, -299, 0, 29, 30])
def test_timestamp_from_five_minutes_before_to_thirty_seconds_after_passes(
    sandbox: Sandbox, offset: int
) -> None:
    r = send(sandbox, "POST", SEARCH, {"page_size": "5"}, timestamp=1_767_225_600 + offset)
    assert code(r) == 0


@pytest.mark.parametrize(
    ("kind", "tiktok_code"),
    [
        ("UNKNOWN_APP_KEY", 36009004),
        ("TIMESTAMP_OUT_OF_RANGE", 36009004),
        ("MISSING_SIGNATURE", 36009004),
        ("MISSING_ACCESS_TOKEN", 36009004),
        ("SHOP_CIPHER_NOT_ACCEPTED", 36009004),
        ("SHOP_CIPHER_REQUIRED", 106013),
        ("INVALID_SIGNATURE", 106001),
        ("EXPIRED_ACCESS_TOKEN", 105002),
        ("RATE_LIMITED", 36009002),
        ("INTERNAL_ERROR", 36009003),
        ("NO_SUCH_ROUTE", 36009009),
    ],
)
def test_the_sandbox_answers_with_tiktoks_documented_codes(kind: str, tiktok_code: int) -> None:
    assert C[kind] == tiktok_code
    assert tiktok_code in ERROR_CODES


def test_a_shop_cipher_where_none_is_taken_is_refused_as_tiktok_does(sandbox: Sandbox) -> None:
    r = send(sandbox, "GET", SHOPS)  # authorized shops: not shop-scoped
    assert code(r) == 36009004
    assert "shop_cipher" in r.json()["message"]


def test_the_signature_covers_the_body(sandbox: Sandbox) -> None:
    signed_for = {"order_status": "UNPAID"}
    from tests.fake import independent_sign

    q = {
        "page_size": "5",
        "app_key": sandbox.app_key,
        "timestamp": "1767225600",
        "shop_cipher": sandbox.shop_cipher,
    }
    good = independent_sign(sandbox.app_secret, SEARCH, list(q.items()), '{"order_status":"UNPAID"}')
    r = send(sandbox, "POST", SEARCH, {"page_size": "5"}, {"order_status": "CANCELLED"}, sign=good)
    assert code(r) == 106001
    r = send(sandbox, "POST", SEARCH, {"page_size": "5"}, signed_for, sign=good)
    assert code(r) == 0


def test_expired_token(sandbox: Sandbox) -> None:
    sandbox.clock.advance(7 * 86400 + 1)
    r = send(sandbox, "GET", SHOPS, shop_cipher=None)
    assert code(r) == 105002
    assert ERROR_CODES[105002].refresh_token


def test_shop_cipher_refused_where_the_operation_is_not_shop_scoped(sandbox: Sandbox) -> None:
    assert code(send(sandbox, "GET", SHOPS)) == C["SHOP_CIPHER_NOT_ACCEPTED"]
    assert code(send(sandbox, "GET", SHOPS, shop_cipher=None)) == 0


def test_arguments_are_validated_with_the_request_models(sandbox: Sandbox) -> None:
    invalid = C["INVALID_PARAMETER"]
    assert code(send(sandbox, "POST", SEARCH, {})) == invalid  # page_size required
    assert code(send(sandbox, "POST", SEARCH, {"page_size": "many"})) == invalid
    assert code(send(sandbox, "POST", SEARCH, {"page_size": "500"})) == invalid  # le=100
    assert code(send(sandbox, "POST", SEARCH, {"page_size": "5", "colour": "red"})) == invalid
    assert code(send(sandbox, "POST", SEARCH, {"page_size": "5"}, {"order_status": "LOST"})) == invalid
    assert code(send(sandbox, "POST", SEARCH, {"page_size": "5"}, {"create_time_ge": "yesterday"})) == invalid
    assert code(send(sandbox, "POST", SEARCH, {"page_size": "5"}, {"unknown_field": 1})) == invalid
    message = send(sandbox, "POST", SEARCH, {"page_size": "5"}, {"order_status": "LOST"}).json()["message"]
    assert "order_status" in message


def test_an_unknown_route_is_404(sandbox: Sandbox) -> None:
    r = send(sandbox, "GET", "/order/202309/nothing-here")
    assert r.status_code == 404 and code(r) == C["NO_SUCH_ROUTE"]


def test_the_client_with_a_wrong_secret_gets_an_authentication_error(sandbox: Sandbox) -> None:
    with sandbox.client(app_secret="not-the-secret") as client, pytest.raises(AuthenticationError) as info:
        client.order.get_order_list(page_size=5)
    assert info.value.code == 106001


def test_codes_from_the_spec_table_are_used() -> None:
    for name in (
        "INVALID_ACCESS_TOKEN",
        "EXPIRED_ACCESS_TOKEN",
        "INVALID_SIGNATURE",
        "RATE_LIMITED",
        "INTERNAL_ERROR",
    ):
        assert ERRORS[name].code in ERROR_CODES
    # Codes the spec's table does not know are the sandbox's own, one kind each.
    own = [kind.code for kind in ERRORS.values() if kind.code not in ERROR_CODES]
    assert len(set(own)) == len(own)
