"""Who may call: app credentials, authorization codes, tokens, and the checks on every signed request.

The signature is recomputed here, independently of the client: lowercase hex HMAC-SHA256, keyed
with the app secret, of ``secret + path + k1v1k2v2... + body + secret`` (query keys sorted, ``sign``
and ``access_token`` left out; the body left out when empty, ``{}`` or multipart).
"""

# pyright: standard

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ._codes import (
    EXPIRED_ACCESS_TOKEN,
    EXPIRED_AUTH_CODE,
    EXPIRED_REFRESH_TOKEN,
    INVALID_ACCESS_TOKEN,
    INVALID_APP_CREDENTIALS,
    INVALID_AUTH_CODE,
    INVALID_GRANT_TYPE,
    INVALID_PARAMETER,
    INVALID_REFRESH_TOKEN,
    INVALID_SIGNATURE,
    MISSING_ACCESS_TOKEN,
    MISSING_SIGNATURE,
    TIMESTAMP_OUT_OF_RANGE,
    UNKNOWN_APP_KEY,
    SandboxError,
)

__all__ = [
    "ACCESS_TOKEN_TTL",
    "AUTH_CODE_TTL",
    "REFRESH_TOKEN_TTL",
    "TIMESTAMP_TOLERANCE",
    "Grant",
    "TokenStore",
    "check_signature",
    "check_timestamp",
    "compute_sign",
    "single_values",
]

AUTH_CODE_TTL = 30 * 60
ACCESS_TOKEN_TTL = 7 * 24 * 3600
REFRESH_TOKEN_TTL = 365 * 24 * 3600
TIMESTAMP_TOLERANCE = (5 * 60, 30)  # TikTok: from 5 minutes before to 30 seconds after its clock
_UNSIGNED = frozenset({"sign", "access_token"})
GRANTED_SCOPES = (
    "seller.authorization.info",
    "seller.order.info",
    "seller.product.basic",
    "seller.fulfillment.basic",
)


def compute_sign(app_secret: str, path: str, query: Mapping[str, str], body: str) -> str:
    """The ``sign`` TikTok expects for ``path`` (as sent), the decoded ``query`` and the body text."""
    message = [app_secret, path]
    for key in sorted(query):
        if key not in _UNSIGNED:
            message.append(key)
            message.append(query[key])
    if body and body != "{}":
        message.append(body)
    message.append(app_secret)
    return hmac.new(app_secret.encode(), "".join(message).encode(), hashlib.sha256).hexdigest()


def check_signature(app_secret: str, path: str, query: Mapping[str, str], body: str) -> None:
    """Raise ``SandboxError`` unless ``query['sign']`` is right (compared in constant time)."""
    given = query.get("sign")
    if not given:
        raise SandboxError(MISSING_SIGNATURE)
    expected = compute_sign(app_secret, path, query, body)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SandboxError(INVALID_SIGNATURE)


def check_timestamp(query: Mapping[str, str], now: float) -> None:
    """Raise ``SandboxError`` unless ``query['timestamp']`` is Unix seconds from 5 minutes before to
    30 seconds after ``now`` (TikTok's window)."""
    raw = query.get("timestamp", "")
    if not raw.isdigit():
        raise SandboxError(TIMESTAMP_OUT_OF_RANGE, "timestamp must be Unix seconds")
    before, after = TIMESTAMP_TOLERANCE
    if not -before <= int(raw) - now <= after:
        raise SandboxError(TIMESTAMP_OUT_OF_RANGE)


@dataclass
class Grant:
    """What a token or code stands for: one seller (``open_id``) and the shops it authorized."""

    open_id: str
    expires_at: float
    used: bool = False
    scopes: tuple[str, ...] = GRANTED_SCOPES


@dataclass
class _Issued:
    access_token: str
    access_expires: int
    refresh_token: str
    refresh_expires: int


@dataclass
class TokenStore:
    """Authorization codes, access tokens and refresh tokens, all timed by the sandbox clock."""

    app_key: str
    app_secret: str
    now: Callable[[], float]
    seller_name: str = "Sandbox Seller"
    seller_region: str = "GB"
    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_code(self, open_id: str) -> str:
        """A fresh one-time authorization code for ``open_id``, valid 30 minutes."""
        code = "SBXCODE_" + secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = Grant(open_id, self.now() + AUTH_CODE_TTL)
        return code

    def issue_tokens(self, open_id: str) -> dict[str, object]:
        """A new access and refresh token pair for ``open_id``, as the token endpoints answer it."""
        now = int(self.now())
        issued = _Issued(
            "SBXAT_" + secrets.token_urlsafe(32),
            now + ACCESS_TOKEN_TTL,
            "SBXRT_" + secrets.token_urlsafe(32),
            now + REFRESH_TOKEN_TTL,
        )
        with self._lock:
            self.access[issued.access_token] = Grant(open_id, issued.access_expires)
            self.refresh[issued.refresh_token] = Grant(open_id, issued.refresh_expires)
        return {
            "access_token": issued.access_token,
            "access_token_expire_in": issued.access_expires,
            "refresh_token": issued.refresh_token,
            "refresh_token_expire_in": issued.refresh_expires,
            "open_id": open_id,
            "seller_name": self.seller_name,
            "seller_base_region": self.seller_region,
            "user_type": 0,
            "granted_scopes": list(GRANTED_SCOPES),
        }

    def _check_app(self, query: Mapping[str, str]) -> None:
        key_ok = hmac.compare_digest(query.get("app_key", "").encode(), self.app_key.encode())
        secret_ok = hmac.compare_digest(query.get("app_secret", "").encode(), self.app_secret.encode())
        if not (key_ok and secret_ok):
            raise SandboxError(INVALID_APP_CREDENTIALS)

    def exchange(self, query: Mapping[str, str]) -> dict[str, object]:
        """``/api/v2/token/get``: trade a one-time code for tokens. Raises ``SandboxError``."""
        self._check_app(query)
        if query.get("grant_type") != "authorized_code":
            raise SandboxError(INVALID_GRANT_TYPE, "expected grant_type=authorized_code")
        code = query.get("auth_code", "")
        with self._lock:
            grant = self.codes.get(code)
            if grant is None or grant.used:
                raise SandboxError(INVALID_AUTH_CODE)
            if self.now() >= grant.expires_at:
                raise SandboxError(EXPIRED_AUTH_CODE)
            grant.used = True
        return self.issue_tokens(grant.open_id)

    def rotate(self, query: Mapping[str, str]) -> dict[str, object]:
        """``/api/v2/token/refresh``: new tokens; the old refresh token stops working.

        Raises ``SandboxError`` for wrong app credentials, grant type, or an unknown, replaced or
        expired refresh token.
        """
        self._check_app(query)
        if query.get("grant_type") != "refresh_token":
            raise SandboxError(INVALID_GRANT_TYPE, "expected grant_type=refresh_token")
        token = query.get("refresh_token", "")
        with self._lock:
            grant = self.refresh.get(token)
            if grant is None or grant.used:
                raise SandboxError(INVALID_REFRESH_TOKEN)
            if self.now() >= grant.expires_at:
                raise SandboxError(EXPIRED_REFRESH_TOKEN)
            grant.used = True
        return self.issue_tokens(grant.open_id)

    def expire_access(self, open_id: str | None = None) -> int:
        """Make every access token (of ``open_id``, or of everyone) expire now; returns how many."""
        now = self.now()
        with self._lock:
            grants = [g for g in self.access.values() if open_id is None or g.open_id == open_id]
            for grant in grants:
                grant.expires_at = min(grant.expires_at, now)
        return len(grants)

    def revoke(self, open_id: str) -> None:
        """Withdraw every token of ``open_id`` (the seller deauthorized the app)."""
        with self._lock:
            for table in (self.access, self.refresh):
                for token in [t for t, g in table.items() if g.open_id == open_id]:
                    del table[token]

    def check_access(self, token: str | None) -> Grant:
        """The grant of a valid access token.

        Raises ``SandboxError`` for a missing, unknown or expired token.
        """
        if not token:
            raise SandboxError(MISSING_ACCESS_TOKEN)
        with self._lock:
            grant = self.access.get(token)
        if grant is None:
            raise SandboxError(INVALID_ACCESS_TOKEN)
        if self.now() >= grant.expires_at:
            raise SandboxError(EXPIRED_ACCESS_TOKEN)
        return grant

    def check_app_key(self, query: Mapping[str, str]) -> None:
        """Raise ``SandboxError`` unless the query's ``app_key`` is this app's."""
        given = query.get("app_key")
        if not given:
            raise SandboxError(UNKNOWN_APP_KEY, "app_key is missing")
        if not hmac.compare_digest(given.encode(), self.app_key.encode()):
            raise SandboxError(UNKNOWN_APP_KEY)


def single_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The query as a dict. Raises ``SandboxError`` when a key is repeated (its signature is ambiguous)."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise SandboxError(INVALID_PARAMETER, f"query parameter {key!r} is repeated")
        out[key] = value
    return out
