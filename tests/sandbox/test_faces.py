"""The faces of the sandbox: HTTP server and in-process transport agree; pytest plugin; command line."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tiktokshop import TikTokShop
from tiktokshop.sandbox import Sandbox
from tiktokshop.sandbox._app import load_operations
from tiktokshop.sandbox._generic import sample


def _answers(client: TikTokShop, order_id: str, product_id: str) -> list[Any]:
    out: list[Any] = []
    page = client.order.get_order_list(page_size=7, order_status="DELIVERED", sort_field="update_time")
    out.append([p.model_dump() for p in page.iter_pages()])
    out.append(client.order.get_order_detail(ids=[order_id]).model_dump())
    out.append(client.order.get_price_detail(order_id).model_dump())
    out.append(client.product.get_product(product_id).model_dump())
    out.append(client.product.get_categories().model_dump())
    out.append(client.authorization.get_authorized_shops().model_dump())
    for call in (
        lambda: client.order.get_order_detail(ids=["1"]),
        lambda: client.product.get_attributes("600001"),
        lambda: client.order.get_order_list(page_size=5, page_token="nonsense"),
    ):
        try:
            call()
        except Exception as exc:
            out.append((type(exc).__name__, getattr(exc, "code", None), getattr(exc, "status_code", None)))
    return out


def test_http_and_in_process_give_the_same_answers(served: Sandbox) -> None:
    order_id = next(iter(served.state.orders))
    product_id = next(p.id for p in served.state.products.values() if p.shop_id == served.shop.id)
    with served.client() as over_http, served.client(in_process=True) as in_process:
        assert over_http._config.base_url.startswith("http://127.0.0.1:")
        a = _answers(over_http, order_id, product_id)
        b = _answers(in_process, order_id, product_id)
    assert a == b
    assert len(a) == 9 and a[-1][0] == "BadRequestError"
    assert {r.status for r in served.requests} >= {200, 400, 404}


def test_plugin_fixtures(tiktokshop_sandbox: Sandbox, tiktokshop_client: TikTokShop) -> None:
    assert tiktokshop_sandbox.running and tiktokshop_sandbox.url.startswith("http://127.0.0.1:")
    shops = tiktokshop_client.authorization.get_authorized_shops().shops
    assert shops[0].cipher == tiktokshop_sandbox.shop_cipher
    assert tiktokshop_client.order.get_order_list(page_size=1).total_count


def test_stop_closes_kept_alive_connections() -> None:
    sandbox = Sandbox(orders=5).start()
    with sandbox.client(max_retries=0) as client:
        client.authorization.get_authorized_shops()
        sandbox.stop()
        with pytest.raises(Exception):
            client.authorization.get_authorized_shops()


def test_command_line_prints_url_and_credentials() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tiktokshop.sandbox", "--port", "0", "--orders", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(12)]
        url = lines[0].split("serving at ")[1].split()[0]
        env = dict(line.strip().split("=", 1) for line in lines if "=" in line and line.startswith("  "))
        client = TikTokShop(
            app_key=env["TIKTOK_APP_KEY"],
            app_secret=env["TIKTOK_APP_SECRET"],
            access_token=env["TIKTOK_ACCESS_TOKEN"],
            shop_cipher=env["TIKTOK_SHOP_CIPHER"],
            base_url=url,
        )
        with client:
            assert client.order.get_order_list(page_size=3).total_count
        assert httpx.get(url + "/sandbox").json()["orders"] == 50
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_importing_tiktokshop_does_not_import_the_sandbox() -> None:
    code = "import sys, json, tiktokshop; print(json.dumps([m for m in sys.modules if 'sandbox' in m]))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == []


def test_generic_data_fits_every_response_model() -> None:
    for op in load_operations():
        data = sample(op.response)
        op.response.model_validate(data)
        assert json.loads(json.dumps(data)) == data
        if op.pagination is not None:
            assert data.get(op.pagination.items)


def test_every_stateful_handler_names_an_operation_of_the_spec() -> None:
    from tiktokshop.sandbox._handlers import HANDLERS

    ids = {op.id for op in load_operations()}
    assert set(HANDLERS) <= ids
    assert len(HANDLERS) >= 15


def test_clock() -> None:
    from tiktokshop.sandbox import Clock

    frozen = Clock(1000, ticking=False)
    assert frozen.now() == 1000 and frozen() == 1000
    assert frozen.advance(5) == 1005
    frozen.set(50)
    assert frozen.now() == 50
    with pytest.raises(ValueError):
        frozen.advance(-1)
    ticking = Clock(1000)
    first = ticking.now()
    assert 1000 <= first < 1001 and ticking.now() >= first


def test_generic_values_follow_types_names_and_bounds() -> None:
    import datetime
    from typing import Annotated, Literal

    from pydantic import BaseModel, Field

    class Leaf(BaseModel):
        kind: Literal["B", "A"]
        size: Annotated[int, Field(ge=5, le=9)]
        ratio: Annotated[float, Field(gt=2.0)]

    class Tree(BaseModel):
        id: str
        next_page_token: str | None = None
        create_time: int
        has_more: bool
        when: datetime.datetime
        code: Annotated[str, Field(min_length=12)]
        leaves: list[Leaf]
        child: Tree | None = None

    data = sample(Tree)
    Tree.model_validate(data)
    assert data["id"].isdigit() and data["next_page_token"] == "" and data["has_more"] is False
    assert data["create_time"] > 1_600_000_000 and len(data["code"]) >= 12
    assert data["leaves"] == [{"kind": "B", "size": 5, "ratio": 2.5}]
    depth, node = 0, data
    while node.get("child"):
        depth, node = depth + 1, node["child"]
    assert 1 <= depth <= 10  # a self-referencing model ends


@pytest.mark.tiktokshop_sandbox(orders=12, seed=9)
def test_plugin_marker_sets_sandbox_arguments(
    tiktokshop_sandbox: Sandbox, tiktokshop_client: TikTokShop
) -> None:
    assert len(tiktokshop_sandbox.state.orders) == 12
    assert tiktokshop_sandbox.app_key == Sandbox(orders=0, seed=9).app_key
    assert tiktokshop_client.order.get_order_list(page_size=50).total_count == 12
