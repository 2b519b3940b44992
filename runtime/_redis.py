"""Tokens and rate limits shared by every worker of a fleet, in Redis (``pip install tiktokshop[redis]``).

``RedisTokenStore`` keeps one record per seller and a refresh lock per seller that expires, so a
worker that dies holding it blocks the others for at most ``lock_ttl`` seconds.
``RedisRateLimiter`` keeps one bucket per app+shop per endpoint; each reservation is one atomic
Lua script timed by the Redis server's clock, so every worker on every machine agrees.
Both work from ``TikTokShop`` (redis-py's blocking client) and ``AsyncTikTokShop`` (its asyncio
client: nothing blocks the event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any

from ._errors import ConfigurationError
from ._operation import Operation
from ._rate_limit import Rate, _Rates  # pyright: ignore[reportPrivateUsage]
from ._token_store import DEFAULT_LOCK_TIMEOUT, TokenStoreError
from ._tokens import SellerRecord

try:
    import redis
    import redis.asyncio as aredis
    from redis.exceptions import LockError, RedisError
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ConfigurationError(
        "RedisTokenStore and RedisRateLimiter need redis-py: pip install 'tiktokshop[redis]'"
    ) from exc

__all__ = ["RedisRateLimiter", "RedisTokenStore"]


def _error(what: str, exc: BaseException) -> TokenStoreError:
    # redis-py's messages name host and port, never the URL's password.
    return TokenStoreError(f"{what}: {type(exc).__name__}: {str(exc)[:200]}")


class _Connections:
    """A blocking client, and one asyncio client per event loop (an asyncio client is bound to
    the loop that first used it)."""

    def __init__(self, url: str, client: Any, kwargs: Mapping[str, Any]) -> None:
        kwargs = {"max_connections": 64, **kwargs}
        url_ok = isinstance(url, str) and url.startswith(("redis://", "rediss://", "unix://"))  # pyright: ignore[reportUnnecessaryIsInstance]
        if not url_ok:
            raise ConfigurationError(
                "the Redis URL must start with redis://, rediss:// or unix:// (e.g. redis://localhost:6379/0)"
            )
        self.url = url
        self._kwargs = dict(kwargs)
        self._sync: Any = client
        self._async: dict[int, tuple[Any, Any]] = {}

    # Pools that wait for a free connection (up to 20 s) instead of failing when all are busy.
    @property
    def sync(self) -> Any:
        if self._sync is None:
            pool = redis.BlockingConnectionPool.from_url(self.url, **self._kwargs)  # pyright: ignore[reportUnknownMemberType]
            self._sync = redis.Redis(connection_pool=pool)
        return self._sync

    @property
    def aio(self) -> Any:
        loop = asyncio.get_running_loop()
        entry = self._async.get(id(loop))
        if entry is None or entry[0] is not loop:
            pool = aredis.BlockingConnectionPool.from_url(self.url, **self._kwargs)  # pyright: ignore[reportUnknownMemberType]
            entry = (loop, aredis.Redis(connection_pool=pool))
            self._async[id(loop)] = entry
        return entry[1]

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        entry = self._async.pop(id(loop), None)
        if entry is not None and entry[0] is loop:
            await entry[1].aclose()
            await entry[1].connection_pool.disconnect()


class _Closing:
    _redis: _Connections

    def close(self) -> None:
        """Close the blocking client's connections."""
        self._redis.close()

    async def aclose(self) -> None:
        """Close this event loop's asyncio connections (call it before the loop ends)."""
        await self._redis.aclose()


class RedisTokenStore(_Closing):
    """Sellers' records in Redis, shared by every worker on every machine.

    ``url`` is a Redis URL (``redis://host:6379/0``); keys start with ``prefix``. The refresh lock of
    a seller expires after ``lock_ttl`` seconds (a crashed worker cannot block the others longer);
    a worker waits up to ``lock_timeout`` for it. Extra keyword arguments go to redis-py's
    ``Redis.from_url`` (``password=``, ``ssl_ca_certs=``...). Raises ``ConfigurationError`` for a URL
    that is not a Redis URL; its methods raise ``TokenStoreError`` when Redis fails.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "tiktokshop",
        lock_ttl: float = 30.0,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        client: Any = None,
        **redis_options: Any,
    ) -> None:
        self._redis = _Connections(url, client, redis_options)
        self.prefix = prefix
        self.lock_ttl = lock_ttl
        self.lock_timeout = lock_timeout

    def _key(self, seller: str) -> str:
        return f"{self.prefix}:seller:{seller}"

    def _lock_key(self, seller: str) -> str:
        return f"{self.prefix}:lock:{seller}"

    def _decode(self, seller: str, raw: Any) -> SellerRecord | None:
        if raw is None:
            return None
        try:
            return SellerRecord.from_dict(seller, json.loads(raw))
        except ValueError as exc:
            raise TokenStoreError(f"the Redis record of seller {seller} is {exc}") from None

    def load(self, seller: str) -> SellerRecord | None:
        """The seller's record, or ``None``. Raises ``TokenStoreError``."""
        try:
            raw = self._redis.sync.get(self._key(seller))
        except RedisError as exc:
            raise _error(f"cannot load seller {seller}", exc) from None
        return self._decode(seller, raw)

    def save(self, record: SellerRecord) -> None:
        """Store ``record`` (one transaction). Raises ``TokenStoreError``."""
        text = json.dumps(record.to_dict(), sort_keys=True)
        try:
            with self._redis.sync.pipeline(transaction=True) as pipe:
                pipe.set(self._key(record.seller), text)
                pipe.sadd(f"{self.prefix}:sellers", record.seller)
                pipe.execute()
        except RedisError as exc:
            raise _error(f"cannot save seller {record.seller}", exc) from None

    def sellers(self) -> list[str]:
        """Every seller stored."""
        try:
            members = self._redis.sync.smembers(f"{self.prefix}:sellers")
        except RedisError as exc:
            raise _error("cannot list sellers", exc) from None
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    @contextlib.contextmanager
    def lock(self, seller: str) -> Generator[None, None, None]:
        """Hold the seller's refresh lock (it expires after ``lock_ttl``). Raises ``TokenStoreError``
        when it is not free within ``lock_timeout`` or Redis fails."""
        lock = self._redis.sync.lock(
            self._lock_key(seller), timeout=self.lock_ttl, blocking_timeout=self.lock_timeout, sleep=0.02
        )
        try:
            acquired = lock.acquire()
        except RedisError as exc:
            raise _error(f"cannot lock seller {seller}", exc) from None
        if not acquired:
            raise TokenStoreError(f"the lock of seller {seller} was not free within {self.lock_timeout:g} s")
        try:
            yield
        finally:
            with contextlib.suppress(LockError, RedisError):  # expired meanwhile: nothing to release
                lock.release()

    async def aload(self, seller: str) -> SellerRecord | None:
        """``load`` on redis-py's asyncio client."""
        try:
            raw = await self._redis.aio.get(self._key(seller))
        except RedisError as exc:
            raise _error(f"cannot load seller {seller}", exc) from None
        return self._decode(seller, raw)

    async def asave(self, record: SellerRecord) -> None:
        """``save`` on redis-py's asyncio client."""
        text = json.dumps(record.to_dict(), sort_keys=True)
        try:
            async with self._redis.aio.pipeline(transaction=True) as pipe:
                pipe.set(self._key(record.seller), text)
                pipe.sadd(f"{self.prefix}:sellers", record.seller)
                await pipe.execute()
        except RedisError as exc:
            raise _error(f"cannot save seller {record.seller}", exc) from None

    async def asellers(self) -> list[str]:
        """``sellers`` on redis-py's asyncio client."""
        try:
            members = await self._redis.aio.smembers(f"{self.prefix}:sellers")
        except RedisError as exc:
            raise _error("cannot list sellers", exc) from None
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    @contextlib.asynccontextmanager
    async def alock(self, seller: str) -> AsyncGenerator[None, None]:
        """``lock`` on redis-py's asyncio client (waiting never blocks the event loop)."""
        lock = self._redis.aio.lock(
            self._lock_key(seller), timeout=self.lock_ttl, blocking_timeout=self.lock_timeout, sleep=0.02
        )
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            raise _error(f"cannot lock seller {seller}", exc) from None
        if not acquired:
            raise TokenStoreError(f"the lock of seller {seller} was not free within {self.lock_timeout:g} s")
        try:
            yield
        finally:
            with contextlib.suppress(LockError, RedisError):
                await asyncio.shield(lock.release())

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self.prefix!r})"


# One reservation (or refund) of a GCRA bucket, atomically, on the Redis server's clock.
# KEYS[1]: the bucket; ARGV: interval (s), tolerance (s), max wait (s; negative: no limit), mode.
# Returns {taken (1/0), wait in seconds as text}.
_RESERVE = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then tat = tonumber(stored) end
if ARGV[4] == 'refund' then
  if stored then
    local back = math.max(tat - interval, now)
    redis.call('SET', KEYS[1], string.format('%.6f', back), 'PX', math.ceil((back - now) * 1000) + 1000)
  end
  return {0, '0'}
end
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if max_wait >= 0 and wait > max_wait then return {0, string.format('%.6f', wait)} end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1000)
return {1, string.format('%.6f', wait)}
"""


class RedisRateLimiter(_Rates, _Closing):
    """TikTok's rate limits held for a whole fleet: the buckets of ``RateLimiter`` in Redis.

    Same rates and options as ``RateLimiter`` (per app+shop per endpoint, from the spec unless
    overridden); every worker of every machine that uses the same Redis and ``prefix`` shares the
    buckets. Each reservation is one atomic script. Extra keyword arguments go to redis-py.
    Raises ``ConfigurationError`` for a URL that is not a Redis URL, ``ValueError`` for bad rates;
    a reservation raises ``TokenStoreError`` when Redis fails.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "tiktokshop",
        per_app: Rate = "spec",
        per_shop: Rate = "spec",
        burst: float = 1.0,
        overrides: Mapping[str, tuple[float | None, float | None]] | None = None,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        **redis_options: Any,
    ) -> None:
        super().__init__(per_app, per_shop, burst, overrides)
        self._redis = _Connections(url, client, redis_options)
        self.prefix = prefix
        self._sleep = sleep
        self._script: Any = None
        self._ascripts: dict[int, Any] = {}

    def _args(self, op: Operation[Any], shop: str | None, app: str) -> tuple[str, float, float] | None:
        bucket = self._bucket(op, shop, app)
        if bucket is None:
            return None
        key, rate = bucket
        interval = 1.0 / rate
        return f"{self.prefix}:rate:{key}", interval, (self._burst - 1.0) * interval

    @staticmethod
    def _result(answer: Any) -> float | None:
        taken, wait = answer
        return float(wait) if int(taken) else None

    def reserve(
        self, op: Operation[Any], shop: str | None, max_wait: float | None = None, *, app: str = ""
    ) -> float | None:
        """Reserve ``op``'s next slot for ``shop`` (see ``RateLimiter.reserve``), in Redis."""
        args = self._args(op, shop, app)
        if args is None:
            return 0.0
        if self._script is None:
            self._script = self._redis.sync.register_script(_RESERVE)
        limit = -1.0 if max_wait is None else max_wait
        try:
            answer = self._script(keys=[args[0]], args=[args[1], args[2], limit, "take"])
        except RedisError as exc:
            raise _error("rate limiter", exc) from None
        return self._result(answer)

    def refund(self, op: Operation[Any], shop: str | None, *, app: str = "") -> None:
        """Hand back a slot reserved and not used."""
        args = self._args(op, shop, app)
        if args is not None:
            if self._script is None:
                self._script = self._redis.sync.register_script(_RESERVE)
            with contextlib.suppress(RedisError):
                self._script(keys=[args[0]], args=[args[1], args[2], -1, "refund"])

    def _ascript(self) -> Any:
        client = self._redis.aio
        entry = self._ascripts.get(id(client))
        if entry is None or entry[0] is not client:
            entry = self._ascripts[id(client)] = (client, client.register_script(_RESERVE))
        return entry[1]

    async def areserve(
        self, op: Operation[Any], shop: str | None, max_wait: float | None = None, *, app: str = ""
    ) -> float | None:
        """``reserve`` on redis-py's asyncio client."""
        args = self._args(op, shop, app)
        if args is None:
            return 0.0
        limit = -1.0 if max_wait is None else max_wait
        try:
            answer = await self._ascript()(keys=[args[0]], args=[args[1], args[2], limit, "take"])
        except RedisError as exc:
            raise _error("rate limiter", exc) from None
        return self._result(answer)

    async def arefund(self, op: Operation[Any], shop: str | None, *, app: str = "") -> None:
        """``refund`` on redis-py's asyncio client."""
        args = self._args(op, shop, app)
        if args is not None:
            with contextlib.suppress(RedisError):
                await self._ascript()(keys=[args[0]], args=[args[1], args[2], -1, "refund"])

    def sleep(self, seconds: float) -> None:
        """Wait, blocking (the sync client paces calls with it)."""
        self._sleep(seconds)

    def acquire(self, op: Operation[Any], shop: str | None, *, app: str = "") -> float:
        """Wait (blocking) until ``op`` may be sent for ``shop``; return the seconds waited."""
        wait = self.reserve(op, shop, app=app) or 0.0
        if wait > 0:
            self.sleep(wait)
        return wait

    def __repr__(self) -> str:
        return f"RedisRateLimiter(prefix={self.prefix!r})"
