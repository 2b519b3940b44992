"""``tiktokshop sandbox``: serve the local sandbox with chosen sellers, shops, orders and limits."""

from __future__ import annotations

import time

import click

from . import cli, err


@cli.command()
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1 (0: any free one).")
@click.option("--orders", default=1000, show_default=True, help="Orders of the first seller's shops.")
@click.option("--seed", default=0, show_default=True, help="Seed of the generated data.")
@click.option("--sellers", default=1, show_default=True, help="Sellers that can authorize the app.")
@click.option("--shops", default=2, show_default=True, help="Shops of each seller after the first.")
@click.option("--orders-per-shop", default=20, show_default=True, help="Orders of each of those shops.")
@click.option(
    "--rate-limits/--no-rate-limits", default=False, help="Enforce the spec's rate limits (HTTP 429)."
)
@click.option(
    "--rate-limit",
    "rate_limit",
    multiple=True,
    metavar="OP=RPS",
    help="Limit one operation (or *) to RPS requests per second; repeat for more.",
)
@click.option(
    "--redirect-url", default=None, help="The app's redirect URL (default: the sandbox's own page)."
)
@click.option("--frozen-clock", is_flag=True, help="Stop the clock: only the control API moves it.")
def sandbox(
    port: int,
    orders: int,
    seed: int,
    sellers: int,
    shops: int,
    orders_per_shop: int,
    rate_limits: bool,
    rate_limit: tuple[str, ...],
    redirect_url: str | None,
    frozen_clock: bool,
) -> None:
    """Serve the local TikTok Shop sandbox until Ctrl-C, print its credentials (sandbox-only) and
    its control API (/_sandbox, see docs/sandbox.md)."""
    from tiktokshop.sandbox import Clock, Sandbox

    limits: bool | dict[str, float] = rate_limits
    if rate_limit:
        limits = {}
        for item in rate_limit:
            op, _, rps = item.partition("=")
            try:
                limits[op.strip()] = float(rps)
            except ValueError:
                raise click.BadParameter(
                    f"{item!r}: give OP=RPS, e.g. order.get_order_list=5", param_hint="--rate-limit"
                ) from None
    try:
        box = Sandbox(
            orders=orders,
            seed=seed,
            port=port,
            sellers=sellers,
            shops_per_seller=shops,
            orders_per_shop=orders_per_shop,
            rate_limits=limits,
            redirect_url=redirect_url,
            clock=Clock(ticking=not frozen_clock),
        ).start()
    except (ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    lines = [
        f"TikTok Shop sandbox at {box.url} ({len(box.state.sellers)} seller(s), "
        f"{len(box.state.shops)} shops, {len(box.state.orders)} orders)",
        "",
        f"export TIKTOK_BASE_URL={box.url} TIKTOK_AUTH_BASE_URL={box.url}",
        f"export TIKTOK_AUTHORIZE_URL={box.url}/open/authorize TIKTOK_SANDBOX_URL={box.url}",
        f"export TIKTOK_APP_KEY={box.app_key} TIKTOK_APP_SECRET={box.app_secret}",
        f"export TIKTOK_SERVICE_ID={box.service_id}",
        "",
        f"Control API: {box.url}/_sandbox (docs/sandbox.md). These credentials work only here. Ctrl-C stops.",
    ]
    click.echo("\n".join(lines))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        err.print("stopping")
    finally:
        box.stop()
