"""tiktokshop: a typed client for the TikTok Shop Open API.

    from tiktokshop import TikTokShop
    client = TikTokShop(app_key=..., app_secret=..., access_token=..., shop_cipher=...)
    page = client.order.get_order_list(page_size=50, order_status="AWAITING_SHIPMENT")

Importing this package loads the core only; each API domain loads on first use.
"""

from typing import TYPE_CHECKING

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
from ._version import __version__

if TYPE_CHECKING:
    from ._redis import RedisRateLimiter, RedisTokenStore

_REDIS = ("RedisRateLimiter", "RedisTokenStore")


def __getattr__(name: str) -> object:
    # The Redis classes load redis-py only when used (it is the optional extra tiktokshop[redis]).
    if name in _REDIS:
        from . import _redis

        return getattr(_redis, name)
    raise AttributeError(f"module 'tiktokshop' has no attribute {name!r}")


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
