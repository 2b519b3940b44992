"""Webhook signatures (constant-time) and events, including delivery from the sandbox."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tiktokshop import webhooks
from tiktokshop.sandbox import Sandbox, sign_webhook
from tiktokshop.types.webhooks import OrderStatusChangeData, OrderStatusChangeEvent

KEY, SECRET = "app-key-1", "app-secret-1"


def _body(event_type: int = 1, **data: Any) -> bytes:
    return json.dumps(
        {
            "type": event_type,
            "tts_notification_id": "n1",
            "shop_id": "7001",
            "timestamp": 1700000000,
            "data": data,
        }
    ).encode()


def test_valid_event_parses() -> None:
    body = _body(1, order_id="576", order_status="AWAITING_SHIPMENT")
    event = webhooks.construct_event(body, sign_webhook(KEY, SECRET, body), app_key=KEY, app_secret=SECRET)
    assert event.type == 1 and event.type_name == "ORDER_STATUS_CHANGE"
    assert isinstance(event, OrderStatusChangeEvent) and isinstance(event.data, OrderStatusChangeData)
    assert event.data.order_id == "576" and event.data.order_status == "AWAITING_SHIPMENT"
    assert event.shop_id == "7001"


def test_unknown_type_still_parses() -> None:
    body = _body(63, activity_id="a1")
    event = webhooks.construct_event(
        body,
        webhooks.expected_signature(body, app_key=KEY, app_secret=SECRET),
        app_key=KEY,
        app_secret=SECRET,
    )
    assert event.type == 63 and event.type_name is None and event.data["activity_id"] == "a1"


@pytest.mark.parametrize("signature", [None, "", "00" * 32, "not-hex"])
def test_bad_signature_is_refused(signature: str | None) -> None:
    with pytest.raises(webhooks.WebhookSignatureError):
        webhooks.construct_event(_body(), signature, app_key=KEY, app_secret=SECRET)


def test_any_change_to_the_body_breaks_the_signature() -> None:
    body = _body(5, package_id="p1")
    signature = sign_webhook(KEY, SECRET, body)
    assert webhooks.verify_signature(body, signature, app_key=KEY, app_secret=SECRET)
    assert not webhooks.verify_signature(body + b" ", signature, app_key=KEY, app_secret=SECRET)
    assert not webhooks.verify_signature(body, signature, app_key="other", app_secret=SECRET)


def test_signed_but_not_an_event() -> None:
    body = b"[1, 2]"
    with pytest.raises(ValueError, match="not an event"):
        webhooks.construct_event(body, sign_webhook(KEY, SECRET, body), app_key=KEY, app_secret=SECRET)


def test_events_delivered_by_the_sandbox_verify() -> None:
    received: list[webhooks.WebhookEvent] = []
    done = threading.Event()

    with Sandbox(orders=40, seed=11) as sb:

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(
                    webhooks.construct_event(
                        body, self.headers.get("Authorization"), app_key=sb.app_key, app_secret=sb.app_secret
                    )
                )
                self.send_response(200)
                self.end_headers()
                done.set()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            sb.webhooks.subscribe(f"http://127.0.0.1:{server.server_address[1]}/hook")
            with sb.client() as client:
                page = client.order.get_order_list(page_size=20, order_status="AWAITING_SHIPMENT")
                order = (page.orders or [])[0]
                detail = client.order.get_order_detail(ids=[order.id])
                package = (detail.orders or [])[0].packages[0].id  # type: ignore[index]
                client.fulfillment.ship_package(package, handover_method="DROP_OFF")
            assert done.wait(10), "the sandbox delivered a webhook"
        finally:
            server.shutdown()
            server.server_close()
    assert {e.type_name for e in received} <= {"ORDER_STATUS_CHANGE", "PACKAGE_UPDATE"}
    assert received and all(e.shop_id for e in received)


@pytest.mark.parametrize(
    "header",
    [
        "sïgnature",
        "€" * 64,
        b"\xff\xfe" * 32,
        b"abc",
        bytearray(b"\x80"),
        "\ud800" * 64,
        12345,
        ["x"],
        " ",
        "",
    ],
)
def test_hostile_authorization_headers_are_rejected_not_raised(header: Any) -> None:
    body = _body(1)
    assert webhooks.verify_signature(body, header, app_key=KEY, app_secret=SECRET) is False
    with pytest.raises(webhooks.WebhookSignatureError):
        webhooks.construct_event(body, header, app_key=KEY, app_secret=SECRET)


def test_the_signature_as_bytes_is_accepted() -> None:
    body = _body(1)
    signature = sign_webhook(KEY, SECRET, body).encode()
    assert webhooks.verify_signature(body, signature, app_key=KEY, app_secret=SECRET) is True
