"""The exception hierarchy. Every error the client raises derives from ``TikTokShopError``.

No message built here ever holds a secret: no app secret, token, ``sign`` or signed URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._response import RawResponse

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitWaitError",
    "ReauthorizationRequired",
    "RequestTimeoutError",
    "ServerError",
    "TikTokShopError",
    "TransportError",
    "ValidationError",
]


class TikTokShopError(Exception):
    """Root of every error raised by this package."""


class ValidationError(TikTokShopError, ValueError):
    """An argument is missing, unknown or of the wrong type. Nothing was sent.

    ``field`` names the argument (dotted for nested body fields, e.g. ``pickup_slot.start_time``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfigurationError(TikTokShopError):
    """The client lacks something a call needs (credentials, an access token, a shop cipher)."""


class ApiError(TikTokShopError):
    """TikTok answered, and the answer is an error (``code != 0``, or an HTTP error status).

    ``code`` is TikTok's error code (``None`` when the answer had no envelope), ``request_id`` the id
    TikTok support asks for, ``status_code`` the HTTP status, ``retry_after`` the seconds the
    answer asked to wait (its ``Retry-After`` header), when it said. ``response`` is the answer
    as it came (``RawResponse``: status, masked headers, body; never the signed URL).
    """

    retry_after: float | None = None
    response: RawResponse[Any] | None = None

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str | None = None,
        status_code: int | None = None,
        operation: str | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.request_id = request_id
        self.status_code = status_code
        self.operation = operation
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        code = f"code {self.code}" if self.code is not None else "no code"
        return f"{where}{self.message} ({code}, HTTP {self.status_code}, request_id {self.request_id or '-'})"

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_api_error,
            (type(self), self.message, self.code, self.request_id, self.status_code, self.operation),
        )


def _rebuild_api_error(
    cls: type[ApiError],
    message: str,
    code: int | None,
    request_id: str | None,
    status_code: int | None,
    operation: str | None,
) -> ApiError:
    return cls(message, code=code, request_id=request_id, status_code=status_code, operation=operation)


class AuthenticationError(ApiError):
    """The access token, the app key or the signature was refused."""


class ReauthorizationRequired(AuthenticationError):
    """The seller must authorize the app again: the refresh token expired, was revoked or was
    replaced, so no call can be made for this seller until a new authorization code is exchanged.

    ``seller`` is the seller (TikTok's ``open_id``, or the store key the client was given). ``code``
    and ``status_code`` are TikTok's when TikTok said so, ``None`` when the client knew it in advance.
    """

    def __init__(
        self,
        message: str,
        *,
        seller: str | None = None,
        code: int | None = None,
        request_id: str | None = None,
        status_code: int | None = None,
        operation: str | None = None,
    ) -> None:
        self.seller = seller
        super().__init__(
            message, code=code, request_id=request_id, status_code=status_code, operation=operation
        )

    def _describe(self) -> str:
        return f"seller {self.seller or '(unnamed)'} must authorize the app again: {super()._describe()}"

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_reauthorization,
            (self.message, self.seller, self.code, self.request_id, self.status_code, self.operation),
        )


def _rebuild_reauthorization(
    message: str,
    seller: str | None,
    code: int | None,
    request_id: str | None,
    status_code: int | None,
    operation: str | None,
) -> ReauthorizationRequired:
    return ReauthorizationRequired(
        message,
        seller=seller,
        code=code,
        request_id=request_id,
        status_code=status_code,
        operation=operation,
    )


class PermissionDeniedError(ApiError):
    """The app or the seller lacks the permission or scope the call needs."""


class NotFoundError(ApiError):
    """The thing asked for does not exist (or is not visible to this shop)."""


class BadRequestError(ApiError):
    """TikTok refused the arguments (a value out of range, a missing field it checks, a bad state)."""


class RateLimitError(ApiError):
    """Too many requests: TikTok's rate limit was hit. ``retry_after`` is in seconds, when known."""


class ServerError(ApiError):
    """TikTok failed on its side (HTTP 5xx or an internal-error code)."""


class TransportError(TikTokShopError):
    """The request did not get an answer: connection refused or dropped, DNS failure, TLS error.

    ``nothing_sent`` is true when the failure proves the request never reached TikTok (the
    connection could not be opened), so even a write may be repeated safely.
    """

    def __init__(self, message: str, *, nothing_sent: bool = False) -> None:
        super().__init__(message)
        self.nothing_sent = nothing_sent


class RequestTimeoutError(TransportError):
    """No answer came in time."""


class RateLimitWaitError(RequestTimeoutError):
    """The rate limiter had no free slot before the call's deadline (``total_timeout``): the call
    was not sent (``nothing_sent`` is true) and took no slot, so repeating it later is safe."""

    def __init__(self, message: str) -> None:
        super().__init__(message, nothing_sent=True)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self),))


class MalformedResponseError(TikTokShopError):
    """TikTok's answer is not the JSON envelope expected, or its data does not fit the response model.

    Carries the HTTP ``status_code``, the ``request_id`` when one could be read, and the first bytes
    of the body (``body_start``) to help diagnose a proxy or gateway page, and the ``response``
    (``RawResponse``) when an answer came. Secrets quoted by the answer are masked.
    """

    response: RawResponse[Any] | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body_start: str = "",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.body_start = body_start


#: Error classes by the name the spec's code table uses.
ERROR_CLASSES: dict[str, type[ApiError]] = {
    cls.__name__: cls
    for cls in (
        ApiError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        BadRequestError,
        RateLimitError,
        ServerError,
    )
}


def class_for_status(status_code: int) -> type[ApiError]:
    """The error class for an HTTP error status that came without a usable envelope."""
    if status_code == 401:
        return AuthenticationError
    if status_code == 403:
        return PermissionDeniedError
    if status_code == 404:
        return NotFoundError
    if status_code == 429:
        return RateLimitError
    if status_code >= 500:
        return ServerError
    if status_code >= 400:
        return BadRequestError
    return ApiError
