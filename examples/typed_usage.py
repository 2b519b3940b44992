"""Both clients used as a type checker sees them: `make typecheck` runs mypy --strict and pyright
(strict) on this file, and `tests/test_api_surface.py` runs it against the sandbox.

A sync call returns `<Method>Page` (walked with `auto_paging_iter()`); an awaited call returns
`Async<Method>Page` (walked with `async for ... in auto_paging_aiter()`). Each offers only what it
can run.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tiktokshop import AsyncTikTokShop, TikTokShop, ValidationError
from tiktokshop.sandbox import Sandbox
from tiktokshop.types.order import AsyncGetOrderListPage, GetOrderListPage, GetOrderListResponseOrder


def awaiting_shipment(client: TikTokShop) -> list[str]:
    """Every order awaiting shipment, page after page (sync)."""
    page: GetOrderListPage = client.order.get_order_list(page_size=20, order_status="AWAITING_SHIPMENT")
    orders: list[GetOrderListResponseOrder] = list(page.auto_paging_iter())
    return [order.id or "" for order in orders]


async def awaiting_shipment_async(client: AsyncTikTokShop) -> list[str]:
    """The same with the async client."""
    page: AsyncGetOrderListPage = await client.order.get_order_list(
        page_size=20, order_status="AWAITING_SHIPMENT"
    )
    return [order.id or "" async for order in page.auto_paging_aiter()]


def misspelled(client: TikTokShop) -> str:
    """A misspelled argument at run time (a type checker flags it first: see tests/static/)."""
    typo: dict[str, Any] = {"page_sise": 20}  # built at run time, so only the run time sees it
    try:
        client.order.get_order_list(**typo)
    except ValidationError as exc:
        return str(exc)
    return ""


def main() -> tuple[list[str], list[str], str]:
    """Run both against a local sandbox; returns what each saw."""
    with Sandbox(orders=45, seed=3) as sandbox, sandbox.client() as sync_client:
        sync_ids = awaiting_shipment(sync_client)

        async def run() -> list[str]:
            async with AsyncTikTokShop(
                app_key=sandbox.app_key,
                app_secret=sandbox.app_secret,
                shop_cipher=sandbox.shop_cipher,
                access_token=sandbox.access_token,
                refresh_token=sandbox.refresh_token,
                base_url=sandbox.url,
                auth_base_url=sandbox.url,
                clock=sandbox.clock.now,
            ) as client:
                return await awaiting_shipment_async(client)

        return sync_ids, asyncio.run(run()), misspelled(sync_client)


if __name__ == "__main__":
    sync_ids, async_ids, error = main()
    print(f"{len(sync_ids)} orders (sync), {len(async_ids)} (async); a typo says: {error}")
