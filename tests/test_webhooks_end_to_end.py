"""A FastAPI app (served by uvicorn) and a Flask app (served by werkzeug) receive signed webhooks
from the sandbox over HTTP: each notification handled exactly once despite a duplicate and a
failed first attempt that the sandbox retries on TikTok's schedule, typed by its event type."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from tiktokshop.sandbox import RETRY_SCHEDULE, Clock, Sandbox
from tiktokshop.types.webhooks import OrderStatusChangeEvent, PackageUpdateEvent
from tiktokshop.webhooks import WebhookEvent, WebhookReceiver

START = 1_767_225_600


@contextmanager
def _serve_fastapi(receiver: WebhookReceiver) -> Iterator[str]:
    app = FastAPI()
    app.add_route("/webhooks/tiktok", receiver.asgi_app(), methods=["POST"])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/webhooks/tiktok"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def _serve_flask(receiver: WebhookReceiver) -> Iterator[str]:
    app = Flask(__name__)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/webhooks/tiktok": receiver.wsgi_app()})  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}/webhooks/tiktok"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.mark.parametrize("serve", [_serve_fastapi, _serve_flask], ids=["fastapi", "flask"])
def test_each_delivery_is_handled_once_typed(serve: Callable[[WebhookReceiver], Any]) -> None:
    with Sandbox(orders=50, seed=3, clock=Clock(START, ticking=False)) as sandbox:
        receiver = WebhookReceiver(
            app_key=sandbox.app_key, app_secret=sandbox.app_secret, clock=sandbox.clock.now
        )
        handled: list[WebhookEvent[Any]] = []
        failures = [RuntimeError("the database is down")]

        @receiver.on("ORDER_STATUS_CHANGE")
        def order_changed(event: OrderStatusChangeEvent) -> None:
            if failures:
                raise failures.pop()
            handled.append(event)

        @receiver.on("PACKAGE_UPDATE")
        def package_changed(event: PackageUpdateEvent) -> None:
            handled.append(event)

        with serve(receiver) as url:
            sandbox.webhooks.subscribe(url)
            order = sandbox.state.create_order("AWAITING_SHIPMENT")
            sandbox.state.set_order_status(order.id, "IN_TRANSIT")
            assert sandbox.webhooks.wait(10)
            package_event, order_event = sandbox.webhooks.events[-2:]
            # TikTok may send one notification twice: the duplicate is acknowledged, not handled.
            assert sandbox.webhooks.redeliver(package_event["tts_notification_id"]) == 1
            assert sandbox.webhooks.wait(10)
            # The order event failed (500): the sandbox retries it 2 minutes later, by its clock.
            (retry,) = sandbox.webhooks.pending
            assert retry.due == START + RETRY_SCHEDULE[0] and retry.attempt == 2
            sandbox.clock.advance(RETRY_SCHEDULE[0])
            assert sandbox.webhooks.wait(10)
            assert not sandbox.webhooks.pending
        attempts = [(d.event["type"], d.attempt, d.status) for d in sandbox.webhooks.deliveries]
    assert attempts == [(4, 1, 200), (1, 1, 500), (4, 0, 200), (1, 2, 200)]
    assert [type(e) for e in handled] == [PackageUpdateEvent, OrderStatusChangeEvent]
    assert [e.tts_notification_id for e in handled] == [
        package_event["tts_notification_id"],
        order_event["tts_notification_id"],
    ]
    package, order_changed_event = handled
    assert isinstance(package, PackageUpdateEvent) and package.data.package_list
    assert package.data.package_list[0].order_id_list == [order.id]
    assert isinstance(order_changed_event, OrderStatusChangeEvent)
    assert (order_changed_event.data.order_id, order_changed_event.data.order_status) == (
        order.id,
        "IN_TRANSIT",
    )
