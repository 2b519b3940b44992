from __future__ import annotations

import pytest

from tests.fake import FakeTikTok


@pytest.fixture
def fake() -> FakeTikTok:
    return FakeTikTok()
