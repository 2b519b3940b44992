"""`make generate` wall time for the full spec and the size of generated/ (figures, not pass/fail)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "codegen.generate", "--out", f"{tmp}/generated"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        elapsed = time.perf_counter() - started
    files = [p for p in (ROOT / "generated").rglob("*") if p.is_file()]
    py = [p for p in files if p.suffix == ".py"]
    lines = sum(p.read_text().count("\n") for p in py)
    print(f"make generate (full spec): {elapsed:.1f} s wall on this machine")
    print(
        f"generated/: {len(py)} Python files, {lines} lines of Python; "
        f"{len(files) - len(py)} other files (API reference pages, OpenAPI document)"
    )


if __name__ == "__main__":
    main()
