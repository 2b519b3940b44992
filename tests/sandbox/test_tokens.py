"""Authorization page, one-time codes, token exchange, refresh rotation and expiry, on the sandbox clock."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.sandbox._raw import code, send
from tiktokshop import ApiError, AuthenticationError
from tiktokshop.sandbox import ERRORS, Sandbox

C = {name: kind.code for name, kind in ERRORS.items()}


def _follow(sandbox: Sandbox, url: str) -> httpx.Response:
    with httpx.Client(transport=sandbox.transport(), follow_redirects=False) as http:
        return http.get(url)


def test_authorization_page_redirects_with_a_code_and_the_state(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        link = client.auth.authorization_url(state="xyz-123")
        r = _follow(sandbox, link.url)
    assert r.status_code == 302
    location = urlsplit(r.headers["location"])
    assert location.path == "/sandbox/callback"
    params = parse_qs(location.query)
    assert params["state"] == ["xyz-123"] and params["code"][0]


def test_redirect_goes_to_the_configured_url() -> None:
    sandbox = Sandbox(orders=10, redirect_url="http://127.0.0.1:9/cb?app=1")
    r = _follow(sandbox, sandbox.authorize_url("s1"))
    assert r.headers["location"].startswith("http://127.0.0.1:9/cb?app=1&code=")


def test_unknown_service_id_is_refused(sandbox: Sandbox) -> None:
    r = _follow(sandbox, f"{sandbox.url}/open/authorize?service_id=123&state=s")
    assert r.status_code == 400 and code(r) == C["UNKNOWN_SERVICE_ID"]


def test_code_exchange_works_once(sandbox: Sandbox) -> None:
    auth_code = sandbox.issue_auth_code()
    with sandbox.client(access_token=None, refresh_token=None) as client:
        token = client.auth.get_access_token(auth_code)
        assert client.access_token == token.access_token
        assert token.access_token_expire_in == int(sandbox.clock.now()) + 7 * 86400
        assert client.authorization.get_authorized_shops().shops
        with pytest.raises(AuthenticationError) as info:
            client.auth.get_access_token(auth_code)
    assert info.value.code == C["INVALID_AUTH_CODE"]


def test_code_expires_after_30_minutes(sandbox: Sandbox) -> None:
    fresh, stale = sandbox.issue_auth_code(), sandbox.issue_auth_code()
    sandbox.clock.advance(29 * 60)
    with sandbox.client() as client:
        client.auth.get_access_token(fresh)
        sandbox.clock.advance(2 * 60)
        with pytest.raises(AuthenticationError) as info:
            client.auth.get_access_token(stale)
    assert info.value.code == C["EXPIRED_AUTH_CODE"]


def test_wrong_app_secret_on_the_token_endpoint(sandbox: Sandbox) -> None:
    with sandbox.client(app_secret="nope") as client, pytest.raises(ApiError) as info:
        client.auth.get_access_token(sandbox.issue_auth_code())
    assert info.value.code == C["INVALID_APP_CREDENTIALS"]


def test_refresh_rotates_and_the_old_refresh_token_stops_working(sandbox: Sandbox) -> None:
    old_refresh = sandbox.refresh_token
    with sandbox.client() as client:
        new = client.auth.refresh_access_token()
        assert new.refresh_token != old_refresh and new.access_token != sandbox.access_token
        assert client.order.get_order_list(page_size=1).orders
    with sandbox.client() as stale, pytest.raises(AuthenticationError) as info:
        stale.auth.refresh_access_token()
    assert info.value.code == C["INVALID_REFRESH_TOKEN"]
    r = send(sandbox, "GET", "/authorization/202309/shops", token=new.access_token, shop_cipher=None)
    assert code(r) == 0


def test_access_token_expires_after_seven_days_and_the_client_refreshes(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        before = client.access_token
        sandbox.clock.advance(7 * 86400 - 60)  # inside the client's 5-minute margin: it refreshes first
        assert client.order.get_order_list(page_size=1).orders
        assert client.access_token != before
    ops = [r.op_id for r in sandbox.requests]
    assert ops[-2:] == ["auth.refresh_access_token", "order.get_order_list"]
    r = send(sandbox, "GET", "/authorization/202309/shops", token=before, shop_cipher=None)
    assert code(r) == 0  # still valid for its last minute
    sandbox.clock.advance(61)
    r = send(sandbox, "GET", "/authorization/202309/shops", token=before, shop_cipher=None)
    assert code(r) == 105002


def test_an_expired_token_answer_makes_the_client_refresh_once(sandbox: Sandbox) -> None:
    # The client does not know when its token expires: it learns it from the 105002 answer.
    with sandbox.client(access_token_expire=None) as client:
        sandbox.clock.advance(8 * 86400)
        assert client.order.get_order_list(page_size=1).orders
    ops = [r.op_id for r in sandbox.requests]
    codes = [r.code for r in sandbox.requests]
    assert ops == ["order.get_order_list", "auth.refresh_access_token", "order.get_order_list"]
    assert codes == [105002, 0, 0]


def test_refresh_token_expires(sandbox: Sandbox) -> None:
    sandbox.clock.advance(366 * 86400)
    with sandbox.client(refresh_token_expire=None) as client, pytest.raises(AuthenticationError) as info:
        client.auth.refresh_access_token()
    assert info.value.code == C["EXPIRED_REFRESH_TOKEN"]


def test_wrong_grant_type(sandbox: Sandbox) -> None:
    url = (
        f"{sandbox.url}/api/v2/token/get?app_key={sandbox.app_key}&app_secret={sandbox.app_secret}"
        f"&auth_code={sandbox.issue_auth_code()}&grant_type=refresh_token"
    )
    assert code(_follow(sandbox, url)) == C["INVALID_GRANT_TYPE"]
