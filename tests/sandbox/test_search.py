"""Order search: filters, sort and paging agree with a brute-force filter over the seed data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sandbox._raw import code, send
from tiktokshop import BadRequestError
from tiktokshop.sandbox import ERRORS, ORDER_STATUSES, Clock, Sandbox

START = 1_767_225_600
DAY = 86400
SANDBOX = Sandbox(orders=400, seed=11, clock=Clock(START, ticking=False))


def brute_force(sandbox: Sandbox, **f: Any) -> list[str]:
    sort_field = f.get("sort_field") or "create_time"
    rows = []
    for order in sandbox.state.orders.values():
        if order.shop_id != sandbox.shop.id:
            continue
        if f.get("order_status") and order.status != f["order_status"]:
            continue
        if f.get("create_time_ge") is not None and order.create_time < f["create_time_ge"]:
            continue
        if f.get("create_time_lt") is not None and order.create_time >= f["create_time_lt"]:
            continue
        if f.get("update_time_ge") is not None and order.update_time < f["update_time_ge"]:
            continue
        if f.get("update_time_lt") is not None and order.update_time >= f["update_time_lt"]:
            continue
        if f.get("shipping_type") is not None and order.shipping_type != f["shipping_type"]:
            continue
        rows.append(((getattr(order, sort_field), order.id), order.id))
    rows.sort(reverse=(f.get("sort_order") or "DESC") == "DESC")
    return [oid for _, oid in rows]


times = st.one_of(st.none(), st.integers(START - 95 * DAY, START + DAY))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.one_of(st.none(), st.sampled_from(ORDER_STATUSES)),
    create_ge=times,
    create_lt=times,
    update_ge=times,
    update_lt=times,
    sort_field=st.sampled_from([None, "create_time", "update_time"]),
    sort_order=st.sampled_from([None, "ASC", "DESC"]),
    page_size=st.integers(1, 100),
    shipping_type=st.sampled_from([None, "TIKTOK", "SELLER"]),
)
def test_search_matches_brute_force(
    status, create_ge, create_lt, update_ge, update_lt, sort_field, sort_order, page_size, shipping_type
) -> None:
    filters = {
        "order_status": status,
        "create_time_ge": create_ge,
        "create_time_lt": create_lt,
        "update_time_ge": update_ge,
        "update_time_lt": update_lt,
        "sort_field": sort_field,
        "sort_order": sort_order,
        "shipping_type": shipping_type,
    }
    expected = brute_force(SANDBOX, **filters)
    with SANDBOX.client() as client:
        first = client.order.get_order_list(page_size=page_size, **filters)
        pages = list(first.iter_pages())
    got = [o.id for page in pages for o in page.orders]
    assert got == expected
    assert all(page.total_count == len(expected) for page in pages)
    assert all(len(page.orders) == page_size for page in pages[:-1])
    assert pages[-1].next_page_token == "" and all(p.next_page_token for p in pages[:-1])


def test_returned_orders_carry_the_filtered_fields() -> None:
    with SANDBOX.client() as client:
        page = client.order.get_order_list(
            page_size=50, order_status="IN_TRANSIT", create_time_ge=START - 30 * DAY, sort_order="ASC"
        )
    assert page.orders and all(o.status == "IN_TRANSIT" for o in page.orders)
    created = [o.create_time for o in page.orders]
    assert created == sorted(created) and created[0] >= START - 30 * DAY


def test_status_all_means_every_status() -> None:
    with SANDBOX.client() as client:
        every = client.order.get_order_list(page_size=10, order_status="ALL")
    assert every.total_count == len(brute_force(SANDBOX))


def test_a_page_token_belongs_to_its_search() -> None:
    with SANDBOX.client() as client:
        page = client.order.get_order_list(page_size=5, order_status="COMPLETED")
        with pytest.raises(BadRequestError, match="page_token"):
            client.order.get_order_list(page_size=5, order_status="UNPAID", page_token=page.next_page_token)
        with pytest.raises(BadRequestError, match="page_token"):
            client.order.get_order_list(page_size=5, page_token="bm90IGEgdG9rZW4")
        tampered = page.next_page_token[:-2] + ("AA" if page.next_page_token[-2:] != "AA" else "BB")
        with pytest.raises(BadRequestError):
            client.order.get_order_list(page_size=5, order_status="COMPLETED", page_token=tampered)


def test_paging_is_stable_when_an_order_changes_between_pages(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        first = client.order.get_order_list(
            page_size=10, order_status="AWAITING_SHIPMENT", sort_field="update_time"
        )
        moved = first.orders[0]
        sandbox.state.set_order_status(moved.id, "CANCELLED")
        rest = [o.id for page in list(first.iter_pages())[1:] for o in page.orders]
    ids = [o.id for o in first.orders] + rest
    assert len(ids) == len(set(ids))
    assert moved.id not in rest


def test_page_size_over_100_is_refused_by_the_sandbox(sandbox: Sandbox) -> None:
    r = send(sandbox, "POST", "/order/202309/orders/search", {"page_size": "101"})
    assert code(r) == ERRORS["INVALID_PARAMETER"].code


RETURNS = Sandbox(orders=3000, seed=5, clock=Clock(START, ticking=False))


@pytest.mark.parametrize(
    ("body", "sort_field", "sort_order"),
    [
        ({}, None, None),
        ({"return_status": ["AWAITING_BUYER_SHIP", "BUYER_SHIPPED_ITEM"]}, "update_time", "ASC"),
        ({"return_types": ["REFUND"]}, "create_time", "DESC"),
        ({"create_time_ge": START - 40 * DAY, "create_time_lt": START - 10 * DAY}, None, "ASC"),
    ],
)
def test_return_search_matches_brute_force(
    body: dict, sort_field: str | None, sort_order: str | None
) -> None:
    shop = RETURNS.shop.id
    rows = [
        r
        for r in RETURNS.state.returns.values()
        if r.shop_id == shop
        and ("return_status" not in body or r.status in body["return_status"])
        and ("return_types" not in body or r.type in body["return_types"])
        and r.create_time >= body.get("create_time_ge", 0)
        and r.create_time < body.get("create_time_lt", 2**40)
    ]
    field = sort_field or "create_time"
    rows.sort(key=lambda r: (getattr(r, field), r.id), reverse=sort_order != "ASC")
    with RETURNS.client() as client:
        first = client.return_refund.search_returns(
            page_size="4", sort_field=sort_field, sort_order=sort_order, **body
        )
        got = [r.return_id for r in first.auto_paging_iter()]
    assert got == [r.id for r in rows]
    if not body:
        assert len(rows) > 4  # several pages
    assert first.total_count == len(rows) > 0
    assert all(r.order_id for r in first.return_orders)
