"""``Sandbox``: one local TikTok Shop (API, auth host and authorization page) with its state and controls."""

# pyright: standard

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from typing_extensions import Self

from tiktokshop import TikTokShop

from ._app import App, RequestLog
from ._auth import TokenStore
from ._clock import Clock
from ._control import Control
from ._faults import Faults
from ._server import SandboxServer, SandboxTransport
from ._state import Shop, State
from ._webhooks import Webhooks

__all__ = ["IN_PROCESS_URL", "Sandbox"]

#: The base URL of a sandbox used through its in-process transport (never resolved: no socket).
IN_PROCESS_URL = "http://tiktokshop-sandbox.local"
_LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class SandboxSeller:
    """A seller of the sandbox: its ``open_id``, its shops and a ready token pair."""

    open_id: str
    shops: list[Shop]
    access_token: str
    refresh_token: str
    access_token_expire: int
    refresh_token_expire: int


class Sandbox:
    """A strict, stateful stand-in for TikTok Shop's hosts, for tests and local development.

    ``orders`` orders (and shops, catalogue, products, packages, returns) are generated from
    ``seed``; times are relative to ``clock`` (a :class:`Clock`; by default real time), which also
    drives every expiry. ``start()`` serves it over HTTP on ``host`` (127.0.0.1) and ``port`` (0: a
    free one); ``transport()`` and ``client(in_process=True)`` use it without sockets.
    ``redirect_url`` is where the authorization page sends the seller (default: the sandbox's own
    ``/sandbox/callback``); ``webhook_urls`` are subscribed at once. ``rate_limits=True`` enforces
    TikTok's documented limits as the spec holds them (50 requests per second per API for each
    app+shop pair unless the operation has its own); a mapping of op id (or ``*``) to requests per
    second sets them. Over a limit the answer is HTTP 429 with code 36009002 and Retry-After.
    ``sellers`` sellers can authorize the app: the first owns two shops and the ``orders``; each
    other one owns ``shops_per_seller`` shops with ``orders_per_shop`` orders each. The control
    API (``/_sandbox/...``, see docs/sandbox.md) drives it over HTTP.
    Raises ``ValueError`` for a host other than 127.0.0.1/localhost or a negative order count.
    """

    def __init__(
        self,
        *,
        orders: int = 1000,
        seed: int = 0,
        clock: Clock | None = None,
        app_key: str | None = None,
        app_secret: str | None = None,
        service_id: str | None = None,
        redirect_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_urls: Iterable[str] = (),
        webhook_queue_size: int = 1000,
        log_size: int = 10_000,
        rate_limits: bool | Mapping[str, float] = False,
        sellers: int = 1,
        shops_per_seller: int = 2,
        orders_per_shop: int = 20,
    ) -> None:
        if host not in _LOCAL_HOSTS:
            raise ValueError("the sandbox serves on 127.0.0.1 (or localhost) only")
        if orders < 0:
            raise ValueError("orders must be >= 0")
        if sellers < 1:
            raise ValueError("sellers must be >= 1")
        self.clock = clock if clock is not None else Clock()
        rng = random.Random(f"credentials-{seed}")  # noqa: S311 - reproducible sandbox credentials
        self.app_key = app_key or f"6{rng.getrandbits(48):012x}"
        self.app_secret = (
            app_secret or hashlib.sha256(rng.getrandbits(128).to_bytes(16, "big")).hexdigest()[:40]
        )
        self.service_id = service_id or str(7_000_000_000_000_000_000 + rng.randrange(10**18))
        self._host = host
        self._port = port
        self._redirect = redirect_url
        self._server: SandboxServer | None = None
        self.state = State(orders=orders, seed=seed, now=self.clock.now)
        self.tokens = TokenStore(self.app_key, self.app_secret, self.clock.now)
        self.faults = Faults()
        self.webhooks = Webhooks(self.app_key, self.app_secret, self.clock.now, queue_size=webhook_queue_size)
        self.state.listeners.append(self.webhooks.emit)
        for url in webhook_urls:
            self.webhooks.subscribe(url)
        self._app = App(
            state=self.state,
            tokens=self.tokens,
            clock=self.clock,
            faults=self.faults,
            service_id=self.service_id,
            base_url=lambda: self.url,
            redirect_url=lambda: self.redirect_url,
            log_size=log_size,
            rate_limits=rate_limits,
        )
        self._app.control = Control(self)
        for _ in range(1, sellers):
            self.state.new_seller(shops=shops_per_seller, orders=orders_per_shop)
        ready = self.tokens.issue_tokens(self.state.open_id)
        self.access_token = str(ready["access_token"])
        self.refresh_token = str(ready["refresh_token"])
        self._access_expire = int(str(ready["access_token_expire_in"]))
        self._refresh_expire = int(str(ready["refresh_token_expire_in"]))

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve over HTTP from a background thread; returns the sandbox.

        Raises ``OSError`` if the port is taken.
        """
        if self._server is None:
            self._server = SandboxServer(self._app, self._host, self._port)
            self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving (open connections are closed) and stop webhook delivery."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self.webhooks.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the HTTP server is serving."""
        return self._server is not None

    @property
    def url(self) -> str:
        """The base URL: ``http://127.0.0.1:<port>`` while serving, else the in-process placeholder."""
        return self._server.url if self._server is not None else IN_PROCESS_URL

    # -- what tests read -------------------------------------------------------------------------

    @property
    def requests(self) -> RequestLog:
        """The requests received: op id, method, path, query (no sign), token, status, code, time."""
        return self._app.log

    @property
    def shops(self) -> list[Shop]:
        """The shops of the sandbox's seller (the first is the one clients use by default)."""
        return list(self.state.shops.values())

    @property
    def shop(self) -> Shop:
        """The default shop."""
        return self.shops[0]

    @property
    def shop_cipher(self) -> str:
        """The default shop's cipher, ready for shop-scoped calls."""
        return self.shop.cipher

    def issue_auth_code(self, open_id: str | None = None) -> str:
        """A fresh one-time authorization code of the default seller (or ``open_id``), as the
        authorization page would give (valid 30 minutes). Raises ``ValueError`` for an unknown seller."""
        seller = open_id or self.state.open_id
        if seller not in self.state.sellers:
            raise ValueError(f"no seller {seller!r} in this sandbox")
        return self.tokens.issue_code(seller)

    @property
    def redirect_url(self) -> str:
        """Where the authorization page sends the seller with the code (the app's redirect URL)."""
        return self._redirect or f"{self.url}/sandbox/callback"

    @redirect_url.setter
    def redirect_url(self, url: str) -> None:
        self._redirect = url

    def add_seller(self, shops: int = 1) -> SandboxSeller:
        """Another seller that authorized the app for ``shops`` new (empty) shops, with tokens."""
        open_id, added = self.state.add_seller(shops)
        ready = self.tokens.issue_tokens(open_id)
        return SandboxSeller(
            open_id,
            added,
            str(ready["access_token"]),
            str(ready["refresh_token"]),
            int(str(ready["access_token_expire_in"])),
            int(str(ready["refresh_token_expire_in"])),
        )

    def expire_access_tokens(self, open_id: str | None = None) -> int:
        """Every access token issued so far (to ``open_id``, or to every seller) expires now, as if
        its time had come, without moving the clock; returns how many. Clients learn it from
        TikTok's answer (105002) and refresh."""
        return self.tokens.expire_access(open_id)

    def revoke(self, open_id: str | None = None) -> None:
        """The seller (default: the first) withdraws the authorization: its access and refresh
        tokens stop working at once (a refresh answers 36004014)."""
        self.tokens.revoke(open_id or self.state.open_id)

    def authorize_url(self, state: str = "state") -> str:
        """The URL of the sandbox's authorization page for this app."""
        return f"{self.url}/open/authorize?service_id={self.service_id}&state={state}"

    # -- clients ---------------------------------------------------------------------------------

    def transport(self) -> SandboxTransport:
        """An ``httpx`` transport that answers from this sandbox in-process (no server needed)."""
        return SandboxTransport(self._app)

    def client(self, *, in_process: bool | None = None, **overrides: Any) -> TikTokShop:
        """A ``TikTokShop`` pointed at the sandbox, with valid tokens and the default shop's cipher.

        It shares the sandbox's clock. ``in_process`` (default: when not started) sends through
        ``transport()`` instead of HTTP. Keyword arguments override any constructor argument.
        Every client starts from the sandbox's ready tokens: once one of them refreshes, the shared
        refresh token is retired (as TikTok rotates it), though the access token stays valid.
        """
        use_transport = self._server is None if in_process is None else in_process
        base = IN_PROCESS_URL if use_transport else self.url
        kwargs: dict[str, Any] = {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "service_id": self.service_id,
            "shop_id": self.shop.id,
            "shop_cipher": self.shop_cipher,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "access_token_expire": self._access_expire,
            "refresh_token_expire": self._refresh_expire,
            "base_url": base,
            "auth_base_url": base,
            "authorize_url": f"{base}/open/authorize",
            "us_authorize_url": f"{base}/open/authorize",
            "clock": self.clock.now,
        }
        if use_transport:
            kwargs["http_client"] = httpx.Client(transport=self.transport(), follow_redirects=False)
        kwargs.update(overrides)
        return TikTokShop(**kwargs)

    def __repr__(self) -> str:
        return f"<Sandbox {self.url} orders={len(self.state.orders)}>"
