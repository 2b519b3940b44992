"""The client keeps its tokens fresh: ahead of expiry, and once when TikTok says they expired."""

from __future__ import annotations

import threading

import pytest

from tests.fake import FakeTikTok
from tiktokshop import AuthenticationError, ReauthorizationRequired

SHOPS = ("GET", "/authorization/202309/shops")


def test_refreshes_ahead_of_expiry(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})
    now = fake.now()
    client = fake.client(access_token_expire=int(now) + 60, token_refresh_margin=300)
    client.authorization.get_authorized_shops()
    assert len(fake.token_calls) == 1 and fake.token_calls[0].path == "/api/v2/token/refresh"
    assert fake.seen[-1].headers["x-tts-access-token"] == client.access_token == fake.access_token


def test_no_refresh_while_token_is_fresh(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})
    client = fake.client(access_token_expire=int(fake.now()) + 86400)
    client.authorization.get_authorized_shops()
    assert fake.token_calls == []


def test_expired_token_answer_refreshes_once_and_repeats(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})
    client = fake.client()
    fake.access_token = "rotated-by-tiktok"  # the client's token is now refused (code 105001)
    client.authorization.get_authorized_shops()
    assert len(fake.token_calls) == 1
    assert [s.headers["x-tts-access-token"] for s in fake.seen] == [
        "ROW_access_token_AAAA1111",
        fake.access_token,
    ]


def test_refused_again_after_refresh_raises(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, lambda s: fake.envelope(None, code=105002, message="expired"))
    with pytest.raises(AuthenticationError):
        fake.client().authorization.get_authorized_shops()
    assert len(fake.token_calls) == 1 and len(fake.seen) == 2


def test_expired_refresh_token_is_a_clear_error(fake: FakeTikTok) -> None:
    now = int(fake.now())
    client = fake.client(access_token_expire=now - 10, refresh_token_expire=now - 5)
    with pytest.raises(ReauthorizationRequired, match="authorize the app again") as info:
        client.authorization.get_authorized_shops()
    assert fake.seen == [] and fake.token_calls == []
    assert isinstance(info.value, AuthenticationError) and info.value.seller == client.seller_id


def test_concurrent_callers_share_one_refresh(fake: FakeTikTok) -> None:
    fake.on(*SHOPS, {"shops": []})
    client = fake.client(access_token_expire=int(fake.now()) - 1)
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

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
    assert len(fake.token_calls) == 1 and len(fake.seen) == 50


def test_bad_auth_code(fake: FakeTikTok) -> None:
    from tiktokshop import ApiError, ValidationError

    client = fake.client(access_token=None)
    with pytest.raises(ApiError) as info:
        client.auth.get_access_token("stale-code")
    assert info.value.code == 36004013
    with pytest.raises(ValidationError):
        client.auth.get_access_token("  ")
    assert client.access_token is None
