from __future__ import annotations

from collections.abc import Iterator

import pytest

from tiktokshop.sandbox import Clock, Sandbox

START = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.fixture
def sandbox() -> Sandbox:
    """An in-process sandbox (no server) with a frozen clock: fast and reproducible."""
    return Sandbox(orders=300, seed=7, clock=Clock(START, ticking=False))


@pytest.fixture
def served() -> Iterator[Sandbox]:
    """A sandbox served over HTTP on 127.0.0.1 with a frozen clock."""
    with Sandbox(orders=300, seed=7, clock=Clock(START, ticking=False)) as sandbox:
        yield sandbox
