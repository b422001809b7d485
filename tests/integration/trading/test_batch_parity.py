"""The group commit books exactly what the one-by-one path books.

The same script of orders (market and limit, buys and sells, a flip to short and back, a
notional order, fractional quantities, ioc and fok, refusals for buying power, shorting, a
reused client_order_id and another user's portfolio) runs against two apps on one database
with the same fixed clock and market seed: one with ``paper_order_batching`` on, one with it
off. Every answer (status, error code, the order's fields) and every stored row (orders,
order events, journal lines, trades, positions and the portfolio's cash, realised P&L and
journal sequence) must be the same, ids aside. A second case sends the script's orders all at
once, so that they share batches, and checks the outcome against a serial replay of the
journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from quantumtrade.db.models import LedgerEntry, Order, OrderEvent, Portfolio, Position, Trade
from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.orders import OrderSpec, OrderType, TimeInForce
from quantumtrade.services.trading.audit import audit_portfolio
from support import bearer, register

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York: open
COSTS = {
    "paper_slippage": "fixed_bps",
    "paper_slippage_bps": "3",
    "paper_commission": "per_share",
    "paper_commission_rate": "0.005",
    "paper_commission_min": "1",
    "paper_regulatory_fees": True,
}
CENT = Decimal("0.01")


def script(ask: Decimal) -> list[dict[str, Any]]:
    """The orders, for a portfolio that is a 2x margin account with shorting and $100,000."""
    below = str((ask * Decimal("0.9")).quantize(CENT))  # rests
    above = str((ask * Decimal("1.1")).quantize(CENT))  # marketable: fills at the ask
    return [
        {"qty": "10"},
        {"qty": "0.5", "client_order_id": "half"},
        {"type": "limit", "limit_price": below, "qty": "5", "time_in_force": "gtc"},
        {"type": "limit", "limit_price": above, "qty": "3"},
        {"side": "sell", "qty": "4"},
        {"side": "sell", "qty": "30"},  # through zero: short 20.5
        {"side": "buy", "qty": "20.5"},  # covers the short: flat
        {"notional": "1000"},
        {"type": "limit", "limit_price": below, "qty": "2", "time_in_force": "ioc"},
        {"type": "limit", "limit_price": below, "qty": "2", "time_in_force": "fok"},
        {"qty": "5000"},  # more than the buying power: 403
        {"qty": "1", "client_order_id": "half"},  # reused: 422
        {"symbol": "MSFT", "qty": "7", "time_in_force": "ioc"},
        {"symbol": "MSFT", "side": "sell", "qty": "7", "time_in_force": "fok"},
        {"symbol": "MSFT", "side": "sell", "qty": "2.5"},  # a fractional short: 403
        {"qty": "1", "time_in_force": "opg"},  # refused while open, on its own path: 422
        {"qty": "1", "type": "stop", "stop_price": above},  # rests, on its own path
        {"qty": "2", "portfolio": None},  # the caller's first portfolio
    ]


@contextlib.asynccontextmanager
async def account(
    make_api: Any, *, batching: bool
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, dict[str, str], str, Decimal]]:
    clock = FixedClock(NOW)
    async with make_api(
        clock=clock,
        market_feed_enabled=False,
        paper_matching_enabled=False,
        paper_order_batching=batching,
        **COSTS,
    ) as (app, client):
        headers = bearer((await register(client))["access_token"])
        quote = await client.get("/api/market/quotes", params={"symbols": "AAPL"})
        assert quote.status_code == 200, quote.text
        created = await client.post(
            "/api/portfolios",
            json={"name": "parity", "margin_multiplier": 2, "shorting_enabled": True},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        ask = Decimal(str(quote.json()["quotes"][0]["ask"]))
        yield app, client, headers, created.json()["id"], ask


def _body(step: dict[str, Any], portfolio_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"symbol": "AAPL", "side": "buy", "type": "market"}
    body.update({k: v for k, v in step.items() if k != "portfolio"})
    if step.get("portfolio", "") is not None:
        body["portfolio_id"] = portfolio_id
    return body


def _answer(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if response.status_code != 201:
        return {"status": response.status_code, "code": body["error"]["code"]}
    skip = {"id", "portfolio_id", "client_order_id", "replaced_by", "replaces"}
    return {"status": 201, **{k: v for k, v in body.items() if k not in skip}}


_ID_COLUMNS = {"id", "portfolio_id", "order_id", "trade_id", "user_id", "updated_at"}


def _plain(row: Any, *, keep_client_id: bool = False) -> dict[str, Any]:
    values = {c.key: getattr(row, c.key) for c in row.__table__.columns}
    if not keep_client_id or str(values.get("client_order_id")).count("-") == 4:
        values.pop("client_order_id", None)  # generated: a fresh uuid on each side
    return {k: v for k, v in values.items() if k not in _ID_COLUMNS}


async def stored(app: FastAPI, portfolio_id: str) -> dict[str, Any]:
    """Every row the orders left, in the order they were written, without their ids."""
    pid = uuid.UUID(portfolio_id)
    async with app.state.container.session_factory() as db:
        # Every order has the clock's one moment: order them by what they hold.
        orders = sorted(
            await db.scalars(sa.select(Order).where(Order.portfolio_id == pid)),
            key=lambda o: repr(_plain(o, keep_client_id=True)),
        )
        by_id = {o.id: i for i, o in enumerate(orders)}
        events = await db.scalars(
            sa.select(OrderEvent).where(OrderEvent.portfolio_id == pid).order_by(OrderEvent.id)
        )
        lines = await db.scalars(
            sa.select(LedgerEntry).where(LedgerEntry.portfolio_id == pid).order_by(LedgerEntry.seq)
        )
        trades = await db.scalars(
            sa.select(Trade).where(Trade.portfolio_id == pid).order_by(Trade.executed_at)
        )
        positions = await db.scalars(
            sa.select(Position).where(Position.portfolio_id == pid).order_by(Position.symbol)
        )
        portfolio = await db.get(Portfolio, pid)
        assert portfolio is not None
        report = await audit_portfolio(db, pid)
        assert report.ok, report.problems
        return {
            "orders": [_plain(o, keep_client_id=True) for o in orders],
            "events": [(by_id[e.order_id], _plain(e)) for e in events],
            "journal": [_plain(line) for line in lines],
            "trades": sorted(
                (_plain(t) for t in trades), key=lambda r: (r["symbol"], r["side"], r["qty"])
            ),
            "positions": [_plain(p) for p in positions],
            "account": (portfolio.cash, portfolio.realized_pl, portfolio.ledger_seq),
        }


async def run_script(make_api: Any, *, batching: bool) -> tuple[list[Any], dict[str, Any]]:
    async with account(make_api, batching=batching) as (app, client, headers, portfolio_id, ask):
        answers = []
        for step in script(ask):
            response = await client.post(
                "/api/orders", json=_body(step, portfolio_id), headers=headers
            )
            answers.append(_answer(response))
        return answers, await stored(app, portfolio_id)


async def test_group_commit_books_what_the_one_by_one_path_books(make_api: Any) -> None:
    one_by_one, rows_alone = await run_script(make_api, batching=False)
    grouped, rows_grouped = await run_script(make_api, batching=True)
    assert grouped == one_by_one
    assert rows_grouped == rows_alone


@pytest.mark.parametrize("batching", [True, False], ids=["grouped", "one_by_one"])
async def test_a_burst_on_one_portfolio_settles_as_a_serial_run(
    make_api: Any, batching: bool
) -> None:
    async with account(make_api, batching=batching) as (app, client, headers, portfolio_id, ask):
        steps = [s for s in script(ask) if "client_order_id" not in s]
        responses = await asyncio.gather(
            *(
                client.post("/api/orders", json=_body(step, portfolio_id), headers=headers)
                for step in steps
            )
        )
        assert {r.status_code for r in responses} <= {201, 403, 422}, [r.text for r in responses]
        rows = await stored(app, portfolio_id)  # the audit replays the journal
        acknowledged = sorted(
            r.json()["client_order_id"] for r in responses if r.status_code == 201
        )
        async with app.state.container.session_factory() as db:
            kept = sorted(
                await db.scalars(
                    sa.select(Order.client_order_id).where(
                        Order.portfolio_id == uuid.UUID(portfolio_id)
                    )
                )
            )
        assert kept == acknowledged
        assert len(rows["trades"]) == sum(1 for line in rows["journal"] if line["kind"] == "fill")
        # No batch fell back to one-by-one placement (a position closed and reopened in one
        # batch, say, must not trip the one-position-per-symbol key).
        assert app.state.order_batcher.failed_batches == 0


async def test_one_batch_closes_a_position_and_opens_it_again(make_api: Any) -> None:
    """Orders queued together share one batch: sell a stored position out, buy, go short."""
    async with account(make_api, batching=True) as (app, _client, headers, portfolio_id, _ask):
        batcher = app.state.order_batcher
        token = headers["Authorization"].removeprefix("Bearer ")

        def order(side: Side, qty: str) -> Any:
            spec = OrderSpec(
                symbol="AAPL", side=side, type=OrderType.MARKET, time_in_force=TimeInForce.DAY
            )
            return batcher.place(
                access_token=token,
                portfolio_id=uuid.UUID(portfolio_id),
                spec=replace(spec, qty=Decimal(qty)),
            )

        assert (await order(Side.BUY, "10"))["status"] == "filled"  # a stored position
        # Each call queues its order before it first waits, so one writer takes all three.
        views = await asyncio.gather(
            order(Side.SELL, "10"), order(Side.BUY, "4"), order(Side.SELL, "6")
        )
        assert [v["status"] for v in views] == ["filled"] * 3
        assert batcher.failed_batches == 0
        rows = await stored(app, portfolio_id)  # audits the journal against the state
        assert [(p["symbol"], p["qty"]) for p in rows["positions"]] == [("AAPL", Decimal(-2))]
        fills = [line["qty"] for line in rows["journal"] if line["kind"] == "fill"]
        assert fills == [Decimal(10), Decimal(10), Decimal(4), Decimal(6)]


@pytest.mark.parametrize("batching", [True, False], ids=["grouped", "one_by_one"])
async def test_a_signed_out_session_places_nothing(make_api: Any, batching: bool) -> None:
    """Logging out refuses the access token at once, in a batch as on its own."""
    async with account(make_api, batching=batching) as (app, client, headers, portfolio_id, _a):
        assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
        answers = await asyncio.gather(
            *(
                client.post("/api/orders", json=_body({"qty": "1"}, portfolio_id), headers=headers)
                for _ in range(3)
            )
        )
        for answer in answers:
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"]["code"] == "session_revoked"
        assert (await stored(app, portfolio_id))["orders"] == []
