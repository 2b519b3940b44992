"""Building a ``TikTokShop`` client from the command line's settings and stored sellers."""

from __future__ import annotations

from typing import Any

import httpx

from tiktokshop import ConfigurationError, TikTokShop

from ._config import SellerBook, Settings

__all__ = ["app_kwargs", "make_client"]


def app_kwargs(settings: Settings) -> dict[str, Any]:
    """The app's settings as ``TikTokShop`` arguments. Raises ``ConfigurationError`` without key or secret."""
    kwargs: dict[str, Any] = {
        "app_key": settings.require("app_key"),
        "app_secret": settings.require("app_secret"),
    }
    for name in ("service_id", "base_url", "auth_base_url"):
        if settings.get(name):
            kwargs[name] = settings.get(name)
    if settings.get("authorize_url"):
        kwargs["authorize_url"] = kwargs["us_authorize_url"] = settings.get("authorize_url")
    return kwargs


def make_client(settings: Settings, *, http_client: httpx.Client | None = None) -> TikTokShop:
    """A client for the chosen seller's chosen shop (``--seller``/``--shop``, or the only/first one),
    with its tokens in the token store; or for ``TIKTOK_ACCESS_TOKEN`` and ``TIKTOK_SHOP_CIPHER``
    when those are set. Raises ``ConfigurationError`` naming what is missing."""
    kwargs = app_kwargs(settings)
    if http_client is not None:
        kwargs["http_client"] = http_client
    if settings.get("access_token"):
        kwargs["access_token"] = settings.get("access_token")
        kwargs["refresh_token"] = settings.get("refresh_token")
        kwargs["shop_cipher"] = settings.get("shop_cipher")
        return TikTokShop(**kwargs)
    book = SellerBook(settings.token_file)
    record = book.pick(settings.get("seller"))
    wanted = settings.get("shop")
    shop = None
    if wanted:
        shop = record.shop(wanted) or next((s for s in record.shops if s.name == wanted), None)
        if shop is None:
            names = ", ".join(f"{s.name} ({s.id})" for s in record.shops) or "none"
            raise ConfigurationError(f"seller {record.name} has no shop {wanted!r}; its shops: {names}")
    elif record.shops:
        shop = record.shops[0]
    if shop is not None:
        kwargs["shop_cipher"], kwargs["shop_id"] = shop.cipher, shop.id
    return TikTokShop(**kwargs, seller=record.seller, token_store=book.store)
