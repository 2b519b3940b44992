"""tiktokshop: a typed client for the TikTok Shop Open API.

    from tiktokshop import TikTokShop
    client = TikTokShop(app_key=..., app_secret=..., access_token=..., shop_cipher=...)
    page = client.order.get_order_list(page_size=50, order_status="AWAITING_SHIPMENT")

Importing this package loads nothing yet: each name loads its part of the core on first use,
and each API domain loads on first use.
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import webhooks
    from ._auth import AuthorizationLink
    from ._client import AsyncTikTokShop, TikTokShop
    from ._errors import (
        ApiError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        MalformedResponseError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RateLimitWaitError,
        ReauthorizationRequired,
        RequestTimeoutError,
        ServerError,
        TikTokShopError,
        TransportError,
        ValidationError,
    )
    from ._files import FileInput
    from ._models import Page, RequestModel, ResponseModel, Timestamp
    from ._options import NOT_GIVEN, NotGiven, RequestEvent, ResponseEvent
    from ._rate_limit import Limiter, RateLimiter
    from ._redis import RedisRateLimiter, RedisTokenStore
    from ._response import RawResponse
    from ._signing import sign_request
    from ._token_store import (
        JsonFileTokenStore,
        MemoryTokenStore,
        SqliteTokenStore,
        TokenStore,
        TokenStoreError,
    )
    from ._tokens import AccessToken, AuthorizedShop, SellerRecord, TokenState

# Each public name and the module it lives in, imported when the name is first used (PEP 562):
# `import tiktokshop` stays cheap, `from tiktokshop import TikTokShop` loads the client's core;
# the Redis classes load redis-py (the optional extra tiktokshop[redis]) only when used.
_EXPORTS = {
    "AccessToken": "._tokens",
    "ApiError": "._errors",
    "AsyncTikTokShop": "._client",
    "AuthenticationError": "._errors",
    "AuthorizationLink": "._auth",
    "AuthorizedShop": "._tokens",
    "BadRequestError": "._errors",
    "ConfigurationError": "._errors",
    "FileInput": "._files",
    "JsonFileTokenStore": "._token_store",
    "Limiter": "._rate_limit",
    "MalformedResponseError": "._errors",
    "MemoryTokenStore": "._token_store",
    "NOT_GIVEN": "._options",
    "NotFoundError": "._errors",
    "NotGiven": "._options",
    "Page": "._models",
    "PermissionDeniedError": "._errors",
    "RateLimitError": "._errors",
    "RateLimitWaitError": "._errors",
    "RateLimiter": "._rate_limit",
    "RawResponse": "._response",
    "ReauthorizationRequired": "._errors",
    "RedisRateLimiter": "._redis",
    "RedisTokenStore": "._redis",
    "RequestEvent": "._options",
    "RequestModel": "._models",
    "RequestTimeoutError": "._errors",
    "ResponseEvent": "._options",
    "ResponseModel": "._models",
    "SellerRecord": "._tokens",
    "ServerError": "._errors",
    "SqliteTokenStore": "._token_store",
    "TikTokShop": "._client",
    "TikTokShopError": "._errors",
    "Timestamp": "._models",
    "TokenState": "._tokens",
    "TokenStore": "._token_store",
    "TokenStoreError": "._token_store",
    "TransportError": "._errors",
    "ValidationError": "._errors",
    "sign_request": "._signing",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (``tiktokshop.webhooks`` too)."""
    import importlib

    if name == "webhooks":
        return importlib.import_module(".webhooks", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tiktokshop' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "NOT_GIVEN",
    "AccessToken",
    "ApiError",
    "AsyncTikTokShop",
    "AuthenticationError",
    "AuthorizationLink",
    "AuthorizedShop",
    "BadRequestError",
    "ConfigurationError",
    "FileInput",
    "JsonFileTokenStore",
    "Limiter",
    "MalformedResponseError",
    "MemoryTokenStore",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitWaitError",
    "RateLimiter",
    "RawResponse",
    "ReauthorizationRequired",
    "RedisRateLimiter",
    "RedisTokenStore",
    "RequestEvent",
    "RequestModel",
    "RequestTimeoutError",
    "ResponseEvent",
    "ResponseModel",
    "SellerRecord",
    "ServerError",
    "SqliteTokenStore",
    "TikTokShop",
    "TikTokShopError",
    "Timestamp",
    "TokenState",
    "TokenStore",
    "TokenStoreError",
    "TransportError",
    "ValidationError",
    "__version__",
    "sign_request",
    "webhooks",
]
