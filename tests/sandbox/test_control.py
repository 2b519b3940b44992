"""The control API (/_sandbox/...): every control, over HTTP, as another process would use it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tiktokshop import RateLimitError
from tiktokshop.sandbox import Sandbox

from .conftest import START


@pytest.fixture
def http(served: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url + "/_sandbox", timeout=10) as client:
        yield client


def test_overview_and_credentials(served: Sandbox, http: httpx.Client) -> None:
    overview = http.get("").json()
    assert overview["url"] == served.url and overview["orders"] == len(served.state.orders)
    assert [s["open_id"] for s in overview["sellers"]] == [served.state.open_id]
    creds = http.get("/credentials").json()
    assert creds["TIKTOK_APP_KEY"] == served.app_key and creds["TIKTOK_SHOP_CIPHER"] == served.shop_cipher


def test_clock(served: Sandbox, http: httpx.Client) -> None:
    assert http.get("/clock").json() == {"now": START}
    assert http.post("/clock", json={"advance": 90}).json() == {"now": START + 90}
    assert served.clock.now() == START + 90
    assert http.post("/clock", json={"set": START + 1000}).json()["now"] == START + 1000
    assert http.post("/clock", json={"advance": -1}).status_code == 400
    assert http.post("/clock", json={}).status_code == 400


def test_faults(served: Sandbox, http: httpx.Client) -> None:
    made = http.post("/faults", json={"op": "order.get_order_list", "kind": "http_429", "times": 2})
    assert made.status_code == 200 and made.json()["remaining"] == 2
    assert [f["kind"] for f in http.get("/faults").json()["faults"]] == ["http_429"]
    assert http.post("/faults", json={"op": "*", "kind": "no_such_kind"}).status_code == 400
    with served.client(max_retries=0) as client, pytest.raises(RateLimitError):
        client.order.get_order_list(page_size=5)
    assert http.delete("/faults").json() == {"faults": []} and not served.faults.pending


def test_orders(served: Sandbox, http: httpx.Client) -> None:
    order = http.post("/orders", json={"status": "AWAITING_SHIPMENT"}).json()
    assert order["status"] == "AWAITING_SHIPMENT" and order["id"] in served.state.orders
    moved = http.post(f"/orders/{order['id']}/status", json={"status": "CANCELLED"}).json()
    assert (
        moved["status"] == "CANCELLED" and http.get(f"/orders/{order['id']}").json()["status"] == "CANCELLED"
    )
    assert http.post(f"/orders/{order['id']}/status", json={"status": "LOST"}).status_code == 400
    assert http.get("/orders/1").status_code == 404
    assert http.post("/orders", json={"status": "NOPE"}).status_code == 400


def test_sellers_shops_and_auth_codes(served: Sandbox, http: httpx.Client) -> None:
    seller = http.post("/sellers", json={"name": "Second", "shops": 3, "orders": 2}).json()
    assert seller["name"] == "Second" and len(seller["shops"]) == 3
    assert len(http.get("/sellers").json()["sellers"]) == 2
    code = http.post("/auth/code", json={"seller": seller["open_id"]}).json()
    assert code["open_id"] == seller["open_id"]
    with served.client(access_token=None, refresh_token=None, shop_cipher=None) as client:
        client.auth.get_access_token(code["code"])  # the client now serves that seller
        shops = client.authorization.get_authorized_shops().shops or []
        assert sorted(s.id for s in shops) == sorted(s["id"] for s in seller["shops"])
        second = client.for_shop(shop_cipher=seller["shops"][1]["cipher"])
        page = second.order.get_order_list(page_size=10)
        assert len(page.orders or []) == 2
        # The first seller's shop is not this seller's.
        with pytest.raises(Exception, match="cipher"):
            client.for_shop(shop_cipher=served.shop_cipher).order.get_order_list(page_size=1)
    assert http.post("/auth/code", json={"seller": "nobody"}).status_code == 404
    assert http.put("/redirect-url", json={"url": "http://127.0.0.1:9/cb"}).json() == {
        "url": "http://127.0.0.1:9/cb"
    }
    assert served.redirect_url == "http://127.0.0.1:9/cb"


class _Hook(BaseHTTPRequestHandler):
    got: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.got.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(200 if len(self.got) > 1 else 503)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhooks_subscribe_trigger_retry_redeliver(served: Sandbox, http: httpx.Client) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Hook", (_Hook,), {"got": []}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        subs = http.post(
            "/webhooks/subscriptions", json={"url": url, "types": ["SELLER_DEAUTHORIZATION"]}
        ).json()
        assert subs["subscriptions"] == {url: [6]}
        event = http.post(
            "/webhooks/trigger", json={"type": "SELLER_DEAUTHORIZATION", "data": {"message": "bye"}}
        ).json()
        assert event["type"] == 6 and event["shop_id"] == served.shop.id
        http.post("/webhooks/trigger", json={"type": 1, "data": {}})  # not subscribed: not sent
        assert served.webhooks.wait(5)
        state = http.get("/webhooks").json()
        assert [(d["attempt"], d["status"]) for d in state["deliveries"]] == [(1, 503)]
        assert state["pending"][0]["due"] == START + 120
        http.post("/clock", json={"advance": 120})
        assert served.webhooks.wait(5)
        http.post("/webhooks/redeliver", json={"tts_notification_id": event["tts_notification_id"]})
        assert served.webhooks.wait(5)
        state = http.get("/webhooks").json()
        assert [(d["attempt"], d["status"]) for d in state["deliveries"]] == [(1, 503), (2, 200), (0, 200)]
        assert not state["pending"]
        assert http.post("/webhooks/trigger", json={"type": "NOT_A_TYPE"}).status_code == 400
        assert http.post("/webhooks/redeliver", json={"tts_notification_id": "x"}).status_code == 404
        assert http.request("DELETE", "/webhooks/subscriptions", json={"url": url}).json() == {
            "subscriptions": {}
        }
    finally:
        server.shutdown()
        server.server_close()


def test_request_log(served: Sandbox, http: httpx.Client) -> None:
    with served.client() as client:
        client.order.get_order_list(page_size=1)
    log = http.get("/requests", params={"op": "order.get_order_list"}).json()
    assert log["total"] == 1 and log["requests"][0]["op_id"] == "order.get_order_list"
    assert "sign" not in log["requests"][0]["query"]
    assert http.get("/requests").json()["total"] == 1  # control calls are not logged
    http.delete("/requests")
    assert http.get("/requests").json()["total"] == 0


def test_unknown_paths_and_methods(http: httpx.Client) -> None:
    assert http.get("/nope").status_code == 404
    wrong = http.delete("/clock")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]
    assert http.post("/clock", content=b"[1]").status_code == 400
    assert http.post("/clock", content=b"{bad").status_code == 400


def test_every_control_is_documented(sandbox: Sandbox) -> None:
    repo = Path(__file__).resolve().parent.parent.parent  # the repository's own docs/ folder
    docs = (repo / "docs" / "sandbox.md").read_text()
    control = sandbox._app.control
    assert control is not None
    for method, pattern, _ in control._routes:  # type: ignore[attr-defined]
        path = pattern.pattern.replace("\\", "").replace("/?$", "")
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path).replace("{order_id}", "{id}")
        assert f"`{method} {path}" in docs, f"{method} {path} is not in docs/sandbox.md"
