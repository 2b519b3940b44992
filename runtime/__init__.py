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
        RequestTimeoutError,
        ServerError,
        TikTokShopError,
        TransportError,
        ValidationError,
    )
    from ._files import FileInput
    from ._models import Page, RequestModel, ResponseModel, Timestamp
    from ._options import NOT_GIVEN, NotGiven, RequestEvent, ResponseEvent
    from ._rate_limit import RateLimiter
    from ._response import RawResponse
    from ._signing import sign_request
    from ._token_store import JsonFileTokenStore, MemoryTokenStore, TokenStore, TokenStoreError
    from ._tokens import AccessToken, TokenState

# Each public name and the module it lives in, imported when the name is first used (PEP 562):
# `import tiktokshop` stays cheap, `from tiktokshop import TikTokShop` loads the client's core.
_EXPORTS = {
    "NOT_GIVEN": "._options",
    "NotGiven": "._options",
    "RawResponse": "._response",
    "RequestEvent": "._options",
    "ResponseEvent": "._options",
    "AccessToken": "._tokens",
    "ApiError": "._errors",
    "AsyncTikTokShop": "._client",
    "AuthenticationError": "._errors",
    "AuthorizationLink": "._auth",
    "BadRequestError": "._errors",
    "ConfigurationError": "._errors",
    "FileInput": "._files",
    "JsonFileTokenStore": "._token_store",
    "MalformedResponseError": "._errors",
    "MemoryTokenStore": "._token_store",
    "NotFoundError": "._errors",
    "Page": "._models",
    "PermissionDeniedError": "._errors",
    "RateLimitError": "._errors",
    "RateLimiter": "._rate_limit",
    "RequestModel": "._models",
    "RequestTimeoutError": "._errors",
    "ResponseModel": "._models",
    "ServerError": "._errors",
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
    "BadRequestError",
    "ConfigurationError",
    "FileInput",
    "JsonFileTokenStore",
    "MalformedResponseError",
    "MemoryTokenStore",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimiter",
    "RawResponse",
    "RequestEvent",
    "RequestModel",
    "RequestTimeoutError",
    "ResponseEvent",
    "ResponseModel",
    "ServerError",
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
