"""The request log tests read, and webhooks delivered to a local receiver with a valid signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tiktokshop.sandbox import Sandbox, Webhooks
from tiktokshop.sandbox._state import Package


def test_the_request_log(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        client.order.get_order_list(page_size=2, order_status="UNPAID")
        client.auth.refresh_access_token()
    first, refresh = sandbox.requests[0], sandbox.requests[1]
    assert first.op_id == "order.get_order_list" and first.method == "POST"
    assert first.path == "/order/202309/orders/search"
    assert first.query == {
        "app_key": sandbox.app_key,
        "page_size": "2",
        "shop_cipher": sandbox.shop_cipher,
        "timestamp": str(int(sandbox.clock.now())),
    }
    assert first.access_token == sandbox.access_token
    assert (first.status, first.code, first.time) == (200, 0, sandbox.clock.now())
    assert first.request_id
    assert refresh.op_id == "auth.refresh_access_token"
    assert refresh.query["app_secret"] == "***" and refresh.query["refresh_token"] == "***"
    assert sandbox.app_secret not in repr(list(sandbox.requests))
    assert len(sandbox.requests) == 2
    sandbox.requests.clear()
    assert len(sandbox.requests) == 0


def test_failed_requests_are_logged_with_their_code(sandbox: Sandbox) -> None:
    with sandbox.client(access_token="SBXAT_bogus", refresh_token=None) as client, pytest.raises(Exception):
        client.order.get_order_list(page_size=2)
    (entry,) = sandbox.requests
    assert (entry.status, entry.code, entry.access_token) == (401, 105001, "SBXAT_bogus")
    assert "sign" not in entry.query


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    delay = 0.0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        time.sleep(self.delay)
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_webhooks_for_a_shipped_package_are_signed(sandbox: Sandbox, receiver) -> None:
    url, handler = receiver
    sandbox.webhooks.subscribe(url)
    package: Package = sandbox.state.find_package(
        lambda p: p.status == "TO_FULFILL" and sandbox.state.orders[p.order_id].status == "AWAITING_SHIPMENT",
        sandbox.shop.id,
    )
    with sandbox.client() as client:
        client.fulfillment.ship_package(package.id)
    assert sandbox.webhooks.wait(5)
    sandbox.stop()
    events = []
    for headers, body in handler.received:
        expected = hmac.new(
            sandbox.app_secret.encode(), sandbox.app_key.encode() + body, hashlib.sha256
        ).hexdigest()
        assert headers["authorization"] == expected
        assert headers["content-type"] == "application/json"
        events.append(json.loads(body))
    assert [e["type"] for e in events] == [4, 1]  # PACKAGE_UPDATE, ORDER_STATUS_CHANGE
    assert set(events[0]) == {"type", "tts_notification_id", "shop_id", "timestamp", "data"}
    assert (
        events[0]["data"]["package_list"][0]["package_id"] == package.id
        and events[0]["data"]["package_status"] == "PROCESSING"
    )
    assert events[1]["data"] == {
        "order_id": package.order_id,
        "order_status": "AWAITING_COLLECTION",
        "is_on_hold_order": False,
        "update_time": int(sandbox.clock.now()),
    }
    assert all(e["shop_id"] == sandbox.shop.id for e in events)
    assert [d.status for d in sandbox.webhooks.deliveries] == [200, 200]


def test_webhooks_go_only_to_local_urls(sandbox: Sandbox) -> None:
    for url in ("http://example.com/hook", "ftp://127.0.0.1/x", "http://10.0.0.1/hook"):
        with pytest.raises(ValueError):
            sandbox.webhooks.subscribe(url)
    sandbox.webhooks.subscribe("http://localhost:9/hook")
    assert sandbox.webhooks.urls == ["http://localhost:9/hook"]
    sandbox.webhooks.close()


def test_the_queue_is_bounded(receiver) -> None:
    url, handler = receiver
    handler.delay = 0.2
    hooks = Webhooks("key", "secret", time.time, queue_size=2)
    hooks.subscribe(url)
    for n in range(8):
        hooks.emit(1, "shop", {"n": n})
    assert hooks.dropped >= 4
    assert len(hooks.events) == 8
    hooks.close()


def test_unreachable_subscriber_is_recorded_not_raised(sandbox: Sandbox) -> None:
    sandbox.webhooks.subscribe("http://127.0.0.1:9/nobody")
    sandbox.state.set_order_status(next(iter(sandbox.state.orders)), "CANCELLED")
    assert sandbox.webhooks.wait(5)
    assert sandbox.webhooks.deliveries and sandbox.webhooks.deliveries[0].status is None
    assert sandbox.webhooks.deliveries[0].error
    sandbox.webhooks.close()
