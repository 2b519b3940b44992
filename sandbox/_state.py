"""The sandbox's world: shops, catalogue, products, orders, packages and returns, and how they change.

Everything is generated from a seed (``random.Random(seed)``), with times relative to the clock at
creation: the same seed and start time give the same world. Orders are kept compact (a few fields
each) and expanded into TikTok's shape only when asked for; per shop, sorted indexes of
``(time, order id)`` by status serve searches with ``bisect``, so 100,000 orders stay fast.
Every method that reads or changes the world takes the store's lock.
"""

# pyright: standard

from __future__ import annotations

import base64
import bisect
import dataclasses
import hashlib
import hmac
import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ._codes import INVALID_PARAMETER, INVALID_STATE, NOT_FOUND, SandboxError

__all__ = [
    "ORDER_STATUSES",
    "PACKAGE_STATUSES",
    "Brand",
    "Category",
    "Order",
    "OrderQuery",
    "Package",
    "Product",
    "Return",
    "Shop",
    "State",
]

ORDER_STATUSES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)
PACKAGE_STATUSES = ("TO_FULFILL", "PROCESSING", "FULFILLING", "COMPLETED", "CANCELLED")
_STATUS_WEIGHTS = (5, 3, 20, 2, 10, 10, 15, 30, 5)
_PACKAGE_STATUS_OF = {
    "AWAITING_SHIPMENT": "TO_FULFILL",
    "AWAITING_COLLECTION": "PROCESSING",
    "IN_TRANSIT": "FULFILLING",
    "DELIVERED": "COMPLETED",
    "COMPLETED": "COMPLETED",
}
#: Webhook event types (TikTok's numbering since API 202309; spec/api.yaml `webhook_types`).
EVENT_ORDER_STATUS = 1
EVENT_PACKAGE_UPDATE = 4
CURRENCY = "GBP"
DAY = 86400
PROVIDERS = (
    ("6617675021119438849", "Royal Mail"),
    ("6617675021119438850", "Evri"),
    ("6617675021119438851", "DPD"),
)
WAREHOUSES = ("7068517275539719942", "7068517275539719943")
_RETURN_STATUSES = (
    "RETURN_OR_REFUND_REQUEST_PENDING",
    "AWAITING_BUYER_SHIP",
    "BUYER_SHIPPED_ITEM",
    "RETURN_OR_REFUND_REQUEST_SUCCESS",
    "REFUND_OR_RETURN_REQUEST_REJECT",
)
_RETURN_REASONS = ("Item not as described", "Wrong size", "Arrived damaged", "No longer needed")
_CANCEL_REASONS = ("Buyer changed mind", "Out of stock", "Payment not completed")

_CATEGORY_TREE: tuple[tuple[str, str, str], ...] = (
    # id, parent id ("0": root), local name
    ("600001", "0", "Womenswear & Underwear"),
    ("600002", "600001", "Dresses"),
    ("600003", "600001", "Tops & Tees"),
    ("600010", "0", "Home Supplies"),
    ("600011", "600010", "Kitchenware"),
    ("600012", "600011", "Cookware"),
    ("600013", "600011", "Cutlery"),
    ("600020", "0", "Phones & Electronics"),
    ("600021", "600020", "Phone Accessories"),
    ("600022", "600020", "Headphones"),
)
_BRAND_NAMES = (
    "Acorn", "Brightside", "Cobalt", "Driftwood", "Ember", "Fernleaf", "Granite", "Harbour", "Indigo",
    "Juniper", "Kestrel", "Lumen", "Meadow", "Northwind", "Orchard", "Pebble", "Quartz", "Rowan",
    "Saltmarsh", "Thistle", "Umber", "Vale", "Willow", "Yarrow", "Zephyr",
)  # fmt: skip


@dataclass(slots=True)
class Shop:
    """A shop that authorized the app; ``cipher`` is what shop-scoped calls send."""

    id: str
    cipher: str
    code: str
    name: str
    region: str
    seller_type: str = "LOCAL"
    owner: str = ""  # the open_id of the seller that authorized it ("": the sandbox's first seller)


@dataclass(slots=True)
class Seller:
    """A seller (``open_id``) and the shops it owns; authorizing the app grants them all."""

    open_id: str
    name: str
    shop_ids: list[str]


@dataclass(slots=True)
class Category:
    """A node of the category tree; products are listed in leaves."""

    id: str
    parent_id: str
    name: str
    is_leaf: bool


@dataclass(slots=True)
class Brand:
    """A brand; ``authorized`` brands may be used by the shop."""

    id: str
    name: str
    authorized: bool


@dataclass(slots=True)
class Attribute:
    """A product or sales attribute of a leaf category, with its allowed values."""

    id: str
    name: str
    type: str
    required: bool
    values: tuple[tuple[str, str], ...]


@dataclass(slots=True)
class Sku:
    """One variant of a product: its price (a decimal string) and stock."""

    id: str
    seller_sku: str
    price: str
    quantity: int
    variant: str


@dataclass(slots=True)
class Product:
    """A product of a shop with its SKUs."""

    id: str
    shop_id: str
    title: str
    description: str
    category_id: str
    brand_id: str | None
    skus: list[Sku]
    status: str
    create_time: int
    update_time: int
    images: list[str]
    attributes: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Package:
    """A parcel of (part of) one order: ``TO_FULFILL`` until shipped, then through its statuses."""

    id: str
    order_id: str
    shop_id: str
    status: str
    item_ids: tuple[str, ...]
    create_time: int
    update_time: int
    tracking_number: str | None = None
    provider: tuple[str, str] | None = None
    handover_method: str | None = None
    pickup_slot: tuple[int, int] | None = None


@dataclass(slots=True)
class Order:
    """An order, kept compact; ``_views.order_data`` expands it into TikTok's shape."""

    id: str
    shop_id: str
    status: str
    create_time: int
    update_time: int
    user_id: str
    seed: int
    items: list[tuple[str, str, str]]  # (line item id, product id, sku id)
    package_ids: list[str]
    paid_time: int | None
    warehouse_id: str
    shipping_type: str
    is_buyer_request_cancel: bool = False
    cancel_time: int | None = None
    cancel_reason: str | None = None
    rts_time: int | None = None
    collection_time: int | None = None
    delivery_time: int | None = None


@dataclass(slots=True)
class Return:
    """A buyer's return request for a delivered order."""

    id: str
    order_id: str
    shop_id: str
    status: str
    type: str
    line_item_ids: tuple[str, ...]
    reason: str
    create_time: int
    update_time: int


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """The filters, sort and page size of one order search (the query behind a page token)."""

    status: str | None = None
    create_time_ge: int | None = None
    create_time_lt: int | None = None
    update_time_ge: int | None = None
    update_time_lt: int | None = None
    buyer_user_id: str | None = None
    is_buyer_request_cancel: bool | None = None
    shipping_type: str | None = None
    warehouse_ids: tuple[str, ...] | None = None
    sort_field: str = "create_time"
    descending: bool = True

    def window(self, field_name: str) -> tuple[int | None, int | None]:
        """The ``[ge, lt)`` range asked for ``create_time`` or ``update_time``."""
        if field_name == "create_time":
            return self.create_time_ge, self.create_time_lt
        return self.update_time_ge, self.update_time_lt

    def has_other_filters(self) -> bool:
        """Whether a filter other than status and times is set."""
        return (
            self.buyer_user_id is not None
            or self.is_buyer_request_cancel is not None
            or self.shipping_type is not None
            or self.warehouse_ids is not None
        )

    def fingerprint(self) -> str:
        """A short digest of the query, bound into its page tokens."""
        text = json.dumps([getattr(self, f.name) for f in dataclasses.fields(self)], default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


Listener = Callable[[int, str, dict[str, Any]], object]


class _Index:
    """Per shop: for each sort field and status ("" = every status), sorted ``(time, order id)`` keys."""

    def __init__(self) -> None:
        self.lists: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def _keys(self, order: Order) -> Iterator[tuple[tuple[str, str], tuple[int, str]]]:
        for sort_field, when in (("create_time", order.create_time), ("update_time", order.update_time)):
            key = (when, order.id)
            yield (sort_field, order.status), key
            yield (sort_field, ""), key

    def add(self, order: Order) -> None:
        for name, key in self._keys(order):
            bisect.insort(self.lists.setdefault(name, []), key)

    def bulk(self, orders: list[Order]) -> None:
        for order in orders:
            for name, key in self._keys(order):
                self.lists.setdefault(name, []).append(key)
        for keys in self.lists.values():
            keys.sort()

    def remove(self, order: Order) -> None:
        for name, key in self._keys(order):
            keys = self.lists[name]
            at = bisect.bisect_left(keys, key)
            if at < len(keys) and keys[at] == key:
                del keys[at]

    def get(self, sort_field: str, status: str | None) -> list[tuple[int, str]]:
        return self.lists.get((sort_field, status or ""), [])


class State:
    """The sandbox's data and the rules that change it. Thread-safe: one lock guards everything."""

    def __init__(self, *, orders: int, seed: int, now: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self._now = now
        self._rng = random.Random(seed)  # noqa: S311 - seeded test data, not secrets
        self._token_key = hashlib.sha256(f"sandbox-page-tokens-{seed}".encode()).digest()
        self.version = 0
        self.listeners: list[Listener] = []
        self.open_id = f"7494{self._rng.randrange(10**14, 10**15)}"
        self.shops: dict[str, Shop] = {}
        self.shops_by_cipher: dict[str, Shop] = {}
        self.categories: dict[str, Category] = {}
        self.brands: list[Brand] = []
        self.attributes: dict[str, list[Attribute]] = {}
        self.products: dict[str, Product] = {}
        self.orders: dict[str, Order] = {}
        self.packages: dict[str, Package] = {}
        self.returns: dict[str, Return] = {}
        self._indexes: dict[str, _Index] = {}
        self._count_cache: dict[tuple[str, OrderQuery, int], int] = {}
        self._next_id = 0
        self._seed_world(orders)
        #: Each seller's (``open_id``) name and shops; the first is the seller seeded above.
        self.sellers: dict[str, Seller] = {
            self.open_id: Seller(self.open_id, "Sandbox Seller", list(self.shops))
        }

    def new_seller(self, name: str | None = None, *, shops: int = 1, orders: int = 0) -> Seller:
        """Add a seller with ``shops`` shops of its own (a few products each, ``orders`` new orders
        each, awaiting shipment); it can then authorize the app. Raises ``ValueError`` for bad counts."""
        if shops < 1 or orders < 0:
            raise ValueError("a seller has at least one shop, and orders must be >= 0")
        with self.lock:
            open_id, added = self.add_seller(shops)
            seller = self.sellers[open_id]
            if name:
                seller.name = name
                for index, shop in enumerate(added):
                    shop.name = f"{name} shop {index + 1}"
            now = int(self._now())
            for shop in added:
                for _ in range(3):
                    self._seed_product(shop.id, len(self.products), now)
        for shop in added:
            for _ in range(orders):
                self.create_order("AWAITING_SHIPMENT", shop.id)
        return seller

    def shops_of(self, open_id: str) -> list[Shop]:
        """The shops of seller ``open_id`` (none for an unknown seller)."""
        with self.lock:
            return [s for s in self.shops.values() if (s.owner or self.open_id) == open_id]

    # -- seeding ---------------------------------------------------------------------------------

    def _seed_world(self, order_count: int) -> None:
        rng = self._rng
        now = int(self._now())
        for index, (name, region) in enumerate((("Sandbox Store UK", "GB"), ("Sandbox Outlet", "GB"))):
            shop = Shop(
                id=f"7495{rng.randrange(10**14, 10**15)}",
                cipher=f"GCP_{hashlib.sha256(f'{name}{rng.random()}'.encode()).hexdigest()[:40]}",
                code=f"GBLCSB{index:04d}",
                name=name,
                region=region,
            )
            self.shops[shop.id] = shop
            self.shops_by_cipher[shop.cipher] = shop
            self._indexes[shop.id] = _Index()
        parents = {parent for _, parent, _ in _CATEGORY_TREE}
        for cid, parent, name in _CATEGORY_TREE:
            self.categories[cid] = Category(cid, parent, name, is_leaf=cid not in parents)
        for index, name in enumerate(_BRAND_NAMES):
            self.brands.append(Brand(f"72{index + 1:017d}", name, authorized=index % 3 != 2))
        for cid, category in self.categories.items():
            if category.is_leaf:
                self.attributes[cid] = self._seed_attributes(cid)
        shop_ids = list(self.shops)
        for index in range(24):
            self._seed_product(shop_ids[index % 4 == 3], index, now)
        self._seed_orders(order_count, now)

    def _seed_attributes(self, cid: str) -> list[Attribute]:
        base = int(cid) * 100
        colours = (("1", "Black"), ("2", "White"), ("3", "Blue"))
        sizes = (("1", "S"), ("2", "M"), ("3", "L"))
        return [
            Attribute(
                str(base + 1), "Colour", "SALES_PROPERTY", False, tuple((f"{base}{i}", v) for i, v in colours)
            ),
            Attribute(
                str(base + 2), "Size", "SALES_PROPERTY", False, tuple((f"{base}{i}", v) for i, v in sizes)
            ),
            Attribute(str(base + 3), "Material", "PRODUCT_PROPERTY", True, ((f"{base}9", "Cotton"),)),
        ]

    def _seed_product(self, shop_id: str, index: int, now: int) -> None:
        rng = self._rng
        leaves = [c for c in self.categories.values() if c.is_leaf]
        category = leaves[index % len(leaves)]
        brand = self.brands[index % len(self.brands)]
        pid = f"17{index + 1:017d}"
        skus = [
            Sku(
                id=f"18{index + 1:015d}{k:02d}",
                seller_sku=f"SB-{index:03d}-{k}",
                price=f"{rng.randrange(499, 9999) / 100:.2f}",
                quantity=rng.randrange(0, 500),
                variant=("Black", "White", "Blue")[k],
            )
            for k in range(1 + index % 3)
        ]
        when = now - rng.randrange(100 * DAY, 400 * DAY)
        self.products[pid] = Product(
            id=pid,
            shop_id=shop_id,
            title=f"{brand.name} {category.name.lower()} no. {index + 1}",
            description=f"<p>Sandbox product {index + 1} in {category.name}.</p>",
            category_id=category.id,
            brand_id=brand.id if brand.authorized else None,
            skus=skus,
            status="ACTIVATE",
            create_time=when,
            update_time=when + rng.randrange(0, 30 * DAY),
            images=[f"tos-maliva-i-o3syd03w52-us/sandbox-{pid}-{n}" for n in range(2)],
        )

    def _seed_orders(self, count: int, now: int) -> None:
        rng = self._rng
        shop_ids = list(self.shops)
        by_shop: dict[str, list[tuple[str, Sku]]] = {sid: [] for sid in shop_ids}
        for product in self.products.values():
            by_shop[product.shop_id].extend((product.id, sku) for sku in product.skus)
        created: dict[str, list[Order]] = {sid: [] for sid in shop_ids}
        statuses = list(ORDER_STATUSES)
        base_id = 576461413000000000 + rng.randrange(10**9)
        for n in range(count):
            # Every status is present at least twice in the main shop; the rest follow the weights.
            status = statuses[n % 9] if n < 18 else rng.choices(statuses, _STATUS_WEIGHTS)[0]
            shop_id = shop_ids[0] if n < 18 or n % 20 else shop_ids[1]
            oid = str(base_id + n * 1000 + rng.randrange(1000))
            create = now - rng.randrange(3600, 90 * DAY)
            order = self._make_order(oid, shop_id, status, create, now, by_shop[shop_id], rng)
            self.orders[oid] = order
            created[shop_id].append(order)
            if status in ("DELIVERED", "COMPLETED") and n % 25 == 7:
                self._seed_return(order)
        for shop_id, orders in created.items():
            self._indexes[shop_id].bulk(orders)

    def _make_order(
        self,
        oid: str,
        shop_id: str,
        status: str,
        create: int,
        now: int,
        catalogue: list[tuple[str, Sku]],
        rng: random.Random,
    ) -> Order:
        item_count = 2 if status == "PARTIALLY_SHIPPING" else rng.choice((1, 1, 1, 2, 3))
        items = []
        for k in range(item_count):
            product_id, sku = catalogue[rng.randrange(len(catalogue))]
            items.append((f"{oid}{k}", product_id, sku.id))
        paid = None if status == "UNPAID" else create + rng.randrange(30, 3600)
        order = Order(
            id=oid,
            shop_id=shop_id,
            status=status,
            create_time=create,
            update_time=create,
            user_id=f"7494{rng.randrange(10**14, 10**15)}",
            seed=rng.randrange(2**31),
            items=items,
            package_ids=[],
            paid_time=paid,
            warehouse_id=WAREHOUSES[rng.randrange(2)],
            shipping_type="TIKTOK" if rng.random() < 0.8 else "SELLER",
            is_buyer_request_cancel=status == "AWAITING_SHIPMENT" and rng.random() < 0.05,
        )
        last = paid or create
        if status == "CANCELLED":
            order.cancel_time = last + rng.randrange(60, DAY)
            order.cancel_reason = _CANCEL_REASONS[rng.randrange(len(_CANCEL_REASONS))]
            last = order.cancel_time
        package_status = _PACKAGE_STATUS_OF.get(status)
        if status == "PARTIALLY_SHIPPING":
            shipped = self._make_package(order, (items[0][0],), "PROCESSING", last, rng)
            waiting = self._make_package(order, (items[1][0],), "TO_FULFILL", last, rng)
            order.rts_time = shipped.update_time
            last = max(shipped.update_time, waiting.update_time)
        elif package_status is not None:
            package = self._make_package(order, tuple(i[0] for i in items), package_status, last, rng)
            last = package.update_time
            if package_status != "TO_FULFILL":
                order.rts_time = package.create_time + rng.randrange(600, DAY)
                last = max(last, order.rts_time)
            if status in ("IN_TRANSIT", "DELIVERED", "COMPLETED"):
                order.collection_time = last + rng.randrange(600, DAY)
                last = order.collection_time
            if status in ("DELIVERED", "COMPLETED"):
                order.delivery_time = last + rng.randrange(DAY, 4 * DAY)
                last = order.delivery_time
            if status == "COMPLETED":
                last += rng.randrange(DAY, 7 * DAY)
        order.update_time = min(max(last, create), now)
        return order

    def _make_package(
        self, order: Order, item_ids: tuple[str, ...], status: str, when: int, rng: random.Random
    ) -> Package:
        pid = str(1152921500000000000 + int(order.id) % 10**15 * 10 + len(order.package_ids))
        package = Package(
            id=pid,
            order_id=order.id,
            shop_id=order.shop_id,
            status=status,
            item_ids=item_ids,
            create_time=when,
            update_time=when,
        )
        if status != "TO_FULFILL":
            package.provider = PROVIDERS[rng.randrange(len(PROVIDERS))]
            package.tracking_number = f"SB{rng.randrange(10**11, 10**12)}GB"
            package.handover_method = "PICKUP"
            package.update_time = when + rng.randrange(600, DAY)
        self.packages[pid] = package
        order.package_ids.append(pid)
        return package

    def _seed_return(self, order: Order) -> None:
        rid = f"4035{int(order.id) % 10**14:014d}"
        when = (order.delivery_time or order.update_time) + DAY
        self.returns[rid] = Return(
            id=rid,
            order_id=order.id,
            shop_id=order.shop_id,
            status=_RETURN_STATUSES[int(order.id) % len(_RETURN_STATUSES)],
            type="RETURN_AND_REFUND" if int(order.id) % 3 else "REFUND",
            line_item_ids=(order.items[0][0],),
            reason=_RETURN_REASONS[int(order.id) % len(_RETURN_REASONS)],
            create_time=when,
            update_time=when,
        )

    # -- lookups ---------------------------------------------------------------------------------

    def add_seller(self, shops: int = 1, *, region: str = "GB") -> tuple[str, list[Shop]]:
        """Another seller (a new ``open_id``) that authorized ``shops`` shops, empty of orders."""
        with self.lock:
            open_id = f"7494{self._rng.randrange(10**14, 10**15)}"
            added = []
            for index in range(shops):
                shop = Shop(
                    id=f"7495{self._rng.randrange(10**14, 10**15)}",
                    cipher=f"GCP_{hashlib.sha256(f'{open_id}{index}{self._rng.random()}'.encode()).hexdigest()[:40]}",
                    code=f"{region}LCSB{len(self.shops):04d}",
                    name=f"Seller {open_id[-4:]} shop {index + 1}",
                    region=region,
                    owner=open_id,
                )
                self.shops[shop.id] = shop
                self.shops_by_cipher[shop.cipher] = shop
                self._indexes[shop.id] = _Index()
                added.append(shop)
            number = len(self.sellers) + 1
            self.sellers[open_id] = Seller(open_id, f"Sandbox Seller {number}", [s.id for s in added])
            return open_id, added

    def shop_for_cipher(self, cipher: str) -> Shop | None:
        """The shop with this cipher, if any."""
        return self.shops_by_cipher.get(cipher)

    def order(self, shop: Shop, order_id: str) -> Order:
        """The shop's order ``order_id``. Raises ``SandboxError`` (NOT_FOUND)."""
        order = self.orders.get(order_id)
        if order is None or order.shop_id != shop.id:
            raise SandboxError(NOT_FOUND, f"order {order_id} does not exist in this shop")
        return order

    def package(self, shop: Shop, package_id: str) -> Package:
        """The shop's package ``package_id``. Raises ``SandboxError`` (NOT_FOUND)."""
        package = self.packages.get(package_id)
        if package is None or package.shop_id != shop.id:
            raise SandboxError(NOT_FOUND, f"package {package_id} does not exist in this shop")
        return package

    def product(self, shop: Shop, product_id: str) -> Product:
        """The shop's product ``product_id``. Raises ``SandboxError`` (NOT_FOUND)."""
        product = self.products.get(product_id)
        if product is None or product.shop_id != shop.id:
            raise SandboxError(NOT_FOUND, f"product {product_id} does not exist in this shop")
        return product

    def category(self, category_id: str) -> Category:
        """The category ``category_id``. Raises ``SandboxError`` (NOT_FOUND)."""
        category = self.categories.get(category_id)
        if category is None:
            raise SandboxError(NOT_FOUND, f"category {category_id} does not exist")
        return category

    def leaf_category(self, category_id: str) -> Category:
        """A leaf category. Raises ``SandboxError`` (NOT_FOUND, or INVALID_PARAMETER for a non-leaf)."""
        category = self.category(category_id)
        if not category.is_leaf:
            raise SandboxError(INVALID_PARAMETER, f"category {category_id} is not a leaf category")
        return category

    def find_package(self, predicate: Callable[[Package], bool], shop_id: str | None = None) -> Package:
        """The first package (in id order) matching ``predicate``. Raises ``LookupError`` if none."""
        with self.lock:
            for package in self.packages.values():
                if (shop_id is None or package.shop_id == shop_id) and predicate(package):
                    return package
        raise LookupError("no package matches")

    # -- page tokens -----------------------------------------------------------------------------

    def encode_token(self, payload: list[Any]) -> str:
        """An opaque page token carrying ``payload``, signed so that a forged one is refused."""
        raw = json.dumps(payload, separators=(",", ":")).encode()
        tag = hmac.new(self._token_key, raw, hashlib.sha256).digest()[:9]
        return base64.urlsafe_b64encode(tag + raw).decode().rstrip("=")

    def decode_token(self, token: str) -> list[Any]:
        """The payload of a page token. Raises ``SandboxError`` (INVALID_PARAMETER) for a bad one."""
        try:
            blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            tag, raw = blob[:9], blob[9:]
            good = hmac.compare_digest(tag, hmac.new(self._token_key, raw, hashlib.sha256).digest()[:9])
            payload = json.loads(raw) if good else None
        except (ValueError, TypeError):
            payload = None
        if not isinstance(payload, list):
            raise SandboxError(INVALID_PARAMETER, "page_token is not one this sandbox issued")
        return payload

    # -- order search ----------------------------------------------------------------------------

    def _matches(self, order: Order, query: OrderQuery, served: str) -> bool:
        """Whether ``order`` passes every filter of ``query`` but the time range of ``served``
        (the field whose index range already holds only matching times)."""
        if served != "create_time" and not _in(order.create_time, query.create_time_ge, query.create_time_lt):
            return False
        if served != "update_time" and not _in(order.update_time, query.update_time_ge, query.update_time_lt):
            return False
        if query.buyer_user_id is not None and order.user_id != query.buyer_user_id:
            return False
        if (
            query.is_buyer_request_cancel is not None
            and order.is_buyer_request_cancel != query.is_buyer_request_cancel
        ):
            return False
        if query.shipping_type is not None and order.shipping_type != query.shipping_type:
            return False
        return query.warehouse_ids is None or order.warehouse_id in query.warehouse_ids

    def search_orders(
        self, shop: Shop, query: OrderQuery, page_size: int, page_token: str | None
    ) -> tuple[list[Order], str, int]:
        """One page of the shop's orders matching ``query``: ``(orders, next_page_token, total_count)``.

        The index of the sort field, narrowed by its time range with ``bisect``, is walked from the
        page token's position; when the other time field's range holds fewer orders, those are
        taken, filtered and sorted instead. ``next_page_token`` is empty on the last page; it
        carries the last order's ``(time, id)``, so paging stays consistent while orders change.
        Raises ``SandboxError`` for a page token that does not belong to this query.
        """
        with self.lock:
            index = self._indexes[shop.id]
            sort = query.sort_field
            other = "update_time" if sort == "create_time" else "create_time"
            keys = index.get(sort, query.status)
            lo, hi = _span(keys, *query.window(sort))
            scan = query.window(other) != (None, None) or query.has_other_filters()
            if query.window(other) != (None, None):
                other_keys = index.get(other, query.status)
                other_lo, other_hi = _span(other_keys, *query.window(other))
                if other_hi - other_lo < hi - lo:
                    keys = sorted(
                        (getattr(order, sort), order.id)
                        for order in (self.orders[oid] for _, oid in other_keys[other_lo:other_hi])
                        if self._matches(order, query, other)
                    )
                    lo, hi, scan = 0, len(keys), False
            total = self._count(shop, query, keys, lo, hi) if scan else hi - lo
            fingerprint = query.fingerprint()
            if page_token:
                payload = self.decode_token(page_token)
                if len(payload) != 3 or payload[0] != fingerprint:
                    raise SandboxError(INVALID_PARAMETER, "page_token belongs to a different search")
                after = (int(payload[1]), str(payload[2]))
                if query.descending:
                    hi = min(hi, bisect.bisect_left(keys, after))
                else:
                    lo = max(lo, bisect.bisect_right(keys, after))
            positions = range(hi - 1, lo - 1, -1) if query.descending else range(lo, hi)
            page: list[Order] = []
            more = False
            for position in positions:
                order = self.orders[keys[position][1]]
                if scan and not self._matches(order, query, sort):
                    continue
                if len(page) == page_size:
                    more = True
                    break
                page.append(order)
            next_token = ""
            if more:
                last = page[-1]
                next_token = self.encode_token([fingerprint, getattr(last, sort), last.id])
            return page, next_token, total

    def _count(self, shop: Shop, query: OrderQuery, keys: list[tuple[int, str]], lo: int, hi: int) -> int:
        """How many orders in ``keys[lo:hi]`` pass the filters (cached until the next change)."""
        cache_key = (shop.id, query, self.version)
        cached = self._count_cache.get(cache_key)
        if cached is None:
            cached = sum(
                1 for _, oid in keys[lo:hi] if self._matches(self.orders[oid], query, query.sort_field)
            )
            if len(self._count_cache) > 256:
                self._count_cache.clear()
            self._count_cache[cache_key] = cached
        return cached

    # -- changes ---------------------------------------------------------------------------------

    def _emit(self, event_type: int, shop_id: str, data: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(event_type, shop_id, data)

    def _touch(self, order: Order, status: str | None = None) -> None:
        """Move ``order`` to ``status`` (and now) in the indexes, and announce a status change."""
        now = int(self._now())
        index = self._indexes[order.shop_id]
        index.remove(order)
        old = order.status
        if status is not None:
            order.status = status
        order.update_time = max(order.update_time, now)
        index.add(order)
        self.version += 1
        if order.status != old:
            self._emit(
                EVENT_ORDER_STATUS,
                order.shop_id,
                {
                    "order_id": order.id,
                    "order_status": order.status,
                    "is_on_hold_order": order.status == "ON_HOLD",
                    "update_time": order.update_time,
                },
            )

    def _package_changed(self, package: Package) -> None:
        package.update_time = max(package.update_time, int(self._now()))
        self._emit(
            EVENT_PACKAGE_UPDATE,
            package.shop_id,
            {
                "package_list": [{"package_id": package.id, "order_id_list": [package.order_id]}],
                "package_status": package.status,
                "update_time": package.update_time,
            },
        )

    def handover_slots(self, package: Package) -> list[tuple[int, int]]:
        """The pickup slots offered for a package: two a day for the next three days (UTC)."""
        day = int(self._now()) // DAY * DAY
        return [
            (day + offset * DAY + start * 3600, day + offset * DAY + end * 3600)
            for offset in (1, 2, 3)
            for start, end in ((9, 12), (13, 17))
        ]

    def ship(
        self,
        shop: Shop,
        package_id: str,
        handover_method: str | None,
        pickup_slot: dict[str, Any] | None,
        self_shipment: dict[str, Any] | None,
    ) -> Package:
        """Ship a package once: it leaves ``TO_FULFILL`` and its order moves on.

        By carrier (``PICKUP`` in one of the offered slots, or ``DROP_OFF``) the package becomes
        ``PROCESSING`` and the order awaits collection; by the seller's own carrier
        (``self_shipment`` with tracking number and provider) it becomes ``FULFILLING`` and the
        order is in transit. Raises ``SandboxError``: unknown package, already shipped, bad slot.
        """
        with self.lock:
            package = self.package(shop, package_id)
            order = self.orders[package.order_id]
            if package.status != "TO_FULFILL" or order.status == "CANCELLED":
                raise SandboxError(
                    INVALID_STATE, f"package {package_id} is {package.status}: it can be shipped only once"
                )
            if order.status not in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
                raise SandboxError(INVALID_STATE, f"order {order.id} is {order.status}")
            if self_shipment is not None:
                if handover_method is not None or pickup_slot is not None:
                    raise SandboxError(
                        INVALID_PARAMETER, "self_shipment excludes handover_method and pickup_slot"
                    )
                tracking = self_shipment.get("tracking_number")
                provider_id = self_shipment.get("shipping_provider_id")
                if not tracking or not provider_id:
                    raise SandboxError(
                        INVALID_PARAMETER,
                        "self_shipment needs tracking_number and shipping_provider_id",
                    )
                names = dict(PROVIDERS)
                if provider_id not in names:
                    raise SandboxError(INVALID_PARAMETER, f"unknown shipping_provider_id {provider_id}")
                package.status = "FULFILLING"
                package.tracking_number = tracking
                package.provider = (provider_id, names[provider_id])
                package.handover_method = "SELF_SHIPMENT"
            else:
                method = handover_method or ("PICKUP" if pickup_slot is not None else "DROP_OFF")
                if pickup_slot is not None:
                    if method != "PICKUP":
                        raise SandboxError(INVALID_PARAMETER, "pickup_slot goes with handover_method PICKUP")
                    slot = (pickup_slot.get("start_time"), pickup_slot.get("end_time"))
                    if slot not in self.handover_slots(package):
                        raise SandboxError(
                            INVALID_PARAMETER, "pickup_slot is not one of the offered handover time slots"
                        )
                    package.pickup_slot = (int(slot[0] or 0), int(slot[1] or 0))
                elif method == "PICKUP":
                    package.pickup_slot = self.handover_slots(package)[0]
                package.status = "PROCESSING"
                package.handover_method = method
                package.provider = PROVIDERS[int(package.id) % len(PROVIDERS)]
                package.tracking_number = f"SB{int(package.id) % 10**12:012d}GB"
            self._package_changed(package)
            order.rts_time = int(self._now())
            self._touch(order, self._status_from_packages(order))
            return package

    def _status_from_packages(self, order: Order) -> str:
        statuses = [self.packages[p].status for p in order.package_ids]
        if all(s == "TO_FULFILL" for s in statuses):
            return "AWAITING_SHIPMENT"
        if any(s == "TO_FULFILL" for s in statuses):
            return "PARTIALLY_SHIPPING"
        if any(s == "PROCESSING" for s in statuses):
            return "AWAITING_COLLECTION"
        return "IN_TRANSIT"

    def set_order_status(self, order_id: str, status: str) -> Order:
        """Move an order to ``status`` as the buyer or carrier would (packages follow), announcing it.

        For tests: pay an ``UNPAID`` order (``AWAITING_SHIPMENT``), collect (``IN_TRANSIT``),
        deliver (``DELIVERED``), complete or cancel. Raises ``ValueError`` for an unknown order
        or status.
        """
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}; one of {', '.join(ORDER_STATUSES)}")
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise ValueError(f"no order {order_id!r}")
            now = int(self._now())
            if order.paid_time is None and status not in ("UNPAID", "CANCELLED"):
                order.paid_time = now
            package_status = _PACKAGE_STATUS_OF.get(status)
            if status == "CANCELLED":
                order.cancel_time, order.cancel_reason = now, "Cancelled in the sandbox"
                package_status = "CANCELLED"
            if package_status is not None and not order.package_ids:
                self._make_package(order, tuple(i[0] for i in order.items), "TO_FULFILL", now, self._rng)
            if status == "IN_TRANSIT":
                order.collection_time = now
            if status == "DELIVERED":
                order.delivery_time = now
            if package_status is not None:
                for pid in order.package_ids:
                    package = self.packages[pid]
                    if package.status != package_status:
                        package.status = package_status
                        if package.tracking_number is None and package_status != "TO_FULFILL":
                            package.tracking_number = f"SB{int(package.id) % 10**12:012d}GB"
                            package.provider = PROVIDERS[0]
                        self._package_changed(package)
            self._touch(order, status)
            return order

    def create_order(self, status: str = "AWAITING_SHIPMENT", shop_id: str | None = None) -> Order:
        """Add a new order (created now) to a shop, e.g. a fresh one to ship. Raises ``ValueError``."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}")
        with self.lock:
            shop_id = shop_id or next(iter(self.shops))
            catalogue = [(p.id, s) for p in self.products.values() if p.shop_id == shop_id for s in p.skus]
            now = int(self._now())
            oid = str(576461999000000000 + self._next_id_bump())
            order = self._make_order(oid, shop_id, status, now, now, catalogue, self._rng)
            order.update_time = now
            for pid in order.package_ids:
                self.packages[pid].update_time = min(self.packages[pid].update_time, now)
            self.orders[oid] = order
            self._indexes[shop_id].add(order)
            self.version += 1
            return order

    def _next_id_bump(self) -> int:
        """A counter for the ids of orders and products created after seeding."""
        self._next_id += 1
        return self._next_id

    def create_product(self, shop: Shop, body: dict[str, Any]) -> Product:
        """Add a product from a ``create_product`` body, checked as TikTok checks a listing.

        ``save_mode=AS_DRAFT`` needs a title and a leaf category; a listing also needs a
        description, a main image and SKUs with a positive price. Raises ``SandboxError``.
        """
        draft = body.get("save_mode") == "AS_DRAFT"
        title = str(body.get("title") or "")
        if not 1 <= len(title) <= 255:
            raise SandboxError(INVALID_PARAMETER, "title: required, 1 to 255 characters")
        if not body.get("category_id"):
            raise SandboxError(INVALID_PARAMETER, "category_id: required")
        with self.lock:
            category = self.leaf_category(str(body["category_id"]))
            brand_id = body.get("brand_id")
            if brand_id is not None:
                brand = next((b for b in self.brands if b.id == brand_id), None)
                if brand is None:
                    raise SandboxError(NOT_FOUND, f"brand {brand_id} does not exist")
                if not brand.authorized:
                    raise SandboxError(INVALID_PARAMETER, f"brand {brand_id} is not authorized for this shop")
            known = {a.id: a for a in self.attributes.get(category.id, [])}
            attributes = []
            for attribute in body.get("product_attributes") or []:
                found = known.get(attribute.get("id"))
                if found is None:
                    raise SandboxError(
                        INVALID_PARAMETER,
                        f"product_attributes: {attribute.get('id')} is not in this category",
                    )
                for value in attribute.get("values") or []:
                    attributes.append((found.id, found.name, value.get("id") or "", value.get("name") or ""))
            if not draft:
                if not body.get("description"):
                    raise SandboxError(INVALID_PARAMETER, "description: required for a listing")
                if not [i for i in body.get("main_images") or [] if i.get("uri")]:
                    raise SandboxError(INVALID_PARAMETER, "main_images: at least one image uri")
                if not body.get("skus"):
                    raise SandboxError(INVALID_PARAMETER, "skus: at least one")
            now = int(self._now())
            pid = str(1729000000000000000 + self._next_id_bump())
            skus = []
            for k, raw in enumerate(body.get("skus") or []):
                price = (raw.get("price") or {}).get("amount")
                try:
                    ok = price is not None and Decimal(str(price)) > 0
                except InvalidOperation:
                    ok = False
                if not ok:
                    raise SandboxError(INVALID_PARAMETER, f"skus[{k}].price.amount: a positive decimal")
                quantity = sum(int(i.get("quantity") or 0) for i in raw.get("inventory") or [])
                skus.append(
                    Sku(
                        id=f"{pid[:-1]}{k}",
                        seller_sku=str(raw.get("seller_sku") or ""),
                        price=f"{Decimal(str(price)):.2f}",
                        quantity=quantity,
                        variant=str(((raw.get("sales_attributes") or [{}])[0]).get("value_name") or ""),
                    )
                )
            product = Product(
                id=pid,
                shop_id=shop.id,
                title=title,
                description=str(body.get("description") or ""),
                category_id=category.id,
                brand_id=brand_id,
                skus=skus,
                status="DRAFT" if draft else "PENDING",
                create_time=now,
                update_time=now,
                images=[str(i.get("uri")) for i in body.get("main_images") or [] if i.get("uri")],
                attributes=attributes,
            )
            self.products[pid] = product
            self.version += 1
            return product


def _span(keys: list[tuple[int, str]], ge: int | None, lt: int | None) -> tuple[int, int]:
    """The positions ``[lo, hi)`` of the keys whose time is in ``[ge, lt)``."""
    lo = bisect.bisect_left(keys, (ge,)) if ge is not None else 0
    hi = bisect.bisect_left(keys, (lt,)) if lt is not None else len(keys)
    return lo, max(lo, hi)


def _in(value: int, ge: int | None, lt: int | None) -> bool:
    return (ge is None or value >= ge) and (lt is None or value < lt)
