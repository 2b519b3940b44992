"""Packaging: one import package, nothing generic at the top level, light to import."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

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
    code = (
        "import json, sys\n"
        "from tiktokshop import TikTokShop\n"
        "c = TikTokShop(app_key='k', app_secret='s')\n"
        "c.order\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('tiktokshop.types.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == ["tiktokshop.types.order"]
