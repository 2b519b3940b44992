"""Signing: the reference's check value, and the rules it states, as properties."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fake import independent_sign
from tiktokshop import sign_request

#: The check values the reference states (snapshot written by `make reference`).
CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "reference" / "signing.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["what"] for c in CASES])
def test_reference_check_values(case: dict[str, Any]) -> None:
    got = sign_request(case["app_secret"], case["path"], case["query"], case["body"])
    assert got == case["sign"]
    assert (
        independent_sign(case["app_secret"], case["path"], list(case["query"].items()), case["body"] or "")
        == (case["sign"])
    )


def test_tiktoks_worked_example_string_to_sign() -> None:
    case = next(c for c in CASES if "string_to_sign" in c)
    query = case["query"]
    message = (
        case["app_secret"] + case["path"] + "".join(k + query[k] for k in sorted(query)) + case["app_secret"]
    )
    assert message == case["string_to_sign"]


keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
values = st.text(max_size=20)
queries = st.dictionaries(keys, values, max_size=6)
bodies = st.one_of(st.none(), st.just("{}"), st.text(min_size=1, max_size=50))


@given(queries, bodies, st.text(min_size=1, max_size=16))
def test_matches_an_independent_implementation(query: dict[str, str], body: str | None, secret: str) -> None:
    path = "/product/202309/products/123"
    assert sign_request(secret, path, query, body) == independent_sign(
        secret, path, list(query.items()), body or ""
    )


@given(queries)
def test_query_order_does_not_matter(query: dict[str, str]) -> None:
    reversed_query = dict(reversed(list(query.items())))
    assert sign_request("k", "/p", query, None) == sign_request("k", "/p", reversed_query, None)


@given(queries, values, values)
def test_sign_and_access_token_are_not_signed(query: dict[str, str], a: str, b: str) -> None:
    plain = sign_request("k", "/p", query, None)
    assert sign_request("k", "/p", {**query, "sign": a, "access_token": b}, None) == plain


@given(queries)
def test_empty_object_body_is_not_signed(query: dict[str, str]) -> None:
    assert sign_request("k", "/p", query, "{}") == sign_request("k", "/p", query, None)


@given(queries, st.text(min_size=2, max_size=40))
def test_body_text_is_signed(query: dict[str, str], body: str) -> None:
    if body == "{}":
        return
    assert sign_request("k", "/p", query, body) != sign_request("k", "/p", query, None)


@given(queries, keys, values)
def test_every_query_value_is_signed(query: dict[str, str], key: str, value: str) -> None:
    if key in ("sign", "access_token"):
        return
    changed = {**query, key: value + "x"}
    assert sign_request("k", "/p", changed, None) != sign_request("k", "/p", {**query, key: value}, None)


def test_path_and_secret_are_signed() -> None:
    q = {"app_key": "a", "timestamp": "1"}
    assert sign_request("k", "/a", q) != sign_request("k", "/b", q)
    assert sign_request("k1", "/a", q) != sign_request("k2", "/a", q)
    assert re.fullmatch(r"[0-9a-f]{64}", sign_request("k", "/a", q))
