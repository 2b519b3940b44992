"""The control API: drive a running sandbox over HTTP from any process or language.

Everything lives under ``/_sandbox`` (a path TikTok does not use) on the sandbox's own port, takes
and returns JSON, and is documented in ``docs/sandbox.md``. It changes the sandbox the way its
Python API does (``sandbox.clock``, ``sandbox.faults``, ``sandbox.state``, ``sandbox.webhooks``).
Requests to it are not logged and never faulted. Errors answer ``{"error": "..."}`` with 400
(a bad value), 404 (an unknown path or thing) or 405 (a method the path does not take).
"""

# pyright: standard

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._app import CONTROL_PREFIX, Answer
from ._faults import FAULT_KINDS
from ._state import ORDER_STATUSES, Seller, Shop
from ._views import order_data

if TYPE_CHECKING:
    from ._sandbox import Sandbox
    from ._webhooks import Delivery

__all__ = ["Control"]

_JSON = [("content-type", "application/json")]


class ControlError(Exception):
    """A control request that cannot be done: ``status`` and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _answer(status: int, data: Any) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), list(_JSON))


def _shop(shop: Shop) -> dict[str, Any]:
    return {"id": shop.id, "name": shop.name, "cipher": shop.cipher, "region": shop.region, "code": shop.code}


def _delivery(d: Delivery) -> dict[str, Any]:
    return {
        "url": d.url,
        "type": d.event["type"],
        "tts_notification_id": d.event["tts_notification_id"],
        "attempt": d.attempt,
        "status": d.status,
        "error": d.error,
        "at": d.at,
        "elapsed": round(d.elapsed, 4),
    }


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(400, f"`{name}` must be a number")
    return float(value)


def event_type_number(value: Any) -> int:
    """A webhook type given by number or name (``"ORDER_STATUS_CHANGE"``). Raises ``ControlError``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        from tiktokshop.types.webhooks import EVENT_CLASSES_BY_NAME

        cls = EVENT_CLASSES_BY_NAME.get(value.upper())
        if cls is not None and cls.TYPE is not None:
            return cls.TYPE
    raise ControlError(400, f"unknown webhook type {value!r}: a number or a name like ORDER_STATUS_CHANGE")


class Control:
    """Routes ``/_sandbox/...`` requests to the sandbox's controls."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        # (method, path pattern) -> handler(match, query, body)
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = []
        for method, pattern, handler in (
            ("GET", "", self.overview),
            ("GET", "/credentials", self.credentials),
            ("GET", "/clock", self.clock),
            ("POST", "/clock", self.move_clock),
            ("GET", "/faults", self.faults),
            ("POST", "/faults", self.inject_fault),
            ("DELETE", "/faults", self.clear_faults),
            ("GET", "/sellers", self.sellers),
            ("POST", "/sellers", self.add_seller),
            ("POST", "/auth/code", self.auth_code),
            ("PUT", "/redirect-url", self.redirect_url),
            ("POST", "/orders", self.create_order),
            ("GET", r"/orders/(?P<order_id>\d+)", self.order),
            ("POST", r"/orders/(?P<order_id>\d+)/status", self.order_status),
            ("GET", "/webhooks", self.webhooks),
            ("POST", "/webhooks/subscriptions", self.subscribe),
            ("DELETE", "/webhooks/subscriptions", self.unsubscribe),
            ("POST", "/webhooks/trigger", self.trigger),
            ("POST", "/webhooks/redeliver", self.redeliver),
            ("GET", "/requests", self.requests),
            ("DELETE", "/requests", self.clear_requests),
        ):
            self._routes.append((method, re.compile(re.escape(CONTROL_PREFIX) + pattern + "/?$"), handler))

    def __call__(self, method: str, path: str, pairs: list[tuple[str, str]], body: bytes) -> Answer:
        """Answer one control request (never raises)."""
        allowed = []
        for route_method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            try:
                payload = json.loads(body) if body.strip() else {}
                if not isinstance(payload, dict):
                    raise ControlError(400, "the body must be a JSON object")
                return _answer(200, handler(dict(pairs), payload, **match.groupdict()))
            except ValueError as exc:  # JSON errors and the sandbox's own refusals
                return _answer(400, {"error": str(exc)})
            except ControlError as exc:
                return _answer(exc.status, {"error": str(exc)})
        if allowed:
            answer = _answer(405, {"error": f"{method} is not allowed here; use {', '.join(allowed)}"})
            answer.headers.append(("allow", ", ".join(allowed)))
            return answer
        return _answer(404, {"error": f"no control at {path}; see docs/sandbox.md"})

    # -- overview and credentials ----------------------------------------------------------------

    def overview(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        sb = self.sb
        return {
            "sandbox": "tiktokshop",
            "url": sb.url,
            "now": sb.clock.now(),
            "orders": len(sb.state.orders),
            "sellers": self.sellers(query, body)["sellers"],
            "webhook_subscriptions": sb.webhooks.subscriptions,
            "faults": len(sb.faults.pending),
            "requests": len(sb.requests),
        }

    def credentials(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """The sandbox's app and ready tokens of its first seller, named as the environment variables."""
        sb = self.sb
        return {
            "TIKTOK_BASE_URL": sb.url,
            "TIKTOK_AUTH_BASE_URL": sb.url,
            "TIKTOK_APP_KEY": sb.app_key,
            "TIKTOK_APP_SECRET": sb.app_secret,
            "TIKTOK_SERVICE_ID": sb.service_id,
            "TIKTOK_SHOP_ID": sb.shop.id,
            "TIKTOK_SHOP_CIPHER": sb.shop_cipher,
            "TIKTOK_ACCESS_TOKEN": sb.access_token,
            "TIKTOK_REFRESH_TOKEN": sb.refresh_token,
        }

    # -- clock -----------------------------------------------------------------------------------

    def clock(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return {"now": self.sb.clock.now()}

    def move_clock(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if "advance" in body:
            self.sb.clock.advance(_number(body["advance"], "advance"))
        elif "set" in body:
            self.sb.clock.set(_number(body["set"], "set"))
        else:
            raise ControlError(400, 'give {"advance": seconds} or {"set": unix_seconds}')
        self.sb.webhooks.deliver_due()
        return {"now": self.sb.clock.now()}

    # -- faults ----------------------------------------------------------------------------------

    def faults(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return {
            "faults": [dataclasses.asdict(f) for f in self.sb.faults.pending],
            "kinds": list(FAULT_KINDS),
        }

    def inject_fault(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body.get("op"), str) or not isinstance(body.get("kind"), str):
            raise ControlError(
                400, f'give {{"op": "order.get_order_list" or "*", "kind": one of {", ".join(FAULT_KINDS)}}}'
            )
        options = {k: body[k] for k in ("times", "retry_after", "status", "delay") if k in body}
        for key, value in options.items():
            _number(value, key)
        if "times" in options:
            options["times"] = int(options["times"])
        if "status" in options:
            options["status"] = int(options["status"])
        fault = self.sb.faults.inject(body["op"], body["kind"], **options)
        return dataclasses.asdict(fault)

    def clear_faults(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self.sb.faults.clear()
        return {"faults": []}

    # -- sellers and authorization ---------------------------------------------------------------

    def _seller(self, seller: Seller) -> dict[str, Any]:
        return {
            "open_id": seller.open_id,
            "name": seller.name,
            "shops": [_shop(s) for s in self.sb.state.shops_of(seller.open_id)],
        }

    def sellers(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        return {"sellers": [self._seller(s) for s in list(self.sb.state.sellers.values())]}

    def add_seller(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if name is not None and not isinstance(name, str):
            raise ControlError(400, "`name` must be a string")
        seller = self.sb.state.new_seller(
            name,
            shops=int(_number(body.get("shops", 1), "shops")),
            orders=int(_number(body.get("orders", 0), "orders")),
        )
        return self._seller(seller)

    def auth_code(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        open_id = body.get("seller") or self.sb.state.open_id
        if open_id not in self.sb.state.sellers:
            raise ControlError(404, f"no seller {open_id!r}; GET /_sandbox/sellers lists them")
        return {"code": self.sb.tokens.issue_code(str(open_id)), "open_id": open_id, "expires_in": 1800}

    def redirect_url(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ControlError(400, 'give {"url": "http://127.0.0.1:8080/callback"}')
        self.sb.redirect_url = url
        return {"url": url}

    # -- orders ----------------------------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        order = self.sb.state.orders.get(order_id)
        if order is None:
            raise ControlError(404, f"no order {order_id}")
        return order_data(self.sb.state, order)

    def create_order(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        status = body.get("status", "AWAITING_SHIPMENT")
        shop_id = body.get("shop_id")
        if shop_id is not None and shop_id not in self.sb.state.shops:
            raise ControlError(404, f"no shop {shop_id!r}")
        if status not in ORDER_STATUSES:
            raise ControlError(400, f"unknown order status {status!r}; one of {', '.join(ORDER_STATUSES)}")
        return self._order(self.sb.state.create_order(status, shop_id).id)

    def order(self, query: dict[str, str], body: dict[str, Any], order_id: str) -> dict[str, Any]:
        return self._order(order_id)

    def order_status(self, query: dict[str, str], body: dict[str, Any], order_id: str) -> dict[str, Any]:
        self._order(order_id)
        status = body.get("status")
        if not isinstance(status, str):
            raise ControlError(400, f'give {{"status": one of {", ".join(ORDER_STATUSES)}}}')
        self.sb.state.set_order_status(order_id, status)
        return self._order(order_id)

    # -- webhooks --------------------------------------------------------------------------------

    def webhooks(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        hooks = self.sb.webhooks
        limit = int(query.get("limit", "100") or 100)
        return {
            "subscriptions": hooks.subscriptions,
            "events": hooks.events[-limit:],
            "deliveries": [_delivery(d) for d in hooks.deliveries[-limit:]],
            "pending": [
                {
                    "due": p.due,
                    "url": p.url,
                    "attempt": p.attempt,
                    "tts_notification_id": p.event["tts_notification_id"],
                }
                for p in hooks.pending
            ],
            "dropped": hooks.dropped,
        }

    def subscribe(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        url = body.get("url")
        if not isinstance(url, str):
            raise ControlError(
                400, 'give {"url": "http://127.0.0.1:PORT/path", "types": [optional names or numbers]}'
            )
        types = body.get("types")
        numbers = [event_type_number(t) for t in types] if isinstance(types, list) else None
        self.sb.webhooks.subscribe(url, numbers)
        return {"subscriptions": self.sb.webhooks.subscriptions}

    def unsubscribe(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        url = body.get("url") or query.get("url")
        if not isinstance(url, str):
            raise ControlError(400, 'give {"url": ...}')
        self.sb.webhooks.unsubscribe(url)
        return {"subscriptions": self.sb.webhooks.subscriptions}

    def trigger(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        number = event_type_number(body.get("type"))
        shop_id = body.get("shop_id") or self.sb.shop.id
        if shop_id not in self.sb.state.shops:
            raise ControlError(404, f"no shop {shop_id!r}")
        data = body.get("data", {})
        if not isinstance(data, dict):
            raise ControlError(400, "`data` must be an object")
        return self.sb.webhooks.emit(number, str(shop_id), data)

    def redeliver(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        nid = body.get("tts_notification_id")
        try:
            count = self.sb.webhooks.redeliver(str(nid), body.get("url"))
        except KeyError:
            raise ControlError(404, f"no event {nid!r}") from None
        return {"queued": count}

    # -- request log -----------------------------------------------------------------------------

    def requests(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        items = self.sb.requests.for_op(query["op"]) if query.get("op") else list(self.sb.requests)
        limit = int(query.get("limit", "100") or 100)
        return {"requests": [dataclasses.asdict(r) for r in items[-limit:]], "total": len(items)}

    def clear_requests(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self.sb.requests.clear()
        return {"requests": []}
