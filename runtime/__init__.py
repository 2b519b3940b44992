"""tiktokshop: a typed client for the TikTok Shop Open API.

    from tiktokshop import TikTokShop
    client = TikTokShop(app_key=..., app_secret=..., access_token=..., shop_cipher=...)
    page = client.order.get_order_list(page_size=50, order_status="AWAITING_SHIPMENT")

Importing this package loads the core only; each API domain loads on first use.
"""

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
from ._version import __version__

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
