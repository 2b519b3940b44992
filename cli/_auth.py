"""``tiktokshop auth login | status | refresh``."""

from __future__ import annotations

import threading
import time
import webbrowser
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click
from rich.table import Table

from tiktokshop import AuthenticationError, ConfigurationError, TikTokShop

from . import EXIT_CODES, State, cli, err, errors, fail, pass_state, print_json
from ._clients import app_kwargs
from ._config import SellerBook

_PAGE = (
    b"<!doctype html><html><body style='font-family:sans-serif'><h2>tiktokshop: authorization received</h2>"
    b"<p>You can close this tab and return to the terminal.</p></body></html>"
)


@cli.group()
def auth() -> None:
    """Authorize sellers and manage their stored tokens."""


class _Callback(BaseHTTPRequestHandler):
    result: dict[str, str]
    done: threading.Event
    path_expected: str

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.path_expected:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.result.update(query)
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(_PAGE)))
        self.end_headers()
        self.wfile.write(_PAGE)
        self.done.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the query holds the code


def _when(stamp: int | None) -> str:
    if not stamp:
        return "-"
    left = stamp - time.time()
    at = datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if left <= 0:
        return f"{at} (expired)"
    return f"{at} (in {left / 86400:.1f} d)" if left > 86400 else f"{at} (in {left / 3600:.1f} h)"


@auth.command()
@click.option(
    "--callback-port", default=8767, show_default=True, help="Local port that catches the redirect."
)
@click.option(
    "--callback-path", default="/callback", show_default=True, help="Path of the app's redirect URL."
)
@click.option("--no-browser", is_flag=True, help="Only print the link; do not open a browser.")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for the seller.")
@click.option("--us", is_flag=True, help="Use the authorization page for US sellers.")
@click.option("--code", default=None, help="Exchange this code (from a redirect caught elsewhere) instead.")
@pass_state
def login(
    state: State,
    callback_port: int,
    callback_path: str,
    no_browser: bool,
    timeout: float,
    us: bool,
    code: str | None,
) -> None:
    """Authorize a seller: open TikTok's authorization page, catch the redirect on
    http://127.0.0.1:PORT/callback (the app's redirect URL in Partner Center must be it), exchange
    the code, and store the seller's tokens and shops. When the app's redirect URL is elsewhere,
    copy the `code` of the redirect and pass it with --code."""
    with errors():
        kwargs = app_kwargs(state.settings)
        book = SellerBook(state.settings.token_file)
        with TikTokShop(**kwargs, token_store=book.store) as client:
            if code is None:
                state.settings.require("service_id")
                code = _catch_code(client, callback_port, callback_path, no_browser, timeout, us)
            token = client.auth.get_access_token(code, load_shops=True)
        if not token.open_id:
            raise AuthenticationError("the token answer has no open_id: cannot tell which seller it is")
        record = book.store.load(token.open_id)
        shops = record.shops if record is not None else ()
        err.print(
            f"[green]Authorized[/] {token.seller_name or token.open_id} ({token.open_id}): "
            f"{len(shops)} shop(s); tokens saved in {state.settings.token_file}"
        )


def _catch_code(client: TikTokShop, port: int, path: str, no_browser: bool, timeout: float, us: bool) -> str:
    """Print (and open) the authorization link, wait for the redirect on the local port, check its
    ``state``; returns the code. Exits 1 when refused, 3 when nothing came."""
    result: dict[str, str] = {}
    done = threading.Event()
    handler = type("Callback", (_Callback,), {"result": result, "done": done, "path_expected": path})
    try:
        server = HTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}): choose another --callback-port"
        ) from None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        link = client.auth.authorization_url(us=us)
        err.print(f"Waiting for the redirect on http://127.0.0.1:{port}{path}")
        err.print("Open this link and authorize the app:")
        print(link.url, flush=True)
        if not no_browser:
            webbrowser.open(link.url)
        if not done.wait(timeout):
            fail(f"no redirect came within {timeout:g} s", EXIT_CODES["config"])
    finally:
        server.shutdown()
        server.server_close()
    if result.get("state") != link.state:
        fail("the redirect's state does not match this login: ignored", EXIT_CODES["refused"])
    code = result.get("code")
    if not code:
        fail(f"the redirect carries no code ({result.get('error') or 'refused'})", EXIT_CODES["refused"])
    return code


@auth.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def status(state: State, as_json: bool) -> None:
    """The authorized sellers, their shops and token expiries (never a token)."""
    with errors():
        book = SellerBook(state.settings.token_file)
        rows: list[dict[str, Any]] = []
        for open_id, record in book.load().items():
            rows.append(
                {
                    "open_id": open_id,
                    "seller_name": record.name,
                    "region": record.region,
                    "shops": [{"id": s.id, "name": s.name, "region": s.region} for s in record.shops],
                    "access_token_expire": record.tokens.access_token_expire,
                    "refresh_token_expire": record.tokens.refresh_token_expire,
                }
            )
        if as_json:
            print_json({"token_file": str(state.settings.token_file), "sellers": rows})
            return
        if not rows:
            err.print(f"No seller is authorized in {state.settings.token_file}: run `tiktokshop auth login`.")
            return
        table = Table(title=f"Sellers in {state.settings.token_file}")
        for column in ("seller", "open_id", "shops", "access token expires", "refresh token expires"):
            table.add_column(column)
        for row in rows:
            shops = "\n".join(f"{s['name']} ({s['id']})" for s in row["shops"]) or "-"
            table.add_row(
                str(row["seller_name"] or "-"),
                row["open_id"],
                shops,
                _when(row["access_token_expire"]),
                _when(row["refresh_token_expire"]),
            )
        err.print(table)


@auth.command()
@click.option("--all", "every", is_flag=True, help="Refresh every stored seller.")
@pass_state
def refresh(state: State, every: bool) -> None:
    """Refresh the seller's access token now (a rotated refresh token replaces the old one)."""
    with errors():
        book = SellerBook(state.settings.token_file)
        targets = list(book.load()) if every else [book.pick(state.settings.get("seller")).seller]
        for open_id in targets:
            with TikTokShop(**app_kwargs(state.settings), seller=open_id, token_store=book.store) as client:
                token = client.auth.refresh_access_token()
            err.print(f"Refreshed {open_id}: access token until {_when(token.access_token_expire_in)}")
