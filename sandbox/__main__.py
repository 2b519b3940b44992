"""``python -m tiktokshop.sandbox [--port N] [--orders N] [--seed N]``: serve a sandbox until Ctrl-C."""

# pyright: standard

from __future__ import annotations

import argparse
import sys
import time

from ._sandbox import Sandbox


def main(argv: list[str] | None = None) -> int:
    """Start a sandbox on 127.0.0.1, print how to use it, and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tiktokshop.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--orders", type=int, default=1000, help="orders to generate (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    parser.add_argument("--sellers", type=int, default=1, help="sellers that can authorize the app")
    parser.add_argument("--shops", type=int, default=2, help="shops of each seller after the first")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sandbox = Sandbox(
        orders=args.orders, seed=args.seed, port=args.port, sellers=args.sellers, shops_per_seller=args.shops
    ).start()
    took = time.perf_counter() - started
    lines = [
        f"TikTok Shop sandbox serving at {sandbox.url} "
        f"({args.orders} orders, seed {args.seed}, ready in {took:.1f} s)",
        "",
        f"  TIKTOK_BASE_URL={sandbox.url}",
        f"  TIKTOK_AUTH_BASE_URL={sandbox.url}",
        f"  TIKTOK_APP_KEY={sandbox.app_key}",
        f"  TIKTOK_APP_SECRET={sandbox.app_secret}",
        f"  TIKTOK_SERVICE_ID={sandbox.service_id}",
        f"  TIKTOK_SHOP_ID={sandbox.shop.id}",
        f"  TIKTOK_SHOP_CIPHER={sandbox.shop_cipher}",
        f"  TIKTOK_ACCESS_TOKEN={sandbox.access_token}",
        f"  TIKTOK_REFRESH_TOKEN={sandbox.refresh_token}",
        "",
        f"Authorization page: {sandbox.authorize_url()}",
        f"Control API: {sandbox.url}/_sandbox (every control in docs/sandbox.md)",
        "These are sandbox credentials: they work only here. Ctrl-C stops.",
    ]
    print("\n".join(lines), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
