"""No secret (app secret, tokens, sign, the token endpoints' URLs) in logs, reprs or exceptions."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest

from tests.fake import APP_SECRET, FakeTikTok
from tiktokshop import TikTokShopError


def test_full_flow_with_faults_leaks_nothing(fake: FakeTikTok, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    faults = [httpx.Response(503, text="busy"), None]
    fake.on(
        "GET",
        "/authorization/202309/shops",
        lambda s: faults.pop(0) or {"shops": [{"cipher": "C1", "id": "1"}]},
    )
    fake.on(
        "POST", "/order/202309/orders/search", lambda s: fake.envelope(None, code=105002, message="expired")
    )
    client = fake.client(access_token=None, refresh_token=None)
    secrets = {APP_SECRET}
    token = client.auth.get_access_token("good-code")
    secrets |= {token.access_token, token.refresh_token}
    texts += [repr(client), str(client), repr(token), str(token), repr(client._tokens), repr(client._config)]
    client.authorization.get_authorized_shops()
    client.auth.refresh_access_token()
    secrets |= {client.access_token or "", client.refresh_token or ""}
    for call in [
        lambda: client.order.get_order_list(page_size=5),
        lambda: client.auth.get_access_token("bad"),
    ]:
        try:
            call()
        except TikTokShopError as exc:
            texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        else:
            raise AssertionError("the call should have failed")
    secrets |= {s.query["sign"] for s in fake.seen}
    secrets |= {s.headers.get("x-tts-access-token", "") for s in fake.seen}
    secrets |= set(fake.token_calls[0].query.values()) - {"authorized_code", "test-app-key"}
    secrets.discard("")
    texts += [r.getMessage() for r in caplog.records]
    assert caplog.records, "the flow logged something"
    assert any("HTTP Request" in r.getMessage() for r in caplog.records), "httpx's own lines are checked too"
    found = sorted({s for s in secrets for t in texts if s in t})
    assert found == [], f"secrets leaked: {found}"
    assert len(secrets) >= 8
