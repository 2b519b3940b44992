"""End to end: every operation of the spec, called through the client over HTTP, answers validly."""

from __future__ import annotations

from typing import Any

from tests.sandbox._args import arguments
from tiktokshop import ResponseModel
from tiktokshop.sandbox import Sandbox
from tiktokshop.sandbox._app import load_operations


def _overrides(sandbox: Sandbox, op_id: str) -> dict[str, Any]:
    state = sandbox.state
    shop = sandbox.shop.id
    to_ship = state.find_package(lambda p: p.status == "TO_FULFILL", shop)
    shipped = state.find_package(lambda p: p.status == "PROCESSING", shop)
    order = state.orders[shipped.order_id]
    product = next(p for p in state.products.values() if p.shop_id == shop)
    leaf = next(c for c in state.categories.values() if c.is_leaf)
    values: dict[str, Any] = {
        "order_id": order.id,
        "ids": [order.id],
        "product_id": product.id,
        "category_id": leaf.id,
        "package_id": shipped.id,
    }
    if op_id in ("fulfillment.ship_package", "fulfillment.get_package_handover_time_slots"):
        values["package_id"] = to_ship.id
    if op_id == "product.create_product":
        # The sandbox checks a listing's content (a price is a positive decimal), not only its shape.
        values.update(
            title="Sandbox walk product",
            description="<p>made by the end-to-end walk</p>",
            category_id=leaf.id,
            main_images=[{"uri": "tos-sandbox/walk"}],
            skus=[
                {
                    "seller_sku": "WALK-1",
                    "price": {"amount": "9.99", "currency": "GBP"},
                    "inventory": [{"warehouse_id": "7000000000000000001", "quantity": 10}],
                }
            ],
        )
    return values


def test_every_operation_answers_with_a_valid_typed_response(served: Sandbox) -> None:
    with served.client(max_retries=0) as client:
        _walk(served, client)


def _walk(served: Sandbox, client: Any) -> None:
    operations = load_operations()
    assert len(operations) >= 20
    failures = []
    called = 0
    for op in operations:
        domain, name = op.id.split(".")
        method = getattr(getattr(client, domain), name)
        try:
            result = method(**arguments(op, _overrides(served, op.id)))
        except Exception as exc:
            failures.append(f"{op.id}: {exc!r}"[:300])
            continue
        called += 1
        assert isinstance(result, ResponseModel)
        assert isinstance(result, op.response)
        op.response.model_validate(result.model_dump(mode="json", by_alias=True))
        assert result.request_id
    assert not failures, "\n".join(failures)
    assert called == len(operations)
    logged = {r.op_id for r in served.requests}
    assert {op.id for op in operations} <= logged
