"""An in-process stand-in for TikTok's hosts, for unit tests (no socket, no internet).

It checks every request the way the reference says TikTok does, with its own implementation of
the signature (not the client's): app_key, timestamp from 5 minutes before to 30 seconds after its clock, ``sign`` over the raw query
and raw body, the access token header, and ``shop_cipher`` present exactly where the project's own
generated operation tables (``tiktokshop.resources.<domain>.OPERATIONS``) say the operation takes
it. A failed check answers with TikTok's envelope and a code.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx

from tiktokshop import TikTokShop
from tiktokshop.resources import DOMAINS

APP_KEY = "test-app-key"
APP_SECRET = "test-app-secret-5f2b"
ACCESS_TOKEN = "ROW_access_token_AAAA1111"
REFRESH_TOKEN = "ROW_refresh_token_BBBB2222"
SHOP_CIPHER = "ROW_cipher_CCCC3333"
API = "https://api.test"
AUTH = "https://auth.test"


def shop_cipher_rule(op: Any) -> bool | str:
    """``True`` (required), ``False`` (not accepted) or ``"optional"``, from a generated operation."""
    rule = getattr(op, "shop_cipher", None)
    if rule is None:
        return bool(op.shop_scoped)
    if isinstance(rule, str):
        return "optional" if rule == "optional" else rule.lower() in ("true", "required", "yes")
    return bool(rule)


def project_operations() -> list[Any]:
    """Every operation of the project's generated tables, each domain's ``OPERATIONS``."""
    return [
        op
        for domain in DOMAINS
        for op in importlib.import_module(f"tiktokshop.resources.{domain}").OPERATIONS
    ]


def _template_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z0-9_]+\\\}", r"[^/]+", re.escape(path)) + "$")


def independent_sign(secret: str, path: str, pairs: list[tuple[str, str]], body: str) -> str:
    """The reference's algorithm, written out separately from the client's."""
    keys = sorted(k for k, _ in pairs if k not in ("sign", "access_token"))
    values = dict(pairs)
    message = secret + path + "".join(k + values[k] for k in keys)
    if body and body != "{}":
        message += body
    message += secret
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: httpx.Headers
    body: str
    content: bytes = b""
    signature_ok: bool | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Handler = Callable[[Seen], Any]


@dataclass
class FakeTikTok:
    """Routes by (method, path template); a route returns ``data``, or an ``httpx.Response``."""

    access_token: str = ACCESS_TOKEN
    refresh_token: str = REFRESH_TOKEN
    now: Callable[[], float] = time.time
    seen: list[Seen] = field(default_factory=list)
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    token_calls: list[Seen] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self._shop_scoped: list[tuple[str, re.Pattern[str], bool | str]] = [
            (op.method, _template_regex(op.path), shop_cipher_rule(op)) for op in project_operations()
        ]

    def on(self, method: str, path: str, handler: Handler | Any) -> None:
        self.routes[(method, path)] = handler if callable(handler) else (lambda _seen, v=handler: v)

    def envelope(
        self,
        data: Any,
        code: int = 0,
        message: str = "Success",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return httpx.Response(
            status,
            headers=headers,
            json={"code": code, "message": message, "data": data, "request_id": f"req-{next(self._ids)}"},
        )

    # -- the transport --------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        raw_query = request.url.query.decode()
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        seen = Seen(
            method=request.method,
            path=unquote(request.url.raw_path.decode().split("?")[0]),
            raw_path=request.url.raw_path.decode().split("?")[0],
            query=dict(pairs),
            headers=request.headers,
            body="",
            content=request.read(),
        )
        multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
        if not multipart:
            seen.body = seen.content.decode("utf-8")
        if request.url.host == "auth.test":
            self.token_calls.append(seen)
            return self._token(seen)
        self.seen.append(seen)
        q = seen.query
        if q.get("app_key") != APP_KEY:
            return self.envelope(None, 36009004, "invalid app_key")
        skew = int(q.get("timestamp", "0")) - self.now()
        if not -300 <= skew <= 30:  # TikTok: from 5 minutes before to 30 seconds after its clock
            return self.envelope(None, 36009004, "timestamp out of range")
        expected = independent_sign(APP_SECRET, seen.raw_path, pairs, seen.body)  # multipart: not signed
        seen.signature_ok = hmac.compare_digest(expected, q.get("sign", ""))
        if not seen.signature_ok:
            return self.envelope(None, 106001, "invalid signature")
        token = request.headers.get("x-tts-access-token")
        if token != self.access_token:
            return self.envelope(None, 105001 if token else 36009004, "invalid access token")
        for method, pattern, scoped in self._shop_scoped:
            if method == seen.method and pattern.match(seen.raw_path):
                if scoped == "optional":
                    break
                if scoped and "shop_cipher" not in q:
                    return self.envelope(None, 106013, "shop_cipher is required")
                if not scoped and "shop_cipher" in q:
                    return self.envelope(None, 36009004, "shop_cipher is not accepted here")
                break
        for (method, template), handler in self.routes.items():
            if method == seen.method and _template_regex(template).match(seen.raw_path):
                result = handler(seen)
                return result if isinstance(result, httpx.Response) else self.envelope(result)
        return self.envelope(None, 40404, "no such route in the fake", status=404)

    def _token(self, seen: Seen) -> httpx.Response:
        q = seen.query
        if q.get("app_key") != APP_KEY or q.get("app_secret") != APP_SECRET:
            return self.envelope(None, 36004004, "invalid app credentials")
        if seen.path == "/api/v2/token/get":
            if q.get("grant_type") != "authorized_code" or q.get("auth_code") != "good-code":
                return self.envelope(None, 36004013, "invalid auth code")
        elif seen.path == "/api/v2/token/refresh":
            if q.get("grant_type") != "refresh_token" or q.get("refresh_token") != self.refresh_token:
                return self.envelope(None, 36004014, "invalid refresh token")
        else:
            return self.envelope(None, 40404, "no such token route", status=404)
        n = len(self.token_calls)
        self.access_token = f"ROW_access_token_new{n}"
        self.refresh_token = f"ROW_refresh_token_new{n}"
        now = int(self.now())
        return self.envelope(
            {
                "access_token": self.access_token,
                "access_token_expire_in": now + 7 * 86400,
                "refresh_token": self.refresh_token,
                "refresh_token_expire_in": now + 30 * 86400,
                "open_id": "open-1",
                "seller_name": "Test Seller",
                "seller_base_region": "GB",
                "user_type": 0,
                "granted_scopes": ["seller.order.info"],
            }
        )

    def client(self, **overrides: Any) -> TikTokShop:
        kwargs: dict[str, Any] = {
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "service_id": "7000000000000000001",
            "shop_cipher": SHOP_CIPHER,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "base_url": API,
            "auth_base_url": AUTH,
            "http_client": httpx.Client(transport=httpx.MockTransport(self)),
            "sleep": lambda _s: None,
        }
        kwargs.update(overrides)
        return TikTokShop(**kwargs)
