"""Where sellers' tokens live between processes: the ``TokenStore`` protocol and its stores.

A store is keyed by seller (TikTok's ``open_id``: one authorization, one token pair, many shops)
and keeps a ``SellerRecord`` per seller. The client ``save``s whenever a seller's tokens change
(exchange, refresh, rotation) and, before it refreshes, takes ``lock(seller)`` and ``load``s: if
another thread, task, process or machine refreshed meanwhile, the client adopts that result instead
of spending the (rotated) refresh token again.

Each store has a sync side (``load``, ``save``, ``lock``, ``sellers``) for ``TikTokShop`` and an
async side (``aload``, ``asave``, ``alock``, ``asellers``) for ``AsyncTikTokShop`` that never
blocks the event loop. ``RedisTokenStore`` (``tiktokshop[redis]``) shares them across machines.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from ._errors import TikTokShopError
from ._tokens import DEFAULT_SELLER, SellerRecord

__all__ = [
    "DEFAULT_SELLER",
    "JsonFileTokenStore",
    "MemoryTokenStore",
    "SqliteTokenStore",
    "TokenStore",
    "TokenStoreError",
]

DEFAULT_LOCK_TIMEOUT = 60.0
_POLL = 0.01
_POLL_MAX = 0.1
_FILE_POLL = 0.005  # between tries of a token file's lock held by another process


class TokenStoreError(TikTokShopError):
    """Tokens could not be loaded, saved or locked. After a refresh, the new tokens are still in the
    client (``client.access_token``), but they are not persisted: save them yourself or retry."""


@runtime_checkable
class TokenStore(Protocol):
    """Persistence of sellers' tokens and shops, keyed by seller, with a sync and an async side."""

    def load(self, seller: str) -> SellerRecord | None:
        """The seller's record, or ``None`` when nothing is stored for it yet."""

    def save(self, record: SellerRecord) -> None:
        """Store ``record`` under ``record.seller``, replacing what was there. Raise on failure."""

    def lock(self, seller: str) -> contextlib.AbstractContextManager[None]:
        """A critical section around load, refresh and save of one seller, across every thread
        and process (and machine, for a shared store) that uses this store."""
        ...

    def sellers(self) -> list[str]:
        """Every seller with a stored record."""
        ...

    async def aload(self, seller: str) -> SellerRecord | None:
        """``load`` without blocking the event loop."""

    async def asave(self, record: SellerRecord) -> None:
        """``save`` without blocking the event loop."""

    def alock(self, seller: str) -> contextlib.AbstractAsyncContextManager[None]:
        """``lock`` for tasks: waiting for it never blocks the event loop."""
        ...

    async def asellers(self) -> list[str]:
        """``sellers`` without blocking the event loop."""
        ...


class _BlockingStore:
    """The async side of a store whose sync side does (short) blocking I/O: run it in a thread.

    Subclasses give ``load``, ``save``, ``sellers`` and ``_try_lock(seller)`` (take the seller's
    lock without waiting: a release function, or ``None`` when someone else holds it).
    """

    lock_timeout: float = DEFAULT_LOCK_TIMEOUT

    def load(self, seller: str) -> SellerRecord | None:
        raise NotImplementedError

    def save(self, record: SellerRecord) -> None:
        raise NotImplementedError

    def sellers(self) -> list[str]:
        raise NotImplementedError

    def _try_lock(self, seller: str) -> Any:
        raise NotImplementedError

    def _timeout(self, seller: str) -> TokenStoreError:
        return TokenStoreError(
            f"{self!r}: the lock of seller {seller} was not free within {self.lock_timeout:g} s"
        )

    @contextlib.contextmanager
    def lock(self, seller: str) -> Generator[None, None, None]:
        """Hold the seller's lock (blocking, polling). Raises ``TokenStoreError`` after ``lock_timeout``."""
        end = time.monotonic() + self.lock_timeout
        pause = _POLL
        while (release := self._try_lock(seller)) is None:
            if time.monotonic() >= end:
                raise self._timeout(seller)
            time.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)
        try:
            yield
        finally:
            release()

    async def aload(self, seller: str) -> SellerRecord | None:
        """``load`` in a worker thread."""
        import asyncio  # here: the blocking client never loads asyncio

        return await asyncio.to_thread(self.load, seller)

    async def asave(self, record: SellerRecord) -> None:
        """``save`` in a worker thread."""
        import asyncio  # here: the blocking client never loads asyncio

        await asyncio.to_thread(self.save, record)

    async def asellers(self) -> list[str]:
        """``sellers`` in a worker thread."""
        import asyncio  # here: the blocking client never loads asyncio

        return await asyncio.to_thread(self.sellers)

    @contextlib.asynccontextmanager
    async def alock(self, seller: str) -> AsyncGenerator[None, None]:
        """Hold the seller's lock: each try runs in a worker thread and never waits there, so
        neither the event loop nor the thread pool is ever blocked by a lock someone else holds."""
        import asyncio  # here: the blocking client never loads asyncio

        end = time.monotonic() + self.lock_timeout
        pause = _POLL
        while (release := await asyncio.to_thread(self._try_lock, seller)) is None:
            if time.monotonic() >= end:
                raise self._timeout(seller)
            await asyncio.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)
        try:
            yield
        finally:
            await asyncio.shield(asyncio.to_thread(release))


class MemoryTokenStore(_BlockingStore):
    """Records kept in memory: for tests, and for clients that share tokens within one process."""

    def __init__(self, *records: SellerRecord) -> None:
        self._records = {r.seller: r.copy() for r in records}
        self._guard = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: dict[str, Any] = {}  # records waiting to be written, by seller
        self._tickets = 0  # saves begun in this process
        self._written = 0  # every save up to this ticket is on disk
        self._locks: dict[str, threading.Lock] = {}

    def load(self, seller: str) -> SellerRecord | None:
        """The seller's record (a copy), or ``None``."""
        with self._guard:
            record = self._records.get(seller)
            return record.copy() if record else None

    def save(self, record: SellerRecord) -> None:
        """Keep a copy of ``record``."""
        with self._guard:
            self._records[record.seller] = record.copy()

    def sellers(self) -> list[str]:
        """The sellers held."""
        with self._guard:
            return sorted(self._records)

    def _try_lock(self, seller: str) -> Any:
        with self._guard:
            lock = self._locks.setdefault(seller, threading.Lock())
        return lock.release if lock.acquire(blocking=False) else None

    async def aload(self, seller: str) -> SellerRecord | None:
        """``load`` (no I/O: runs on the loop)."""
        return self.load(seller)

    async def asave(self, record: SellerRecord) -> None:
        """``save`` (no I/O: runs on the loop)."""
        self.save(record)

    def __repr__(self) -> str:
        return f"MemoryTokenStore({len(self._records)} sellers)"


def _lock_name(seller: str) -> str:
    return hashlib.sha256(seller.encode()).hexdigest()[:24] + ".lock"


class JsonFileTokenStore(_BlockingStore):
    """Every seller's record in one JSON file (mode 0600), shared safely by threads, tasks and
    processes on one machine.

    A save takes the file's lock (``<path>.lock``, a ``filelock`` lock: flock on POSIX, a locked
    region on Windows), writes a temporary file beside it, flushes it to disk and renames it over
    the file: a crash mid-write leaves the old file whole, and the temporary files an interrupted
    save leaves behind are removed the next time a store opens the file. Each seller's refresh lock
    is a file of its own in ``<path>.locks/``, so sellers refresh in parallel. A lock the OS sees
    released (its holder died) is free at once. ``lock_timeout`` bounds a wait.

    The store keeps what it last read, with each seller's line as written: a load costs a
    ``stat`` while the file is unchanged, and a save encodes only the sellers it changes (the file
    is rewritten whole, one line per seller). On POSIX it holds the version it read open, so the
    file's identity (device, inode) tells that it changed; on Windows it rereads the file each time.
    """

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._locks_dir = self.path.parent / (self.path.name + ".locks")
        self._swept = False
        self._locks_ready = False
        # Saves of this process queue here (an instant hand-over), so only one thread at a time
        # polls the file's lock: a burst of refreshes is not spaced out by polling intervals.
        self._guard = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: dict[str, Any] = {}  # records waiting to be written, by seller
        self._tickets = 0  # saves begun in this process
        self._written = 0  # every save up to this ticket is on disk
        self._cache_lock = threading.Lock()
        self._cache: _Parsed | None = None

    def _file_lock(self, path: Path) -> Any:
        from filelock import FileLock

        # A fresh lock object (and descriptor) per use: it excludes other threads of this
        # process as well as other processes, and may be released from another thread.
        return FileLock(str(path), thread_local=False)

    @contextlib.contextmanager
    def _data_lock(self) -> Generator[None, None, None]:
        from filelock import Timeout

        end = time.monotonic() + self.lock_timeout
        if not self._guard.acquire(timeout=self.lock_timeout):
            raise TokenStoreError(f"cannot lock {self.path}: busy for {self.lock_timeout:g} s")
        try:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                lock = self._file_lock(self.path.parent / (self.path.name + ".lock"))
                lock.acquire(timeout=max(0.0, end - time.monotonic()), poll_interval=_FILE_POLL)
            except Timeout:
                raise TokenStoreError(f"cannot lock {self.path}: busy for {self.lock_timeout:g} s") from None
            except OSError as exc:
                raise TokenStoreError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
            try:
                if not self._swept:
                    self._sweep()
                yield
            finally:
                lock.release()
        finally:
            self._guard.release()

    def _sweep(self) -> None:
        """Remove temporary files of saves that were interrupted (the data lock is held: any
        temporary file present now belongs to no running save)."""
        with contextlib.suppress(OSError):
            for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        self._swept = True

    def open(self) -> None:
        """Take the file's lock once and remove what interrupted saves left behind. Optional: the
        first save does it too. Raises ``TokenStoreError`` when the file cannot be locked."""
        with self._data_lock():
            pass

    def load(self, seller: str) -> SellerRecord | None:
        """The seller's record, or ``None``. Raises ``TokenStoreError`` for an unreadable file."""
        entry = self._read().data.get(seller)
        if entry is None:
            return None
        try:
            return SellerRecord.from_dict(seller, entry)
        except ValueError as exc:
            raise TokenStoreError(f"{self.path}: the entry of seller {seller} is {exc}") from None

    def sellers(self) -> list[str]:
        """Every seller in the file."""
        return sorted(self._read().data)

    def save(self, record: SellerRecord) -> None:
        """Write ``record`` atomically. Raises ``TokenStoreError`` when the file cannot be written.

        Saves that threads of this process make at the same time are written together: the
        thread that gets the file's lock writes every record waiting then (one rewrite, not one
        per seller, in a burst of refreshes); the others return once it is on disk.
        """
        entry = record.to_dict()
        with self._pending_lock:
            self._tickets += 1
            ticket = self._tickets
            self._pending[record.seller] = entry
        with self._data_lock():
            if self._written >= ticket:  # another thread wrote it, with the records of its batch
                return
            with self._pending_lock:
                batch, self._pending = self._pending, {}
                top = self._tickets
            try:
                self._write(batch)
            except BaseException:
                with self._pending_lock:  # the waiters whose records these are try again
                    self._pending = {**batch, **self._pending}
                raise
            self._written = top

    def _write(self, batch: dict[str, Any]) -> None:
        current = self._read()
        data = {**current.data, **batch}
        lines = {**current.lines, **{seller: _line(seller, entry) for seller, entry in batch.items()}}
        text = _join(data, lines)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise TokenStoreError(f"cannot save tokens to {self.path}: {exc.strerror or exc}") from None
        with contextlib.suppress(OSError):  # what was written is what the next read finds
            self._remember(_Parsed(data, lines, *self._hold()))

    def _try_lock(self, seller: str) -> Any:
        from filelock import Timeout

        try:
            if not self._locks_ready:  # once: a poll is one open and one flock
                self._locks_dir.mkdir(parents=True, exist_ok=True)
                self._locks_ready = True
            lock = self._file_lock(self._locks_dir / _lock_name(seller))
            lock.acquire(timeout=0)
        except Timeout:
            return None
        except OSError as exc:
            raise TokenStoreError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        return lock.release

    def _hold(self) -> tuple[int | None, tuple[int, int, int, int] | None]:
        """Open the file as it is now: its descriptor (kept open, POSIX only) and identity."""
        if os.name == "nt":  # an open file cannot be replaced there: no cache
            return None, None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            st = os.fstat(fd)
        except OSError:
            os.close(fd)
            raise
        return fd, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def _remember(self, parsed: _Parsed) -> None:
        with self._cache_lock:
            old, self._cache = self._cache, parsed
        if old is not None and old.fd is not None:
            os.close(old.fd)

    def _read(self) -> _Parsed:
        """The file's records: what the store read last while the file is the one it read."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return _Parsed({}, {}, None, None)
        except OSError as exc:
            raise TokenStoreError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        with self._cache_lock:
            cached = self._cache
        if cached is not None and cached.identity == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
            return cached
        try:
            fd, identity = self._hold()
            if fd is None:
                text = self.path.read_text(encoding="utf-8")
            else:
                with os.fdopen(os.dup(fd), encoding="utf-8") as handle:
                    text = handle.read()
        except FileNotFoundError:
            return _Parsed({}, {}, None, None)
        except OSError as exc:
            raise TokenStoreError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            parsed = _parse(text, fd, identity)
        except TokenStoreError as exc:
            if fd is not None:
                os.close(fd)
            raise TokenStoreError(f"{self.path} {exc}") from None
        if fd is not None:
            self._remember(parsed)
        return parsed

    def close(self) -> None:
        """Let go of the file version the store holds open (it holds one while in use)."""
        with self._cache_lock:
            old, self._cache = self._cache, None
        if old is not None and old.fd is not None:
            os.close(old.fd)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __repr__(self) -> str:
        return f"JsonFileTokenStore({str(self.path)!r})"


class SqliteTokenStore(_BlockingStore):
    """Records in a SQLite database (one row per seller), for many sellers on one machine.

    Every save is one transaction; SQLite's own locking makes it safe for threads and processes.
    The refresh lock is a row with an expiry (``lock_ttl`` seconds), so a crashed holder blocks
    the others for at most that long.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_ttl: float = 30.0,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.path = Path(path)
        self.lock_ttl = lock_ttl
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sellers (seller TEXT PRIMARY KEY, record TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS locks (seller TEXT PRIMARY KEY, owner TEXT, until REAL)")
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)

    @contextlib.contextmanager
    def _db(self) -> Generator[Any, None, None]:
        import sqlite3

        try:
            db = getattr(self._local, "db", None)
            if db is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = self._local.db = sqlite3.connect(self.path, timeout=self.lock_timeout)
            with db:
                yield db
        except sqlite3.Error as exc:
            raise TokenStoreError(f"{self.path}: {type(exc).__name__}: {exc}") from None

    def load(self, seller: str) -> SellerRecord | None:
        """The seller's record, or ``None``. Raises ``TokenStoreError``."""
        with self._db() as db:
            row = db.execute("SELECT record FROM sellers WHERE seller = ?", (seller,)).fetchone()
        if row is None:
            return None
        try:
            return SellerRecord.from_dict(seller, json.loads(row[0]))
        except ValueError as exc:
            raise TokenStoreError(f"{self.path}: the record of seller {seller} is {exc}") from None

    def save(self, record: SellerRecord) -> None:
        """Store ``record`` in one transaction. Raises ``TokenStoreError``."""
        text = json.dumps(record.to_dict(), sort_keys=True)
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO sellers (seller, record) VALUES (?, ?)", (record.seller, text))

    def sellers(self) -> list[str]:
        """Every seller stored."""
        with self._db() as db:
            return [row[0] for row in db.execute("SELECT seller FROM sellers ORDER BY seller")]

    def _try_lock(self, seller: str) -> Any:
        owner = os.urandom(12).hex()
        now = time.time()
        with self._db() as db:
            db.execute("DELETE FROM locks WHERE seller = ? AND until < ?", (seller, now))
            taken = db.execute(
                "INSERT OR IGNORE INTO locks (seller, owner, until) VALUES (?, ?, ?)",
                (seller, owner, now + self.lock_ttl),
            ).rowcount

        def release() -> None:
            with self._db() as db:
                db.execute("DELETE FROM locks WHERE seller = ? AND owner = ?", (seller, owner))

        return release if taken else None

    def __repr__(self) -> str:
        return f"SqliteTokenStore({str(self.path)!r})"


class _Parsed:
    """A version of a token file: its records, each seller's line of text, the descriptor that
    keeps that version open (so its inode is not reused while cached) and its identity."""

    __slots__ = ("data", "fd", "identity", "lines")

    def __init__(
        self,
        data: dict[str, Any],
        lines: dict[str, str],
        fd: int | None,
        identity: tuple[int, int, int, int] | None,
    ) -> None:
        self.data = data
        self.lines = lines
        self.fd = fd
        self.identity = identity


def _line(seller: str, entry: Any) -> str:
    """One seller's line of the file. Written with the C encoder (``indent`` would switch ``json``
    to its pure-Python one, several times slower)."""
    return f"{json.dumps(seller)}: {json.dumps(entry, sort_keys=True, separators=(',', ':'))}"


def _join(data: dict[str, Any], lines: dict[str, str]) -> str:
    """The file's text: one line per seller, in order (a line not known yet is encoded now)."""
    body = [lines.get(k) or _line(k, data[k]) for k in sorted(data)]
    return "{\n" + ",\n".join(body) + "\n}\n" if body else "{}\n"


def _parse(text: str, fd: int | None, identity: tuple[int, int, int, int] | None) -> _Parsed:
    """Read a token file's text; keep each seller's line when the file is laid out as the store
    writes it (a file edited by hand is read whole and its lines encoded again on the next save).
    Raises ``TokenStoreError`` (its message follows the file's name) for text that is not a JSON object."""
    try:
        data = json.loads(text)
    except ValueError:
        raise TokenStoreError("is not valid JSON; fix or remove it") from None
    if not isinstance(data, dict):
        raise TokenStoreError("does not hold a JSON object")
    records = cast("dict[str, Any]", data)
    lines: dict[str, str] = {}
    rows = text.split("\n")[1:-2]
    keys = sorted(records)
    if len(rows) == len(keys):
        for key, row in zip(keys, rows, strict=True):
            row = row.removesuffix(",")
            if not row.startswith(json.dumps(key) + ": "):
                lines = {}
                break
            lines[key] = row
    return _Parsed(records, lines, fd, identity)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
