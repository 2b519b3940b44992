"""Misuse that type checkers must refuse. Not run: `make typecheck` checks it with mypy --strict
and pyright, both of which fail on an ignore comment that no longer silences an error, so each
line below proves that the error is still reported."""

# pyright: reportUnnecessaryTypeIgnoreComment=error

from __future__ import annotations

from tiktokshop import AsyncTikTokShop, TikTokShop


async def misuse(client: AsyncTikTokShop, sync_client: TikTokShop) -> None:
    page = await client.order.get_order_list(page_size=10)
    page.auto_paging_iter()  # type: ignore[attr-defined]  # an async page has no sync walk
    page.next_page()  # type: ignore[attr-defined]
    sync_page = sync_client.order.get_order_list(page_size=10)
    sync_page.auto_paging_aiter()  # type: ignore[attr-defined]  # and a sync page no async one
    sync_client.order.get_order_list(page_sise=10)  # type: ignore[call-arg]  # misspelled argument
    sync_client.order.get_order_list(page_size="10")  # type: ignore[arg-type]
    client.order.get_order_list(page_size=10, order_status="SHIPPED")  # type: ignore[arg-type, unused-coroutine]
