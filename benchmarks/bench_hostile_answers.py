"""What hostile answers cost the client: RSS growth and wall time per case, from a hostile server on
127.0.0.1 (figures, not pass/fail; the tests hold generous bounds)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hostile import MB, HostileServer, RssMeter, gzip_bomb
from tiktokshop import TikTokShop, TikTokShopError


def main() -> None:
    gzip_bomb()  # built once, before the clock starts (1 GiB of zeros, compressed)
    with HostileServer() as server:
        client = TikTokShop(
            app_key="k",
            app_secret="secret-value",
            access_token="token",
            shop_cipher="cipher",
            base_url=server.url,
            max_retries=0,
            total_timeout=3,
        )
        for mode in ("big", "bomb", "endless", "deep", "trickle_headers", "trickle_body"):
            server.mode = mode
            meter = RssMeter()
            started = time.monotonic()
            with meter.measure():
                try:
                    client.order.get_order_list(page_size=5)
                except TikTokShopError as exc:
                    outcome = type(exc).__name__
                else:
                    outcome = "ok"
            took = time.monotonic() - started
            print(f"{mode:16} {outcome:24} +{meter.peak_growth / MB:6.1f} MB RSS  {took:5.2f} s")


if __name__ == "__main__":
    main()
