"""Faults on demand, observed through the client: what is retried, what is not, what changed."""

from __future__ import annotations

import time

import pytest

from tiktokshop import (
    MalformedResponseError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from tiktokshop.sandbox import Sandbox
from tiktokshop.sandbox._state import Package

LIST = "order.get_order_list"
SHIP = "fulfillment.ship_package"


def _package(sandbox: Sandbox) -> Package:
    def ok(p: Package) -> bool:
        return p.status == "TO_FULFILL" and sandbox.state.orders[p.order_id].status == "AWAITING_SHIPMENT"

    return sandbox.state.find_package(ok, sandbox.shop.id)


def _statuses(sandbox: Sandbox, op_id: str) -> list[int]:
    return [r.status for r in sandbox.requests.for_op(op_id)]


@pytest.mark.parametrize(
    ("kind", "first_status", "first_code"),
    [
        ("http_429", 429, 36009002),
        ("http_5xx", 503, None),
        ("rate_limit_code", 200, 36009002),
        ("internal_code", 200, 36009003),
    ],
)
def test_transient_failures_of_a_read_are_retried(
    served: Sandbox, kind: str, first_status: int, first_code: int | None
) -> None:
    sleeps: list[float] = []
    served.faults.inject(LIST, kind, retry_after=2)
    with served.client(sleep=sleeps.append) as client:
        page = client.order.get_order_list(page_size=3)
    assert len(page.orders) == 3
    log = served.requests.for_op(LIST)
    assert [(r.status, r.code, r.fault) for r in log] == [(first_status, first_code, kind), (200, 0, None)]
    assert len(sleeps) == 1
    if kind == "http_429":
        assert sleeps[0] >= 2  # Retry-After honoured
    assert not served.faults.pending


def test_429_beyond_the_retries_raises_with_retry_after(sandbox: Sandbox) -> None:
    sandbox.faults.inject(LIST, "http_429", times=3, retry_after=7)
    with sandbox.client(sleep=lambda s: None) as client, pytest.raises(RateLimitError) as info:
        client.order.get_order_list(page_size=3)
    assert info.value.retry_after == 7 and info.value.status_code == 429
    assert _statuses(sandbox, LIST) == [429, 429, 429]


def test_5xx_on_a_write_is_not_retried(sandbox: Sandbox) -> None:
    package = _package(sandbox)
    sandbox.faults.inject(SHIP, "http_5xx", status=502)
    with sandbox.client(sleep=lambda s: None) as client, pytest.raises(ServerError):
        client.fulfillment.ship_package(package.id)
    assert _statuses(sandbox, SHIP) == [502]
    assert sandbox.state.packages[package.id].status == "TO_FULFILL"


def test_dropped_before_processing_a_read_is_retried(served: Sandbox) -> None:
    served.faults.inject(LIST, "drop_before")
    with served.client(sleep=lambda s: None) as client:
        assert client.order.get_order_list(page_size=2).orders
    assert _statuses(served, LIST) == [0, 200]


def test_dropped_before_processing_a_write_changes_nothing_and_is_not_retried(served: Sandbox) -> None:
    package = _package(served)
    served.faults.inject(SHIP, "drop_before")
    with served.client(sleep=lambda s: None) as client:
        with pytest.raises(TransportError) as info:
            client.fulfillment.ship_package(package.id)
        assert not info.value.nothing_sent
        assert served.state.packages[package.id].status == "TO_FULFILL"
        client.fulfillment.ship_package(package.id)  # the seller may try again: it works
    assert _statuses(served, SHIP) == [0, 200]


def test_dropped_after_processing_a_write_is_not_retried_and_the_ship_happened(served: Sandbox) -> None:
    package = _package(served)
    served.faults.inject(SHIP, "drop_after")
    with served.client(sleep=lambda s: None) as client:
        with pytest.raises(TransportError):
            client.fulfillment.ship_package(package.id)
        assert served.state.packages[package.id].status == "PROCESSING"
        assert served.state.orders[package.order_id].status == "AWAITING_COLLECTION"
        with pytest.raises(Exception, match="36009030"):
            client.fulfillment.ship_package(package.id)
    log = served.requests.for_op(SHIP)
    assert [(r.status, r.fault) for r in log] == [(200, "drop_after"), (400, None)]


def test_dropped_connections_through_the_in_process_transport(sandbox: Sandbox) -> None:
    sandbox.faults.inject(LIST, "drop_after", times=3)
    with sandbox.client(sleep=lambda s: None) as client, pytest.raises(TransportError):
        client.order.get_order_list(page_size=2)
    assert _statuses(sandbox, LIST) == [200, 200, 200]


def test_slow_answer_times_out_then_succeeds(served: Sandbox) -> None:
    served.faults.inject(LIST, "slow", delay=0.6)
    with served.client(timeout=0.2, max_retries=0) as client:
        with pytest.raises(RequestTimeoutError):
            client.order.get_order_list(page_size=2)
        started = time.monotonic()
        assert client.order.get_order_list(page_size=2).orders
        assert time.monotonic() - started < 0.5


def test_malformed_json_after_processing(sandbox: Sandbox) -> None:
    package = _package(sandbox)
    sandbox.faults.inject(SHIP, "malformed_json")
    with sandbox.client() as client, pytest.raises(MalformedResponseError):
        client.fulfillment.ship_package(package.id)
    assert sandbox.state.packages[package.id].status == "PROCESSING"


def test_wildcard_faults_and_counts(sandbox: Sandbox) -> None:
    sandbox.faults.inject("*", "internal_code", times=2)
    with sandbox.client(sleep=lambda s: None, max_retries=0) as client:
        with pytest.raises(ServerError):
            client.authorization.get_authorized_shops()
        with pytest.raises(ServerError):
            client.product.get_categories()
        assert client.product.get_categories().categories
    with pytest.raises(ValueError):
        sandbox.faults.inject(LIST, "explode")  # type: ignore[arg-type]
    sandbox.faults.inject(LIST, "slow")
    sandbox.faults.clear()
    assert sandbox.faults.pending == []


def test_rate_limits_answer_429_with_retry_after() -> None:
    sandbox = Sandbox(orders=20, rate_limits={LIST: 3})
    with sandbox.client(max_retries=0) as client:
        for _ in range(3):
            client.order.get_order_list(page_size=1)
        with pytest.raises(RateLimitError) as info:
            client.order.get_order_list(page_size=1)
        client.authorization.get_authorized_shops()  # other operations are not limited
    assert info.value.code == 36009002 and info.value.status_code == 429
    assert info.value.retry_after == 1
    time.sleep(0.4)  # one request per 1/3 s comes back
    with sandbox.client(max_retries=0) as client:
        client.order.get_order_list(page_size=1)


def test_rate_limit_retried_by_the_client() -> None:
    limited = Sandbox(orders=20, rate_limits={"*": 2})
    sleeps: list[float] = []
    with limited.client(sleep=lambda s: (sleeps.append(s), time.sleep(0.6))) as client:
        for _ in range(3):
            client.product.get_categories()
    assert sleeps and sleeps[0] >= 1
    assert [r.status for r in limited.requests] == [200, 200, 429, 200]
