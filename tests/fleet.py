"""A fleet of workers calling the sandbox for many sellers, as an integrator runs one app.

``run_fleet`` starts the sandbox over HTTP with rate limits on, adds sellers with 1-3 shops each,
stores their tokens and shops in a shared token store (a JSON file or Redis), starts worker
processes (threads or asyncio tasks in each) that call one shop-scoped endpoint for every shop as
fast as the rate limiter lets them, expires every access token mid-run, and reports what happened:
calls, failures, HTTP 429s, refreshes per seller, throughput against the sandbox's limit, latency.
The tests run it small; ``benchmarks/bench_sellers.py`` runs it at full size.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tiktokshop import (
    AsyncTikTokShop,
    AuthorizedShop,
    JsonFileTokenStore,
    RateLimiter,
    SellerRecord,
    TikTokShop,
    TokenState,
)
from tiktokshop.sandbox import Sandbox, SandboxSeller

OP = "order.get_order_list"


#: Seconds after a seller's first refused call within which another of its calls may still be
#: refused (it was sent before the refusal came back: the reread interval, 0.1 s, and a round trip).
REFUSAL_GRACE = 0.3


@dataclass
class FleetResult:
    """What a fleet run did."""

    calls: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    http_429: int = 0
    refreshes: dict[str, int] = field(default_factory=dict)
    sellers: int = 0
    shops: int = 0
    seconds: float = 0.0
    limit_qps: float = 0.0
    latencies: list[float] = field(default_factory=list)
    http_latencies: list[float] = field(default_factory=list)
    rejected: int = 0  # calls TikTok refused (an expired token), later repeated
    rejected_twice: int = 0  # sellers with more than one such call
    rejected_late: int = 0  # of those, sellers refused again well after the first refusal (see below)
    begin: float = 0.0  # the steady state's first instant (sandbox clock)
    expiry: float = 0.0  # when the access tokens expired (or the clients began refreshing)
    client_interval: float = 0.0  # the clients' pacing interval per shop
    shop_times: dict[str, list[float]] = field(default_factory=dict)  # answered calls, by shop

    def losses(self) -> dict[str, float]:
        """Where the steady state's calls went, in calls: for each shop, the gaps between answered
        calls beyond (or, catching up, short of) the clients' pacing interval, split into those
        around the expiry (from 5 s before a gap's end to 1 s after its start) and the others
        (calls late for their slot); what pacing below the limit costs; and the rest (the
        window's edges)."""
        around = late = 0.0
        for times in self.shop_times.values():
            for prev, nxt in itertools.pairwise(sorted(times)):
                if prev < self.begin:
                    continue
                excess = (nxt - prev) / self.client_interval - 1
                if prev - 5.0 <= self.expiry <= nxt + 1.0:
                    around += excess
                else:
                    late += excess
        limit_calls = self.limit_qps * self.seconds
        pacing = (
            limit_calls - self.shops * self.seconds / self.client_interval if self.client_interval else 0.0
        )
        rest = limit_calls - pacing - around - late - self.calls
        return {
            "limit": limit_calls,
            "calls": float(self.calls),
            "pacing": pacing,
            "expiry": around,
            "late": late,
            "window": rest,
        }

    def loss_summary(self) -> str:
        """The losses as shares of the limit over the steady state."""
        parts = self.losses()
        total = parts.pop("limit") or 1.0
        return ", ".join(f"{name} {value / total:.1%}" for name, value in parts.items())

    @property
    def throughput(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, p: float, http: bool = False) -> float:
        values = self.http_latencies if http else self.latencies
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> str:
        per_seller = Counter(self.refreshes.values())
        return (
            f"{self.calls} calls in {self.seconds:.1f} s = {self.throughput:.0f}/s "
            f"({self.throughput / self.limit_qps:.0%} of the sandbox's {self.limit_qps:.0f}/s), "
            f"failed {self.failed}, HTTP 429 {self.http_429}, rejected (token) {self.rejected} "
            f"({self.rejected_twice} sellers more than once, {self.rejected_late} of them late), "
            f"refreshes per seller {dict(per_seller)} "
            f"({self.sellers} sellers, {self.shops} shops), "
            f"call (limiter wait included) p50 {self.percentile(50) * 1000:.0f} ms p99 "
            f"{self.percentile(99) * 1000:.0f} ms, HTTP round trip p50 {self.percentile(50, True) * 1000:.1f} ms "
            f"p99 {self.percentile(99, True) * 1000:.1f} ms"
        )


def seller_record(seller: SandboxSeller) -> SellerRecord:
    """The store record of a sandbox seller: its tokens and shops as the sandbox issued them."""
    return SellerRecord(
        seller.open_id,
        TokenState(
            seller.access_token,
            seller.access_token_expire,
            seller.refresh_token,
            seller.refresh_token_expire,
        ),
        shops=tuple(AuthorizedShop(s.id, s.cipher, s.region, s.name, s.code) for s in seller.shops),
    )


def _store(spec: dict[str, Any]) -> Any:
    if spec["store"] == "file":
        return JsonFileTokenStore(spec["path"])
    from tiktokshop import RedisTokenStore

    return RedisTokenStore(spec["url"], prefix=spec["prefix"], lock_ttl=spec["lock_ttl"])


def _limiter(spec: dict[str, Any]) -> Any:
    overrides = {OP: (None, spec["client_rate"])}
    if spec["limiter"] == "local":
        return RateLimiter(overrides=overrides, burst=spec["burst"])
    from tiktokshop import RedisRateLimiter

    return RedisRateLimiter(spec["url"], prefix=spec["prefix"], overrides=overrides, burst=spec["burst"])


def _my_shops(spec: dict[str, Any], worker: int) -> list[tuple[str, str]]:
    """The (seller, shop id) pairs a worker serves: shop i goes to workers i, i + n/share, ..."""
    shops = spec["shops"]
    slots = max(1, spec["workers_total"] // spec["share"])
    return [pair for i, pair in enumerate(shops) if i % slots == worker % slots]


def _pool(spec: dict[str, Any]) -> httpx.Limits:
    """The worker's connection pool: at most ``pool`` connections, all kept alive. Each worker
    thread needs at most one; for tasks a few dozen serve hundreds of calls per second (a bigger
    pool costs the event loop time: httpcore scans every pooled connection on each request)."""
    size = min(spec["concurrency"], spec["pool"]) if spec["mode"] == "async" else spec["concurrency"]
    return httpx.Limits(max_connections=size, max_keepalive_connections=size)


def _phases(spec: dict[str, Any], index: int) -> list[float]:
    """When each worker of process ``index`` starts calling: spread over one pacing interval, as
    calls arrive in a fleet that has been running (not all shops' slots at the same instant)."""
    rng = random.Random(f"{spec['prefix']}{index}")
    return [rng.uniform(0.0, 1.0 / spec["client_rate"]) for _ in range(spec["concurrency"])]


def _report(out: Any, latencies: list[float], errors: list[str], http: list[float]) -> None:
    out.put({"latencies": latencies, "errors": errors, "http": http})


def _hooks(http: list[float]) -> tuple[Any, Any]:
    def sent(request: httpx.Request) -> None:
        request.extensions["t0"] = time.perf_counter()

    def answered(response: httpx.Response) -> None:
        http.append(time.perf_counter() - response.request.extensions["t0"])

    return sent, answered


def _thread_worker(spec: dict[str, Any], index: int, go: Any, out: Any) -> None:
    store, limiter = _store(spec), _limiter(spec)
    round_trips: list[float] = []
    sent, answered = _hooks(round_trips)
    http = httpx.Client(
        limits=_pool(spec),
        event_hooks={"request": [sent], "response": [answered]},
    )
    app = TikTokShop(
        app_key=spec["app_key"],
        app_secret=spec["app_secret"],
        base_url=spec["url_api"],
        auth_base_url=spec["url_api"],
        token_store=store,
        token_refresh_margin=spec["margin"],
        rate_limiter=limiter,
        http_client=http,
    )
    sellers: dict[str, TikTokShop] = {}
    jobs: list[list[TikTokShop]] = []
    for t in range(spec["concurrency"]):
        worker = index * spec["concurrency"] + t
        clients = []
        for seller, shop in _my_shops(spec, worker):
            if seller not in sellers:
                sellers[seller] = app.for_seller(seller)
            clients.append(sellers[seller].for_shop(shop))
        jobs.append(clients)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run(clients: list[TikTokShop], phase: float) -> None:
        mine: list[float] = []
        bad: list[str] = []
        end = spec["start"] + spec["duration"]
        time.sleep(phase)
        while clients and time.time() < end:
            for client in clients:
                started = time.perf_counter()
                try:
                    client.order.get_order_list(page_size=1)
                except Exception as exc:
                    bad.append(f"{type(exc).__name__}: {exc}"[:300])
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    go.wait(60)
    phases = _phases(spec, index)
    threads = [threading.Thread(target=run, args=(clients, phase)) for clients, phase in zip(jobs, phases)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _report(out, latencies, errors, round_trips)


def _async_worker(spec: dict[str, Any], index: int, go: Any, out: Any) -> None:
    async def main() -> None:
        store, limiter = _store(spec), _limiter(spec)
        round_trips: list[float] = []
        sent, answered = _hooks(round_trips)

        async def asent(request: httpx.Request) -> None:
            sent(request)

        async def aanswered(response: httpx.Response) -> None:
            answered(response)

        http = httpx.AsyncClient(
            limits=_pool(spec),
            event_hooks={"request": [asent], "response": [aanswered]},
        )
        app = AsyncTikTokShop(
            app_key=spec["app_key"],
            app_secret=spec["app_secret"],
            base_url=spec["url_api"],
            auth_base_url=spec["url_api"],
            token_store=store,
            token_refresh_margin=spec["margin"],
            rate_limiter=limiter,
            http_client=http,
        )
        sellers: dict[str, AsyncTikTokShop] = {}
        jobs: list[list[AsyncTikTokShop]] = []
        for t in range(spec["concurrency"]):
            worker = index * spec["concurrency"] + t
            clients = []
            for seller, shop in _my_shops(spec, worker):
                if seller not in sellers:
                    sellers[seller] = app.for_seller(seller)
                    await sellers[seller].load_seller()
                clients.append(sellers[seller].for_shop(shop))
            jobs.append(clients)
        latencies: list[float] = []
        errors: list[str] = []

        async def run(clients: list[AsyncTikTokShop], phase: float) -> None:
            end = spec["start"] + spec["duration"]
            await asyncio.sleep(phase)
            while clients and time.time() < end:
                for client in clients:
                    started = time.perf_counter()
                    try:
                        await client.order.get_order_list(page_size=1)
                    except Exception as exc:
                        errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    latencies.append(time.perf_counter() - started)

        while not go.is_set():
            await asyncio.sleep(0.01)
        await asyncio.gather(*(run(clients, phase) for clients, phase in zip(jobs, _phases(spec, index))))
        await http.aclose()
        for closing in (store, limiter):
            if hasattr(closing, "aclose"):
                await closing.aclose()
        _report(out, latencies, errors, round_trips)

    if os.environ.get("FLEET_PROFILE"):
        import cProfile

        cProfile.runctx("asyncio.run(main())", globals(), locals(), f"{os.environ['FLEET_PROFILE']}.{index}")
    else:
        asyncio.run(main())


def _hold_lock(spec: dict[str, Any], seller: str, held: Any) -> None:
    """Take a seller's refresh lock and never let go (until killed)."""
    with _store(spec).lock(seller):
        held.set()
        time.sleep(3600)


def run_fleet(
    *,
    store: str,
    mode: str = "threads",
    processes: int = 2,
    concurrency: int = 5,
    sellers: int = 10,
    duration: float = 6.0,
    expire_after: float = 2.0,
    sandbox_rate: float = 1.0,
    client_share: float = 0.95,
    burst: float = 1.0,
    share: int = 1,
    pool: int = 16,
    workdir: str,
    redis_url: str | None = None,
    kill_lock_holder: bool = False,
    lock_ttl: float = 3.0,
    seed: int = 1,
    known_expiry: bool = False,
) -> FleetResult:
    """Run a fleet (see the module docstring). ``store`` is ``"file"`` or ``"redis"``; with Redis
    the rate limiter is shared too. Each shop is served by ``share`` workers (spread over the
    processes), and a seller's shops by different workers, so sellers' tokens are shared across
    processes. ``kill_lock_holder`` kills -9 a process that holds a seller's refresh lock just
    before the tokens expire. The access tokens expire ``expire_after`` seconds into the run:
    unannounced (the sandbox rejects them, each shop's next call fails once and is retried after
    the refresh: one slot per shop spent on a rejected call), or with ``known_expiry`` at the time
    stored with them, which the clients see coming and refresh 1 s ahead of, as they do for
    TikTok's expiry times (the sandbox rejects the old tokens from then on)."""
    rng = random.Random(seed)
    sb = Sandbox(orders=0, seed=seed, rate_limits={OP: sandbox_rate}, log_size=10**6).start()
    try:
        records, shops = [], []
        for _ in range(sellers):
            seller = sb.add_seller(rng.randint(1, 3))
            records.append(seller_record(seller))
            shops.extend((seller.open_id, s.id) for s in seller.shops)
        rng.shuffle(shops)
        shared = store == "redis"
        spec: dict[str, Any] = {
            "store": store,
            "limiter": "redis" if shared else "local",
            "path": os.path.join(workdir, "tokens.json"),
            "url": redis_url,
            "prefix": f"fleet{seed}{time.time_ns()}",
            "lock_ttl": lock_ttl,
            "app_key": sb.app_key,
            "app_secret": sb.app_secret,
            "url_api": sb.url,
            "shops": shops,
            "concurrency": concurrency,
            "mode": mode,
            "pool": pool,
            "workers_total": processes * concurrency,
            "share": share,
            "client_rate": sandbox_rate * client_share,
            "burst": burst,
            "duration": duration,
        }
        # after every worker has set up
        spec["start"] = time.time() + 3.0 + processes * 0.8 + sellers * 0.01
        spec["margin"] = 1 if known_expiry else 300
        seeded = _store(spec)
        for record in records:
            if known_expiry:  # the clients refresh 1 s ahead of the expiry time TikTok gave them
                record.tokens.access_token_expire = int(spec["start"] + expire_after + 1)
            seeded.save(record)
        ctx = multiprocessing.get_context("spawn")
        go, out = ctx.Event(), ctx.Queue()
        target = _thread_worker if mode == "threads" else _async_worker
        procs = [ctx.Process(target=target, args=(spec, i, go, out)) for i in range(processes)]
        for p in procs:
            p.start()
        holder = None
        if kill_lock_holder:
            held = ctx.Event()
            holder = ctx.Process(target=_hold_lock, args=(spec, records[0].seller, held))
            holder.start()
            assert held.wait(60), "the lock holder took the lock"
        time.sleep(max(0.0, spec["start"] - time.time()))
        go.set()
        start_index = len(sb.requests)
        time.sleep(expire_after + (1.0 if known_expiry else 0.0))
        if holder is not None:
            os.kill(holder.pid or 0, 9)  # kill -9 while it holds the refresh lock
            holder.join(10)
        if known_expiry:  # the tokens seeded expire now; those the clients refreshed to live on
            now = sb.tokens.now()
            with sb.tokens._lock:
                for record in records:
                    grant = sb.tokens.access.get(record.tokens.access_token or "")
                    if grant is not None:
                        grant.expires_at = min(grant.expires_at, now)
        else:
            sb.expire_access_tokens()  # every access token expires now, unannounced
        reports = [out.get(timeout=duration + 120) for _ in procs]
        for p in procs:
            p.join(30)
        log = list(sb.requests)[start_index:]
        result = FleetResult(sellers=sellers, shops=len(shops))
        for report in reports:
            result.latencies.extend(report["latencies"])
            result.errors.extend(report["errors"])
            result.http_latencies.extend(report["http"])
        result.failed = len(result.errors)
        ok = [r.time for r in log if r.op_id == OP and r.status == 200 and r.code == 0]
        refused = [r for r in log if r.op_id == OP and r.status != 429 and r.code not in (0, None)]
        result.rejected = len(refused)
        owner = {record.tokens.access_token: record.seller for record in records}
        per_seller = Counter(owner.get(r.access_token, r.access_token) for r in refused)
        result.rejected_twice = sum(1 for n in per_seller.values() if n > 1)
        # A call already sent when its seller's first refusal came back is refused too; one sent
        # later is not, since a client rereads its seller's record at most 0.1 s before sending.
        # "Late": refused over REFUSAL_GRACE s after the seller's first refusal reached the sandbox.
        times: dict[str, list[float]] = {}
        for r in refused:
            times.setdefault(owner.get(r.access_token, r.access_token or ""), []).append(r.time)
        result.rejected_late = sum(1 for ts in times.values() if max(ts) - min(ts) > REFUSAL_GRACE)
        for r in log:
            if r.op_id == OP and r.status == 200 and r.code == 0:
                result.shop_times.setdefault(r.query.get("shop_cipher", ""), []).append(r.time)
        result.client_interval = 1.0 / spec["client_rate"]
        result.expiry = spec["start"] + expire_after
        result.calls = len(ok)
        result.http_429 = sum(1 for r in log if r.status == 429)
        # Steady state: from one refill interval after the first answer (the sandbox's buckets
        # start full, and every shop's first call goes at once) to the last answer.
        if len(ok) > 1:
            begin = min(ok) + 1.0 / sandbox_rate
            steady = [t for t in ok if t >= begin]
            result.calls = len(steady)
            result.seconds = max(ok) - begin if steady else duration
            result.begin = begin
        else:
            result.seconds = duration
        result.limit_qps = sandbox_rate * len(shops)
        with sb.tokens._lock:
            used = Counter(g.open_id for g in sb.tokens.refresh.values() if g.used)
        result.refreshes = {r.seller: used.get(r.seller, 0) for r in records}
        return result
    finally:
        sb.stop()
