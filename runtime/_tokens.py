"""Tokens: the typed token TikTok's auth host returns, and the client's current credentials."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import Field

from ._models import ResponseModel

__all__ = ["AccessToken", "TokenState"]


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
