"""The ledger audit against the real API: seeded random trading, a reset, and corruptions.

Orders go through ``POST /api/orders`` on a fixed clock during the session (Wednesday
18 November 2026, 11:00 New York), with the live feed and the matching engine off, so every
market order fills at once against the simulator's quote. The audit then replays the journal
and must agree with what the API reports; a value changed behind the ledger's back must show.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import LedgerEntry, Portfolio, Position, Trade
from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.errors import NotFound
from quantumtrade.services.trading.audit import AuditReport, audit_portfolio
from support import assert_error, bearer, register

D = Decimal
START = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
SYMBOLS = ("AAPL", "NVDA", "BAC")
FEES = {
    "paper_commission": "per_share",
    "paper_commission_rate": D("0.005"),
    "paper_commission_min": D("1.00"),
    "paper_regulatory_fees": True,
    "paper_slippage": "fixed_bps",
}


@dataclass
class Desk:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FixedClock
    auth: dict[str, str]

    async def new_portfolio(self, name: str, **body: Any) -> str:
        response = await self.client.post(
            "/api/portfolios", json={"name": name, **body}, headers=self.auth
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def order(
        self, portfolio_id: str, symbol: str, side: str, qty: Decimal, *, notional: bool = False
    ) -> httpx.Response:
        """Place a market order (``qty`` in dollars when ``notional``), then a minute passes."""
        amount = {"notional" if notional else "qty": str(qty)}
        response = await self.client.post(
            "/api/orders",
            json={"symbol": symbol, "side": side, "portfolio_id": portfolio_id, **amount},
            headers=self.auth,
        )
        self.clock.advance(timedelta(minutes=1))
        return response

    async def filled(self, portfolio_id: str, symbol: str, side: str, qty: Decimal) -> None:
        response = await self.order(portfolio_id, symbol, side, qty)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "filled", response.json()

    async def get(self, path: str) -> Any:
        response = await self.client.get(path, headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    async def audit(self, portfolio_id: str) -> AuditReport:
        async with self.app.state.container.session_factory() as db:
            return await audit_portfolio(db, uuid.UUID(portfolio_id))

    async def write(self, change: Callable[[AsyncSession], Awaitable[object]]) -> None:
        """Change stored rows directly, as a bug or a hand edit would."""
        async with self.app.state.container.session_factory() as db:
            await change(db)
            await db.commit()


DeskFactory = Callable[..., Any]


@pytest.fixture
def open_desk(make_api: Callable[..., Any]) -> DeskFactory:
    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Desk]:
        clock = FixedClock(START)
        async with make_api(
            clock=clock, market_feed_enabled=False, paper_matching_enabled=False, **overrides
        ) as (app, client):
            user = await register(client)
            yield Desk(app, client, clock, bearer(user["access_token"]))

    return factory


Order = tuple[str, str, Decimal, bool]  # symbol, side, qty (or dollars), notional


def next_order(rng: random.Random, held: dict[str, Decimal]) -> Order:
    """A seeded order: whole shares either way, or a fraction or dollar amount that buys or
    sells part of a long (a short sale takes whole shares, so a fraction never opens one).
    """
    symbol = rng.choice(SYMBOLS)
    side = rng.choice(("buy", "sell"))
    draw = rng.random()
    if side == "buy" and draw < 0.2:
        return symbol, side, D(rng.randint(100, 400_000)).scaleb(-2), True  # $1 to $4,000
    fraction = D(rng.randint(1, 9999)).scaleb(-3)
    if draw < 0.5 and (side == "buy" or fraction <= held.get(symbol, D(0))):
        return symbol, side, fraction, False
    return symbol, side, D(rng.randint(1, 25)), False


async def test_seeded_random_trading_with_a_reset_audits_clean(open_desk: DeskFactory) -> None:
    async with open_desk(**FEES) as desk:
        portfolio_id = await desk.new_portfolio(
            "Audited", margin_multiplier=2, shorting_enabled=True
        )
        # A long, a flip to a short, a flip back, a short, a fraction; then seeded chance.
        scripted: list[Order] = [
            ("AAPL", "buy", D(10), False),
            ("AAPL", "sell", D(15), False),
            ("AAPL", "buy", D(8), False),
            ("NVDA", "sell", D(7), False),
            ("BAC", "buy", D("2.5"), False),
        ]
        rng = random.Random(20261118)
        held: dict[str, Decimal] = {}
        fills = refused = 0
        for step in range(50):
            if step == 25:
                middle = await desk.audit(portfolio_id)
                assert middle.ok, middle.problems
                assert middle.positions == {s: q for s, q in held.items() if q}
                response = await desk.client.post(
                    f"/api/portfolios/{portfolio_id}/reset", headers=desk.auth
                )
                assert response.status_code == 200, response.text
                desk.clock.advance(timedelta(minutes=1))
                held.clear()
            symbol, side, qty, notional = (
                scripted[step] if step < len(scripted) else next_order(rng, held)
            )
            response = await desk.order(portfolio_id, symbol, side, qty, notional=notional)
            if response.status_code == 403:
                # Only buying power may refuse these orders (they never short a fraction).
                assert_error(response, 403, "insufficient_buying_power")
                refused += 1
                continue
            assert response.status_code == 201, response.text
            order = response.json()
            assert order["status"] == "filled", order
            filled = D(order["filled_qty"])
            held[symbol] = held.get(symbol, D(0)) + (filled if side == "buy" else -filled)
            fills += 1
        assert fills >= 40 and refused <= 6, (fills, refused)

        report = await desk.audit(portfolio_id)
        summary = await desk.get(f"/api/portfolios/{portfolio_id}")
        positions = await desk.get(f"/api/portfolios/{portfolio_id}/positions")
        trades = await desk.get(f"/api/portfolios/{portfolio_id}/trades?limit=500")

    assert report.ok, report.problems
    assert report.problems == []
    assert report.entries == 1 + fills + 1  # the deposit, every fill, the reset
    assert trades["total"] == fills
    assert D(summary["cash"]) == report.cash
    assert D(summary["realized_pl"]) == report.realized_pl
    assert {p["symbol"]: D(p["qty"]) for p in positions} == report.positions
    assert {p["symbol"]: D(p["avg_entry_price"]) for p in positions} == {
        symbol: holding.avg_entry_price for symbol, holding in report.holdings.items()
    }
    assert report.positions == {s: q for s, q in held.items() if q}
    assert report.positions, "the seeded run ends holding something"
    # The run paid commissions and regulatory fees, so the audit checked them too.
    fee_total = sum((D(t["commission"]) + D(t["fees"]) for t in trades["items"]), D(0))
    assert fee_total > 0


async def test_the_audit_follows_a_short_through_a_reset(open_desk: DeskFactory) -> None:
    async with open_desk() as desk:
        portfolio_id = await desk.new_portfolio(
            "Shorts", margin_multiplier=4, shorting_enabled=True
        )
        await desk.filled(portfolio_id, "NVDA", "sell", D(10))
        await desk.filled(portfolio_id, "NVDA", "buy", D(4))
        shorted = await desk.audit(portfolio_id)
        response = await desk.client.post(
            f"/api/portfolios/{portfolio_id}/reset", headers=desk.auth
        )
        assert response.status_code == 200, response.text
        reset = await desk.audit(portfolio_id)
        summary = await desk.get(f"/api/portfolios/{portfolio_id}")

    assert shorted.ok, shorted.problems
    assert shorted.positions == {"NVDA": D(-6)}
    assert shorted.entries == 3
    assert reset.ok, reset.problems
    assert reset.positions == {}
    assert reset.realized_pl == 0
    assert reset.entries == 4
    assert reset.cash == D(summary["cash"]) == D(summary["starting_cash"])


async def test_auditing_an_unknown_portfolio_is_not_found(open_desk: DeskFactory) -> None:
    async with open_desk() as desk, desk.app.state.container.session_factory() as db:
        with pytest.raises(NotFound) as caught:
            await audit_portfolio(db, uuid.uuid4())

    assert caught.value.code == "portfolio_not_found"


async def _bump_cash(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    # UPDATE portfolios SET cash = cash + 1, the sum taken in Python: SQLite stores money
    # as text, where SQL arithmetic would go through a float.
    cash = await db.scalar(sa.select(Portfolio.cash).where(Portfolio.id == portfolio_id))
    assert cash is not None
    await db.execute(sa.update(Portfolio).where(Portfolio.id == portfolio_id).values(cash=cash + 1))


async def _bump_realized(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    value = await db.scalar(sa.select(Portfolio.realized_pl).where(Portfolio.id == portfolio_id))
    assert value is not None
    await db.execute(
        sa.update(Portfolio)
        .where(Portfolio.id == portfolio_id)
        .values(realized_pl=value + D("0.01"))
    )


async def _bump_position(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    position = await db.scalar(
        sa.select(Position).where(Position.portfolio_id == portfolio_id, Position.symbol == "AAPL")
    )
    assert position is not None
    position.qty += 1


async def _drop_position(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    await db.execute(
        sa.delete(Position).where(Position.portfolio_id == portfolio_id, Position.symbol == "NVDA")
    )


async def _reprice_trade(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    trade = await db.scalar(
        sa.select(Trade).where(Trade.portfolio_id == portfolio_id, Trade.side == "sell").limit(1)
    )
    assert trade is not None
    trade.price += D("0.01")


async def _drop_ledger_line(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    await db.execute(
        sa.delete(LedgerEntry).where(LedgerEntry.portfolio_id == portfolio_id, LedgerEntry.seq == 2)
    )


async def _bend_fill_line(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    line = await db.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.portfolio_id == portfolio_id, LedgerEntry.seq == 3)
    )
    assert line is not None and line.kind == "fill"
    line.realized_pl += D(5)


async def _bend_cash_after(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    line = await db.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.portfolio_id == portfolio_id, LedgerEntry.seq == 2)
    )
    assert line is not None
    line.cash_after += 1


async def _drop_trade(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    line = await db.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.portfolio_id == portfolio_id, LedgerEntry.seq == 4)
    )
    assert line is not None and line.trade_id is not None
    await db.execute(sa.delete(Trade).where(Trade.id == line.trade_id))


async def _charge_trade(db: AsyncSession, portfolio_id: uuid.UUID) -> None:
    trade = await db.scalar(
        sa.select(Trade).where(Trade.portfolio_id == portfolio_id, Trade.symbol == "NVDA")
    )
    assert trade is not None
    trade.commission += D("0.01")


Corruption = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        pytest.param(_bump_cash, "portfolio cash is", id="cash+1"),
        pytest.param(_bump_realized, "portfolio realized_pl is", id="realized_pl"),
        pytest.param(_bump_position, "position AAPL: qty is", id="position-qty"),
        pytest.param(_drop_position, "position NVDA: the journal holds", id="position-gone"),
        pytest.param(_reprice_trade, "the journal has sell", id="trade-price"),
        pytest.param(_drop_ledger_line, "journal seq 3 found where 2 was expected", id="gap"),
        pytest.param(_bend_fill_line, "seq 3: sell 4 AAPL", id="fill-rules"),
        pytest.param(_bend_cash_after, "seq 2: cash_after", id="cash_after"),
        pytest.param(_drop_trade, "seq 4: trade", id="trade-gone"),
        pytest.param(_charge_trade, "in fees; the journal has 0", id="trade-fees"),
    ],
)
async def test_a_value_changed_behind_the_ledger_shows_in_the_audit(
    open_desk: DeskFactory, corrupt: Corruption, expected: str
) -> None:
    async with open_desk() as desk:
        portfolio_id = await desk.new_portfolio(
            "Tampered", margin_multiplier=2, shorting_enabled=True
        )
        await desk.filled(portfolio_id, "AAPL", "buy", D(10))
        await desk.filled(portfolio_id, "AAPL", "sell", D(4))
        await desk.filled(portfolio_id, "NVDA", "sell", D(5))
        clean = await desk.audit(portfolio_id)
        await desk.write(lambda db: corrupt(db, uuid.UUID(portfolio_id)))
        report = await desk.audit(portfolio_id)

    assert clean.ok, clean.problems
    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems


async def test_a_cash_account_never_goes_below_zero_cash_to_pay_fees(
    open_desk: DeskFactory,
) -> None:
    """``execute.py`` promises a cash account never goes below zero cash (a fill it cannot pay
    for cancels the order). A sale whose fees exceed its proceeds costs cash: 1e-9 share of
    AAPL grosses $0.00 and pays $0.02 of SEC fee and TAF, each rounded up to the cent. With
    the cash all spent, such a sale must be refused or canceled, not booked.
    """
    async with open_desk(paper_regulatory_fees=True) as desk:
        portfolio_id = await desk.new_portfolio("Cash only", starting_cash="1000")
        response = await desk.order(portfolio_id, "AAPL", "buy", D(1000), notional=True)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "filled", response.json()
        cash = D((await desk.get(f"/api/portfolios/{portfolio_id}"))["cash"])
        assert D(0) <= cash < D(1)
        outcomes = []
        for _ in range(int(cash / D("0.02")) + 2):
            response = await desk.order(portfolio_id, "AAPL", "sell", D("0.000000001"))
            assert response.status_code in (201, 403, 422), response.text
            outcomes.append(response.json().get("status", response.status_code))
            summary = await desk.get(f"/api/portfolios/{portfolio_id}")
            assert D(summary["cash"]) >= 0, (summary["cash"], outcomes)
        report = await desk.audit(portfolio_id)

    assert report.ok, report.problems
    assert report.cash >= 0
