"""pytest fixtures for testing code that uses ``tiktokshop`` against the local sandbox.

Installed with the package (entry point ``pytest11``), so any test suite gets:

- ``tiktokshop_sandbox``: a running :class:`tiktokshop.sandbox.Sandbox` on a free 127.0.0.1 port,
  stopped after the test;
- ``tiktokshop_client``: a :class:`tiktokshop.TikTokShop` pointed at it, with valid tokens and the
  first shop's cipher.

The sandbox is imported only when a fixture is used, so loading the plugin costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tiktokshop import TikTokShop
    from tiktokshop.sandbox import Sandbox

__all__ = ["tiktokshop_client", "tiktokshop_sandbox"]


@pytest.fixture
def tiktokshop_sandbox() -> Iterator[Sandbox]:
    """A started sandbox (seed 0, 200 orders) serving on 127.0.0.1; stopped afterwards."""
    from tiktokshop.sandbox import Sandbox

    with Sandbox(orders=200, seed=0) as sandbox:
        yield sandbox


@pytest.fixture
def tiktokshop_client(tiktokshop_sandbox: Sandbox) -> Iterator[TikTokShop]:
    """A client of ``tiktokshop_sandbox`` with a valid access token and shop cipher; closed afterwards."""
    with tiktokshop_sandbox.client() as client:
        yield client
