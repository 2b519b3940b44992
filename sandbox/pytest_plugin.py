"""pytest fixtures for testing code that uses ``tiktokshop`` against the local sandbox.

Installed with the package (entry point ``pytest11``), so any test suite gets:

- ``tiktokshop_sandbox``: a running :class:`tiktokshop.sandbox.Sandbox` on a free 127.0.0.1 port,
  stopped after the test;
- ``tiktokshop_client``: a :class:`tiktokshop.TikTokShop` pointed at it, with valid tokens and the
  first shop's cipher.

Mark a test ``@pytest.mark.tiktokshop_sandbox(orders=50, seed=3, ...)`` to build its sandbox with
other ``Sandbox`` arguments. The sandbox is imported only when a fixture is used, so loading the
plugin costs nothing.
"""

# pyright: standard

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tiktokshop import TikTokShop
    from tiktokshop.sandbox import Sandbox

__all__ = ["tiktokshop_client", "tiktokshop_sandbox"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``tiktokshop_sandbox`` marker (so ``--strict-markers`` suites accept it)."""
    config.addinivalue_line(
        "markers", "tiktokshop_sandbox(**kwargs): Sandbox arguments for the tiktokshop_sandbox fixture"
    )


@pytest.fixture
def tiktokshop_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A started sandbox (default: seed 0, 200 orders) serving on 127.0.0.1; stopped afterwards.

    Arguments of a ``tiktokshop_sandbox`` marker go to ``Sandbox(...)``.
    """
    from tiktokshop.sandbox import Sandbox

    marker = request.node.get_closest_marker("tiktokshop_sandbox")
    kwargs = {"orders": 200, "seed": 0, **(marker.kwargs if marker else {})}
    with Sandbox(**kwargs) as sandbox:
        yield sandbox


@pytest.fixture
def tiktokshop_client(tiktokshop_sandbox: Sandbox) -> Iterator[TikTokShop]:
    """A client of ``tiktokshop_sandbox`` with a valid access token and shop cipher; closed afterwards."""
    with tiktokshop_sandbox.client() as client:
        yield client
