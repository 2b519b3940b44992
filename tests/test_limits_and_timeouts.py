"""Client-side rate limiting, the per-call deadline, and hostile input."""

from __future__ import annotations

import threading
from collections import deque

import httpx
import pytest

from tests.fake import FakeTikTok
from tiktokshop import RateLimiter, RequestTimeoutError, ServerError, ValidationError

SEARCH = ("POST", "/order/202309/orders/search")


class VirtualClock:
    """Time that passes only when someone sleeps: the limiter's waits cost no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_burst_of_1000_calls_meets_no_429_at_50_qps(fake: FakeTikTok) -> None:
    clock = VirtualClock()
    window: deque[float] = deque()
    answered_429 = 0

    def server(seen):  # the fake enforces 50 requests per sliding second
        nonlocal answered_429
        while window and window[0] <= clock.now - 1.0 + 1e-6:
            window.popleft()
        if len(window) >= 50:
            answered_429 += 1
            return httpx.Response(429, headers={"retry-after": "1"}, text="")
        window.append(clock.now)
        return {"orders": []}

    fake.on(*SEARCH, server)
    limiter = RateLimiter(per_app=None, per_shop=50, clock=clock.time, sleep=clock.sleep)
    client = fake.client(rate_limiter=limiter, max_retries=0)
    start = clock.now
    for _ in range(1000):
        client.order.get_order_list(page_size=10)
    assert answered_429 == 0
    assert len(fake.seen) == 1000
    assert clock.now - start == pytest.approx(999 / 50, rel=1e-6)  # evenly spaced, not slower


def test_without_the_limiter_the_same_burst_is_refused(fake: FakeTikTok) -> None:
    count = {"429": 0, "ok": 0}

    def server(seen):
        if count["ok"] >= 50:
            count["429"] += 1
            return httpx.Response(429, text="")
        count["ok"] += 1
        return {"orders": []}

    fake.on(*SEARCH, server)
    client = fake.client(max_retries=0)
    for _ in range(60):
        try:
            client.order.get_order_list(page_size=10)
        except Exception:
            continue
    assert count["429"] == 10


def test_limiter_is_shared_by_threads_and_per_shop() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(per_app=None, per_shop=10, clock=clock.time, sleep=clock.sleep)
    from tiktokshop.resources.order import OPERATIONS

    op = OPERATIONS[0]
    threads = [
        threading.Thread(target=lambda: [limiter.acquire(op, "shop-a") for _ in range(10)]) for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now - 1000.0 >= 49 / 10 - 1e-9  # 50 calls for one shop at 10 per second
    before = clock.now
    limiter.acquire(op, "shop-b")  # another shop has its own bucket
    assert clock.now == before


def test_limiter_rates_from_overrides_spec_and_defaults() -> None:
    from tiktokshop.resources._api import DEFAULT_RATE_LIMIT
    from tiktokshop.resources.order import OPERATIONS

    op = OPERATIONS[0]
    assert RateLimiter()._rates(op) == DEFAULT_RATE_LIMIT
    assert RateLimiter(per_app=5)._rates(op) == (5, DEFAULT_RATE_LIMIT[1])
    assert RateLimiter(overrides={op.id: (1, None)})._rates(op) == (1, None)
    with pytest.raises(ValueError, match="per_shop"):
        RateLimiter(per_shop=0)


def test_total_timeout_stops_retries(fake: FakeTikTok) -> None:
    fake.on(*SEARCH, lambda s: httpx.Response(503, headers={"retry-after": "30"}, text="busy"))
    client = fake.client(total_timeout=5.0, max_retries=10)
    with pytest.raises(ServerError):
        client.order.get_order_list(page_size=10)
    assert len(fake.seen) == 1, "a 30 s wait does not fit in a 5 s budget"


def test_attempt_timeouts_are_capped_by_the_deadline(fake: FakeTikTok) -> None:
    seen_timeouts = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen_timeouts.append(request.extensions["timeout"])
        return fake(request)

    fake.on(*SEARCH, {"orders": []})
    client = fake.client(
        http_client=httpx.Client(transport=httpx.MockTransport(transport), timeout=30.0), total_timeout=2.0
    )
    client.order.get_order_list(page_size=10)
    assert 0 < seen_timeouts[0]["read"] <= 2.0 and seen_timeouts[0]["connect"] <= 2.0


def test_deadline_already_spent_raises_timeout(fake: FakeTikTok) -> None:
    import time as real_time

    fake.on(*SEARCH, lambda s: (real_time.sleep(0.05), httpx.Response(500, text=""))[1])
    client = fake.client(total_timeout=0.04, max_retries=5, sleep=lambda s: None)
    with pytest.raises((RequestTimeoutError, ServerError)):
        client.order.get_order_list(page_size=10)
    assert len(fake.seen) == 1


# -- hostile input ---------------------------------------------------------------------------------

SURROGATE = "bad\udcffvalue"


@pytest.mark.parametrize("where", ["path", "query", "body", "nested"])
def test_non_utf8_text_is_refused_naming_the_field(fake: FakeTikTok, where: str) -> None:
    client = fake.client()
    with pytest.raises(ValidationError) as info:
        if where == "path":
            client.fulfillment.ship_package(SURROGATE)
        elif where == "query":
            client.order.get_order_list(page_size=10, page_token=SURROGATE)
        elif where == "body":
            client.order.get_order_list(page_size=10, buyer_user_id=SURROGATE)
        else:
            client.fulfillment.ship_package(
                "p1", self_shipment={"tracking_number": SURROGATE, "shipping_provider_id": "1"}
            )
    expected = {
        "path": "package_id",
        "query": "page_token",
        "body": "buyer_user_id",
        "nested": "self_shipment.tracking_number",
    }[where]
    assert info.value.field == expected
    assert fake.seen == []


@pytest.mark.parametrize(
    "text", ["a&b=c", "x#y", "../../etc/passwd", "line\r\nX-Injected: 1", "?q=1", "😀", "%00"]
)
def test_injection_like_text_is_encoded_and_signed_everywhere(fake: FakeTikTok, text: str) -> None:
    fake.on("POST", "/fulfillment/202309/packages/{package_id}/ship", None)
    fake.on(*SEARCH, {"orders": []})
    client = fake.client()
    client.fulfillment.ship_package(
        "pkg-" + text, self_shipment={"tracking_number": text, "shipping_provider_id": "1"}
    )
    client.order.get_order_list(page_size=10, page_token=text, buyer_user_id=text)
    ship, search = fake.seen[-2], fake.seen[-1]
    assert ship.path == "/fulfillment/202309/packages/pkg-" + text + "/ship"
    assert ship.json == {"self_shipment": {"tracking_number": text, "shipping_provider_id": "1"}}
    assert search.query["page_token"] == text and search.json == {"buyer_user_id": text}
    assert "X-Injected" not in search.headers
    assert ship.signature_ok and search.signature_ok


def test_oversize_list_is_refused(fake: FakeTikTok) -> None:
    with pytest.raises(ValidationError) as info:
        fake.client().order.get_order_detail(ids=[str(i) for i in range(51)])
    assert info.value.field == "ids" and "at most 50" in str(info.value)
    assert fake.seen == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ids": None}, "ids"),
        ({"ids": [None]}, "ids.0"),
        ({"ids": {"a": 1}}, "ids"),
        ({"ids": b"123"}, "ids"),
    ],
)
def test_wrong_shapes(fake: FakeTikTok, kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        fake.client().order.get_order_detail(**kwargs)
    assert info.value.field == field
    assert fake.seen == []
