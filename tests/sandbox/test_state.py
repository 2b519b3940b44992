"""Stateful flows: seed data, shipping, documents, products."""

from __future__ import annotations

import httpx
import pytest

from tiktokshop import BadRequestError, NotFoundError, ValidationError
from tiktokshop.sandbox import ORDER_STATUSES, Clock, Sandbox
from tiktokshop.sandbox._state import Package
from tiktokshop.sandbox._views import order_data

START = 1_767_225_600


def _to_fulfill(sandbox: Sandbox, single: bool = True) -> Package:
    def ok(p: Package) -> bool:
        order = sandbox.state.orders[p.order_id]
        return p.status == "TO_FULFILL" and (order.status == "AWAITING_SHIPMENT") == single

    return sandbox.state.find_package(ok, sandbox.shop.id)


def test_seed_is_deterministic_and_covers_every_status() -> None:
    a = Sandbox(orders=120, seed=3, clock=Clock(START, ticking=False))
    b = Sandbox(orders=120, seed=3, clock=Clock(START, ticking=False))
    c = Sandbox(orders=120, seed=4, clock=Clock(START, ticking=False))
    assert list(a.state.orders) == list(b.state.orders) != list(c.state.orders)
    assert [order_data(a.state, o) for o in a.state.orders.values()] == [
        order_data(b.state, o) for o in b.state.orders.values()
    ]
    statuses = {o.status for o in a.state.orders.values() if o.shop_id == a.shop.id}
    assert statuses == set(ORDER_STATUSES)
    assert a.shop_cipher == b.shop_cipher and a.app_key == b.app_key
    assert a.state.returns and a.state.products and a.state.brands


def test_ship_moves_order_and_package_once(sandbox: Sandbox) -> None:
    package = _to_fulfill(sandbox)
    with sandbox.client() as client:
        slots = client.fulfillment.get_package_handover_time_slots(package.id)
        slot = slots.pickup_slots[1]
        client.fulfillment.ship_package(
            package.id,
            handover_method="PICKUP",
            pickup_slot={"start_time": slot.start_time, "end_time": slot.end_time},
        )
        order = client.order.get_order_detail(ids=[package.order_id]).orders[0]
        assert order.status == "AWAITING_COLLECTION"
        assert order.update_time == START and order.rts_time == START
        item = order.line_items[0]
        assert item.package_status == "PROCESSING" and item.tracking_number
        with pytest.raises(BadRequestError) as info:
            client.fulfillment.ship_package(package.id)
        assert info.value.code == 36009030
        with pytest.raises(BadRequestError):
            client.fulfillment.get_package_handover_time_slots(package.id)
    assert sandbox.state.packages[package.id].pickup_slot == (slot.start_time, slot.end_time)


def test_partial_shipping_then_complete(sandbox: Sandbox) -> None:
    package = _to_fulfill(sandbox, single=False)
    with sandbox.client() as client:
        assert client.order.get_order_detail(ids=[package.order_id]).orders[0].status == "PARTIALLY_SHIPPING"
        client.fulfillment.ship_package(package.id, handover_method="DROP_OFF")
        assert client.order.get_order_detail(ids=[package.order_id]).orders[0].status == "AWAITING_COLLECTION"


def test_self_shipment_goes_in_transit(sandbox: Sandbox) -> None:
    package = _to_fulfill(sandbox)
    with sandbox.client() as client:
        with pytest.raises(ValidationError, match=r"self_shipment\.shipping_provider_id"):
            client.fulfillment.ship_package(package.id, self_shipment={"tracking_number": "T1"})
        client.fulfillment.ship_package(
            package.id,
            self_shipment={"tracking_number": "TRK123", "shipping_provider_id": "6617675021119438850"},
        )
        order = client.order.get_order_detail(ids=[package.order_id]).orders[0]
    assert (
        order.status == "IN_TRANSIT"
        and order.tracking_number == "TRK123"
        and order.shipping_provider == "Evri"
    )


def test_a_slot_that_was_not_offered_is_refused(sandbox: Sandbox) -> None:
    package = _to_fulfill(sandbox)
    with sandbox.client() as client, pytest.raises(BadRequestError, match="pickup_slot"):
        client.fulfillment.ship_package(package.id, pickup_slot={"start_time": START, "end_time": START + 60})
    assert sandbox.state.packages[package.id].status == "TO_FULFILL"


def test_shipping_label_pdf_downloads_over_http(served: Sandbox) -> None:
    package = _to_fulfill(served)
    with served.client() as client:
        with pytest.raises(BadRequestError, match="ship it first"):
            client.fulfillment.get_package_shipping_document(package.id, document_type="SHIPPING_LABEL")
        client.fulfillment.ship_package(package.id)
        doc = client.fulfillment.get_package_shipping_document(package.id, document_type="SHIPPING_LABEL")
    assert doc.doc_url.startswith(served.url + "/sandbox/documents/")
    assert doc.tracking_number == served.state.packages[package.id].tracking_number
    pdf = httpx.get(doc.doc_url)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.") and pdf.content.rstrip().endswith(b"%%EOF")
    assert doc.tracking_number.encode() in pdf.content
    startxref = int(pdf.content.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf.content[startxref:].startswith(b"xref")
    assert httpx.get(doc.doc_url.replace("token=", "token=0")).status_code == 403
    served.clock.advance(86400 + 1)
    assert httpx.get(doc.doc_url).status_code == 403


def test_zpl_and_bad_document_options(sandbox: Sandbox) -> None:
    package = sandbox.state.find_package(lambda p: p.status == "PROCESSING", sandbox.shop.id)
    with sandbox.client() as client:
        doc = client.fulfillment.get_package_shipping_document(
            package.id, document_type="PACKING_SLIP", document_format="ZPL", document_size="A6"
        )
        assert doc.doc_url.split("?")[0].endswith("PACKING_SLIP.zpl")
        with pytest.raises(ValidationError, match="document_format"):  # TikTok lists PDF and ZPL only
            client.fulfillment.get_package_shipping_document(
                package.id,
                document_type="PACKING_SLIP",
                document_format="DOCX",  # type: ignore[arg-type]
            )
    with httpx.Client(transport=sandbox.transport()) as http:
        assert http.get(doc.doc_url).content.startswith(b"^XA")


def test_orders_of_another_shop_are_not_found(sandbox: Sandbox) -> None:
    other = next(o for o in sandbox.state.orders.values() if o.shop_id != sandbox.shop.id)
    with sandbox.client() as client:
        with pytest.raises(NotFoundError):
            client.order.get_order_detail(ids=[other.id])
        detail = client.order.get_order_detail(ids=[other.id], shop_cipher=sandbox.shops[1].cipher)
    assert detail.orders[0].id == other.id


def test_price_detail_adds_up(sandbox: Sandbox) -> None:
    order = next(
        o for o in sandbox.state.orders.values() if o.shop_id == sandbox.shop.id and len(o.items) > 1
    )
    with sandbox.client() as client:
        price = client.order.get_price_detail(order.id)
        detail = client.order.get_order_detail_v202309(ids=[order.id]).orders[0]
    assert len(price.line_items) == len(order.items)
    assert float(price.total) == pytest.approx(float(price.subtotal) + float(price.shipping_sale_price))
    assert price.total == detail.payment.total_amount


def test_products_catalogue_and_creation(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        categories = client.product.get_categories().categories
        leaf = next(c for c in categories if c.is_leaf)
        parent = next(c for c in categories if not c.is_leaf)
        attributes = client.product.get_attributes(leaf.id).attributes
        assert {a.name for a in attributes} >= {"Colour", "Size"}
        with pytest.raises(BadRequestError):
            client.product.get_attributes(parent.id)
        brands = list(client.product.get_brands(page_size=7).auto_paging_iter())
        assert len(brands) == len(sandbox.state.brands) == len({b.id for b in brands})
        authorized = client.product.get_brands(page_size=100, is_authorized=True)
        assert authorized.total_count == sum(b.authorized for b in sandbox.state.brands)
        with pytest.raises(TypeError, match="description"):  # required arguments of the method
            client.product.create_product(title="No description", category_id=leaf.id)  # type: ignore[call-arg]
        listing = {
            "description": "<p>Light.</p>",
            "main_images": [{"uri": "tos/linen"}],
            "package_weight": {"value": "0.4", "unit": "KILOGRAM"},
            "skus": [
                {
                    "seller_sku": "LIN-S",
                    "price": {"amount": "39.5", "currency": "GBP"},
                    "inventory": [{"warehouse_id": "7000000000000000001", "quantity": 3}],
                }
            ],
        }
        with pytest.raises(BadRequestError, match="leaf"):
            client.product.create_product(
                title="Draft", category_id=parent.id, save_mode="AS_DRAFT", **listing
            )
        created = client.product.create_product(
            title="Linen dress",
            category_id=leaf.id,
            product_attributes=[{"id": attributes[0].id, "values": [{"id": attributes[0].values[0].id}]}],
            **listing,
        )
        product = client.product.get_product(created.product_id)
    assert product.title == "Linen dress" and product.status == "PENDING"
    assert product.skus[0].id == created.skus[0].id and product.skus[0].price.sale_price == "39.50"
    assert product.category_chains[-1].id == leaf.id and product.category_chains[0].parent_id == "0"


def test_set_order_status_moves_packages(sandbox: Sandbox) -> None:
    unpaid = next(o for o in sandbox.state.orders.values() if o.status == "UNPAID")
    sandbox.state.set_order_status(unpaid.id, "AWAITING_SHIPMENT")
    assert [sandbox.state.packages[p].status for p in unpaid.package_ids] == ["TO_FULFILL"]
    sandbox.state.set_order_status(unpaid.id, "DELIVERED")
    assert [sandbox.state.packages[p].status for p in unpaid.package_ids] == ["COMPLETED"]
    with pytest.raises(ValueError):
        sandbox.state.set_order_status(unpaid.id, "LOST")
    fresh = sandbox.state.create_order()
    assert fresh.status == "AWAITING_SHIPMENT" and fresh.create_time == START


def test_concurrent_ships_of_one_package_succeed_once(served: Sandbox) -> None:
    import threading

    package = _to_fulfill(served)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def ship() -> None:
        with served.client(max_retries=0) as client:
            barrier.wait()
            try:
                client.fulfillment.ship_package(package.id)
                results.append("shipped")
            except BadRequestError as exc:
                results.append(str(exc.code))

    threads = [threading.Thread(target=ship) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == ["36009030"] * 7 + ["shipped"]
    assert [e["type"] for e in served.webhooks.events] == [4, 1]  # PACKAGE_UPDATE, ORDER_STATUS_CHANGE
