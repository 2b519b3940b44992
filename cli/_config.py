"""Where the command line finds its settings: flags, then ``TIKTOK_*`` variables, then the config file.

The config file (``--config``, ``TIKTOK_CONFIG``, default ``~/.config/tiktokshop/config.json``)
is a JSON object with the same names as the flags (``app_key``, ``app_secret``, ``service_id``,
``base_url``, ``auth_base_url``, ``authorize_url``, ``token_file``, ``seller``, ``shop``,
``sandbox_url``). Sellers live in the library's ``JsonFileTokenStore`` (``token_file``): one
record per seller ``open_id`` with its tokens, name and shops.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiktokshop import ConfigurationError, JsonFileTokenStore
from tiktokshop._tokens import SellerRecord

__all__ = ["SETTINGS", "SellerBook", "Settings", "default_dir"]

#: Every setting: its environment variable.
SETTINGS: dict[str, str] = {
    "app_key": "TIKTOK_APP_KEY",
    "app_secret": "TIKTOK_APP_SECRET",
    "service_id": "TIKTOK_SERVICE_ID",
    "base_url": "TIKTOK_BASE_URL",
    "auth_base_url": "TIKTOK_AUTH_BASE_URL",
    "authorize_url": "TIKTOK_AUTHORIZE_URL",
    "token_file": "TIKTOK_TOKEN_FILE",
    "seller": "TIKTOK_SELLER",
    "shop": "TIKTOK_SHOP",
    "shop_cipher": "TIKTOK_SHOP_CIPHER",
    "access_token": "TIKTOK_ACCESS_TOKEN",
    "refresh_token": "TIKTOK_REFRESH_TOKEN",
    "sandbox_url": "TIKTOK_SANDBOX_URL",
}


def default_dir() -> Path:
    """``$XDG_CONFIG_HOME/tiktokshop`` (or ``~/.config/tiktokshop``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tiktokshop"


@dataclass
class Settings:
    """The resolved settings; ``source`` tells where each came from (never the values of secrets)."""

    values: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    config_path: Path | None = None

    @classmethod
    def resolve(cls, flags: dict[str, str | None], config: str | None) -> Settings:
        """Flags win over ``TIKTOK_*`` variables, which win over the config file.

        Raises ``ConfigurationError`` when the config file is given but unreadable or not a JSON object.
        """
        settings = cls()
        explicit = config or os.environ.get("TIKTOK_CONFIG")
        path = Path(explicit) if explicit else default_dir() / "config.json"
        file_values: dict[str, Any] = {}
        if path.exists() or explicit:
            try:
                file_values = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigurationError(f"cannot read the config file {path}: {exc}") from None
            if not isinstance(file_values, dict):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ConfigurationError(f"the config file {path} must hold a JSON object")
            unknown = sorted(set(file_values) - set(SETTINGS))
            if unknown:
                raise ConfigurationError(
                    f"the config file {path} has unknown settings {', '.join(unknown)}; "
                    f"known: {', '.join(SETTINGS)}"
                )
            settings.config_path = path
        for name, var in SETTINGS.items():
            if flags.get(name):
                settings.values[name], settings.source[name] = str(flags[name]), "flag"
            elif os.environ.get(var):
                settings.values[name], settings.source[name] = os.environ[var], var
            elif file_values.get(name):
                settings.values[name], settings.source[name] = str(file_values[name]), str(path)
        return settings

    def get(self, name: str) -> str | None:
        """The setting, or ``None``."""
        return self.values.get(name)

    def require(self, name: str) -> str:
        """The setting. Raises ``ConfigurationError`` naming the flag, variable and config key."""
        value = self.values.get(name)
        if not value:
            flag = "--" + name.replace("_", "-")
            raise ConfigurationError(
                f'{name} is missing: pass {flag}, set {SETTINGS[name]}, or put "{name}" in the config file'
            )
        return value

    @property
    def token_file(self) -> Path:
        """The token file (default ``~/.config/tiktokshop/tokens.json``)."""
        value = self.values.get("token_file")
        return Path(value) if value else default_dir() / "tokens.json"


class SellerBook:
    """The sellers the command line has authorized, as the library's ``JsonFileTokenStore`` keeps
    them (``token_file``): one record per seller ``open_id`` with its tokens, name and shops."""

    def __init__(self, token_file: Path) -> None:
        self.token_file = token_file
        self.store = JsonFileTokenStore(token_file)

    def load(self) -> dict[str, SellerRecord]:
        """Every stored seller by ``open_id``. Raises ``TokenStoreError`` for an unreadable file."""
        records: dict[str, SellerRecord] = {}
        for seller in self.store.sellers():
            record = self.store.load(seller)
            if record is not None:
                records[seller] = record
        return records

    def pick(self, seller: str | None) -> SellerRecord:
        """The seller named by ``seller`` (open_id or name), or the only one.

        Raises ``ConfigurationError`` when none is authorized, or several are and none is named.
        """
        sellers = self.load()
        if not sellers:
            raise ConfigurationError(
                f"no seller is authorized in {self.token_file}: run `tiktokshop auth login` first"
            )
        if seller:
            for open_id, record in sellers.items():
                if seller in (open_id, record.name):
                    return record
            raise ConfigurationError(f"no authorized seller {seller!r}; `tiktokshop auth status` lists them")
        if len(sellers) > 1:
            raise ConfigurationError(
                "several sellers are authorized: choose one with --seller (or TIKTOK_SELLER); "
                "`tiktokshop auth status` lists them"
            )
        return next(iter(sellers.values()))
