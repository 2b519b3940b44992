"""The cheaper ways a call goes out and comes back keep every behaviour.

- The client's own pool sends straight to its transport (no proxy in the environment); a pool
  the user passes in, or a proxy, still goes through ``httpx.Client.send``.
- An answer is read into a small ``Answer``: hooks, raw responses and errors still see its
  status, headers (without transfer framing) and decompressed body; models keep unknown fields
  and take new enum values; ``request_id`` and paging work.
- Request URLs are built from the base URL's parsed parts, checked against ``httpx.URL`` on
  first use (the public way is used when they differ).
- The deadline watchdog finds the sockets of a blocked exchange in its thread's frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.fake import ACCESS_TOKEN, API, APP_KEY, APP_SECRET, SHOP_CIPHER, FakeTikTok
from tiktokshop import ApiError, AsyncTikTokShop, RequestEvent, ResponseEvent, TikTokShop
from tiktokshop._base_client import _json_request, _Urls, _urls
from tiktokshop._transport import _exchange, _sockets_in_flight

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
Answer = tuple[int, list[tuple[str, str]], bytes]


class KeepAliveServer:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 whose ``answer(target)`` gives each answer."""

    def __init__(self, answer: Callable[[str], Answer]) -> None:
        self.answer = answer
        self.targets: list[str] = []
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(OSError):
                    outer._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, sock: socket.socket) -> None:
        data = b""
        while True:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            while len(data) < length:
                data += sock.recv(65536)
            data = data[length:]
            target = lines[0].split(" ")[1]
            self.targets.append(target)
            status, headers, body = self.answer(target)
            out = [f"HTTP/1.1 {status} X", f"content-length: {len(body)}"]
            out += [f"{k}: {v}" for k, v in headers]
            sock.sendall(("\r\n".join(out) + "\r\n\r\n").encode() + body)


def _envelope(data: Any, code: int = 0, request_id: str = "req-1") -> bytes:
    return json.dumps({"code": code, "message": "m", "request_id": request_id, "data": data}).encode()


def _order(n: int) -> dict[str, Any]:
    return {"id": str(n), "status": "SOME_STATUS_TIKTOK_ADDS_LATER", "brand_new_field": {"x": n}}


def _pages(target: str) -> Answer:
    """Two gzip pages of orders; the second is asked for with page_token=p2."""
    second = "page_token=p2" in target
    data = {
        "orders": [_order(2 if second else 1)],
        "next_page_token": "" if second else "p2",
        "total_count": 2,
    }
    body = gzip.compress(_envelope(data, request_id="req-2" if second else "req-1"))
    return (
        200,
        [("content-type", "application/json"), ("content-encoding", "gzip"), ("x-extra", "kept")],
        body,
    )


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pages() -> Iterator[KeepAliveServer]:
    server = KeepAliveServer(_pages)
    yield server
    server.close()


def _kwargs(url: str, **more: Any) -> dict[str, Any]:
    return {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "access_token": ACCESS_TOKEN,
        "shop_cipher": SHOP_CIPHER,
        "base_url": url,
        "max_retries": 0,
        **more,
    }


def test_own_pool_goes_straight_to_its_transport_and_keeps_every_behaviour(
    no_proxy: None, pages: KeepAliveServer
) -> None:
    seen: list[RequestEvent | ResponseEvent] = []
    client = TikTokShop(**_kwargs(pages.url, on_request=seen.append, on_response=seen.append))
    assert client._direct is not None  # pyright: ignore[reportPrivateUsage]
    page = client.order.get_order_list(page_size=1)
    assert page.request_id == "req-1"
    order = page.orders[0]
    assert order.status == "SOME_STATUS_TIKTOK_ADDS_LATER"  # a new enum value is taken
    assert order.model_extra == {"brand_new_field": {"x": 1}}  # an unknown field is kept
    ids = [o.id for o in page.auto_paging_iter()]
    assert ids == ["1", "2"]
    assert "page_token=p2" in pages.targets[-1]
    response = next(e for e in seen if isinstance(e, ResponseEvent))
    assert response.status_code == 200 and response.request_id == "req-1"
    assert response.headers["x-extra"] == "kept"
    assert "content-encoding" not in response.headers  # the body is held decompressed
    raw = client.order.with_raw_response.get_order_list(page_size=1)
    assert json.loads(raw.content)["request_id"] == "req-1"
    assert raw.headers["x-extra"] == "kept" and "content-length" not in raw.headers
    assert raw.parse().orders[0].id == "1"
    shop = client.for_shop(shop_cipher="another-cipher")  # on the same pool, the same way
    assert shop._direct is client._direct  # pyright: ignore[reportPrivateUsage]
    assert shop.order.get_order_list(page_size=1).request_id == "req-1"
    assert client.for_seller("other-seller")._direct is client._direct  # pyright: ignore[reportPrivateUsage]
    client.close()
    with pytest.raises(RuntimeError):  # as httpx says for a closed client
        client.order.get_order_list(page_size=1)


def test_errors_from_the_direct_path_carry_the_answer(no_proxy: None) -> None:
    def refuse(target: str) -> Answer:
        return 429, [("retry-after", "7"), ("x-extra", "kept")], _envelope(None, 36009004, "req-e")

    server = KeepAliveServer(refuse)
    try:
        client = TikTokShop(**_kwargs(server.url))
        assert client._direct is not None  # pyright: ignore[reportPrivateUsage]
        with pytest.raises(ApiError) as info:
            client.order.get_order_list(page_size=1)
        error = info.value
        assert error.code == 36009004 and error.request_id == "req-e" and error.status_code == 429
        assert error.retry_after == 7.0
        assert error.response is not None and error.response.headers["x-extra"] == "kept"
        assert json.loads(error.response.content)["code"] == 36009004
        client.close()
    finally:
        server.close()


def test_a_proxy_or_a_pool_passed_in_goes_through_httpx_send(
    monkeypatch: pytest.MonkeyPatch, pages: KeepAliveServer
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with TikTokShop(**_kwargs(pages.url)) as proxied:
        assert proxied._direct is None  # pyright: ignore[reportPrivateUsage]
    monkeypatch.delenv("HTTPS_PROXY")
    hooked: list[str] = []
    pool = httpx.Client(event_hooks={"request": [lambda request: hooked.append(request.url.path)]})
    client = TikTokShop(**_kwargs(pages.url), http_client=pool)
    assert client._direct is None  # pyright: ignore[reportPrivateUsage]
    assert client.order.get_order_list(page_size=1).request_id == "req-1"
    assert hooked == ["/order/202309/orders/search"]  # the user's pool still runs its hooks
    pool.close()


def test_async_own_pool_goes_straight_to_its_transport(no_proxy: None, pages: KeepAliveServer) -> None:
    async def run() -> None:
        seen: list[ResponseEvent] = []
        client = AsyncTikTokShop(**_kwargs(pages.url, on_response=seen.append))
        assert client._direct is not None  # pyright: ignore[reportPrivateUsage]
        page = await client.order.get_order_list(page_size=1)
        assert page.request_id == "req-1"
        assert page.orders[0].model_extra == {"brand_new_field": {"x": 1}}
        ids = [o.id async for o in page.auto_paging_aiter()]
        assert ids == ["1", "2"]
        assert "content-encoding" not in seen[0].headers and seen[0].headers["x-extra"] == "kept"
        await client.close()

    asyncio.run(run())


# -- request URLs ---------------------------------------------------------------------------------


def test_request_urls_are_built_from_parts_as_httpx_would_parse_them(fake: FakeTikTok) -> None:
    """Fails when httpx changes its parsed URL form: then every URL takes the public (slower) way."""
    sent: list[httpx.Request] = []
    fake.on("POST", "/order/202309/orders/search", {"orders": []})
    client = fake.client(
        http_client=httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or fake(r)))
    )
    client.order.get_order_list(page_size=5, order_status="AWAITING_SHIPMENT")
    assert _urls(API).fast is True
    url = sent[-1].url
    public = httpx.URL(str(url))
    assert url == public and url.raw_path == public.raw_path and url.host == public.host
    assert url.params["page_size"] == "5" and url.params["shop_cipher"] == SHOP_CIPHER


def test_a_url_that_differs_from_httpx_falls_back_to_the_public_way(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = _Urls("https://fallback.test/base")

    def wrong(self: _Urls, path: str, query: str) -> httpx.URL:
        return httpx.URL("https://fallback.test/elsewhere")

    monkeypatch.setattr(_Urls, "_from_parts", wrong)
    first = urls.url("/order/1", "a=1")
    assert urls.fast is False and first == "https://fallback.test/base/order/1?a=1"
    assert urls.url("/order/2", "a=2") == "https://fallback.test/base/order/2?a=2"


def test_a_path_httpx_would_escape_takes_the_public_way() -> None:
    urls = _Urls("https://escape.test")
    assert urls.url("/x/a'b c", "q=1") == "https://escape.test/x/a'b c?q=1"
    assert isinstance(urls.url("/x/plain_id-1.2~", "q=1"), httpx.URL)


def test_signed_calls_pass_the_fake_with_either_way_of_building_urls(
    fake: FakeTikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.on("POST", "/order/202309/orders/search", {"orders": []})
    client = fake.client()
    assert client.order.get_order_list(page_size=5).request_id
    monkeypatch.setattr("tiktokshop._base_client._URLS", {})
    monkeypatch.setattr(_Urls, "__init__", lambda self, base: _no_fast(self, base))
    assert client.order.get_order_list(page_size=5).request_id


def _no_fast(urls: _Urls, base: str) -> None:
    urls.base_url, urls.fast, urls.parts = base, False, None


# -- the watchdog's socket finder ---------------------------------------------------------------


def test_the_watchdog_finds_the_socket_of_a_blocked_exchange() -> None:
    """Fails when httpcore no longer keeps its socket where the finder looks: then a deadline
    could not cut a read short."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    pool = httpx.Client()
    request = pool.build_request("GET", f"http://127.0.0.1:{port}/silent")
    outcome: list[BaseException] = []
    ident: list[int] = []

    def call() -> None:
        ident.append(threading.get_ident())
        try:
            _exchange(pool, None, request, 1000, "test", None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    found: list[socket.socket] = []
    give_up = time.monotonic() + 10
    while not found and time.monotonic() < give_up:
        time.sleep(0.05)
        if ident:
            found = _sockets_in_flight(ident[0])
    assert found, "no socket found in the frames of the blocked exchange"
    assert any(s.getpeername()[1] == port for s in found)
    assert _sockets_in_flight(threading.get_ident()) == []  # not in an exchange: nothing
    for sock in found:
        sock.shutdown(socket.SHUT_RDWR)
    worker.join(10)
    assert not worker.is_alive() and isinstance(outcome[0], httpx.HTTPError)
    listener.close()
    for sock in accepted:
        sock.close()


def test_nothing_is_traced_per_request(fake: FakeTikTok) -> None:
    sent: list[httpx.Request] = []
    fake.on("POST", "/order/202309/orders/search", {"orders": []})
    client = fake.client(
        http_client=httpx.Client(transport=httpx.MockTransport(lambda r: sent.append(r) or fake(r)))
    )
    client.order.get_order_list(page_size=5)
    assert "trace" not in sent[-1].extensions
    assert set(sent[-1].extensions["timeout"]) == {"connect", "read", "write", "pool"}


@pytest.mark.parametrize(
    ("method", "content"), [("POST", b'{"a":1}'), ("POST", None), ("GET", None), ("DELETE", b"{}")]
)
def test_json_requests_are_what_httpx_builds(method: str, content: bytes | None) -> None:
    url = httpx.URL("https://api.test:8443/order/1?a=1&sign=x")
    headers = {"x-tts-access-token": "t", "user-agent": "u", "content-type": "application/json"}
    ours = _json_request(method, url, "api.test:8443", dict(headers), content)
    theirs = httpx.Request(method, url, headers=dict(headers), content=content)
    assert ours.headers.raw == theirs.headers.raw
    assert ours.content == theirs.content and ours.method == theirs.method and ours.url == theirs.url
    assert _Urls("https://api.test:8443").host == "api.test:8443"
    assert _Urls("https://api.test:443/x").host == "api.test"


@pytest.mark.parametrize(
    "base",
    [
        "https://a.test",
        "https://a.test/",
        "https://a.test/prefix",
        "http://127.0.0.1:8080",
        "http://[::1]:8080/x",
        "https://A.Test:443",
    ],
)
def test_urls_from_parts_equal_httpx_urls_for_any_base(base: str) -> None:
    urls = _Urls(base)
    for path, query in (("/order/202309/orders/search", "a=1&sign=ab%2Fc"), ("/p/%C3%A9-1", "")):
        url = urls.url(path, query)
        public = httpx.URL(base + path + "?" + query)
        assert httpx.URL(url) == public
        assert httpx.URL(url).raw_path == public.raw_path and httpx.URL(url).netloc == public.netloc
    assert urls.fast is True
