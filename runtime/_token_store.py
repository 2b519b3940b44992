"""Where a seller's tokens live between processes: the ``TokenStore`` protocol and two stores.

The client calls ``save`` whenever its tokens change (exchange, refresh, rotation) and, before it
refreshes, takes ``lock()`` and ``load()``s: if another process refreshed meanwhile, the client
adopts that result instead of spending the (rotated) refresh token again.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ._errors import TikTokShopError
from ._tokens import TokenState

try:  # POSIX: an advisory lock shared by every process that uses the same file
    import fcntl
except ImportError:  # pragma: no cover - Windows: within one process only
    fcntl = None  # type: ignore[assignment]

__all__ = ["JsonFileTokenStore", "MemoryTokenStore", "TokenStore", "TokenStoreError"]


class TokenStoreError(TikTokShopError):
    """Tokens could not be loaded or saved. After a refresh, the new tokens are still in the client
    (``client.access_token``), but they are not persisted: save them yourself or retry."""


@runtime_checkable
class TokenStore(Protocol):
    """Persistence of one seller's tokens."""

    def load(self) -> TokenState | None:
        """The stored tokens, or ``None`` when nothing is stored yet."""
        ...

    def save(self, tokens: TokenState) -> None:
        """Store ``tokens``, replacing what was there. Raise on failure (never fail silently)."""
        ...

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """A critical section around load, refresh and save, across threads (and processes)."""
        ...


class MemoryTokenStore:
    """Tokens kept in memory: for tests, and for clients that share tokens within one process."""

    def __init__(self, tokens: TokenState | None = None) -> None:
        self._tokens = tokens.copy() if tokens else None
        self._lock = threading.RLock()

    def load(self) -> TokenState | None:
        """The stored tokens (a copy), or ``None``."""
        return self._tokens.copy() if self._tokens else None

    def save(self, tokens: TokenState) -> None:
        """Keep a copy of ``tokens``."""
        self._tokens = tokens.copy()

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """A re-entrant lock for the threads of this process."""
        with self._lock:
            yield

    def __repr__(self) -> str:
        return f"MemoryTokenStore({self._tokens!r})"


class JsonFileTokenStore:
    """Tokens in a JSON file, written atomically, shared safely by several processes.

    A save writes a temporary file beside the target, flushes it to disk and renames it over the
    target, so a crash mid-write leaves the old file whole. ``lock()`` holds an exclusive
    ``flock`` on ``<path>.lock`` (POSIX) plus a thread lock, so one process refreshes at a time.
    ``key`` lets one file hold the tokens of several shops.
    """

    def __init__(self, path: str | os.PathLike[str], *, key: str = "default") -> None:
        self.path = Path(path)
        self.key = key
        self._thread_lock = threading.RLock()
        self._local = threading.local()

    def load(self) -> TokenState | None:
        """The stored tokens, or ``None``. Raises ``TokenStoreError`` for an unreadable file."""
        entry = self._read().get(self.key)
        if entry is None:
            return None
        try:
            return TokenState(**{k: entry.get(k) for k in _FIELDS})
        except TypeError as exc:
            raise TokenStoreError(f"{self.path}: the entry {self.key!r} is not a token record") from exc

    def save(self, tokens: TokenState) -> None:
        """Write ``tokens`` atomically. Raises ``TokenStoreError`` when the file cannot be written."""
        with self.lock():
            data = self._read()
            data[self.key] = {k: getattr(tokens, k) for k in _FIELDS}
            text = json.dumps(data, indent=2, sort_keys=True)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as handle:
                        handle.write(text)
                        handle.flush()
                        os.fsync(handle.fileno())
                    os.chmod(tmp, 0o600)
                    os.replace(tmp, self.path)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                _fsync_dir(self.path.parent)
            except OSError as exc:
                raise TokenStoreError(f"cannot save tokens to {self.path}: {exc.strerror or exc}") from None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store exclusively (re-entrant within a thread)."""
        with self._thread_lock:
            depth = getattr(self._local, "depth", 0)
            if depth or fcntl is None:
                self._local.depth = depth + 1
                try:
                    yield
                finally:
                    self._local.depth = depth
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(f"{self.path}.lock", "a+b")  # noqa: SIM115 - held for the block
            except OSError as exc:
                raise TokenStoreError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                self._local.depth = 1
                yield
            finally:
                self._local.depth = 0
                handle.close()  # closing releases the flock

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TokenStoreError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise TokenStoreError(f"{self.path} is not valid JSON; fix or remove it") from None
        if not isinstance(data, dict):
            raise TokenStoreError(f"{self.path} does not hold a JSON object")
        return data

    def __repr__(self) -> str:
        return f"JsonFileTokenStore({str(self.path)!r}, key={self.key!r})"


_FIELDS = ("access_token", "access_token_expire", "refresh_token", "refresh_token_expire")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
