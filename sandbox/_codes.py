"""The error answers of the sandbox: one table of TikTok codes, HTTP statuses and messages.

Codes the spec's error table knows (``tiktokshop.resources._api.ERROR_CODES``) are taken from it;
the others are the sandbox's own choice, named here once and used by name everywhere else.
"""

# pyright: standard

from __future__ import annotations

from dataclasses import dataclass

from tiktokshop.resources._api import ERROR_CODES

__all__ = ["ERRORS", "ErrorKind", "SandboxError"]


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """One kind of error answer: TikTok's ``code``, the HTTP status it comes with, a default message."""

    name: str
    code: int
    status: int
    message: str


def _spec(name: str, code: int, status: int, message: str) -> ErrorKind:
    """An error whose code must be in the spec's table (import fails loudly if the spec drops it)."""
    if code not in ERROR_CODES:
        raise RuntimeError(f"the spec's error table no longer has code {code} ({name})")
    return ErrorKind(name, code, status, message)


# -- codes from the spec (TikTok's published codes, same meanings) -------------------------------
INVALID_ACCESS_TOKEN = _spec("INVALID_ACCESS_TOKEN", 105001, 401, "The access token is invalid")
EXPIRED_ACCESS_TOKEN = _spec("EXPIRED_ACCESS_TOKEN", 105002, 401, "The access token has expired")
INVALID_SIGNATURE = _spec("INVALID_SIGNATURE", 106001, 401, "The signature does not match the request")
INTERNAL_ERROR = _spec("INTERNAL_ERROR", 36009003, 200, "Internal error, please try again")
RATE_LIMITED = _spec("RATE_LIMITED", 36009002, 200, "Too many requests, please slow down")
# 36009004: credentials and identifying parameters (TikTok answers all of these with one code).
MISSING_ACCESS_TOKEN = _spec(
    "MISSING_ACCESS_TOKEN", 36009004, 401, "Invalid credentials: the x-tts-access-token header is missing"
)
UNKNOWN_APP_KEY = _spec("UNKNOWN_APP_KEY", 36009004, 401, "Invalid credentials: invalid app_key")
TIMESTAMP_OUT_OF_RANGE = _spec(
    "TIMESTAMP_OUT_OF_RANGE",
    36009004,
    401,
    "Invalid timestamp: it must be from 5 minutes before to 30 seconds after the current time",
)
MISSING_SIGNATURE = _spec(
    "MISSING_SIGNATURE", 36009004, 401, "Missing credentials: the sign parameter is missing"
)
SHOP_CIPHER_NOT_ACCEPTED = _spec(
    "SHOP_CIPHER_NOT_ACCEPTED", 36009004, 400, "Unexpected identifier: this endpoint takes no shop_cipher"
)
INVALID_SHOP_CIPHER = _spec(
    "INVALID_SHOP_CIPHER", 36009004, 403, "Invalid identifier: the shop_cipher is unknown or not authorized"
)
SHOP_CIPHER_REQUIRED = _spec(
    "SHOP_CIPHER_REQUIRED", 106013, 400, "Missing identifier: this endpoint needs the shop_cipher parameter"
)
NO_SUCH_ROUTE = _spec("NO_SUCH_ROUTE", 36009009, 404, "Invalid path: no endpoint has this method and path")
WRONG_CONTENT_TYPE = _spec(
    "WRONG_CONTENT_TYPE", 36009022, 400, "Invalid request format: the body must be application/json"
)

# -- the sandbox's own codes (TikTok documents these per domain; one code each here) ---------------
INVALID_PARAMETER = ErrorKind("INVALID_PARAMETER", 36009001, 400, "Invalid parameter")
NOT_FOUND = ErrorKind("NOT_FOUND", 36009020, 404, "Not found")
INVALID_STATE = ErrorKind("INVALID_STATE", 36009030, 400, "The operation is not allowed in the current state")
INVALID_APP_CREDENTIALS = ErrorKind(
    "INVALID_APP_CREDENTIALS", 36004004, 401, "The app_key or app_secret is invalid"
)
INVALID_AUTH_CODE = ErrorKind("INVALID_AUTH_CODE", 36004013, 401, "The auth_code is invalid or already used")
EXPIRED_AUTH_CODE = ErrorKind("EXPIRED_AUTH_CODE", 36004015, 401, "The auth_code has expired")
INVALID_REFRESH_TOKEN = _spec(
    "INVALID_REFRESH_TOKEN", 36004014, 401, "The refresh_token is invalid, revoked or was replaced"
)
EXPIRED_REFRESH_TOKEN = _spec("EXPIRED_REFRESH_TOKEN", 36004016, 401, "The refresh_token has expired")
INVALID_GRANT_TYPE = ErrorKind(
    "INVALID_GRANT_TYPE", 36004017, 400, "The grant_type is wrong for this endpoint"
)
UNKNOWN_SERVICE_ID = ErrorKind("UNKNOWN_SERVICE_ID", 36004018, 400, "The service_id is unknown")

#: Every error kind by name.
ERRORS: dict[str, ErrorKind] = {
    kind.name: kind
    for kind in (
        INVALID_ACCESS_TOKEN,
        EXPIRED_ACCESS_TOKEN,
        INVALID_SIGNATURE,
        INTERNAL_ERROR,
        RATE_LIMITED,
        MISSING_ACCESS_TOKEN,
        UNKNOWN_APP_KEY,
        TIMESTAMP_OUT_OF_RANGE,
        MISSING_SIGNATURE,
        SHOP_CIPHER_REQUIRED,
        SHOP_CIPHER_NOT_ACCEPTED,
        INVALID_SHOP_CIPHER,
        INVALID_PARAMETER,
        NOT_FOUND,
        NO_SUCH_ROUTE,
        WRONG_CONTENT_TYPE,
        INVALID_STATE,
        INVALID_APP_CREDENTIALS,
        INVALID_AUTH_CODE,
        EXPIRED_AUTH_CODE,
        INVALID_REFRESH_TOKEN,
        EXPIRED_REFRESH_TOKEN,
        INVALID_GRANT_TYPE,
        UNKNOWN_SERVICE_ID,
    )
}


class SandboxError(Exception):
    """Raised while handling a request: the sandbox answers with ``kind``'s code and this message."""

    def __init__(
        self,
        kind: ErrorKind,
        detail: str | None = None,
        *,
        status: int | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.kind = kind
        self.message = f"{kind.message}: {detail}" if detail else kind.message
        self.status = status if status is not None else kind.status
        self.headers = headers
        super().__init__(self.message)
