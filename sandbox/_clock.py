"""The sandbox's clock: every expiry, timestamp check and seed time reads it; tests move it."""

# pyright: standard

from __future__ import annotations

import threading
import time

__all__ = ["Clock"]


class Clock:
    """A clock tests control. By default it follows real time; ``advance`` moves it forward.

    ``start`` sets the time it shows now (Unix seconds); ``ticking=False`` freezes it there, so that
    only ``advance`` and ``set`` move it (fully reproducible runs).
    """

    def __init__(self, start: float | None = None, *, ticking: bool = True) -> None:
        self._lock = threading.Lock()
        self._ticking = ticking
        self._real_origin = time.time()
        self._origin = self._real_origin if start is None else float(start)
        self._offset = 0.0

    def now(self) -> float:
        """The sandbox's current time, in Unix seconds."""
        with self._lock:
            elapsed = time.time() - self._real_origin if self._ticking else 0.0
            return self._origin + elapsed + self._offset

    def __call__(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds``; returns the new time. Raises ``ValueError`` if negative."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward: use set() to go back")
        with self._lock:
            self._offset += seconds
        return self.now()

    def set(self, when: float) -> None:
        """Show ``when`` (Unix seconds) now; a ticking clock keeps ticking from there."""
        current = self.now()
        with self._lock:
            self._offset += when - current

    def __repr__(self) -> str:
        return f"Clock(now={self.now():.0f}, ticking={self._ticking})"
