"""A full seller flow against the local TikTok Shop sandbox, printed step by step.

    make demo        (or: .venv/bin/python examples/demo.py)

Starts the sandbox on a free 127.0.0.1 port, then drives the client: authorization link, the
seller's consent (the redirect carries a one-time code), token exchange, authorized shops, an
order search over several pages, order and price detail, handover slots, shipping, the webhook
that shipping sends (verified, de-duplicated and typed by a ``WebhookReceiver`` served over WSGI),
the shipping label download, a token refresh, and one call through the ``tiktokshop`` command line.
Exits 0 when every step worked, 1 (naming the step) if not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx

from tiktokshop import TikTokShop, TikTokShopError
from tiktokshop.sandbox import Sandbox
from tiktokshop.types.webhooks import OrderStatusChangeEvent, PackageUpdateEvent
from tiktokshop.webhooks import WebhookReceiver


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StepFailed(Exception):
    pass


def step(number: int, title: str, run: Callable[[], str]) -> None:
    started = time.perf_counter()
    try:
        outcome = run()
    except (TikTokShopError, httpx.HTTPError, StepFailed, AssertionError) as exc:
        raise StepFailed(f"step {number} ({title}) failed: {type(exc).__name__}: {exc}") from exc
    print(f"{number:>2}. {title:<24} {outcome}  [{(time.perf_counter() - started) * 1000:.0f} ms]")


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


def main() -> int:
    with Sandbox(orders=2000, seed=42) as sandbox:
        print(f"Sandbox at {sandbox.url}: {len(sandbox.state.orders)} orders, app_key {sandbox.app_key}")
        # A client as a new app has it: keys and service id, no tokens yet.
        client = TikTokShop(
            app_key=sandbox.app_key,
            app_secret=sandbox.app_secret,
            service_id=sandbox.service_id,
            base_url=sandbox.url,
            auth_base_url=sandbox.url,
            authorize_url=f"{sandbox.url}/open/authorize",
        )
        ctx: dict[str, Any] = {}
        # The app's webhook endpoint: a WebhookReceiver as a plain WSGI app (any framework works).
        receiver = WebhookReceiver(app_key=sandbox.app_key, app_secret=sandbox.app_secret)
        received: list[Any] = []
        receiver.on("ORDER_STATUS_CHANGE")(received.append)
        receiver.on("PACKAGE_UPDATE")(received.append)
        hook_server = make_server("127.0.0.1", 0, receiver.wsgi_app(), handler_class=QuietHandler)
        threading.Thread(target=hook_server.serve_forever, daemon=True).start()
        sandbox.webhooks.subscribe(f"http://127.0.0.1:{hook_server.server_port}/webhooks/tiktok")
        with client, hook_server:

            def authorization_link() -> str:
                ctx["link"] = client.auth.authorization_url()
                return ctx["link"].url.replace(sandbox.url, "")[:70]

            def consent() -> str:
                answer = httpx.get(ctx["link"].url, follow_redirects=False)
                check(answer.status_code == 302, f"expected a redirect, got HTTP {answer.status_code}")
                params = parse_qs(urlsplit(answer.headers["location"]).query)
                check(params["state"] == [ctx["link"].state], "the callback's state does not match")
                ctx["code"] = params["code"][0]
                return "redirected to the callback with a code (state checked)"

            def exchange() -> str:
                token = client.auth.get_access_token(ctx["code"])
                until = time.strftime("%Y-%m-%d", time.gmtime(token.access_token_expire_in))
                return f"access token valid until {until}"

            def shops() -> str:
                found = client.authorization.get_authorized_shops().shops or []
                check(bool(found), "no authorized shop")
                ctx["cipher"] = found[0].cipher
                return ", ".join(f"{s.name} ({s.region})" for s in found)

            def search() -> str:
                first = client.order.get_order_list(
                    page_size=50, order_status="AWAITING_SHIPMENT", shop_cipher=ctx["cipher"]
                )
                pages = list(first.iter_pages())
                orders = [o for page in pages for o in page.orders or []]
                check(len(orders) == first.total_count, "pages do not add up to total_count")
                check(len(pages) > 1, "expected several pages")
                ctx["order"] = orders[0]
                return f"{len(orders)} orders awaiting shipment over {len(pages)} pages"

            def detail() -> str:
                order = client.order.get_order_detail(
                    ids=[ctx["order"].id], shop_cipher=ctx["cipher"]
                ).orders[0]
                ctx["package_id"] = order.packages[0].id
                items = len(order.line_items or [])
                return f"order {order.id}: {order.status}, {items} item(s), package {ctx['package_id']}"

            def price() -> str:
                p = client.order.get_price_detail(ctx["order"].id, shop_cipher=ctx["cipher"])
                return f"subtotal {p.subtotal} + shipping {p.shipping_sale_price} = {p.total} {p.currency}"

            def slots() -> str:
                s = client.fulfillment.get_package_handover_time_slots(
                    ctx["package_id"], shop_cipher=ctx["cipher"]
                )
                ctx["slot"] = s.pickup_slots[0]
                when = time.strftime("%a %d %b %H:%M", time.gmtime(ctx["slot"].start_time))
                return f"{len(s.pickup_slots)} pickup slots, first {when} UTC"

            def ship() -> str:
                slot = ctx["slot"]
                client.fulfillment.ship_package(
                    ctx["package_id"],
                    handover_method="PICKUP",
                    pickup_slot={"start_time": slot.start_time, "end_time": slot.end_time},
                    shop_cipher=ctx["cipher"],
                )
                order = client.order.get_order_detail(
                    ids=[ctx["order"].id], shop_cipher=ctx["cipher"]
                ).orders[0]
                check(order.status == "AWAITING_COLLECTION", f"order is {order.status} after shipping")
                return f"shipped; order now {order.status}"

            def webhook() -> str:
                check(sandbox.webhooks.wait(10), "the sandbox did not deliver its webhooks")
                package = next(e for e in received if isinstance(e, PackageUpdateEvent))
                order = next(e for e in received if isinstance(e, OrderStatusChangeEvent))
                check(order.data.order_id == ctx["order"].id, "the webhook is about another order")
                return (
                    f"{order.type_name}: {order.data.order_status} and {package.type_name} "
                    f"(verified, typed; {len(received)} handled)"
                )

            def label() -> str:
                doc = client.fulfillment.get_package_shipping_document(
                    ctx["package_id"], document_type="SHIPPING_LABEL", shop_cipher=ctx["cipher"]
                )
                pdf = httpx.get(doc.doc_url)
                check(pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), "the label is not a PDF")
                return f"{len(pdf.content)} byte PDF, tracking {doc.tracking_number}"

            def refresh() -> str:
                old = client.refresh_token
                client.auth.refresh_access_token()
                check(client.refresh_token != old, "the refresh token was not rotated")
                client.authorization.get_authorized_shops()
                return "new access and refresh tokens; the new token works"

            def command_line() -> str:
                env = {
                    **os.environ,
                    "TIKTOK_APP_KEY": sandbox.app_key,
                    "TIKTOK_APP_SECRET": sandbox.app_secret,
                    "TIKTOK_BASE_URL": sandbox.url,
                    "TIKTOK_ACCESS_TOKEN": client.access_token or "",
                    "TIKTOK_SHOP_CIPHER": ctx["cipher"],
                }
                args = ["call", "order.get_order_list", "--page-size", "3", "--order-status", "IN_TRANSIT"]
                done = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
                    [sys.executable, "-m", "tiktokshop.cli", *args], capture_output=True, text=True, env=env
                )
                check(done.returncode == 0, f"exit {done.returncode}: {done.stderr.strip()}")
                orders = json.loads(done.stdout)["orders"]
                return f"`tiktokshop {' '.join(args)}` printed {len(orders)} orders as JSON"

            for number, (title, run) in enumerate(
                [
                    ("authorization link", authorization_link),
                    ("seller consents", consent),
                    ("token exchange", exchange),
                    ("authorized shops", shops),
                    ("order search", search),
                    ("order detail", detail),
                    ("price detail", price),
                    ("handover time slots", slots),
                    ("ship package", ship),
                    ("webhook received", webhook),
                    ("shipping label", label),
                    ("token refresh", refresh),
                    ("command line call", command_line),
                ],
                start=1,
            ):
                step(number, title, run)
        print(f"Done: {len(sandbox.requests)} requests, every one checked by the sandbox.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except StepFailed as failure:
        print(f"DEMO FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
