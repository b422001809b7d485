"""Market orders over HTTP: orders/s and latency with N concurrent clients, SQLite and PostgreSQL.

A real server (``python -m quantumtrade serve`` in a subprocess, configured through the
environment like a deployment: default logging, rate limiting off, the simulated market always
open) takes market orders of 1 share from N clients, each on its own keep-alive connection,
each sending its next order as soon as the previous one is answered. Every order fills at once.
The load generator is a minimal asyncio HTTP/1.1 client (uvloop when installed), so that it
takes as little as possible of the CPU it shares with the server.

Two account layouts: ``own`` (each client trades its own portfolio, the throughput case) and
``shared`` (all clients trade one portfolio, so the portfolio lock serialises them). After the
run the database is counted: orders stored must equal 201 responses, every stored order must be
filled with exactly one trade, and no client_order_id may appear twice.

That is a closed loop: with N clients the mean latency is just N / throughput (Little's law).
``--rate R`` runs an open loop instead: orders arrive at a fixed rate of R per second in total
(the i-th at start + i/R), a scheduler puts each arrival in a queue at its time and the N
connections take them from it. Latency runs from the scheduled arrival, not from the send, so
the time an arrival waits for a free connection counts (no coordinated omission). Arrivals of
the window answered more than 2 s after it are reported as late; the backlog still queued then
is dropped (not sent) and reported too.

    .venv/bin/python benchmarks/bench_orders_http.py                      # both databases
    .venv/bin/python benchmarks/bench_orders_http.py --db postgresql --clients 50 --seconds 10
    .venv/bin/python benchmarks/bench_orders_http.py --db postgresql --layout own --rate 100 200
    .venv/bin/python benchmarks/bench_orders_http.py --profile            # where the time goes

``--profile`` runs the app in-process instead (httpx ASGI transport, one order at a time) and
splits the time of a request into phases (exclusive of the phases nested in them), plus a
cProfile summary by library.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

PG_ADMIN_URL = os.environ.get(
    "QT_BENCH_PG_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SYMBOL = "AAPL"
STARTING_CASH = "1000000000"
PASSWORD = "violet-Harbor-93-quasar"  # noqa: S105 - a throwaway benchmark account
GRACE = 2.0  # open loop: answers to the window's arrivals count until this long after it
IDLE_RECONNECT = 4.0  # reopen a connection idle this long (uvicorn closes them after 5 s)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- databases ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def database(kind: str, data_dir: Path) -> AsyncIterator[str | None]:
    """Yield DATABASE_URL for the server (None: the embedded SQLite default under DATA_DIR)."""
    if kind == "sqlite":
        yield None
        return
    import asyncpg

    name = f"qt_bench_{secrets.token_hex(4)}"
    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def sqlalchemy_url(database_url: str | None, data_dir: Path) -> str:
    return database_url or f"sqlite+aiosqlite:///{(data_dir / 'quantumtrade.db').as_posix()}"


# --- the server ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def server(
    database_url: str | None, data_dir: Path, workers: int
) -> AsyncIterator[tuple[str, int, int]]:
    """Run ``python -m quantumtrade serve`` in a subprocess; yield (host, port, pid)."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DB_", "DATABASE_", "REDIS_", "JWT_", "QT_", "ENVIRONMENT"))
    }
    env.update(
        PORT=str(port),
        DATA_DIR=str(data_dir),
        ENVIRONMENT="development",
        LOG_JSON="true",  # as in production: one JSON line per request
        WORKERS=str(workers),
        AUTO_MIGRATE="true",
        MARKET_ALWAYS_OPEN="true",
        RATE_LIMIT_ENABLED="false",
        BCRYPT_ROUNDS="4",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    log = (data_dir.parent / "server.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "quantumtrade",
        "serve",
        cwd=data_dir.parent,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"server exited: see {log.name}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/api/health")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not become healthy")
                await asyncio.sleep(0.2)
        yield "127.0.0.1", port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.close()


# --- the load generator -------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for JSON request/response."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.head, len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported by this client")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            writer, self.reader, self.writer = self.writer, None, None
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def setup_accounts(
    base_url: str, clients: int, layout: str
) -> tuple[list[tuple[str, str]], list[str]]:
    """Register the users; return (token, portfolio_id) per client and every portfolio id."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:

        async def account(i: int) -> tuple[str, str]:
            email = f"bench-{i}-{secrets.token_hex(4)}@example.com"
            r = await http.post("/api/auth/register", json={"email": email, "password": PASSWORD})
            r.raise_for_status()
            token = r.json()["access_token"]
            r = await http.post(
                "/api/portfolios",
                json={"name": "bench", "starting_cash": STARTING_CASH},
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()
            return token, r.json()["id"]

        if layout == "own":
            accounts = [await account(i) for i in range(clients)]
        else:
            accounts = [await account(0)] * clients
    return accounts, sorted({pid for _t, pid in accounts})


def _order_body(portfolio_id: str, client_order_id: str) -> bytes:
    return json.dumps(
        {
            "symbol": SYMBOL,
            "side": "buy",
            "type": "market",
            "qty": "1",
            "portfolio_id": portfolio_id,
            "client_order_id": client_order_id,
        }
    ).encode()


def _speed_reference() -> str:
    """How fast this machine runs Python right now: a shared VM's speed drifts over the day."""
    started = time.process_time()
    total = 0
    for i in range(5_000_000):
        total += i
    return f"reference loop (5M additions) {time.process_time() - started:.2f} s of CPU"


async def sample_cpu(cpu: dict[str, float], server_pid: int, start: float, stop: float) -> None:
    """Fill ``cpu`` with the server's and this process's CPU seconds from ``start`` to ``stop``."""
    await asyncio.sleep(start - time.perf_counter())
    cpu["server"], cpu["client"] = _tree_cpu_seconds(server_pid), time.process_time()
    await asyncio.sleep(stop - time.perf_counter())
    cpu["server"] = _tree_cpu_seconds(server_pid) - cpu["server"]
    cpu["client"] = time.process_time() - cpu["client"]


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (uvicorn's workers)."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


async def load(
    host: str,
    port: int,
    server_pid: int,
    accounts: list[tuple[str, str]],
    seconds: float,
    warmup: float,
) -> dict[str, Any]:
    """Every client sends orders back to back; latencies are kept after the warm-up."""
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    latencies: list[float] = []
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    measured = 0

    async def client(n: int, token: str, portfolio_id: str) -> None:
        nonlocal measured
        connection = Connection(host, port, token)
        i = 0
        try:
            while (now := time.perf_counter()) < stop_at:
                body = _order_body(portfolio_id, f"c{n}-{i}")
                i += 1
                status, answer = await connection.post("/api/orders", body)
                done = time.perf_counter()
                statuses[status] += 1
                if status != 201 and len(failures) < 5:
                    failures.append(f"{status} {answer[:300]!r}")
                if now >= measure_from and done <= stop_at:
                    latencies.append(done - now)
                    measured += 1
        finally:
            await connection.close()

    cpu: dict[str, float] = {}

    await asyncio.gather(
        sample_cpu(cpu, server_pid, measure_from, stop_at),
        *(client(n, t, p) for n, (t, p) in enumerate(accounts)),
    )
    return {
        "failures": failures,
        "server_cpu_ms_per_order": cpu["server"] / max(measured, 1) * 1000,
        "server_cpu_share": cpu["server"] / seconds,
        "client_cpu_share": cpu["client"] / seconds,
        "statuses": statuses,
        "orders_per_s": measured / seconds,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
    }


async def load_open(
    host: str,
    port: int,
    server_pid: int,
    accounts: list[tuple[str, str]],
    seconds: float,
    warmup: float,
    rate: float,
) -> dict[str, Any]:
    """Open loop: arrivals every 1/rate s from a shared queue; latency from the scheduled time.

    Kept: arrivals scheduled in the window and answered by its end + GRACE. Arrivals of the
    window answered later are "late"; those still queued then are dropped ("unsent").
    """
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    latencies: list[float] = []
    counts: Counter[str] = Counter()
    connections = [Connection(host, port, token) for token, _pid in accounts]
    await asyncio.gather(*(c.connect() for c in connections))
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    deadline = stop_at + GRACE

    async def schedule() -> None:
        i = 0
        while (due := start + i / rate) < stop_at:
            if (delay := due - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(due)  # late wake-ups catch up: the arrival times stay fixed
            i += 1
        counts["arrivals"] = i
        for _ in connections:
            queue.put_nowait(None)  # one stop per client, behind the last arrival

    async def client(n: int, connection: Connection, portfolio_id: str) -> None:
        i = 0
        last_used = time.perf_counter()
        try:
            while (due := await queue.get()) is not None:
                now = time.perf_counter()
                if now > deadline:  # drain the backlog without sending it
                    counts["unsent"] += due >= measure_from
                    continue
                if now - last_used > IDLE_RECONNECT:
                    await connection.connect()
                status, answer = await connection.post(
                    "/api/orders", _order_body(portfolio_id, f"c{n}-{i}")
                )
                i += 1
                done = last_used = time.perf_counter()
                statuses[status] += 1
                if status != 201 and len(failures) < 5:
                    failures.append(f"{status} {answer[:300]!r}")
                if measure_from <= done <= stop_at:
                    counts["answered_in_window"] += 1  # server work done while CPU is sampled
                if due < measure_from:
                    continue
                if done <= deadline:
                    latencies.append(done - due)
                    counts["ok"] += status == 201
                else:
                    counts["late"] += 1
        finally:
            await connection.close()

    cpu: dict[str, float] = {}

    tasks = [
        schedule(),
        sample_cpu(cpu, server_pid, measure_from, stop_at),
        *(client(n, connections[n], pid) for n, (_t, pid) in enumerate(accounts)),
    ]
    # After the deadline only the requests in flight then (at most one per client) remain.
    await asyncio.wait_for(asyncio.gather(*tasks), deadline - time.perf_counter() + 60)
    return {
        "failures": failures,
        "server_cpu_ms_per_order": cpu["server"] / max(counts["answered_in_window"], 1) * 1000,
        "server_cpu_share": cpu["server"] / seconds,
        "client_cpu_share": cpu["client"] / seconds,
        "statuses": statuses,
        "orders_per_s": counts["ok"] / seconds,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "arrivals": counts["arrivals"],
        "late": counts["late"],
        "unsent": counts["unsent"],
        "answered_per_s": counts["answered_in_window"] / seconds,
    }


async def count_in_db(url: str, portfolio_ids: list[str]) -> dict[str, int]:
    import uuid

    import sqlalchemy as sa

    from quantumtrade.db.engine import create_engine
    from quantumtrade.db.models import Order, Trade

    ids = [uuid.UUID(pid) for pid in portfolio_ids]
    count = sa.select(sa.func.count())
    ours = Order.portfolio_id.in_(ids)
    one_trade = (
        sa.select(Trade.order_id)
        .where(Trade.portfolio_id.in_(ids))
        .group_by(Trade.order_id)
        .having(sa.func.count() == 1)
        .subquery()
    )
    distinct = sa.select(Order.portfolio_id, Order.client_order_id).where(ours).distinct()
    queries = {
        "orders": count.select_from(Order).where(ours),
        "filled": count.select_from(Order).where(ours, Order.status == "filled"),
        "distinct_cids": count.select_from(distinct.subquery()),
        "trades": count.select_from(Trade).where(Trade.portfolio_id.in_(ids)),
        "orders_with_one_trade": count.select_from(one_trade),
    }
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {k: int(await connection.scalar(q) or 0) for k, q in queries.items()}
    finally:
        await engine.dispose()


async def run(
    kind: str,
    clients: int,
    layout: str,
    seconds: float,
    warmup: float,
    workers: int,
    rate: float | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qt-bench-orders-") as tmp:
        data_dir = Path(tmp) / "data"
        async with database(kind, data_dir) as database_url:
            async with server(database_url, data_dir, workers) as (host, port, pid):
                accounts, portfolio_ids = await setup_accounts(
                    f"http://{host}:{port}", clients, layout
                )
                if rate is None:
                    result = await load(host, port, pid, accounts, seconds, warmup)
                else:
                    result = await load_open(host, port, pid, accounts, seconds, warmup, rate)
            result["db"] = await count_in_db(sqlalchemy_url(database_url, data_dir), portfolio_ids)
    result.update(kind=kind, clients=clients, layout=layout, workers=workers, rate=rate)
    return result


# --- where the time goes -------------------------------------------------------------------


class PhaseTimer:
    """Exclusive time per phase: a phase's time excludes the timed phases nested in it."""

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.stack: list[list[float]] = []

    def begin(self) -> None:
        self.stack.append([time.perf_counter(), 0.0])

    def end(self, name: str) -> None:
        started, nested = self.stack.pop()
        elapsed = time.perf_counter() - started
        self.totals[name] += elapsed - nested
        self.calls[name] += 1
        if self.stack:
            self.stack[-1][1] += elapsed

    def wrap_async(self, owner: Any, attr: str, name: str) -> None:
        original = getattr(owner, attr)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            self.begin()
            try:
                return await original(*args, **kwargs)
            finally:
                self.end(name)

        setattr(owner, attr, timed)

    def wrap_sync(self, owner: Any, attr: str, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self.begin()
            try:
                return original(*args, **kwargs)
            finally:
                self.end(name)

        setattr(owner, attr, timed)


def instrument(timer: PhaseTimer, engine: Any) -> None:
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import AsyncSession

    from quantumtrade.api.routers import orders as orders_router
    from quantumtrade.services.trading import execute, orders
    from quantumtrade.services.trading.desk import TradingDesk

    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: timer.begin())
    event.listen(engine.sync_engine, "after_cursor_execute", lambda *a: timer.end("SQL"))
    timer.wrap_sync(TradingDesk, "symbol_info", "desk.symbol_info (symbol lookup)")
    timer.wrap_async(TradingDesk, "quote", "desk.quote / last_price (simulator)")
    timer.wrap_async(TradingDesk, "last_price", "desk.quote / last_price (simulator)")
    timer.wrap_async(TradingDesk, "publish", "desk.publish (bus events)")
    timer.wrap_async(TradingDesk, "notify_engine", "desk.notify_engine")
    timer.wrap_async(orders, "submit_order", "submit_order, the rest of it")
    timer.wrap_async(orders, "_existing", "client_order_id look-up (ORM)")
    timer.wrap_async(orders, "lock_portfolio", "lock_portfolio + reload (ORM)")
    timer.wrap_async(orders, "holdings", "positions load (ORM)")
    timer.wrap_async(execute, "holdings", "positions load (ORM)")
    timer.wrap_async(orders, "reserved_amount", "open orders load (ORM)")
    timer.wrap_sync(orders, "_new_order", "build Order object (ORM)")
    timer.wrap_sync(orders, "record_event", "build OrderEvent objects (ORM)")
    timer.wrap_sync(orders, "validate_order", "validation + pre-trade checks")
    timer.wrap_sync(orders, "run_checks", "validation + pre-trade checks")
    timer.wrap_async(execute, "execute_now", "execute_now, the rest of it")
    timer.wrap_async(execute, "book_fill", "book_fill (position, ledger, trade rows; ORM)")
    timer.wrap_async(orders, "legs_of", "router: legs_of")
    timer.wrap_sync(orders_router, "order_view", "router: order_view")
    timer.wrap_async(AsyncSession, "flush", "ORM flush (unit of work)")
    timer.wrap_async(AsyncSession, "commit", "ORM commit")
    timer.wrap_async(AsyncSession, "close", "ORM session close")


async def profile(kind: str, orders: int) -> None:
    import cProfile
    import logging
    import pstats

    from quantumtrade.api.app import create_app
    from quantumtrade.core.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="qt-bench-profile-") as tmp:
        async with database(kind, Path(tmp)) as database_url:
            settings = load_settings(
                _env_file=None,
                environment="development",
                data_dir=Path(tmp),
                database_url=sqlalchemy_url(database_url, Path(tmp)),
                auto_migrate=True,
                market_always_open=True,
                rate_limit_enabled=False,
                bcrypt_rounds=4,
            )
            app = create_app(settings)
            logging.getLogger().setLevel(logging.WARNING)
            timer = PhaseTimer()
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://bench") as http,
            ):
                r = await http.post(
                    "/api/auth/register",
                    json={"email": "profile@example.com", "password": PASSWORD},
                )
                http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
                r = await http.post(
                    "/api/portfolios", json={"name": "p", "starting_cash": STARTING_CASH}
                )
                body = {"symbol": SYMBOL, "side": "buy", "qty": "1", "portfolio_id": r.json()["id"]}
                ids = iter(range(10**9))

                def order() -> dict[str, str]:
                    return {**body, "client_order_id": f"p{next(ids)}"}

                for _ in range(30):  # warm caches and prepared statements
                    await http.post("/api/orders", json=order())
                started, cpu = time.perf_counter(), time.process_time()
                for _ in range(orders):
                    await http.post("/api/orders", json=order())
                wall = (time.perf_counter() - started) / orders * 1000
                cpu_ms = (time.process_time() - cpu) / orders * 1000
                print(
                    f"\n{kind}: one order at a time, in-process: {wall:.2f} ms wall, "
                    f"{cpu_ms:.2f} ms CPU per order (client included)"
                )

                instrument(timer, app.state.container.engine)
                started = time.perf_counter()
                for _ in range(orders):
                    timer.begin()
                    await http.post("/api/orders", json=order())
                    timer.end("rest: HTTP client, ASGI, middleware, FastAPI, auth, JSON")
                total = time.perf_counter() - started
                print(f"phases (exclusive), ms per order, of {total / orders * 1000:.2f} ms:")
                for name, value in timer.totals.most_common():
                    print(
                        f"  {value / orders * 1000:6.2f} ms  {timer.calls[name] / orders:5.1f}x  "
                        f"{name}"
                    )

                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                for _ in range(orders):
                    await http.post("/api/orders", json=order())
                profiler.disable()
            by_area: Counter[str] = Counter()
            for (path, _line, _func), stat in pstats.Stats(profiler).stats.items():
                if "site-packages/" in path:
                    area = path.split("site-packages/")[1].split("/")[0]
                elif "/quantumtrade/" in path:
                    area = "quantumtrade/" + path.split("/quantumtrade/")[1]
                elif path == "~":
                    area = "builtins"
                else:
                    area = "stdlib"
                by_area[area] += stat[2]
            total_cpu = sum(by_area.values())
            print("cProfile CPU by area (profiler overhead inflates many small calls):")
            for area, value in by_area.most_common(12):
                print(f"  {value / total_cpu:5.1%}  {area}")


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--layout", nargs="*", default=["own", "shared"])
    parser.add_argument("--workers", type=int, nargs="*", default=[1])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument(
        "--rate",
        type=float,
        nargs="*",
        default=None,
        help="open loop: offered orders/s in total, one row per rate (default: closed loop)",
    )
    parser.add_argument("--profile", action="store_true", help="split one order's time instead")
    parser.add_argument("--profile-orders", type=int, default=300)
    args = parser.parse_args()
    rates: list[float | None] = list(args.rate) if args.rate else [None]
    if any(rate is not None and rate <= 0 for rate in rates):
        parser.error("--rate must be positive")
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    machine = (
        f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()})"
    )
    print(f"machine: {machine}; {_speed_reference()}")
    if args.profile:
        for kind in args.db:
            asyncio.run(profile(kind, args.profile_orders))
        return
    print(
        f"{args.clients} clients, market orders of 1 {SYMBOL}, {args.warmup:g}s warm-up + "
        f"{args.seconds:g}s window; server: `python -m quantumtrade serve` subprocess"
    )
    if any(rate is not None for rate in rates):
        print(
            "open loop (offered/s): arrivals at fixed intervals shared by the clients' "
            "connections, latency from the scheduled arrival; orders/s = 201 answers to the "
            f"window's arrivals within window + {GRACE:g}s, per second of window"
        )
    print(
        "| database | accounts | workers | offered/s | orders/s | p50 ms | p99 ms | max ms | "
        "server CPU ms/order | server / client CPU | 201 | other | orders in DB | filled | "
        "trades | 1 trade/order | distinct ids |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in args.db:
        for layout in args.layout:
            for workers in args.workers:
                for rate in rates:
                    report(
                        asyncio.run(
                            run(
                                kind,
                                args.clients,
                                layout,
                                args.seconds,
                                args.warmup,
                                workers,
                                rate,
                            )
                        )
                    )


def report(r: dict[str, Any]) -> None:
    db = r["db"]
    ok = r["statuses"][201]
    other = sum(n for s, n in r["statuses"].items() if s != 201)
    offered = "closed" if r["rate"] is None else f"{r['rate']:,.0f}"
    print(
        f"| {r['kind']} | {r['layout']} | {r['workers']} | {offered} | "
        f"{r['orders_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
        f"{r['server_cpu_ms_per_order']:.1f} | "
        f"{r['server_cpu_share']:.0%} / {r['client_cpu_share']:.0%} | "
        f"{ok} | {other} | {db['orders']} | "
        f"{db['filled']} | {db['trades']} | {db['orders_with_one_trade']} | "
        f"{db['distinct_cids']} |",
        flush=True,
    )
    consistent = (
        db["orders"] == ok == db["filled"] == db["trades"]
        and db["orders_with_one_trade"] == db["trades"] == db["distinct_cids"]
    )
    for failure in r["failures"]:
        print(f"  ^ not 201: {failure}", flush=True)
    if r.get("late") or r.get("unsent"):
        print(
            f"  ^ late: {r['late']} of the window's arrivals answered after window + "
            f"{GRACE:g}s, {r['unsent']} still queued then and not sent "
            f"({r['arrivals']} arrivals in all; the server answered "
            f"{r['answered_per_s']:,.0f}/s during the window)",
            flush=True,
        )
    if not consistent:
        print("  ^ MISMATCH: orders lost or doubled", flush=True)


if __name__ == "__main__":
    main()
