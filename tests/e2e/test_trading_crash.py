"""A server killed with SIGKILL in the middle of a burst of orders loses and doubles nothing.

The server runs as a user starts it (``python3 dev.py serve``, settings from the environment,
the market always open). Twenty clients send 300 market orders, buys and sells of three
symbols, each with its own ``client_order_id``; about a second in (sooner once a third of the
burst is acknowledged) the process is killed without warning. Every
order either committed with its fill or left nothing, so after a restart on the same database:

- every acknowledged (201) order is there, as it was acknowledged;
- no ``client_order_id`` is stored twice, and nothing is stored that was not sent; orders whose
  request died with the connection may be there or not, but never half: every stored order is
  filled and has exactly one trade;
- cash and positions are what the trades add up to, and the journal replays to them;
- a client retrying its unanswered orders gets ``client_order_id_in_use`` for those that went
  through and a fill for the others, so the retry doubles nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from quantumtrade.db.engine import create_engine, create_session_factory
from quantumtrade.services.trading.audit import audit_portfolio
from support import bearer, free_port, register

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 120  # as the e2e server fixture: a first run may install
SYMBOLS = ("AAPL", "MSFT", "SPY")
HELD = Decimal(1000)  # bought of each symbol before the burst, so every sell closes
STARTING_CASH = Decimal(10_000_000)
BURST = 300
CLIENTS = 20
KILL_AFTER_SECONDS = 1.0
KILL_AFTER_ACKS = BURST // 3
CENT = Decimal("0.01")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


def server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "DATABASE_", "REDIS_", "JWT_", "QT_", "ENVIRONMENT"))
    }
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "ENVIRONMENT": "development",
            "MARKET_ALWAYS_OPEN": "true",
            "AUTO_MIGRATE": "true",
            "RATE_LIMIT_ENABLED": "false",
            "BCRYPT_ROUNDS": "4",
        }
    )
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


@contextlib.asynccontextmanager
async def running_server(env: dict[str, str], log_path: Path) -> AsyncIterator[Server]:
    """Start ``python3 dev.py serve`` on a free port; stop it at the end if still running."""
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "dev.py", "serve"],
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdout=log,
            stderr=log,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        async with httpx.AsyncClient(base_url=server.base_url, timeout=2) as http:
            while True:
                if process.poll() is not None:
                    pytest.fail(f"server exited with {process.returncode}:\n{server.log()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/api/health")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"server did not become healthy:\n{server.log()}")
                await asyncio.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Outcomes:
    """What each client saw: a 201, another answer, or no answer (the connection died)."""

    acked: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered: dict[str, httpx.Response] = field(default_factory=dict)
    unanswered: dict[str, str] = field(default_factory=dict)


def burst_orders() -> list[dict[str, Any]]:
    rng = random.Random(20261124)
    return [
        {
            "symbol": rng.choice(SYMBOLS),
            "side": rng.choice(("buy", "sell")),
            "type": "market",
            "qty": str(rng.randint(1, 5)),
            "client_order_id": f"crash-{i:03d}",
        }
        for i in range(BURST)
    ]


async def fire_and_kill(server: Server, token: str, portfolio_id: str) -> Outcomes:
    """Send the burst from CLIENTS connections; SIGKILL the server partway through."""
    orders = iter(burst_orders())
    outcomes = Outcomes()
    started = time.monotonic()
    killed = asyncio.Event()

    async def client() -> None:
        async with httpx.AsyncClient(
            base_url=server.base_url,
            headers=bearer(token),
            limits=httpx.Limits(max_connections=1),
            timeout=15,
        ) as http:
            for order in orders:
                cid = order["client_order_id"]
                try:
                    response = await http.post(
                        "/api/orders", json={**order, "portfolio_id": portfolio_id}
                    )
                except httpx.TransportError as exc:
                    outcomes.unanswered[cid] = repr(exc)
                    continue
                if response.status_code == 201:
                    outcomes.acked[cid] = response.json()
                else:
                    outcomes.answered[cid] = response

    async def killer() -> None:
        # About a second in, once something was acknowledged (a loaded CI machine may take
        # longer to answer the first orders); sooner if a third of the burst is through.
        while len(outcomes.acked) < KILL_AFTER_ACKS:
            elapsed = time.monotonic() - started
            if (elapsed >= KILL_AFTER_SECONDS and outcomes.acked) or elapsed > 30:
                break
            await asyncio.sleep(0.005)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        killed.set()

    await asyncio.gather(killer(), *(client() for _ in range(CLIENTS)))
    assert killed.is_set()
    return outcomes


async def audited(database_url: str, portfolio_id: str) -> Any:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            return await audit_portfolio(db, uuid.UUID(portfolio_id))
    finally:
        await engine.dispose()


async def check_books(http: httpx.AsyncClient, portfolio_id: str) -> list[dict[str, Any]]:
    """Check orders, trades, positions and cash against each other; return the orders."""
    listed = await http.get(
        "/api/orders", params={"status": "all", "limit": 500, "portfolio_id": portfolio_id}
    )
    assert listed.status_code == 200, listed.text
    stored: list[dict[str, Any]] = listed.json()
    assert len(stored) < 500  # the page holds them all
    cids = Counter(o["client_order_id"] for o in stored)
    assert [cid for cid, n in cids.items() if n > 1] == []
    # A market order is stored with its fill in one transaction: none survives half done.
    assert [o for o in stored if o["status"] != "filled"] == []

    page = await http.get(f"/api/portfolios/{portfolio_id}/trades", params={"limit": 500})
    assert page.status_code == 200, page.text
    trades = page.json()["items"]
    assert page.json()["total"] == len(trades) == len(stored)
    per_order = Counter(t["order_id"] for t in trades)
    assert set(per_order) == {o["id"] for o in stored}
    assert set(per_order.values()) == {1}
    by_id = {o["id"]: o for o in stored}
    for trade in trades:
        order = by_id[trade["order_id"]]
        assert (trade["symbol"], trade["side"]) == (order["symbol"], order["side"])
        assert Decimal(trade["qty"]) == Decimal(order["qty"]) == Decimal(order["filled_qty"])
        assert Decimal(trade["price"]) == Decimal(order["filled_avg_price"])

    held: Counter[str] = Counter()
    cash = STARTING_CASH
    for trade in trades:
        qty, gross = Decimal(trade["qty"]), Decimal(trade["qty"]) * Decimal(trade["price"])
        sign = 1 if trade["side"] == "buy" else -1
        held[trade["symbol"]] += sign * qty
        cash -= sign * gross.quantize(CENT)
    positions = (await http.get(f"/api/portfolios/{portfolio_id}/positions")).json()
    assert {p["symbol"]: Decimal(p["qty"]) for p in positions} == {
        s: q for s, q in held.items() if q
    }
    summary = (await http.get(f"/api/portfolios/{portfolio_id}")).json()
    assert Decimal(summary["cash"]) == cash
    return stored


async def crash_mid_burst(tmp_path: Path, database_url: str | None) -> None:
    data_dir = tmp_path / "data"
    env = server_env(data_dir, database_url)
    log_path = tmp_path / "server.log"
    db_url = database_url or f"sqlite+aiosqlite:///{(data_dir / 'quantumtrade.db').as_posix()}"

    async with running_server(env, log_path) as first:
        async with httpx.AsyncClient(base_url=first.base_url, timeout=15) as http:
            token = (await register(http))["access_token"]
            http.headers.update(bearer(token))
            created = await http.post(
                "/api/portfolios",
                json={"name": "crash", "starting_cash": str(STARTING_CASH)},
            )
            assert created.status_code == 201, created.text
            portfolio_id = created.json()["id"]
            for symbol in SYMBOLS:
                setup = await http.post(
                    "/api/orders",
                    json={
                        "symbol": symbol,
                        "side": "buy",
                        "qty": str(HELD),
                        "portfolio_id": portfolio_id,
                        "client_order_id": f"setup-{symbol}",
                    },
                )
                assert setup.status_code == 201, setup.text
                assert setup.json()["status"] == "filled", setup.json()
        outcomes = await fire_and_kill(first, token, portfolio_id)

    # Before the kill every order was taken; the kill cut the burst short.
    assert outcomes.answered == {}, {c: r.text for c, r in outcomes.answered.items()}
    assert len(outcomes.acked) + len(outcomes.unanswered) == BURST
    assert 0 < len(outcomes.acked) < BURST
    assert outcomes.unanswered
    for order in outcomes.acked.values():
        assert order["status"] == "filled", order

    async with (
        running_server(env, log_path) as second,
        httpx.AsyncClient(base_url=second.base_url, headers=bearer(token), timeout=15) as http,
    ):
        stored = await check_books(http, portfolio_id)
        sent = {o["client_order_id"] for o in burst_orders()} | {f"setup-{s}" for s in SYMBOLS}
        in_db = {o["client_order_id"]: o for o in stored}
        assert set(in_db) <= sent
        assert len(stored) == len(in_db) <= len(sent)
        # Acknowledged means stored, exactly as acknowledged.
        assert set(outcomes.acked) <= set(in_db)
        lookups = await asyncio.gather(
            *(
                http.get(
                    "/api/orders:by_client_order_id",
                    params={"client_order_id": cid, "portfolio_id": portfolio_id},
                )
                for cid in outcomes.acked
            )
        )
        for cid, found in zip(outcomes.acked, lookups, strict=True):
            assert found.status_code == 200, found.text
            keys = ("id", "status", "symbol", "side", "qty", "filled_qty", "filled_avg_price")
            assert {k: found.json()[k] for k in keys} == {k: outcomes.acked[cid][k] for k in keys}
        # What was not answered is either stored (whole) or absent: both are fine.
        assert set(in_db) - {f"setup-{s}" for s in SYMBOLS} <= set(outcomes.acked) | set(
            outcomes.unanswered
        )

        report = await audited(db_url, portfolio_id)
        assert report.ok, report.problems
        assert report.entries == len(stored) + 1  # the deposit, then one line per fill

        # The clients retry what went unanswered, all at once: nothing is doubled, the rest
        # now fills.
        by_cid = {o["client_order_id"]: o for o in burst_orders()}
        retried = sorted(outcomes.unanswered)
        retries = await asyncio.gather(
            *(
                http.post("/api/orders", json={**by_cid[cid], "portfolio_id": portfolio_id})
                for cid in retried
            )
        )
        for cid, retry in zip(retried, retries, strict=True):
            if cid in in_db:
                assert retry.status_code == 422, retry.text
                error = retry.json()["error"]
                assert error["code"] == "client_order_id_in_use"
                assert error["details"]["order_id"] == in_db[cid]["id"]
            else:
                assert retry.status_code == 201, retry.text
                assert retry.json()["status"] == "filled"
        final = await check_books(http, portfolio_id)
        assert {o["client_order_id"] for o in final} == sent
        report = await audited(db_url, portfolio_id)
        assert report.ok, report.problems
        assert report.entries == len(sent) + 1


async def test_sigkill_mid_burst_loses_and_doubles_nothing_on_postgresql(
    tmp_path: Path, fresh_pg_url: str
) -> None:
    await crash_mid_burst(tmp_path, fresh_pg_url)


async def test_sigkill_mid_burst_loses_and_doubles_nothing_on_sqlite(tmp_path: Path) -> None:
    await crash_mid_burst(tmp_path, None)
