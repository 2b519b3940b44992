"""TikTok's shapes of the sandbox's data: orders, price breakdowns and products as the API sends them.

Each function expands a compact record of ``State`` into TikTok's field names (a superset of every
version of the response); the dispatcher cuts the result down to the operation's response model.
Call them with the state's lock held.
"""

# pyright: standard

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ._state import CURRENCY, DAY, WAREHOUSES, Category, Order, Product, Return, State

__all__ = ["order_data", "price_data", "product_data", "return_data"]

_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn")
_LAST = ("Smith", "Jones", "Patel", "Brown", "Taylor", "Wilson", "Evans", "Khan", "Walker", "Wright")
_TOWNS = (("London", "SW1A 1AA"), ("Leeds", "LS1 4AP"), ("Bristol", "BS1 5TR"), ("Glasgow", "G1 1XQ"))
_STREETS = ("High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Mill Road")


def order_data(state: State, order: Order) -> dict[str, Any]:
    """The full order, in the field names of TikTok's order detail (a superset of every version)."""
    seed = order.seed
    first, last = _FIRST[seed % 10], _LAST[seed // 10 % 10]
    town, postcode = _TOWNS[seed // 100 % len(_TOWNS)]
    street = f"{seed % 200 + 1} {_STREETS[seed // 7 % len(_STREETS)]}"
    packages = [state.packages[p] for p in order.package_ids]
    package_of = {item: p for p in packages for item in p.item_ids}
    line_items = []
    subtotal = Decimal(0)
    for line_id, product_id, sku_id in order.items:
        product = state.products[product_id]
        sku = next((s for s in product.skus if s.id == sku_id), product.skus[0])
        subtotal += Decimal(sku.price)
        package = package_of.get(line_id)
        line_items.append(
            {
                "id": line_id,
                "product_id": product.id,
                "product_name": product.title,
                "sku_id": sku.id,
                "sku_name": sku.variant,
                "seller_sku": sku.seller_sku,
                "sku_image": f"https://p16-oec-sandbox.invalid/{(product.images or [''])[0]}",
                "sku_type": "NORMAL",
                "currency": CURRENCY,
                "original_price": sku.price,
                "sale_price": sku.price,
                "platform_discount": "0.00",
                "seller_discount": "0.00",
                "display_status": order.status,
                "is_gift": False,
                "package_id": package.id if package else None,
                "package_status": package.status if package else None,
                "tracking_number": package.tracking_number if package else None,
                "shipping_provider_id": package.provider[0] if package and package.provider else None,
                "shipping_provider_name": package.provider[1] if package and package.provider else None,
                "rts_time": order.rts_time,
                "cancel_reason": order.cancel_reason,
                "cancel_user": "BUYER" if order.cancel_reason else None,
            }
        )
    shipping = Decimal("0.00") if subtotal >= 30 else Decimal("3.99")
    total = subtotal + shipping
    paid = order.paid_time
    first_package = packages[0] if packages else None
    data: dict[str, Any] = {
        "id": order.id,
        "status": order.status,
        "create_time": order.create_time,
        "update_time": order.update_time,
        "paid_time": paid,
        "user_id": order.user_id,
        "buyer_email": f"buyer{seed % 100000}@scs2.tiktok.invalid",
        "buyer_message": "",
        "seller_note": "",
        "commerce_platform": "TIKTOK_SHOP",
        "order_type": "NORMAL",
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "delivery_type": "HOME_DELIVERY",
        "delivery_option_id": "7091146663229654785",
        "delivery_option_name": "Standard shipping",
        "shipping_type": order.shipping_type,
        "warehouse_id": order.warehouse_id,
        "payment_method_name": "Card",
        "is_cod": False,
        "is_on_hold_order": order.status == "ON_HOLD",
        "is_buyer_request_cancel": order.is_buyer_request_cancel,
        "is_sample_order": False,
        "is_replacement_order": False,
        "is_exchange_order": False,
        "has_updated_recipient_address": False,
        "cancel_order_sla_time": order.create_time + DAY if order.status == "UNPAID" else None,
        "rts_sla_time": paid + 3 * DAY if paid else None,
        "tts_sla_time": paid + 5 * DAY if paid else None,
        "shipping_due_time": paid + 3 * DAY if paid else None,
        "collection_due_time": paid + 4 * DAY if paid else None,
        "delivery_due_time": paid + 9 * DAY if paid else None,
        "rts_time": order.rts_time,
        "collection_time": order.collection_time,
        "delivery_time": order.delivery_time,
        "cancel_time": order.cancel_time,
        "cancel_reason": order.cancel_reason,
        "cancellation_initiator": "BUYER" if order.cancel_reason else None,
        "tracking_number": first_package.tracking_number if first_package else None,
        "shipping_provider": first_package.provider[1] if first_package and first_package.provider else None,
        "shipping_provider_id": first_package.provider[0]
        if first_package and first_package.provider
        else None,
        "packages": [{"id": p.id} for p in packages],
        "line_items": line_items,
        "payment": {
            "currency": CURRENCY,
            "sub_total": f"{subtotal:.2f}",
            "original_total_product_price": f"{subtotal:.2f}",
            "shipping_fee": f"{shipping:.2f}",
            "original_shipping_fee": f"{shipping:.2f}",
            "seller_discount": "0.00",
            "platform_discount": "0.00",
            "tax": "0.00",
            "product_tax": "0.00",
            "shipping_fee_tax": "0.00",
            "total_amount": f"{total:.2f}",
        },
        "recipient_address": {
            "name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "phone_number": f"(+44)77****{seed % 10000:04d}",
            "address_line1": street,
            "address_line2": "",
            "address_detail": street,
            "full_address": f"{street}, {town}, {postcode}, United Kingdom",
            "post_town": town,
            "postal_code": postcode,
            "region_code": "GB",
            "district_info": [
                {
                    "address_level": "L0",
                    "address_level_name": "Country",
                    "address_name": "United Kingdom",
                },
                {"address_level": "L2", "address_level_name": "Post town", "address_name": town},
            ],
        },
    }
    return {key: value for key, value in data.items() if value is not None}


def price_data(state: State, order: Order) -> dict[str, Any]:
    """How the order's total is made up, in the fields of TikTok's price detail."""
    data = order_data(state, order)
    payment = data["payment"]
    line_items = [
        {
            "id": item["id"],
            "currency": CURRENCY,
            "sku_list_price": item["original_price"],
            "sku_sale_price": item["sale_price"],
            "subtotal": item["sale_price"],
            "net_price_amount": item["sale_price"],
            "payment": item["sale_price"],
            "tax_amount": "0.00",
            "tax_rate": "0.00",
            "voucher_deduction_platform": "0.00",
            "voucher_deduction_seller": "0.00",
        }
        for item in data["line_items"]
    ]
    return {
        "currency": CURRENCY,
        "sku_list_price": payment["original_total_product_price"],
        "sku_sale_price": payment["sub_total"],
        "subtotal": payment["sub_total"],
        "shipping_list_price": payment["original_shipping_fee"],
        "shipping_sale_price": payment["shipping_fee"],
        "tax_amount": "0.00",
        "tax_rate": "0.00",
        "voucher_deduction_platform": "0.00",
        "voucher_deduction_seller": "0.00",
        "net_price_amount": payment["total_amount"],
        "payment": payment["total_amount"],
        "total": payment["total_amount"],
        "line_items": line_items,
    }


def product_data(state: State, product: Product) -> dict[str, Any]:
    """The product in the fields of TikTok's product detail."""
    chain: list[dict[str, Any]] = []
    category: Category | None = state.categories.get(product.category_id)
    while category is not None:
        chain.insert(
            0,
            {
                "id": category.id,
                "parent_id": category.parent_id,
                "local_name": category.name,
                "is_leaf": category.is_leaf,
            },
        )
        category = state.categories.get(category.parent_id)
    brand = next((b for b in state.brands if b.id == product.brand_id), None)
    images = [
        {
            "uri": uri,
            "urls": [f"https://p16-oec-sandbox.invalid/{uri}~800x800.jpg"],
            "thumb_urls": [f"https://p16-oec-sandbox.invalid/{uri}~200x200.jpg"],
            "height": 800,
            "width": 800,
        }
        for uri in product.images
    ]
    attributes: dict[str, dict[str, Any]] = {}
    for aid, name, value_id, value_name in product.attributes:
        entry = attributes.setdefault(aid, {"id": aid, "name": name, "values": []})
        entry["values"].append({"id": value_id, "name": value_name})
    data: dict[str, Any] = {
        "id": product.id,
        "title": product.title,
        "description": product.description,
        "status": product.status,
        "create_time": product.create_time,
        "update_time": product.update_time,
        "category_chains": chain,
        "main_images": images,
        "is_cod_allowed": False,
        "is_not_for_sale": False,
        "is_pre_owned": False,
        "has_draft": product.status == "DRAFT",
        "product_types": ["NORMAL"],
        "product_attributes": list(attributes.values()),
        "package_weight": {"unit": "KILOGRAM", "value": "0.5"},
        "package_dimensions": {"unit": "CENTIMETER", "height": "5", "length": "30", "width": "20"},
        "skus": [
            {
                "id": sku.id,
                "seller_sku": sku.seller_sku,
                "price": {
                    "currency": CURRENCY,
                    "sale_price": sku.price,
                    "tax_exclusive_price": sku.price,
                },
                "inventory": [{"quantity": sku.quantity, "warehouse_id": WAREHOUSES[0]}],
                "sales_attributes": [
                    {"id": "100001", "name": "Colour", "value_id": f"2000{k}", "value_name": sku.variant}
                ]
                if sku.variant
                else [],
                "status_info": {"status": "NORMAL"},
            }
            for k, sku in enumerate(product.skus)
        ],
    }
    if brand is not None:
        data["brand"] = {"id": brand.id, "name": brand.name}
    return data


def return_data(state: State, ret: Return) -> dict[str, Any]:
    """A return request in the fields of TikTok's return search."""
    order = state.orders[ret.order_id]
    items = {line_id: (product_id, sku_id) for line_id, product_id, sku_id in order.items}
    lines = []
    total = Decimal(0)
    for n, line_id in enumerate(ret.line_item_ids):
        product = state.products[items[line_id][0]]
        sku = next((s for s in product.skus if s.id == items[line_id][1]), product.skus[0])
        total += Decimal(sku.price)
        lines.append(
            {
                "return_line_item_id": f"{ret.id}{n}",
                "order_line_item_id": line_id,
                "sku_id": sku.id,
                "sku_name": sku.variant,
                "seller_sku": sku.seller_sku,
                "product_name": product.title,
                "refund_amount": {
                    "currency": CURRENCY,
                    "refund_total": sku.price,
                    "refund_subtotal": sku.price,
                },
            }
        )
    return {
        "return_id": ret.id,
        "order_id": ret.order_id,
        "return_type": ret.type,
        "return_status": ret.status,
        "role": "BUYER",
        "return_reason": ret.reason.upper().replace(" ", "_"),
        "return_reason_text": ret.reason,
        "create_time": ret.create_time,
        "update_time": ret.update_time,
        "can_buyer_keep_item": ret.type == "REFUND",
        "is_combined_return": False,
        "return_line_items": lines,
        "refund_amount": {
            "currency": CURRENCY,
            "refund_total": f"{total:.2f}",
            "refund_subtotal": f"{total:.2f}",
        },
    }
