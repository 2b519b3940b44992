"""Token persistence: stores, atomic writes, locks across processes, and refreshes shared through a store."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from tests.fake import FakeTikTok
from tiktokshop import JsonFileTokenStore, MemoryTokenStore, TokenState, TokenStoreError

SHOPS = ("GET", "/authorization/202309/shops")


def _tokens(n: int) -> TokenState:
    return TokenState(f"access-{n}", 2_000_000_000 + n, f"refresh-{n}", 2_100_000_000 + n)


def test_json_store_round_trip_and_keys(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    a, b = JsonFileTokenStore(path, key="shop-a"), JsonFileTokenStore(path, key="shop-b")
    assert a.load() is None
    a.save(_tokens(1))
    b.save(_tokens(2))
    assert a.load() == _tokens(1) and b.load() == _tokens(2)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "access-1" not in repr(a)


def test_crash_mid_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens.json"
    store = JsonFileTokenStore(path)
    store.save(_tokens(1))
    before = path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(TokenStoreError, match="No space left"):
        store.save(_tokens(2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(TokenStoreError, match="not valid JSON"):
        JsonFileTokenStore(path).load()


def _hold_lock(path: str, held: str, release: str) -> None:
    store = JsonFileTokenStore(path)
    with store.lock():
        Path(held).write_text("1")
        deadline = time.time() + 10
        while not Path(release).exists() and time.time() < deadline:
            time.sleep(0.01)


def test_lock_excludes_other_processes(tmp_path: Path) -> None:
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
            with JsonFileTokenStore(path).lock():
                got.set()

        thread = threading.Thread(target=take)
        thread.start()
        assert not got.wait(0.3), "the lock is exclusive while another process holds it"
        release.write_text("1")
        assert got.wait(10), "the lock is granted once released"
        thread.join()
    finally:
        proc.join(10)


def test_client_saves_tokens_whenever_they_change(fake: FakeTikTok, tmp_path: Path) -> None:
    store = JsonFileTokenStore(tmp_path / "tokens.json")
    client = fake.client(access_token=None, refresh_token=None, token_store=store)
    client.auth.get_access_token("good-code")
    assert store.load() is not None and store.load().access_token == fake.access_token  # type: ignore[union-attr]
    client.auth.refresh_access_token()
    saved = json.loads((tmp_path / "tokens.json").read_text())["default"]
    assert saved["access_token"] == client.access_token and saved["refresh_token"] == client.refresh_token


def test_failed_save_after_refresh_is_raised_and_tokens_kept(fake: FakeTikTok) -> None:
    class Broken(MemoryTokenStore):
        broken = False

        def save(self, tokens: TokenState) -> None:
            if self.broken:
                raise OSError("disk full")
            super().save(tokens)

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
    worker_a = fake.client(token_store=store)
    worker_b = fake.client(token_store=store)
    fake.access_token = "revoked-by-tiktok"  # both workers' token is now refused
    worker_a.authorization.get_authorized_shops()
    worker_b.authorization.get_authorized_shops()  # adopts the stored tokens, no second refresh
    assert len(fake.token_calls) == 1
    assert worker_a.access_token == worker_b.access_token == fake.access_token
    assert worker_b.refresh_token == fake.refresh_token, "the rotated refresh token replaced the old one"


def test_rotated_refresh_token_reaches_a_new_client(fake: FakeTikTok, tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    fake.client(token_store=JsonFileTokenStore(path)).auth.refresh_access_token()
    later = fake.client(access_token=None, refresh_token=None, token_store=JsonFileTokenStore(path))
    assert later.refresh_token == fake.refresh_token and later.access_token == fake.access_token


def test_for_shop_shares_the_pool_not_the_tokens(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})
    client = fake.client()
    other = client.for_shop(shop_cipher="CIPHER-2", access_token=fake.access_token, refresh_token="r2")
    assert other._http is client._http and other._config.app_key == client._config.app_key
    assert other._config.shop_cipher == "CIPHER-2" and other.refresh_token == "r2"
    other.authorization.get_authorized_shops()
    other.close()
    client.authorization.get_authorized_shops()  # the shared pool is still open
    assert len(fake.seen) == 2 and all(s.signature_ok for s in fake.seen)
