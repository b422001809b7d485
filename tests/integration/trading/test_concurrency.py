"""100 concurrent buys that together exceed buying power: exactly the affordable ones fill.

The real app runs under uvicorn on a free loopback port and 100 market orders arrive at once
over real HTTP connections. Every change to a portfolio starts by locking it (a row lock on
PostgreSQL, the write lock on SQLite), so the orders are served one after the other: each is
filled if the cash left at its turn pays for it and refused with 403 otherwise. The simulated
price moves with the real clock, so the test does not predict the count; it checks that the
outcome is one a serial execution gives:

- every answer is 201 (filled at once) or 403 ``insufficient_buying_power``, never an error;
- the stored orders are exactly the acknowledged ones, each with exactly one trade at its fill
  price, and the refused ones left nothing behind;
- cash = starting cash - the cost of the fills, never below zero, and the position is the sum
  of the fills;
- the journal is a gap-free sequence whose running cash ends at the portfolio's cash;
- every refusal saw a committed state (its buying power is a cash balance of the journal) and
  the cash finally left cannot pay for any refused order: no affordable order was turned away.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from quantumtrade.api.app import create_app
from quantumtrade.db.models import LedgerEntry
from quantumtrade.services.trading.audit import AuditReport, audit_portfolio
from support import bearer, build_settings, free_port, register

ORDERS = 100
SYMBOL = "AAPL"
QTY = Decimal(1)
# Starting cash pays for this many orders at the quote seen before the burst (the price drifts
# a little with the real clock while the orders run, hence the half order of slack).
AFFORDABLE = Decimal("40.5")
CENT = Decimal("0.01")


@contextlib.asynccontextmanager
async def live_app(
    url: str, redis_url: str | None, data_dir: Path
) -> AsyncIterator[tuple[FastAPI, str]]:
    """The app under a real uvicorn on a free port; the market always open."""
    settings = build_settings(
        url,
        redis_url,
        data_dir,
        market_feed_enabled=False,
        market_always_open=True,
        auto_migrate=True,
    )
    app = create_app(settings)
    port = free_port()
    # A long keep-alive: the client pools the burst's 100 connections and reuses them for the
    # checks; on a loaded machine more than uvicorn's default 5 s can pass in between, and a
    # connection the server closed meanwhile fails the next request sent on it (ReadError).
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        lifespan="on",
        access_log=False,
        timeout_keep_alive=300,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def audit(app: FastAPI, portfolio_id: str) -> AuditReport:
    """Replay the journal with the service's audit: cash, positions and trades agree."""
    async with app.state.container.session_factory() as db:
        report = await audit_portfolio(db, uuid.UUID(portfolio_id))
    assert report.ok, report.problems
    return report


async def journal(app: FastAPI, portfolio_id: str) -> list[LedgerEntry]:
    async with app.state.container.session_factory() as db:
        rows = await db.scalars(
            sa.select(LedgerEntry)
            .where(LedgerEntry.portfolio_id == uuid.UUID(portfolio_id))
            .order_by(LedgerEntry.seq)
        )
        return list(rows)


async def run_burst(url: str, redis_url: str | None, data_dir: Path) -> None:
    async with (
        live_app(url, redis_url, data_dir) as (app, base_url),
        httpx.AsyncClient(
            base_url=base_url,
            limits=httpx.Limits(max_connections=ORDERS, max_keepalive_connections=ORDERS),
            timeout=60,
        ) as http,
    ):
        headers = bearer((await register(http))["access_token"])
        quotes = await http.get("/api/market/quotes", params={"symbols": SYMBOL})
        assert quotes.status_code == 200, quotes.text
        ask = Decimal(str(quotes.json()["quotes"][0]["ask"]))
        starting_cash = (ask * QTY * AFFORDABLE).quantize(CENT)
        created = await http.post(
            "/api/portfolios",
            json={"name": "burst", "starting_cash": str(starting_cash), "margin_multiplier": 1},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        portfolio_id = created.json()["id"]

        client_ids = [f"burst-{i:03d}" for i in range(ORDERS)]
        responses = await asyncio.gather(
            *(
                http.post(
                    "/api/orders",
                    json={
                        "symbol": SYMBOL,
                        "side": "buy",
                        "type": "market",
                        "qty": str(QTY),
                        "portfolio_id": portfolio_id,
                        "client_order_id": cid,
                    },
                    headers=headers,
                )
                for cid in client_ids
            )
        )

        # Every answer is a fill or a refusal for buying power: no 409/500, no lock error.
        statuses = Counter(r.status_code for r in responses)
        assert set(statuses) <= {201, 403}, [r.text for r in responses if r.status_code != 201]
        filled = {
            cid: r.json()
            for cid, r in zip(client_ids, responses, strict=True)
            if r.status_code == 201
        }
        refused = {
            cid: r.json()["error"]
            for cid, r in zip(client_ids, responses, strict=True)
            if r.status_code == 403
        }
        assert len(filled) + len(refused) == ORDERS
        assert {e["code"] for e in refused.values()} <= {"insufficient_buying_power"}
        assert 0 < len(filled) < ORDERS, statuses
        for cid, order in filled.items():
            assert order["client_order_id"] == cid
            assert order["status"] == "filled", order
            assert Decimal(order["filled_qty"]) == QTY

        # The stored orders are exactly the acknowledged ones.
        listed = await http.get(
            "/api/orders",
            params={"status": "all", "limit": 500, "portfolio_id": portfolio_id},
            headers=headers,
        )
        assert listed.status_code == 200, listed.text
        stored = listed.json()
        assert len(stored) == len(filled)
        assert {o["client_order_id"]: o["id"] for o in stored} == {
            cid: o["id"] for cid, o in filled.items()
        }
        assert all(o["status"] == "filled" for o in stored)
        lookups = await asyncio.gather(
            *(
                http.get(
                    "/api/orders:by_client_order_id",
                    params={"client_order_id": cid, "portfolio_id": portfolio_id},
                    headers=headers,
                )
                for cid in refused
            )
        )
        assert all(r.status_code == 404 for r in lookups), [r.text for r in lookups]

        # One trade per filled order, at the order's fill price.
        trades = await http.get(
            f"/api/portfolios/{portfolio_id}/trades", params={"limit": 500}, headers=headers
        )
        assert trades.status_code == 200, trades.text
        items = trades.json()["items"]
        assert trades.json()["total"] == len(items) == len(filled)
        by_order = Counter(t["order_id"] for t in items)
        assert set(by_order) == {o["id"] for o in filled.values()}
        assert set(by_order.values()) == {1}
        prices = {o["id"]: Decimal(o["filled_avg_price"]) for o in filled.values()}
        for trade in items:
            assert Decimal(trade["qty"]) == QTY and trade["side"] == "buy"
            assert Decimal(trade["price"]) == prices[trade["order_id"]]

        # Cash and position are what the fills add up to; cash never went below zero.
        cost = sum(
            ((Decimal(t["qty"]) * Decimal(t["price"])).quantize(CENT) for t in items), Decimal(0)
        )
        summary = (await http.get(f"/api/portfolios/{portfolio_id}", headers=headers)).json()
        cash = Decimal(summary["cash"])
        assert cash == starting_cash - cost
        assert cash >= 0
        positions = (
            await http.get(f"/api/portfolios/{portfolio_id}/positions", headers=headers)
        ).json()
        assert [(p["symbol"], Decimal(p["qty"])) for p in positions] == [
            (SYMBOL, QTY * len(filled))
        ]
        assert Decimal(positions[0]["cost_basis"]) == cost

        # The journal: a deposit, then one line per fill, numbered without gaps.
        entries = await journal(app, portfolio_id)
        assert [e.seq for e in entries] == list(range(1, len(filled) + 2))
        assert [e.kind for e in entries] == ["deposit"] + ["fill"] * len(filled)
        running = Decimal(0)
        for entry in entries:
            running += entry.cash_delta
            assert entry.cash_after == running >= 0
        assert running == cash
        balances = {e.cash_after for e in entries}

        # Each refusal saw a committed balance, and what is left pays for no refused order.
        for cid, error in refused.items():
            required = Decimal(error["details"]["required"])
            available = Decimal(error["details"]["buying_power"])
            assert available in balances, (cid, error, sorted(balances))
            assert required > available
            assert cash < required, (cid, error, cash)

        report = await audit(app, portfolio_id)
        assert report.cash == cash
        assert report.positions == {SYMBOL: QTY * len(filled)}
        assert report.entries == len(filled) + 1


async def test_burst_fills_exactly_the_affordable_orders_on_postgresql(
    fresh_pg_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    await run_burst(fresh_pg_url, app_redis_url, tmp_path)


async def test_burst_fills_exactly_the_affordable_orders_on_sqlite(
    fresh_sqlite_url: str, app_redis_url: str | None, tmp_path: Path
) -> None:
    await run_burst(fresh_sqlite_url, app_redis_url, tmp_path)
