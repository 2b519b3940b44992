"""The operations the sandbox keeps state for, by operation id; every other one gets generic data.

A handler receives the store and the checked call (shop, arguments) and returns the ``data`` of
the answer in TikTok's field names; the dispatcher cuts it down to the operation's response model.
"""

# pyright: standard

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._auth import Grant
from ._codes import INVALID_PARAMETER, INVALID_STATE, SandboxError
from ._state import OrderQuery, Shop, State
from ._views import order_data, price_data, product_data, return_data

__all__ = ["HANDLERS", "Call", "Handler"]


@dataclass(frozen=True)
class Call:
    """One checked request: the shop (for shop-scoped operations), the token's grant, the arguments."""

    op_id: str
    shop: Shop | None
    grant: Grant
    params: dict[str, Any]
    body: dict[str, Any]
    document_url: Callable[[str, str, str], str]

    @property
    def the_shop(self) -> Shop:
        """The shop of a shop-scoped call."""
        assert self.shop is not None, f"{self.op_id} is not shop-scoped"
        return self.shop


Handler = Callable[[State, Call], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handles(*op_ids: str) -> Callable[[Handler], Handler]:
    """Register a function as the handler of ``op_ids``."""

    def register(func: Handler) -> Handler:
        for op_id in op_ids:
            HANDLERS[op_id] = func
        return func

    return register


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.split(",") if part]
    return [str(v) for v in value or []]


@handles("authorization.get_authorized_shops")
def get_authorized_shops(state: State, call: Call) -> dict[str, Any]:
    """The shops the token's seller authorized, with their ciphers."""
    with state.lock:
        shops = [s for s in state.shops.values() if (s.owner or state.open_id) == call.grant.open_id]
    return {
        "shops": [
            {
                "id": s.id,
                "name": s.name,
                "region": s.region,
                "seller_type": s.seller_type,
                "cipher": s.cipher,
                "code": s.code,
            }
            for s in shops
        ]
    }


@handles("order.get_order_list")
def get_order_list(state: State, call: Call) -> dict[str, Any]:
    """Search orders: status, create/update time ranges, sort, page size and opaque page tokens."""
    p, b = call.params, call.body
    page_size = int(p["page_size"])
    if not 1 <= page_size <= 100:
        raise SandboxError(INVALID_PARAMETER, "page_size: 1 to 100")
    warehouses = b.get("warehouse_ids")
    query = OrderQuery(
        status=b.get("order_status"),
        create_time_ge=b.get("create_time_ge"),
        create_time_lt=b.get("create_time_lt"),
        update_time_ge=b.get("update_time_ge"),
        update_time_lt=b.get("update_time_lt"),
        buyer_user_id=b.get("buyer_user_id"),
        is_buyer_request_cancel=b.get("is_buyer_request_cancel"),
        shipping_type=b.get("shipping_type"),
        warehouse_ids=tuple(warehouses) if warehouses is not None else None,
        sort_field=p.get("sort_field") or "create_time",
        descending=(p.get("sort_order") or "DESC") == "DESC",
    )
    orders, token, total = state.search_orders(call.the_shop, query, page_size, p.get("page_token"))
    with state.lock:
        data = [order_data(state, order) for order in orders]
    return {"orders": data, "next_page_token": token, "total_count": total}


@handles("order.get_order_detail", "order.get_order_detail_v202309")
def get_order_detail(state: State, call: Call) -> dict[str, Any]:
    """Up to 50 orders by id; an id not in the shop is an error."""
    ids = _ids(call.params.get("ids"))
    if not 1 <= len(ids) <= 50:
        raise SandboxError(INVALID_PARAMETER, "ids: 1 to 50 order ids")
    with state.lock:
        return {"orders": [order_data(state, state.order(call.the_shop, oid)) for oid in ids]}


@handles("order.get_price_detail")
def get_price_detail(state: State, call: Call) -> dict[str, Any]:
    """The price breakdown of one order."""
    with state.lock:
        return price_data(state, state.order(call.the_shop, str(call.params["order_id"])))


@handles("product.get_product")
def get_product(state: State, call: Call) -> dict[str, Any]:
    """One product of the shop."""
    with state.lock:
        return product_data(state, state.product(call.the_shop, str(call.params["product_id"])))


@handles("product.get_categories")
def get_categories(state: State, call: Call) -> dict[str, Any]:
    """The category tree, optionally only names containing ``keyword``."""
    keyword = str(call.params.get("keyword") or "").lower()
    with state.lock:
        categories = [c for c in state.categories.values() if keyword in c.name.lower()]
    return {
        "categories": [
            {
                "id": c.id,
                "parent_id": c.parent_id,
                "local_name": c.name,
                "is_leaf": c.is_leaf,
                "permission_statuses": ["AVAILABLE"],
            }
            for c in categories
        ]
    }


@handles("product.get_attributes")
def get_attributes(state: State, call: Call) -> dict[str, Any]:
    """The attributes of a leaf category."""
    with state.lock:
        category = state.leaf_category(str(call.params["category_id"]))
        attributes = state.attributes.get(category.id, [])
    return {
        "attributes": [
            {
                "id": a.id,
                "name": a.name,
                "type": a.type,
                "is_requried": a.required,
                "is_multiple_selection": False,
                "is_customizable": a.type == "SALES_PROPERTY",
                "value_data_format": "POSITIVE_INT_OR_DECIMAL" if a.name == "Weight" else "",
                "values": [{"id": vid, "name": name} for vid, name in a.values],
            }
            for a in attributes
        ]
    }


@handles("product.get_brands")
def get_brands(state: State, call: Call) -> dict[str, Any]:
    """Brands, filtered by name and authorization, paged with opaque tokens."""
    p = call.params
    page_size = int(p["page_size"])
    if not 1 <= page_size <= 100:
        raise SandboxError(INVALID_PARAMETER, "page_size: 1 to 100")
    name = str(p.get("brand_name") or "").lower()
    authorized = p.get("is_authorized")
    with state.lock:
        if p.get("category_id"):
            state.category(str(p["category_id"]))
        brands = [
            b
            for b in state.brands
            if name in b.name.lower() and (authorized is None or b.authorized == authorized)
        ]
        start = 0
        if p.get("page_token"):
            payload = state.decode_token(str(p["page_token"]))
            if len(payload) != 2 or payload[0] != "brands" or not isinstance(payload[1], int):
                raise SandboxError(INVALID_PARAMETER, "page_token belongs to a different listing")
            start = payload[1]
        page = brands[start : start + page_size]
        more = start + page_size < len(brands)
        token = state.encode_token(["brands", start + page_size]) if more else ""
    return {
        "brands": [
            {
                "id": b.id,
                "name": b.name,
                "authorized_status": "AUTHORIZED" if b.authorized else "UNAUTHORIZED",
                "brand_status": "AVAILABLE",
                "is_t1_brand": False,
            }
            for b in page
        ],
        "next_page_token": token,
        "total_count": len(brands),
    }


@handles("product.create_product")
def create_product(state: State, call: Call) -> dict[str, Any]:
    """Add a product (checked like a TikTok listing) and return its ids."""
    product = state.create_product(call.the_shop, call.body)
    return {
        "product_id": product.id,
        "skus": [{"id": s.id, "seller_sku": s.seller_sku} for s in product.skus],
        "warnings": [],
    }


@handles("fulfillment.get_package_handover_time_slots")
def get_package_handover_time_slots(state: State, call: Call) -> dict[str, Any]:
    """Pickup slots and drop-off for a package that is still to be shipped."""
    with state.lock:
        package = state.package(call.the_shop, str(call.params["package_id"]))
        if package.status != "TO_FULFILL":
            raise SandboxError(INVALID_STATE, f"package {package.id} is {package.status}, not TO_FULFILL")
        slots = state.handover_slots(package)
    return {
        "can_pickup": True,
        "can_drop_off": True,
        "can_van_collection": False,
        "drop_off_point_url": "https://sandbox.tiktokshop.invalid/drop-off-points",
        "pickup_slots": [{"start_time": s, "end_time": e, "avaliable": True} for s, e in slots],
    }


@handles("fulfillment.ship_package")
def ship_package(state: State, call: Call) -> dict[str, Any]:
    """Ship a package (once)."""
    b = call.body
    state.ship(
        call.the_shop,
        str(call.params["package_id"]),
        b.get("handover_method"),
        b.get("pickup_slot"),
        b.get("self_shipment"),
    )
    return {}


_FORMATS = ("PDF", "ZPL")
_SIZES = ("A5", "A6")


@handles("fulfillment.get_package_shipping_document")
def get_package_shipping_document(state: State, call: Call) -> dict[str, Any]:
    """A link (served by the sandbox) to the label of a shipped package."""
    p = call.params
    fmt = str(p.get("document_format") or "PDF")
    if fmt not in _FORMATS:
        raise SandboxError(INVALID_PARAMETER, f"document_format: one of {', '.join(_FORMATS)}")
    if p.get("document_size") is not None and p["document_size"] not in _SIZES:
        raise SandboxError(INVALID_PARAMETER, f"document_size: one of {', '.join(_SIZES)}")
    with state.lock:
        package = state.package(call.the_shop, str(p["package_id"]))
        if package.status in ("TO_FULFILL", "CANCELLED"):
            raise SandboxError(INVALID_STATE, f"package {package.id} is {package.status}: ship it first")
        tracking = package.tracking_number
    return {
        "doc_url": call.document_url(package.id, str(p["document_type"]), fmt),
        "tracking_number": tracking,
    }


@handles("return_refund.search_returns", "return_refund.search_returns_v202309")
def search_returns(state: State, call: Call) -> dict[str, Any]:
    """The shop's return requests: by ids, orders, buyers, status, type and time, sorted and paged."""
    p, b = call.params, call.body
    raw_size = str(p.get("page_size") or "10")
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= 50:
        raise SandboxError(INVALID_PARAMETER, "page_size: 1 to 50")
    page_size = int(raw_size)
    sort_field = str(p.get("sort_field") or "create_time")
    if sort_field not in ("create_time", "update_time"):
        raise SandboxError(INVALID_PARAMETER, "sort_field: create_time or update_time")
    descending = str(p.get("sort_order") or "DESC") != "ASC"

    def wanted(name: str) -> set[str] | None:
        values = b.get(name)
        return {str(v) for v in values} if values else None

    ids, orders, buyers = wanted("return_ids"), wanted("order_ids"), wanted("buyer_user_ids")
    statuses, types = wanted("return_status"), wanted("return_types")
    with state.lock:
        found = [
            r
            for r in state.returns.values()
            if r.shop_id == call.the_shop.id
            and (ids is None or r.id in ids)
            and (orders is None or r.order_id in orders)
            and (buyers is None or state.orders[r.order_id].user_id in buyers)
            and (statuses is None or r.status in statuses)
            and (types is None or r.type in types)
            and _within(r.create_time, b.get("create_time_ge"), b.get("create_time_lt"))
            and _within(r.update_time, b.get("update_time_ge"), b.get("update_time_lt"))
        ]
        found.sort(key=lambda r: (getattr(r, sort_field), r.id), reverse=descending)
        query = sorted((k, repr(v)) for k, v in p.items() if k != "page_token")
        fingerprint = repr((query, sorted((k, repr(v)) for k, v in b.items()), "returns"))
        start = 0
        if p.get("page_token"):
            payload = state.decode_token(str(p["page_token"]))
            if len(payload) != 2 or not isinstance(payload[1], int) or payload[0] != hash_text(fingerprint):
                raise SandboxError(INVALID_PARAMETER, "page_token belongs to a different search")
            start = payload[1]
        page = found[start : start + page_size]
        more = start + page_size < len(found)
        token = state.encode_token([hash_text(fingerprint), start + page_size]) if more else ""
        data = [return_data(state, r) for r in page]
    return {"return_orders": data, "next_page_token": token, "total_count": len(found)}


def _within(value: int, ge: Any, lt: Any) -> bool:
    return (ge is None or value >= int(ge)) and (lt is None or value < int(lt))


def hash_text(text: str) -> str:
    """A short stable digest of ``text`` (binds a page token to its search)."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]
