"""``client.auth``: the seller authorization link and the token exchange and refresh."""

# The auth resources drive the client's own token steps and locks (they are part of the client).
# pyright: reportPrivateUsage=false

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from ._errors import ConfigurationError, ValidationError
from ._tokens import AccessToken, AuthorizedShop

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, BaseClient, SyncAPIClient

__all__ = ["AsyncAuthResource", "AuthResource", "AuthorizationLink"]


@dataclass(frozen=True)
class AuthorizationLink:
    """Where to send a seller to authorize the app, and the ``state`` to check on the callback."""

    url: str
    service_id: str
    state: str


def _link(client: BaseClient, state: str | None, service_id: str | None, us: bool) -> AuthorizationLink:
    config = client._config
    sid = service_id or config.service_id
    if not sid:
        raise ConfigurationError(
            "authorization_url needs a service_id: pass service_id= here or to the client "
            "(it is on the app's page in TikTok Shop Partner Center)"
        )
    state = state if state is not None else secrets.token_urlsafe(16)
    base = config.us_authorize_url if us else config.authorize_url
    return AuthorizationLink(
        url=f"{base}?{urlencode({'service_id': sid, 'state': state})}", service_id=sid, state=state
    )


def _shops(result: object) -> tuple[AuthorizedShop, ...]:
    shops: list[AuthorizedShop] = []
    for shop in getattr(result, "shops", None) or ():
        if shop.id and shop.cipher:
            shops.append(
                AuthorizedShop(
                    id=str(shop.id),
                    cipher=str(shop.cipher),
                    region=getattr(shop, "region", None),
                    name=getattr(shop, "name", None),
                    code=getattr(shop, "code", None),
                )
            )
    return tuple(shops)


def _check_code(auth_code: str) -> None:
    if not isinstance(auth_code, str) or not auth_code.strip():  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValidationError(
            "auth.get_access_token: auth_code must be a non-empty string", field="auth_code"
        )


class AuthResource:
    """Seller authorization and tokens. These calls go to the auth host and are not signed."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client

    def authorization_url(
        self, *, state: str | None = None, service_id: str | None = None, us: bool = False
    ) -> AuthorizationLink:
        """Build the link that sends a seller to TikTok's authorization page.

        ``state`` defaults to a random value: keep it and compare it with the ``state`` your
        callback receives. ``us=True`` uses the page for US sellers.
        Raises ``ConfigurationError`` when no ``service_id`` is known.
        """
        return _link(self._client, state, service_id, us)

    def get_access_token(self, auth_code: str, *, load_shops: bool = False) -> AccessToken:
        """Exchange the ``code`` from the authorization callback for tokens; the client then uses them.

        The answer's ``open_id`` names the seller: the client now serves that seller and its token
        store keeps the tokens under it. ``load_shops=True`` also lists the seller's shops into the
        store (``load_shops()``). Raises ``ValidationError`` for an empty code, ``AuthenticationError``
        (or another ``ApiError``) when TikTok refuses it (codes work once and expire after 30
        minutes), ``TransportError``, ``TokenStoreError`` when the tokens cannot be saved (they are
        still set on the client).
        """
        _check_code(auth_code)
        client = self._client
        with client._token_lock:
            token = client._drive(client._exchange_steps(auth_code))
        if load_shops:
            self.load_shops()
        return token

    def load_shops(self) -> tuple[AuthorizedShop, ...]:
        """List the seller's authorized shops (``authorization.get_authorized_shops``), keep them in
        the client and its token store, and return them (id, cipher, region, name, code).

        Raises ``ApiError``, ``TransportError``, ``TokenStoreError``.
        """
        client = self._client
        shops = _shops(cast(Any, client).authorization.get_authorized_shops())
        with client._token_lock:
            client._seller.shops = shops
            if client._store is not None:
                client._drive(client._save_steps())
        return shops

    def refresh_access_token(self) -> AccessToken:
        """Refresh the access token now; the client then uses the new tokens (a rotated refresh
        token replaces the old one).

        Raises ``ConfigurationError`` without a usable refresh token, ``ApiError`` when TikTok
        refuses it, ``TransportError``, ``TokenStoreError`` when the new tokens cannot be saved.
        """
        client = self._client
        with client._token_lock, client._store_lock():
            return client._drive(client._refresh_now_steps())


class AsyncAuthResource:
    """Seller authorization and tokens, for the async client (see ``AuthResource``)."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    def authorization_url(
        self, *, state: str | None = None, service_id: str | None = None, us: bool = False
    ) -> AuthorizationLink:
        """Build the link that sends a seller to TikTok's authorization page (no I/O).

        Raises ``ConfigurationError`` when no ``service_id`` is known.
        """
        return _link(self._client, state, service_id, us)

    async def get_access_token(self, auth_code: str, *, load_shops: bool = False) -> AccessToken:
        """Exchange the callback's ``code`` for tokens; the client then serves the seller the
        answer's ``open_id`` names (see ``AuthResource.get_access_token``).

        Raises ``ValidationError``, ``ApiError``, ``TransportError``, ``TokenStoreError``.
        """
        _check_code(auth_code)
        client = self._client
        async with client._token_lock:
            token = await client._drive(client._exchange_steps(auth_code))
        if load_shops:
            await self.load_shops()
        return token

    async def load_shops(self) -> tuple[AuthorizedShop, ...]:
        """List the seller's authorized shops, keep them in the client and its token store, and
        return them. Raises ``ApiError``, ``TransportError``, ``TokenStoreError``."""
        client = self._client
        shops = _shops(await cast(Any, client).authorization.get_authorized_shops())
        async with client._token_lock:
            client._seller.shops = shops
            if client._store is not None:
                await client._drive(client._save_steps())
        return shops

    async def refresh_access_token(self) -> AccessToken:
        """Refresh the access token now; the client then uses the new tokens.

        Raises ``ConfigurationError``, ``ApiError``, ``TransportError``, ``TokenStoreError``.
        """
        client = self._client
        async with client._token_lock, client._store_alock():
            return await client._drive(client._refresh_now_steps())
