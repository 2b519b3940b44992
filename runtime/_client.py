"""``TikTokShop`` and ``AsyncTikTokShop``: the clients users create (one set of options for both)."""

from __future__ import annotations

import copy
import dataclasses
import os
import time
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from types import TracebackType
from typing import Any

import httpx
from typing_extensions import Self

from ._auth import AsyncAuthResource, AuthResource
from ._base_client import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TOKEN_REFRESH_MARGIN,
    DEFAULT_TOTAL_TIMEOUT,
    ClientConfig,
    SellerSession,
)
from ._errors import ConfigurationError
from ._models import _to_unix_seconds  # pyright: ignore[reportPrivateUsage]
from ._options import (
    DEFAULT_MAX_RESPONSE_BYTES,
    NOT_GIVEN,
    NotGiven,
    RequestHook,
    ResponseHook,
    Timeout,
    check_client_text,
    check_max_bytes,
    check_timeout,
    positive_seconds,
    short_repr,
)
from ._rate_limit import Limiter
from ._response import async_to_raw_response, to_raw_response
from ._token_store import TokenStore
from ._tokens import AuthorizedShop, SellerRecord, TokenState
from .resources import AsyncResources, SyncResources
from .resources._api import API_BASE_URL, AUTH_BASE_URL, AUTHORIZE_URL, US_AUTHORIZE_URL

__all__ = ["AsyncTikTokShop", "TikTokShop"]

_ENV = {
    "app_key": "TIKTOK_APP_KEY",
    "app_secret": "TIKTOK_APP_SECRET",
    "service_id": "TIKTOK_SERVICE_ID",
    "shop_id": "TIKTOK_SHOP_ID",
    "shop_cipher": "TIKTOK_SHOP_CIPHER",
    "access_token": "TIKTOK_ACCESS_TOKEN",
    "refresh_token": "TIKTOK_REFRESH_TOKEN",
    "base_url": "TIKTOK_BASE_URL",
    "auth_base_url": "TIKTOK_AUTH_BASE_URL",
}


def _unix(name: str, value: int | datetime | None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, datetime, type(None))):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigurationError(
            f"{name}: expected an int Unix timestamp or an aware datetime, got {type(value).__name__}"
        )
    try:
        seconds: int | None = _to_unix_seconds(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}: {exc}") from None
    return seconds


def _url(name: str, value: str | None, default: str) -> str:
    url = (value or default).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{name} must start with http:// or https://, got {url!r}")
    return url


def _check_limits(
    max_retries: Any, total_timeout: Any, max_response_bytes: Any, on_request: Any, on_response: Any
) -> None:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be an int >= 0, got {short_repr(max_retries)}")
    if total_timeout is not None and not positive_seconds(total_timeout):
        raise ConfigurationError(
            f"total_timeout must be a positive number of seconds or None, got {short_repr(total_timeout)}"
        )
    check_max_bytes(max_response_bytes, ConfigurationError)
    for name, hook in (("on_request", on_request), ("on_response", on_response)):
        if hook is not None and not callable(hook):
            raise ConfigurationError(f"{name} must be a function taking one event, got {type(hook).__name__}")


class _ClientOptions:
    """The options and the helpers both clients share (see ``TikTokShop`` for what each means)."""

    _tokens: TokenState
    _config: ClientConfig
    _seller: SellerSession
    _store: TokenStore | None

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        service_id: str | None = None,
        seller: str | None = None,
        shop_id: str | None = None,
        shop_cipher: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        access_token_expire: int | datetime | None = None,
        refresh_token_expire: int | datetime | None = None,
        base_url: str | None = None,
        auth_base_url: str | None = None,
        authorize_url: str | None = None,
        us_authorize_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        token_refresh_margin: int = DEFAULT_TOKEN_REFRESH_MARGIN,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
        token_store: TokenStore | None = None,
        rate_limiter: Limiter | None = None,
        http_client: httpx.Client | httpx.AsyncClient | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        on_request: RequestHook | None = None,
        on_response: ResponseHook | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] | None = None,
        _session: SellerSession | None = None,
    ) -> None:
        for name, value in (("app_key", app_key), ("app_secret", app_secret)):
            if not isinstance(value, str) or not value:  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ConfigurationError(
                    f"{name} is required: a non-empty string from the app's page in "
                    "TikTok Shop Partner Center"
                )
            check_client_text(name, value, required=True)
        for name, setting in (("service_id", service_id), ("shop_id", shop_id), ("shop_cipher", shop_cipher)):
            check_client_text(name, setting)
        for name, setting in (("access_token", access_token), ("refresh_token", refresh_token)):
            check_client_text(name, setting, header=True)
        _check_limits(max_retries, total_timeout, max_response_bytes, on_request, on_response)
        if timeout is not None:
            check_timeout(timeout, ConfigurationError)
        if seller is not None and (not isinstance(seller, str) or not seller):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(
                f"seller must be the seller's open_id (a non-empty string), got {short_repr(seller)}"
            )
        self._settings: dict[str, Any] = {
            "app_key": app_key,
            "app_secret": app_secret,
            "service_id": service_id,
            "base_url": base_url,
            "auth_base_url": auth_base_url,
            "authorize_url": authorize_url,
            "us_authorize_url": us_authorize_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "token_refresh_margin": token_refresh_margin,
            "total_timeout": total_timeout,
            "rate_limiter": rate_limiter,
            "max_response_bytes": max_response_bytes,
            "on_request": on_request,
            "on_response": on_response,
            "clock": clock,
            "sleep": sleep,
        }
        config = ClientConfig(
            app_key=app_key,
            app_secret=app_secret,
            base_url=_url("base_url", base_url, API_BASE_URL),
            auth_base_url=_url("auth_base_url", auth_base_url, AUTH_BASE_URL),
            authorize_url=_url("authorize_url", authorize_url, AUTHORIZE_URL),
            us_authorize_url=_url("us_authorize_url", us_authorize_url, US_AUTHORIZE_URL),
            service_id=service_id,
            shop_id=shop_id,
            shop_cipher=shop_cipher,
            max_retries=max_retries,
            token_refresh_margin=token_refresh_margin,
            total_timeout=total_timeout,
            max_response_bytes=max_response_bytes,
            on_request=on_request,
            on_response=on_response,
        )
        tokens = TokenState(
            access_token=access_token,
            access_token_expire=_unix("access_token_expire", access_token_expire),
            refresh_token=refresh_token,
            refresh_token_expire=_unix("refresh_token_expire", refresh_token_expire),
        )
        options: dict[str, Any] = {
            "timeout": timeout,
            "http_client": http_client,
            "clock": clock,
            "token_store": token_store,
            "rate_limiter": rate_limiter,
            "session": _session,
            "seller": seller,
        }
        if sleep is not None:
            options["sleep"] = sleep
        self._start(config, tokens, options)

    def _start(self, config: ClientConfig, tokens: TokenState, options: dict[str, Any]) -> None:
        raise NotImplementedError

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Build a client from ``TIKTOK_APP_KEY``, ``TIKTOK_APP_SECRET``, ``TIKTOK_SERVICE_ID``,
        ``TIKTOK_SHOP_ID``, ``TIKTOK_SHOP_CIPHER``, ``TIKTOK_ACCESS_TOKEN``, ``TIKTOK_REFRESH_TOKEN``
        (and ``TIKTOK_BASE_URL``, ``TIKTOK_AUTH_BASE_URL``); keyword arguments override them.

        Raises ``ConfigurationError`` naming the variable when the key or secret is missing.
        """
        kwargs: dict[str, Any] = {}
        for name, var in _ENV.items():
            value = os.environ.get(var)
            if value:
                kwargs[name] = value
        kwargs.update(overrides)
        for name in ("app_key", "app_secret"):
            if not kwargs.get(name):
                raise ConfigurationError(f"{name} is missing: set the environment variable {_ENV[name]}")
        return cls(**kwargs)

    @property
    def seller_id(self) -> str:
        """The seller this client calls for: TikTok's ``open_id`` (``"default"`` when not known)."""
        return self._seller.seller

    @property
    def shops(self) -> tuple[AuthorizedShop, ...]:
        """The seller's shops as last loaded (``auth.load_shops()``) or read from the token store."""
        return self._seller.shops

    def _shop(self, shop: str | AuthorizedShop | None, shop_cipher: str | None, shop_id: str | None) -> Any:
        if isinstance(shop, AuthorizedShop):
            return shop.id, shop.cipher
        if shop is None:
            if not shop_cipher and not shop_id:
                raise ConfigurationError("for_shop needs a shop: its id, cipher or code, or shop_cipher=")
            if shop_cipher is None and shop_id is not None:
                found = self._seller_record().shop(shop_id)
                shop_cipher = found.cipher if found else None
            return shop_id, shop_cipher
        found = self._seller_record().shop(shop)
        if found is None:
            known = ", ".join(s.id for s in self._seller.shops) or "none known"
            raise ConfigurationError(
                f"seller {self._seller.seller} has no shop {shop!r} (its shops: {known}); load them with "
                "client.auth.load_shops(), or pass shop_cipher= and shop_id="
            )
        return found.id, found.cipher

    def _seller_record(self) -> SellerRecord:
        return self._seller.record()

    def for_shop(
        self,
        shop: str | AuthorizedShop | None = None,
        *,
        shop_cipher: str | None = None,
        shop_id: str | None = None,
    ) -> Self:
        """A client for one shop of this client's seller: the same tokens (one refresh serves every
        shop), token store, connection pool and rate limiter. ``shop`` is an ``AuthorizedShop`` or a
        shop's id, cipher or code among ``client.shops``; or pass ``shop_cipher=`` (and ``shop_id=``).
        Closing it leaves the pool open.

        Raises ``ConfigurationError`` when the shop is not among the seller's known shops.
        """
        shop_id, shop_cipher = self._shop(shop, shop_cipher, shop_id)
        return self._on_this_pool(
            type(self)(
                **self._settings,
                seller=self._seller.seller,
                shop_cipher=shop_cipher,
                shop_id=shop_id,
                token_store=self._store,
                http_client=self._http_pool(),
                _session=self._seller,
            )
        )

    def for_seller(
        self,
        seller: str,
        *,
        shop_cipher: str | None = None,
        shop_id: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        access_token_expire: int | datetime | None = None,
        refresh_token_expire: int | datetime | None = None,
        token_store: TokenStore | None = None,
    ) -> Self:
        """A client for another seller (``seller``: its ``open_id``) that shares this one's app
        settings, connection pool, rate limiter and token store (or ``token_store``). Its tokens
        come from the store, or from the arguments. Closing it leaves the pool open.

        Raises ``ConfigurationError`` for a bad seller or malformed expiry times,
        ``TokenStoreError`` when the store cannot be read.
        """
        return self._on_this_pool(
            type(self)(
                **self._settings,
                seller=seller,
                shop_cipher=shop_cipher,
                shop_id=shop_id,
                access_token=access_token,
                refresh_token=refresh_token,
                access_token_expire=access_token_expire,
                refresh_token_expire=refresh_token_expire,
                token_store=token_store if token_store is not None else self._store,
                http_client=self._http_pool(),
            )
        )

    def _on_this_pool(self, client: Self) -> Self:
        """``client``, made on this client's pool, sending the way this one does: straight to the
        transport of a pool the client made itself, when no proxy applies."""
        vars(client)["_direct"] = vars(self)["_direct"]
        return client

    def _http_pool(self) -> httpx.Client | httpx.AsyncClient:
        raise NotImplementedError

    def with_options(
        self,
        *,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        total_timeout: float | NotGiven | None = NOT_GIVEN,
        max_response_bytes: int | None = None,
        on_request: RequestHook | NotGiven | None = NOT_GIVEN,
        on_response: ResponseHook | NotGiven | None = NOT_GIVEN,
    ) -> Self:
        """A copy of this client with other call settings, sharing its connection pool, tokens (a
        refresh by either is seen by both), token store and rate limiter. Closing it leaves the
        pool open. Options left out keep this client's values (``total_timeout=None``: no total).

            client.with_options(timeout=5, max_retries=0).order.get_order_list(page_size=10)

        Raises ``ConfigurationError`` for a bad value.
        """
        config: Any = self._config
        total = config.total_timeout if isinstance(total_timeout, NotGiven) else total_timeout
        retries = config.max_retries if max_retries is None else max_retries
        limit = config.max_response_bytes if max_response_bytes is None else max_response_bytes
        hook_in = config.on_request if isinstance(on_request, NotGiven) else on_request
        hook_out = config.on_response if isinstance(on_response, NotGiven) else on_response
        _check_limits(retries, total, limit, hook_in, hook_out)
        http_timeout = check_timeout(timeout, ConfigurationError) if timeout is not None else None
        clone = copy.copy(self)
        for name in list(vars(clone)):  # domain namespaces bound to this client are rebuilt lazily
            if isinstance(getattr(type(clone), name, None), cached_property):
                del vars(clone)[name]
        clone._config = dataclasses.replace(
            config,
            max_retries=retries,
            total_timeout=total,
            max_response_bytes=limit,
            on_request=hook_in,
            on_response=hook_out,
        )
        clone._settings = {
            **self._settings,
            "max_retries": retries,
            "total_timeout": total,
            "max_response_bytes": limit,
            "on_request": hook_in,
            "on_response": hook_out,
        }
        if http_timeout is not None:
            clone._settings["timeout"] = http_timeout
            vars(clone)["_http_timeout"] = http_timeout
        vars(clone)["_owns_http"] = False
        return clone

    @property
    def access_token(self) -> str | None:
        """The access token the client signs with now (it changes when the client refreshes)."""
        return self._tokens.access_token

    @property
    def refresh_token(self) -> str | None:
        """The current refresh token (TikTok may rotate it on every refresh)."""
        return self._tokens.refresh_token

    def __repr__(self) -> str:
        c = self._config
        return f"{type(self).__name__}(app_key={c.app_key!r}, shop_id={c.shop_id!r}, base_url={c.base_url!r})"


class TikTokShop(_ClientOptions, SyncResources):
    """A client of the TikTok Shop Open API for one app and (optionally) one seller's shop.

    Operations are grouped by API domain: ``client.order.get_order_list(...)``,
    ``client.product.get_product(...)``, ``client.fulfillment.ship_package(...)``; seller
    authorization and tokens are under ``client.auth``. Each domain's code loads on first use.

    Only ``app_key`` and ``app_secret`` are required. ``base_url`` and ``auth_base_url`` default to
    TikTok's hosts and may point anywhere else (a local sandbox). Expiry times accept an int Unix
    timestamp or an aware ``datetime``. ``timeout`` is seconds per attempt (default 30, connect 10)
    or an ``httpx.Timeout``; ``max_retries`` bounds the retries of one call (default 2) and
    ``total_timeout`` its whole time, waits included (default 120 s; ``None`` for none).
    ``seller`` is the seller's ``open_id``: the key of its tokens and shops in ``token_store``,
    which persists them whenever they change and shares refreshes between workers (see
    ``JsonFileTokenStore``, ``RedisTokenStore``); ``rate_limiter`` keeps calls under TikTok's limits
    (see ``RateLimiter``, ``RedisRateLimiter``). ``for_shop()`` makes a client for another shop of
    the same seller (same tokens), ``for_seller()`` one for another seller, both on this pool.
    Pass ``http_client`` (an ``httpx.Client``) to share a pool between clients (they do not close it);
    its redirect setting is ignored (the client never follows one) and its own ``event_hooks`` see the
    signed request, so observe calls with ``on_request`` / ``on_response`` instead: they get every
    attempt's method, path, status, timing and ``request_id`` with every secret masked.
    ``max_response_bytes`` bounds the size of an answer read (default 50 MB, decompressed).
    ``with_options()`` gives a copy with other settings sharing the pool and tokens; every method
    also takes ``timeout``, ``max_retries``, ``extra_query``, ``extra_body``, ``extra_headers``,
    and ``client.<domain>.with_raw_response.<method>`` returns the answer as it came.

    Raises ``ConfigurationError`` for a missing key or secret, a malformed URL or expiry.
    """

    def _start(self, config: ClientConfig, tokens: TokenState, options: dict[str, Any]) -> None:
        if options["http_client"] is not None and not isinstance(options["http_client"], httpx.Client):
            raise ConfigurationError(
                "TikTokShop takes an httpx.Client as http_client (AsyncTikTokShop takes an httpx.AsyncClient)"
            )
        SyncResources.__init__(self, config, tokens, **options)

    def _http_pool(self) -> httpx.Client:
        return self._http

    def load_seller(self) -> SellerRecord | None:
        """Read the seller's record (tokens, shops) from the token store and adopt it; return it,
        or ``None`` without a store or record. Raises ``TokenStoreError``."""
        if self._store is None:
            return None
        self._drive(self._load_steps())
        return self._store.load(self._seller.seller)

    @cached_property
    def auth(self) -> AuthResource:
        """Seller authorization link, token exchange and refresh."""
        return AuthResource(self)

    @cached_property
    def with_raw_response(self) -> ClientWithRawResponse:
        """``client.with_raw_response.request(...)``: ``request`` returning the answer as it came
        (a ``RawResponse``: status, headers, ``request_id``, bytes) instead of the data dict."""
        return ClientWithRawResponse(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncTikTokShop(_ClientOptions, AsyncResources):
    """The asyncio client: the same options, domains and behaviour as ``TikTokShop``, with every
    call awaited (``await client.order.get_order_list(...)``) over one ``httpx.AsyncClient``.
    Concurrent tasks share one token refresh. Use ``async with`` or ``await client.close()``.

    Raises ``ConfigurationError`` for a missing key or secret, a malformed URL or expiry.
    """

    def _start(self, config: ClientConfig, tokens: TokenState, options: dict[str, Any]) -> None:
        if options["http_client"] is not None and not isinstance(options["http_client"], httpx.AsyncClient):
            raise ConfigurationError("AsyncTikTokShop takes an httpx.AsyncClient as http_client")
        AsyncResources.__init__(self, config, tokens, **options)

    def _http_pool(self) -> httpx.AsyncClient:
        return self._http

    async def load_seller(self) -> SellerRecord | None:
        """Read the seller's record (tokens, shops) from the token store and adopt it; return it,
        or ``None`` without a store or record. Raises ``TokenStoreError``."""
        if self._store is None:
            return None
        await self._drive(self._load_steps())
        return await self._store.aload(self._seller.seller)

    @cached_property
    def auth(self) -> AsyncAuthResource:
        """Seller authorization link, token exchange and refresh (awaited)."""
        return AsyncAuthResource(self)

    @cached_property
    def with_raw_response(self) -> AsyncClientWithRawResponse:
        """``await client.with_raw_response.request(...)``: ``request`` returning the answer as it
        came (a ``RawResponse``) instead of the data dict."""
        return AsyncClientWithRawResponse(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class ClientWithRawResponse:
    """``client.with_raw_response``: the client's ``request`` returning a ``RawResponse``; it
    raises what ``request`` raises."""

    def __init__(self, client: TikTokShop) -> None:
        self.request = to_raw_response(client.request)


class AsyncClientWithRawResponse:
    """``client.with_raw_response`` of ``AsyncTikTokShop``: ``request`` returning a ``RawResponse``
    (awaited); it raises what ``request`` raises."""

    def __init__(self, client: AsyncTikTokShop) -> None:
        self.request = async_to_raw_response(client.request)
