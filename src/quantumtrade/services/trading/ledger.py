"""Booking into the ledger: the portfolio lock, fills, deposits and resets, in one transaction.

Every change to a portfolio's cash, positions or orders starts with :func:`lock_portfolio`:
an ``UPDATE portfolios SET version = version + 1``. On PostgreSQL that takes the row lock, so
concurrent orders on one portfolio queue behind each other and buying power cannot be spent
twice; on SQLite the first write of a transaction takes the database's write lock, with the
same effect. The caller commits; nothing here commits, so a failure leaves nothing behind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import LedgerEntry, Order, OrderEvent, Portfolio, Position, Trade
from quantumtrade.domain.errors import NotFound
from quantumtrade.domain.execution import FeeBreakdown, Side
from quantumtrade.domain.trading.ledger import Holding, apply_fill
from quantumtrade.domain.trading.orders import OrderStatus, check_transition

ZERO = Decimal(0)


class Journal(Protocol):
    """Where new rows go: an ``AsyncSession``, or a batch that writes them all at once.

    A batch also has ``make_row(model, values)``: it builds its rows as plain records rather
    than ORM instances (see :func:`new_row`).
    """

    def add(self, instance: object, /) -> None: ...


_M = TypeVar("_M")


def new_row(db: Journal, model: type[_M], **values: Any) -> _M:
    """Add a new row of ``model`` to ``db`` and return it (a plain record in a batch)."""
    make = getattr(db, "make_row", None)
    instance: _M = make(model, values) if make is not None else model(**values)
    db.add(instance)
    return instance


async def lock_portfolio(
    db: AsyncSession, portfolio_id: uuid.UUID, *, user_id: uuid.UUID | None = None
) -> Portfolio:
    """Lock the portfolio for this transaction and return it fresh; 404 if not the user's."""
    where = [Portfolio.id == portfolio_id]
    if user_id is not None:
        where.append(Portfolio.user_id == user_id)
    result = await db.execute(
        sa.update(Portfolio)
        .where(*where)
        .values(version=Portfolio.version + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise NotFound("Portfolio not found.", code="portfolio_not_found")
    portfolio = await db.get(Portfolio, portfolio_id, populate_existing=True)
    assert portfolio is not None
    return portfolio


async def holdings(db: AsyncSession, portfolio_id: uuid.UUID) -> dict[str, Position]:
    """Return the portfolio's open positions by symbol."""
    rows = await db.scalars(sa.select(Position).where(Position.portfolio_id == portfolio_id))
    return {row.symbol: row for row in rows}


def record_event(
    db: Journal,
    order: Order,
    event: str,
    at: datetime,
    *,
    qty: Decimal | None = None,
    price: Decimal | None = None,
    reason: str | None = None,
) -> None:
    """Add an order event with the order's status as it now stands."""
    new_row(
        db,
        OrderEvent,
        order_id=order.id,
        portfolio_id=order.portfolio_id,
        event=event,
        status=order.status,
        qty=qty,
        price=price,
        reason=reason,
        at=at,
    )


def set_status(
    db: Journal, order: Order, status: OrderStatus, at: datetime, *, reason: str | None = None
) -> None:
    """Move ``order`` to ``status`` (checked against the lifecycle) and record the event."""
    check_transition(order.status, status)
    order.status = status.value
    order.updated_at = at
    if reason is not None:
        order.status_reason = reason[:200]
    stamp = {
        OrderStatus.CANCELED: "canceled_at",
        OrderStatus.EXPIRED: "expired_at",
        OrderStatus.REJECTED: "failed_at",
        OrderStatus.REPLACED: "replaced_at",
    }.get(status)
    if stamp:
        setattr(order, stamp, at)
    event = {OrderStatus.NEW: "new", OrderStatus.ACCEPTED: "accepted"}.get(status, status.value)
    record_event(db, order, event, at, reason=reason)


def _journal(
    db: Journal,
    portfolio: Portfolio,
    kind: str,
    cash_delta: Decimal,
    at: datetime,
    **fill: Any,
) -> None:
    """Move the locked portfolio's cash and write the next numbered journal line for it."""
    portfolio.cash += cash_delta
    portfolio.ledger_seq += 1
    new_row(
        db,
        LedgerEntry,
        id=uuid.uuid4(),
        portfolio_id=portfolio.id,
        seq=portfolio.ledger_seq,
        kind=kind,
        cash_delta=cash_delta,
        cash_after=portfolio.cash,
        at=at,
        **fill,
    )


def deposit(db: Journal, portfolio: Portfolio, amount: Decimal, at: datetime) -> None:
    """Journal a cash deposit (negative: a withdrawal) on a locked portfolio."""
    _journal(db, portfolio, "deposit", amount, at)


async def reset(db: AsyncSession, portfolio: Portfolio, at: datetime) -> None:
    """Journal a reset on a locked portfolio: positions gone, cash back to the start."""
    portfolio.realized_pl = ZERO
    portfolio.reset_at = at
    await db.execute(sa.delete(Position).where(Position.portfolio_id == portfolio.id))
    _journal(db, portfolio, "reset", portfolio.starting_cash - portfolio.cash, at)


@dataclass(frozen=True, slots=True)
class Booked:
    """A fill as booked: what the order event and the private WebSocket message carry."""

    order: Order
    trade_id: uuid.UUID
    qty: Decimal
    price: Decimal
    fees: FeeBreakdown
    realized_pl: Decimal
    position_qty: Decimal
    event: str  # "fill" or "partial_fill"
    at: datetime
    # The account after the fill, for the owner's ``portfolio_update`` event.
    avg_entry_price: Decimal = ZERO
    cash: Decimal = ZERO
    portfolio_realized_pl: Decimal = ZERO
    ledger_seq: int = 0


async def book_fill(
    db: AsyncSession,
    portfolio: Portfolio,
    order: Order,
    *,
    qty: Decimal,
    price: Decimal,
    fees: FeeBreakdown,
    at: datetime,
    slippage: Decimal = ZERO,
) -> Booked:
    """Book a fill of ``qty`` at ``price`` on a locked portfolio and an open order.

    Writes the journal line, the trade, the position, the cash and the order's fill state.
    """
    position = await db.scalar(
        sa.select(Position).where(
            Position.portfolio_id == portfolio.id, Position.symbol == order.symbol
        )
    )
    booked, change = post_fill(
        db, portfolio, order, position, qty=qty, price=price, fees=fees, at=at, slippage=slippage
    )
    if change is not None and change.closed:
        await db.delete(change.position)
    # The session does not autoflush: make the new state visible to the queries that follow.
    await db.flush()
    return booked


@dataclass(frozen=True, slots=True)
class PositionChange:
    """What a fill did to the position row: opened it (added), changed it, or closed it."""

    position: Position
    opened: bool = False
    closed: bool = False


def post_fill(
    db: Journal,
    portfolio: Portfolio,
    order: Order,
    position: Position | None,
    *,
    qty: Decimal,
    price: Decimal,
    fees: FeeBreakdown,
    at: datetime,
    slippage: Decimal = ZERO,
) -> tuple[Booked, PositionChange | None]:
    """Apply a fill to the locked portfolio, its ``position`` in the symbol and the order.

    Adds the journal line, the trade, the order event and a newly opened position to ``db``;
    a closed position is returned for the caller to delete.
    """
    if order.status not in ("new", "partially_filled", "accepted"):
        check_transition(order.status, OrderStatus.FILLED)  # raises: the order is closed
    side = Side(order.side)
    before = Holding(position.qty, position.avg_entry_price) if position else Holding()
    effect = apply_fill(before, side, qty, price, fees.total)
    trade_id = uuid.uuid4()
    after = effect.holding
    change: PositionChange | None = None
    if position is None and after.qty != ZERO:
        position = new_row(
            db,
            Position,
            id=uuid.uuid4(),
            portfolio_id=portfolio.id,
            symbol=order.symbol,
            asset_class=order.asset_class,
            qty=after.qty,
            avg_entry_price=after.avg_entry_price,
            cost_basis=after.cost_basis,
            realized_pl=effect.realized_pl,
            opened_at=at,
            updated_at=at,
        )
        change = PositionChange(position, opened=True)
    elif position is not None and after.qty == ZERO:
        change = PositionChange(position, closed=True)
    elif position is not None:
        if (before.qty > ZERO) != (after.qty > ZERO):
            position.opened_at = at  # flipped through zero: a new position
        position.qty = after.qty
        position.avg_entry_price = after.avg_entry_price
        position.cost_basis = after.cost_basis
        position.realized_pl += effect.realized_pl
        position.updated_at = at
        change = PositionChange(position)
    portfolio.realized_pl += effect.realized_pl
    _journal(
        db,
        portfolio,
        "fill",
        effect.cash_delta,
        at,
        order_id=order.id,
        trade_id=trade_id,
        symbol=order.symbol,
        side=side.value,
        qty=qty,
        price=price,
        fees=fees.total,
        realized_pl=effect.realized_pl,
    )
    new_row(
        db,
        Trade,
        id=trade_id,
        executed_at=at,
        portfolio_id=portfolio.id,
        order_id=order.id,
        symbol=order.symbol,
        side=side.value,
        qty=qty,
        price=price,
        commission=fees.commission,
        fees=fees.sec_fee + fees.taf_fee,
        slippage=slippage,
        realized_pl=effect.realized_pl,
        strategy=order.source if order.source != "api" else None,
    )
    filled_before = order.filled_qty
    order.filled_qty = filled_before + qty
    previous_avg = order.filled_avg_price or ZERO
    order.filled_avg_price = (
        (previous_avg * filled_before + price * qty) / order.filled_qty
    ).quantize(Decimal("1e-10"))
    order.filled_at = at
    complete = order.qty is not None and order.filled_qty >= order.qty
    status = OrderStatus.FILLED if complete else OrderStatus.PARTIALLY_FILLED
    check_transition(order.status, status)
    order.status = status.value
    order.updated_at = at
    event = "fill" if complete else "partial_fill"
    record_event(db, order, event, at, qty=qty, price=price)
    booked = Booked(
        order=order,
        trade_id=trade_id,
        qty=qty,
        price=price,
        fees=fees,
        realized_pl=effect.realized_pl,
        position_qty=after.qty,
        event=event,
        at=at,
        avg_entry_price=after.avg_entry_price,
        cash=portfolio.cash,
        portfolio_realized_pl=portfolio.realized_pl,
        ledger_seq=portfolio.ledger_seq,
    )
    return booked, change
