"""Issue 4 end to end: the client against the sandbox over real HTTP, with its faults and request log.

Counts asserted here (and quoted in the closing note): one refresh for 50 threads and for two
processes, no 429 in a 1,000-call burst at 50 QPS with the limiter on, writes never repeated by
the client after they may have reached TikTok, and zero secrets in logs, reprs or errors.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import traceback
from pathlib import Path
from typing import Any

import httpx
import pytest

from tiktokshop import (
    JsonFileTokenStore,
    MalformedResponseError,
    RateLimiter,
    RateLimitError,
    TikTokShop,
    TikTokShopError,
)
from tiktokshop.sandbox import Sandbox

REFRESH = "auth.refresh_access_token"
SEARCH = "order.get_order_list"
WEEK = 8 * 86400


@pytest.fixture(scope="module")
def sandbox() -> Any:
    with Sandbox(orders=300, seed=4) as sb:
        yield sb


@pytest.fixture(autouse=True)
def close_clients(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Close every client a test makes (their pools hold sockets to the sandbox)."""
    made: list[TikTokShop] = []
    original = Sandbox.client

    def client(self: Sandbox, **kwargs: Any) -> TikTokShop:
        made.append(original(self, **kwargs))
        return made[-1]

    monkeypatch.setattr(Sandbox, "client", client)
    yield
    for c in made:
        c.close()


def _count(sb: Sandbox, op_id: str, since: int = 0) -> int:
    return sum(1 for r in list(sb.requests)[since:] if r.op_id == op_id)


def _package_to_ship(sb: Sandbox, client: TikTokShop) -> str:
    page = client.order.get_order_list(page_size=50, order_status="AWAITING_SHIPMENT")
    for order in page.auto_paging_iter():
        detail = client.order.get_order_detail(ids=[order.id])
        for o in detail.orders or []:
            for p in o.packages or []:
                if p.id and p.id not in _package_to_ship.used:
                    _package_to_ship.used.add(p.id)
                    return p.id
    raise AssertionError("the sandbox has a package awaiting shipment")


_package_to_ship.used = set()  # type: ignore[attr-defined]


# -- retries and faults -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http_5xx", "http_429", "rate_limit_code", "internal_code", "drop_before"])
def test_read_is_retried_through_transient_faults(sandbox: Sandbox, kind: str) -> None:
    sleeps: list[float] = []
    client = sandbox.client(sleep=sleeps.append, max_retries=3)
    start = len(sandbox.requests)
    sandbox.faults.inject(SEARCH, kind, times=2, retry_after=2)
    page = client.order.get_order_list(page_size=5)
    assert page.orders is not None
    assert _count(sandbox, SEARCH, start) == 3 and len(sleeps) == 2
    if kind == "http_429":
        assert all(2.0 <= s <= 2.5 for s in sleeps), "Retry-After is honoured (plus jitter)"


def test_read_times_out_then_recovers(sandbox: Sandbox) -> None:
    client = sandbox.client(timeout=0.3, sleep=lambda s: None)
    sandbox.faults.inject(SEARCH, "slow", delay=1.0)
    assert client.order.get_order_list(page_size=5).orders is not None


def test_malformed_json_is_a_clear_error(sandbox: Sandbox) -> None:
    sandbox.faults.inject(SEARCH, "malformed_json")
    with pytest.raises(MalformedResponseError) as info:
        sandbox.client().order.get_order_list(page_size=5)
    assert info.value.status_code == 200 and info.value.body_start


@pytest.mark.parametrize("kind", ["drop_after", "drop_before", "http_5xx", "internal_code"])
def test_write_is_not_repeated_after_it_may_have_reached_tiktok(sandbox: Sandbox, kind: str) -> None:
    client = sandbox.client(sleep=lambda s: None, max_retries=5)
    package = _package_to_ship(sandbox, client)
    start = len(sandbox.requests)
    sandbox.faults.inject("fulfillment.ship_package", kind)
    with pytest.raises(TikTokShopError):
        client.fulfillment.ship_package(package, handover_method="DROP_OFF")
    assert _count(sandbox, "fulfillment.ship_package", start) == 1


def test_rate_limit_answer_carries_retry_after(sandbox: Sandbox) -> None:
    sandbox.faults.inject(SEARCH, "http_429", retry_after=7)
    with pytest.raises(RateLimitError) as info:
        sandbox.client(max_retries=0).order.get_order_list(page_size=5)
    assert info.value.retry_after == 7.0 and info.value.status_code == 429


# -- tokens -------------------------------------------------------------------------------------


def test_fifty_threads_on_an_expired_token_share_one_refresh() -> None:
    with Sandbox(orders=50, seed=5) as sb:
        client = sb.client()
        sb.clock.advance(WEEK)  # the client's access token has expired, by the clock they share
        start = len(sb.requests)
        barrier, errors = threading.Barrier(50), []

        def work() -> None:
            barrier.wait()
            try:
                client.authorization.get_authorized_shops()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert _count(sb, REFRESH, start) == 1
        assert _count(sb, "authorization.get_authorized_shops", start) == 50


def test_token_tiktok_expired_early_is_refreshed_once_and_call_repeated() -> None:
    with Sandbox(orders=50, seed=6) as sb:
        client = sb.client(access_token_expire=None)  # the client does not know the expiry
        sb.clock.advance(WEEK)
        start = len(sb.requests)
        client.authorization.get_authorized_shops()
        assert _count(sb, REFRESH, start) == 1
        assert [r.code for r in list(sb.requests)[start:] if r.op_id != REFRESH] == [105002, 0]


def _worker(
    url: str,
    app_key: str,
    app_secret: str,
    cipher: str,
    access: str,
    refresh: str,
    store: str,
    go: Any,
    out: Any,
) -> None:
    import time

    client = TikTokShop(
        app_key=app_key,
        app_secret=app_secret,
        shop_cipher=cipher,
        access_token=access,
        refresh_token=refresh,
        base_url=url,
        auth_base_url=url,
        token_store=JsonFileTokenStore(store),
        clock=lambda: time.time() + WEEK,
    )  # the sandbox's clock is a week ahead
    go.wait(30)
    try:
        client.authorization.get_authorized_shops()
        out.put(("ok", client.refresh_token))
    except Exception as exc:
        out.put(("error", type(exc).__name__ + ": " + str(exc)))


def test_two_processes_share_one_refresh_through_the_token_store(tmp_path: Path) -> None:
    with Sandbox(orders=50, seed=7) as sb:
        store = str(tmp_path / "tokens.json")
        ctx = multiprocessing.get_context("spawn")
        go, out = ctx.Event(), ctx.Queue()
        args = (sb.url, sb.app_key, sb.app_secret, sb.shop_cipher, sb.access_token, sb.refresh_token, store)
        procs = [ctx.Process(target=_worker, args=(*args, go, out)) for _ in range(2)]
        for p in procs:
            p.start()
        sb.clock.advance(WEEK)  # both workers' token expires (they learn it from TikTok's answer)
        start = len(sb.requests)
        go.set()
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(30)
        assert [r[0] for r in results] == ["ok", "ok"], results
        assert _count(sb, REFRESH, start) == 1
        assert (
            results[0][1] == results[1][1] == JsonFileTokenStore(store).load("default").tokens.refresh_token
        )  # type: ignore[union-attr]


# -- rate limiting ------------------------------------------------------------------------------


def test_burst_of_1000_calls_at_50_qps_gets_no_429() -> None:
    with Sandbox(orders=50, seed=8, rate_limits={"*": 50}) as sb:
        limiter = RateLimiter(per_app=None, per_shop=50)
        client = sb.client(rate_limiter=limiter, max_retries=0)
        start = len(sb.requests)
        errors: list[BaseException] = []

        def work() -> None:
            for _ in range(100):
                try:
                    client.product.get_categories()
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = list(sb.requests)[start:]
        assert errors == [] and len(log) == 1000
        assert sum(1 for r in log if r.status == 429) == 0


def test_same_burst_without_the_limiter_meets_429s() -> None:
    with Sandbox(orders=50, seed=9, rate_limits={"*": 50}) as sb:
        client = sb.client(max_retries=0)
        refused = 0
        for _ in range(120):
            try:
                client.product.get_categories()
            except RateLimitError:
                refused += 1
        assert refused > 0


# -- secrets ------------------------------------------------------------------------------------


def test_no_secret_anywhere_in_a_full_flow_with_faults(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sent: list[str] = []
    texts: list[str] = []
    with Sandbox(orders=80, seed=10) as sb, contextlib.ExitStack() as stack:
        http = httpx.Client(event_hooks={"request": [lambda r: sent.append(str(r.url))]})
        stack.callback(http.close)
        client = sb.client(
            http_client=http, access_token=None, refresh_token=None, sleep=lambda s: None, max_retries=5
        )
        link = client.auth.authorization_url()
        code = http.get(link.url, follow_redirects=False).headers["location"].split("code=")[1].split("&")[0]
        token = client.auth.get_access_token(code)
        sb.faults.inject("*", "http_5xx", times=2)
        sb.faults.inject(SEARCH, "drop_before")
        page = client.order.get_order_list(page_size=10, order_status="AWAITING_SHIPMENT")
        list(page.auto_paging_iter())
        client.auth.refresh_access_token()
        sb.clock.advance(WEEK)
        client.authorization.get_authorized_shops()  # refreshes ahead of expiry
        sb.faults.inject(SEARCH, "malformed_json")
        for call in (
            lambda: client.order.get_order_list(page_size=10),
            lambda: client.auth.get_access_token(code),  # a code works once
            lambda: sb.client(app_secret="wrong-secret-123").order.get_order_list(page_size=5),
        ):
            try:
                call()
            except TikTokShopError as exc:
                texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
        texts += [repr(client), repr(token), repr(client._tokens), repr(client._config), str(token)]
        secrets = {
            sb.app_secret,
            token.access_token,
            token.refresh_token,
            client.access_token or "",
            client.refresh_token or "",
            code,
        }
        for url in sent:
            query = httpx.URL(url).params
            secrets |= {v for k, v in query.multi_items() if k in ("sign", "app_secret", "refresh_token")}
            if "/api/v2/token/" in url:
                secrets.add(url)
    texts += [r.getMessage() for r in caplog.records]
    texts += [str(r.args) for r in caplog.records]
    secrets.discard("")
    assert len(secrets) > 10
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)
    found = sorted(
        s[:12] + "... in " + next(t for t in texts if s in t)[:300]
        for s in secrets
        if any(s in t for t in texts)
    )
    assert found == [], f"secrets found: {found}"
