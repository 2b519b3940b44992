"""Token persistence: stores keyed by seller, atomic writes, locks across threads, tasks and
processes, refreshes shared through a store, and what an interrupted save leaves behind."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.fake import FakeTikTok
from tiktokshop import (
    AsyncTikTokShop,
    AuthorizedShop,
    JsonFileTokenStore,
    MemoryTokenStore,
    SellerRecord,
    SqliteTokenStore,
    TokenState,
    TokenStore,
    TokenStoreError,
)
from tiktokshop.sandbox import Sandbox

SHOPS = ("GET", "/authorization/202309/shops")
WEEK = 7 * 24 * 3600


def _record(seller: str, n: int, shops: int = 0) -> SellerRecord:
    return SellerRecord(
        seller,
        TokenState(f"access-{n}", 2_000_000_000 + n, f"refresh-{n}", 2_100_000_000 + n),
        name=f"Seller {n}",
        region="GB",
        shops=tuple(
            AuthorizedShop(f"shop-{n}-{i}", f"cipher-{n}-{i}", "GB", f"Shop {i}") for i in range(shops)
        ),
    )


@pytest.mark.parametrize("kind", ["json", "sqlite", "memory"])
def test_store_round_trip_keyed_by_seller(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "tokens.db"
    store: TokenStore = (
        JsonFileTokenStore(path)
        if kind == "json"
        else SqliteTokenStore(path)
        if kind == "sqlite"
        else MemoryTokenStore()
    )
    assert isinstance(store, TokenStore)
    assert store.load("seller-a") is None
    store.save(_record("seller-a", 1, shops=2))
    store.save(_record("seller-b", 2, shops=1))
    a = store.load("seller-a")
    assert a is not None and a.tokens.access_token == "access-1" and len(a.shops) == 2
    assert a.shop("cipher-1-1") == AuthorizedShop("shop-1-1", "cipher-1-1", "GB", "Shop 1")
    assert store.sellers() == ["seller-a", "seller-b"]
    assert asyncio.run(store.aload("seller-b")).tokens.refresh_token == "refresh-2"  # type: ignore[union-attr]
    if kind != "memory":
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "access-1" not in repr(store) and "access-1" not in repr(a) and "refresh-1" not in repr(a)


def test_crash_mid_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    store = JsonFileTokenStore(path)
    store.save(_record("s", 1))
    before = path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(TokenStoreError, match="No space left"):
        store.save(_record("s", 2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


_SAVER = """
import sys
from tiktokshop import JsonFileTokenStore, SellerRecord, TokenState
store = JsonFileTokenStore(sys.argv[1])
print("ready", flush=True)
n = 0
while True:
    n += 1
    store.save(SellerRecord(f"seller-{n % 7}", TokenState(f"SECRET-access-{n}", n, f"SECRET-refresh-{n}", n)))
"""


def test_kill_9_during_saves_leaves_no_token_file_behind(tmp_path: Path) -> None:
    """Workers killed mid-save: the file stays whole, and the next store to open it removes every
    temporary file (each holds tokens) that the killed saves left."""
    path = tmp_path / "tokens.json"
    JsonFileTokenStore(path).save(_record("seller-0", 0))
    left = 0
    for i in range(12):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.02 + (i % 5) * 0.013)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        left += sum(1 for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
        json.loads(path.read_text())  # whole after every kill
    store = JsonFileTokenStore(path)
    store.open()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert store.load("seller-0") is not None
    assert all(
        "SECRET" not in p.read_text() for p in tmp_path.iterdir() if p.is_file() and p.suffix == ".tmp"
    )


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(TokenStoreError, match="not valid JSON"):
        JsonFileTokenStore(path).load("s")


def _hold_lock(path: str, held: str, release: str) -> None:
    store = JsonFileTokenStore(path)
    with store.lock("seller-1"):
        Path(held).write_text("1")
        deadline = time.time() + 10
        while not Path(release).exists() and time.time() < deadline:
            time.sleep(0.01)


def test_seller_lock_excludes_other_processes_not_other_sellers(tmp_path: Path) -> None:
    path, held, release = tmp_path / "t.json", tmp_path / "held", tmp_path / "release"
    proc = multiprocessing.get_context("spawn").Process(
        target=_hold_lock, args=(str(path), str(held), str(release))
    )
    proc.start()
    try:
        deadline = time.time() + 20
        while not held.exists() and time.time() < deadline:
            time.sleep(0.01)
        assert held.exists(), "the other process took the lock"
        got = threading.Event()

        def take() -> None:
            with JsonFileTokenStore(path).lock("seller-1"):
                got.set()

        thread = threading.Thread(target=take)
        thread.start()
        with JsonFileTokenStore(path).lock("seller-2"):  # another seller's lock is free
            pass
        assert not got.wait(0.3), "the lock is exclusive while another process holds it"
        release.write_text("1")
        assert got.wait(10), "the lock is granted once released"
        thread.join()
    finally:
        proc.join(10)


def test_lock_excludes_threads_of_one_process_through_separate_stores(tmp_path: Path) -> None:
    inside, most = [0], [0]

    def work() -> None:
        store = JsonFileTokenStore(tmp_path / "t.json")
        for _ in range(20):
            with store.lock("s"):
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                time.sleep(0.001)
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1


def test_async_lock_waits_without_blocking_the_loop(tmp_path: Path) -> None:
    store = JsonFileTokenStore(tmp_path / "t.json")

    async def main() -> int:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        async def holder() -> None:
            async with store.alock("s"):
                await asyncio.sleep(0.5)

        tick = asyncio.create_task(ticker())
        hold = asyncio.create_task(holder())
        await asyncio.sleep(0.05)
        async with JsonFileTokenStore(tmp_path / "t.json").alock("s"):  # waits ~0.45 s
            assert hold.done()
        stop.set()
        await tick
        return ticks

    assert asyncio.run(main()) >= 20, "the loop kept running while a task waited for the lock"


def test_client_saves_tokens_under_the_seller_the_code_names(fake: FakeTikTok, tmp_path: Path) -> None:
    store = JsonFileTokenStore(tmp_path / "tokens.json")
    client = fake.client(access_token=None, refresh_token=None, token_store=store)
    token = client.auth.get_access_token("good-code")
    assert token.open_id == "open-1" and client.seller_id == "open-1"
    saved = store.load("open-1")
    assert (
        saved is not None and saved.tokens.access_token == fake.access_token and saved.name == "Test Seller"
    )
    client.auth.refresh_access_token()
    raw = json.loads((tmp_path / "tokens.json").read_text())["open-1"]
    assert raw["access_token"] == client.access_token and raw["refresh_token"] == client.refresh_token
    assert store.sellers() == ["open-1"]


def test_exchange_can_load_the_sellers_shops(fake: FakeTikTok, tmp_path: Path) -> None:
    fake.on(*SHOPS, {"shops": [{"id": "1", "cipher": "C1", "region": "GB", "name": "One", "code": "X1"}]})
    store = JsonFileTokenStore(tmp_path / "tokens.json")
    client = fake.client(access_token=None, refresh_token=None, token_store=store)
    client.auth.get_access_token("good-code", load_shops=True)
    assert client.shops == (AuthorizedShop("1", "C1", "GB", "One", "X1"),)
    assert store.load("open-1").shops == client.shops  # type: ignore[union-attr]
    one = client.for_shop("1")
    assert one._config.shop_cipher == "C1" and one._tokens is client._tokens


def test_failed_save_after_refresh_is_raised_and_tokens_kept(fake: FakeTikTok) -> None:
    class Broken(MemoryTokenStore):
        broken = False

        def save(self, record: SellerRecord) -> None:
            if self.broken:
                raise OSError("disk full")
            super().save(record)

    store = Broken()
    client = fake.client(token_store=store)
    store.broken = True
    with pytest.raises(TokenStoreError, match="could not be saved"):
        client.auth.refresh_access_token()
    assert client.access_token == fake.access_token, "the new tokens stay usable in memory"


def test_clients_sharing_a_store_share_one_refresh(fake: FakeTikTok) -> None:
    """Two workers (two clients, as two processes would be) with the same stale token: one refresh."""
    fake.on(*SHOPS, {"shops": []})
    store = MemoryTokenStore()
    worker_a = fake.client(token_store=store, seller="open-1")
    worker_b = fake.client(token_store=store, seller="open-1")
    fake.access_token = "revoked-by-tiktok"  # both workers' token is now refused
    worker_a.authorization.get_authorized_shops()
    worker_b.authorization.get_authorized_shops()  # adopts the stored tokens, no second refresh
    assert len(fake.token_calls) == 1
    assert worker_a.access_token == worker_b.access_token == fake.access_token
    assert worker_b.refresh_token == fake.refresh_token, "the rotated refresh token replaced the old one"


def test_rotated_refresh_token_reaches_a_new_client(fake: FakeTikTok, tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    fake.client(token_store=JsonFileTokenStore(path), seller="open-1").auth.refresh_access_token()
    later = fake.client(
        access_token=None, refresh_token=None, token_store=JsonFileTokenStore(path), seller="open-1"
    )
    assert later.refresh_token == fake.refresh_token and later.access_token == fake.access_token


def test_for_shop_shares_the_sellers_tokens_and_for_seller_only_the_pool(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})
    client = fake.client(seller="open-1")
    shop2 = client.for_shop(shop_cipher="CIPHER-2", shop_id="2")
    assert shop2._http is client._http and shop2._tokens is client._tokens
    assert shop2._config.shop_cipher == "CIPHER-2" and shop2.seller_id == "open-1"
    client.auth.refresh_access_token()
    assert shop2.access_token == client.access_token, "one refresh serves every shop of the seller"
    other = client.for_seller("open-2", shop_cipher="C3", access_token=fake.access_token, refresh_token="r2")
    assert other._http is client._http and other._tokens is not client._tokens
    assert other.seller_id == "open-2" and other.refresh_token == "r2"
    other.authorization.get_authorized_shops()
    other.close()
    client.authorization.get_authorized_shops()  # the shared pool is still open
    assert all(s.signature_ok for s in fake.seen)


def test_for_shop_refuses_a_shop_the_seller_does_not_have(fake: FakeTikTok) -> None:
    from tiktokshop import ConfigurationError

    with pytest.raises(ConfigurationError, match="has no shop 'nope'"):
        fake.client(seller="open-1").for_shop("nope")


def test_two_async_clients_on_one_file_in_one_loop_share_one_refresh(tmp_path: Path) -> None:
    """Once a deadlock: two clients in one event loop, each with its own store on the same file."""
    path = tmp_path / "tokens.json"
    with Sandbox(orders=10, seed=21) as sb:
        kwargs = {
            "app_key": sb.app_key,
            "app_secret": sb.app_secret,
            "seller": sb.state.open_id,
            "shop_cipher": sb.shop_cipher,
            "access_token": sb.access_token,
            "refresh_token": sb.refresh_token,
            "base_url": sb.url,
            "auth_base_url": sb.url,
            "clock": sb.clock.now,
        }

        async def main() -> list[str | None]:
            a = AsyncTikTokShop(**kwargs, token_store=JsonFileTokenStore(path))
            b = AsyncTikTokShop(**kwargs, token_store=JsonFileTokenStore(path))
            async with a, b:
                await a.authorization.get_authorized_shops()
                sb.clock.advance(WEEK)  # both clients' token has expired
                await asyncio.wait_for(
                    asyncio.gather(
                        *(c.authorization.get_authorized_shops() for c in (a, b) for _ in range(10))
                    ),
                    timeout=30,
                )
                return [a.refresh_token, b.refresh_token]

        tokens = asyncio.run(main())
        refreshes = [r for r in sb.requests if r.op_id == "auth.refresh_access_token"]
        assert len(refreshes) == 1 and all(r.code == 0 for r in refreshes)
        stored = JsonFileTokenStore(path).load(sb.state.open_id)
        assert stored is not None and tokens == [stored.tokens.refresh_token] * 2
