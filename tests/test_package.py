"""Packaging: one import package, nothing generic at the top level, light to import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_holds_only_the_tiktokshop_package(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("tiktokshop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("tiktokshop-")}
    assert tops == {"tiktokshop"}
    assert "tiktokshop/py.typed" in names
    assert "tiktokshop/types/order.py" in names and "tiktokshop/resources/order.py" in names
    # The top-level folders sandbox/ and cli/ are installed inside the package, and so is the
    # generated webhook module; the command is a console script.
    assert "tiktokshop/sandbox/_control.py" in names and "tiktokshop/cli/__init__.py" in names
    assert "tiktokshop/types/webhooks.py" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "tiktokshop = tiktokshop.cli:main" in text


def test_import_loads_no_domain() -> None:
    code = (
        "import json, sys, tiktokshop\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('tiktokshop.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    loaded = json.loads(out)
    assert not [
        m
        for m in loaded
        if m.startswith(("tiktokshop.types.", "tiktokshop.resources.")) and not m.endswith("._api")
    ]


def test_a_domain_loads_on_first_use_only() -> None:
    """Reaching a domain imports its operations and no model (at most the table of its names); a
    first call imports the models of that operation only (its import units), not the others."""
    code = (
        "import json, sys, httpx\n"
        "from tiktokshop import TikTokShop\n"
        "def loaded():\n"
        "    return sorted(m for m in sys.modules if m.startswith('tiktokshop.types.'))\n"
        "answer = {'code': 0, 'message': 'ok', 'request_id': 'r', 'data': {'orders': []}}\n"
        "http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=answer)))\n"
        "c = TikTokShop(app_key='k', app_secret='s', access_token='t', shop_cipher='c', http_client=http)\n"
        "c.order\n"
        "before = loaded()\n"
        "c.order.get_order_list(page_size=10)\n"
        "after = loaded()\n"
        "import tiktokshop.types.order as t\n"
        "units = sorted({'tiktokshop.types._units.' + u for u in t._UNITS.values()})\n"
        "print(json.dumps([before, after, units]))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    before, after, units = json.loads(out)
    assert set(before) <= {"tiktokshop.types.order"}  # at most the domain's table of names
    loaded_units = [m for m in after if m.startswith("tiktokshop.types._units.")]
    assert set(after) == {"tiktokshop.types.order", "tiktokshop.types._units", *loaded_units}
    assert loaded_units and set(loaded_units) < set(units)
    assert all(m.startswith("tiktokshop.types._units.order__") for m in loaded_units)


def _import_ms(statement: str, cache: Path) -> float:
    """CPU milliseconds ``statement`` takes in a fresh interpreter that already imported httpx and
    pydantic, with bytecode cached in ``cache`` (as an installed package has it). CPU time, not
    wall time: other work on a busy machine does not count."""
    code = (
        "import time, httpx, pydantic\n"
        f"t = time.process_time()\n{statement}\n"
        "print((time.process_time() - t) * 1000)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    return float(out)


def test_import_stays_light(tmp_path: Path) -> None:
    """A regression guard with a generous bound (the figures are in `make bench`): importing the
    package adds well under 300 ms to httpx and pydantic, and loads no domain and no asyncio."""
    _import_ms("from tiktokshop import TikTokShop", tmp_path)  # caches the bytecode
    assert sorted(_import_ms("import tiktokshop", tmp_path) for _ in range(3))[1] < 300
    assert sorted(_import_ms("from tiktokshop import TikTokShop", tmp_path) for _ in range(3))[1] < 300
    code = (
        "import json, sys\n"
        "from tiktokshop import TikTokShop\n"
        "TikTokShop(app_key='k', app_secret='s').order\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    loaded = json.loads(out)
    assert "asyncio" not in loaded
    assert not [m for m in loaded if m.startswith("tiktokshop.types._units")]
    assert "tiktokshop.resources.order" in loaded
    assert not [m for m in loaded if m.startswith("tiktokshop.resources._async")]  # async classes


def test_async_classes_load_apart_and_keep_their_public_names() -> None:
    """The async classes of a domain live in a module of their own; the domain's module still
    exports them, as the same classes, and the async client uses them."""
    from tiktokshop import AsyncTikTokShop
    from tiktokshop.resources import _async, order
    from tiktokshop.resources._async import order as async_order

    assert order.AsyncOrderResource is async_order.AsyncOrderResource
    assert order.AsyncOrderResourceWithRawResponse is async_order.AsyncOrderResourceWithRawResponse
    assert set(order.__all__) >= {"AsyncOrderResource", "OrderResource", "OPERATIONS"}
    assert _async.__name__ == "tiktokshop.resources._async"
    client = AsyncTikTokShop(app_key="k", app_secret="s")
    assert type(client.order) is async_order.AsyncOrderResource
    with pytest.raises(AttributeError, match="NoSuchName"):
        getattr(order, "NoSuchName")
