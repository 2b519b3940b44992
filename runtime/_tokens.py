"""Tokens: the typed token TikTok's auth host returns, and the client's current credentials."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, cast

from pydantic import Field

from ._models import ResponseModel

__all__ = ["AccessToken", "AuthorizedShop", "SellerRecord", "TokenState"]


class AccessToken(ResponseModel):
    """A seller's tokens, as returned by the token exchange and the refresh.

    ``access_token_expire_in`` and ``refresh_token_expire_in`` are Unix timestamps (TikTok's
    naming notwithstanding). The token values never appear in ``repr()``.
    """

    access_token: str = Field(repr=False)
    access_token_expire_in: int
    refresh_token: str = Field(repr=False)
    refresh_token_expire_in: int
    open_id: str | None = None
    seller_name: str | None = None
    seller_base_region: str | None = None
    user_type: int | None = None
    granted_scopes: list[str] | None = None


@dataclass(repr=False)
class TokenState:
    """The tokens a client signs with (the client's lock guards their replacement)."""

    access_token: str | None = None
    access_token_expire: int | None = None
    refresh_token: str | None = None
    refresh_token_expire: int | None = None

    def __repr__(self) -> str:
        return (
            f"TokenState(access_token={'set' if self.access_token else 'unset'}, "
            f"access_token_expire={self.access_token_expire}, "
            f"refresh_token={'set' if self.refresh_token else 'unset'}, "
            f"refresh_token_expire={self.refresh_token_expire})"
        )

    def update(self, token: AccessToken) -> None:
        """Replace every credential with the ones in ``token`` (a rotated refresh token included)."""
        self.access_token = token.access_token
        self.access_token_expire = token.access_token_expire_in
        self.refresh_token = token.refresh_token
        self.refresh_token_expire = token.refresh_token_expire_in

    def copy(self) -> TokenState:
        """An independent copy (what a store keeps, so later changes do not reach it)."""
        return replace(self)

    def assign(self, other: TokenState) -> None:
        """Take every credential of ``other`` (tokens another process saved)."""
        self.access_token = other.access_token
        self.access_token_expire = other.access_token_expire
        self.refresh_token = other.refresh_token
        self.refresh_token_expire = other.refresh_token_expire

    def to_dict(self) -> dict[str, Any]:
        """The credentials as plain JSON-ready values (what stores write)."""
        return {
            "access_token": self.access_token,
            "access_token_expire": self.access_token_expire,
            "refresh_token": self.refresh_token,
            "refresh_token_expire": self.refresh_token_expire,
        }


@dataclass(frozen=True)
class AuthorizedShop:
    """One shop a seller authorized the app for, as ``authorization.get_authorized_shops`` lists it."""

    id: str
    cipher: str
    region: str | None = None
    name: str | None = None
    code: str | None = None


#: The key a store uses for tokens whose seller is not known (a client given tokens but no ``seller``).
DEFAULT_SELLER = "default"


@dataclass(repr=False)
class SellerRecord:
    """What a token store keeps per seller: one authorization (TikTok's ``open_id``), its one token
    pair, and the shops it covers. Every shop of the seller is called with the same tokens."""

    seller: str
    tokens: TokenState = field(default_factory=TokenState)
    name: str | None = None
    region: str | None = None
    shops: tuple[AuthorizedShop, ...] = ()

    def __repr__(self) -> str:
        return f"SellerRecord(seller={self.seller!r}, {self.tokens!r}, shops={len(self.shops)})"

    def shop(self, key: str) -> AuthorizedShop | None:
        """The seller's shop whose id, cipher or code is ``key``, or ``None``."""
        for shop in self.shops:
            if key in (shop.id, shop.cipher, shop.code):
                return shop
        return None

    def copy(self) -> SellerRecord:
        """An independent copy (the tokens included)."""
        return replace(self, tokens=self.tokens.copy())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: the tokens, the seller's name and region, and the shops."""
        return {
            **self.tokens.to_dict(),
            "seller_name": self.name,
            "region": self.region,
            "shops": [
                {"id": s.id, "cipher": s.cipher, "region": s.region, "name": s.name, "code": s.code}
                for s in self.shops
            ],
        }

    @classmethod
    def from_dict(cls, seller: str, data: Any) -> SellerRecord:
        """Rebuild a record from ``to_dict()``'s values. Raises ``ValueError`` when they do not fit."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        record = cast("dict[str, Any]", data)
        try:
            tokens = TokenState(**{k: record.get(k) for k in TokenState().to_dict()})
            shops = tuple(
                AuthorizedShop(
                    id=str(s["id"]),
                    cipher=str(s["cipher"]),
                    region=s.get("region"),
                    name=s.get("name"),
                    code=s.get("code"),
                )
                for s in record.get("shops") or ()
            )
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"not a seller record ({type(exc).__name__})") from None
        return cls(seller, tokens, record.get("seller_name"), record.get("region"), shops)
