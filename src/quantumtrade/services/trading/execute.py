"""Filling an open order against a quote, and what a fill or a cancel does to linked orders.

Runs inside the caller's transaction, on a portfolio the caller has locked. Rules:

- a market order (or a triggered stop) fills at the touch plus slippage; a limit order when
  the touch is at or through its limit, at the better of the two;
- the participation cap and the random partial-fill rule may leave part for later bars;
- ``fok`` fills in full or not at all, ``ioc`` cancels whatever it could not fill now;
- a cash account never goes below zero cash: a fill it cannot pay for cancels the order;
- a filled bracket or oto entry activates its legs; a fill of one exit cancels the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import Order, Portfolio, Position
from quantumtrade.domain.execution import FeeBreakdown, Side
from quantumtrade.domain.market import Quote
from quantumtrade.domain.trading.ledger import account_figures, cents, exposure_increase
from quantumtrade.domain.trading.orders import OPEN, OrderStatus
from quantumtrade.services.risk import auto_stop
from quantumtrade.services.trading.desk import TradingDesk
from quantumtrade.services.trading.execution import qty_for_notional
from quantumtrade.services.trading.ledger import Booked, book_fill, holdings, set_status

__all__ = [
    "Booked",
    "FillPlan",
    "affordable",
    "cancel_with_legs",
    "count_fill",
    "execute_now",
    "plan_fill",
    "qty_for_notional",
]

ZERO = Decimal(0)
# Why an order is canceled at fill time (the same words on every path that books fills).
UNAFFORDABLE = "insufficient buying power at fill time"
IOC_REMAINDER = "ioc: remainder canceled"
OPEN_VALUES = tuple(status.value for status in OPEN)
Update = tuple[str, Order, Booked | None]


def _limit_of(order: Order, as_market: bool) -> Decimal | None:
    if as_market or order.type in ("market", "stop", "trailing_stop"):
        return None
    return order.limit_price


def affordable(
    portfolio: Portfolio,
    positions: dict[str, Position],
    prices: dict[str, Decimal],
    order: Order,
    qty: Decimal,
    price: Decimal,
    fees: Decimal,
) -> bool:
    """Return whether the account can pay for this fill of ``qty`` at ``price`` plus ``fees``.

    Buying power is taken without the open orders' reservations: they are this order's peers,
    and the first to fill is served first. A cash account's buying power is its cash, so its
    cash never goes below zero. ``prices`` holds the last price of every symbol held.
    """
    side = Side(order.side)
    gross = cents(qty * price)
    cost = gross + fees if side is Side.BUY else gross
    if portfolio.margin_multiplier == 1:
        # A cash account pays everything from cash, fees on a sale included.
        after = portfolio.cash - cost if side is Side.BUY else portfolio.cash + gross - fees
        if after < ZERO:
            return False
    held = positions.get(order.symbol)
    opening = exposure_increase(held.qty if held else ZERO, side, qty)
    if opening <= ZERO:
        return True
    figures = account_figures(
        portfolio.cash,
        [(p.qty, prices[symbol]) for symbol, p in positions.items()],
        multiplier=portfolio.margin_multiplier,
    )
    return cost * opening / qty <= figures.buying_power


@dataclass(frozen=True, slots=True)
class FillPlan:
    """What an open order does against a quote now: fill ``qty``, wait, or close."""

    qty: Decimal = ZERO
    price: Decimal = ZERO
    slippage: Decimal = ZERO  # in total, for the trade row
    fees: FeeBreakdown | None = None
    cancel: str | None = None  # the reason to cancel the order
    reject: str | None = None  # the reason to reject it


def plan_fill(desk: TradingDesk, order: Order, quote: Quote, *, as_market: bool) -> FillPlan:
    """Decide what ``order`` fills against ``quote`` (a notional order gets its quantity)."""
    side = Side(order.side)
    limit = _limit_of(order, as_market)
    bar_volume = desk.bar_volumes.get(order.symbol)
    probe = desk.execution.price(side, quote, order.qty or Decimal(1), limit=limit)
    if probe is None:
        if order.time_in_force in ("ioc", "fok"):
            return FillPlan(cancel="not marketable")
        return FillPlan()
    if order.qty is None and order.notional is not None:
        order.qty = qty_for_notional(order.notional, probe[0])
        if order.qty <= ZERO:
            return FillPlan(reject="notional too small")
    assert order.qty is not None
    remaining = order.qty - order.filled_qty
    filled_this_bar = desk.bar_fills.get(order.symbol, {}).get(str(order.id), ZERO)
    qty = desk.execution.fill_qty(remaining, bar_volume, filled_this_bar)
    if order.time_in_force == "fok" and qty < remaining:
        return FillPlan(cancel="fok: could not fill in full")
    if qty <= ZERO:
        return FillPlan()
    priced = desk.execution.price(side, quote, qty, limit=limit, bar_volume=bar_volume)
    if priced is None:
        return FillPlan()
    price, slippage = priced
    return FillPlan(qty, price, slippage * qty, desk.execution.fees(side, qty, price))


def count_fill(desk: TradingDesk, order: Order, qty: Decimal) -> None:
    """Count a fill against the order's participation budget for the current bar."""
    this_bar = desk.bar_fills.setdefault(order.symbol, {})
    this_bar[str(order.id)] = this_bar.get(str(order.id), ZERO) + qty


async def execute_now(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    portfolio: Portfolio,
    order: Order,
    quote: Quote,
    now: datetime,
    as_market: bool = False,
) -> list[Update]:
    """Fill what ``order`` can fill against ``quote`` now; return the events to publish."""
    plan = plan_fill(desk, order, quote, as_market=as_market)
    if plan.cancel is not None:
        return await cancel_with_legs(db, order, now, reason=plan.cancel)
    if plan.reject is not None:
        set_status(db, order, OrderStatus.REJECTED, now, reason=plan.reject)
        return [("rejected", order, None)]
    if plan.fees is None:
        return []
    positions = await holdings(db, portfolio.id)
    prices = {symbol: await desk.last_price(symbol) for symbol in positions}
    if not affordable(portfolio, positions, prices, order, plan.qty, plan.price, plan.fees.total):
        return await cancel_with_legs(db, order, now, reason=UNAFFORDABLE)
    booked = await book_fill(
        db,
        portfolio,
        order,
        qty=plan.qty,
        price=plan.price,
        fees=plan.fees,
        at=now,
        slippage=plan.slippage,
    )
    count_fill(desk, order, plan.qty)
    updates: list[Update] = [(booked.event, order, booked)]
    updates += await _after_fill(db, order, now)
    updates += await auto_stop.protect(db, desk=desk, portfolio=portfolio, order=order, now=now)
    if order.status in OPEN_VALUES and order.time_in_force == "ioc":
        updates += await cancel_with_legs(db, order, now, reason=IOC_REMAINDER)
    return updates


async def _children(db: AsyncSession, parent_id: object) -> list[Order]:
    rows = await db.scalars(sa.select(Order).where(Order.parent_order_id == parent_id))
    return list(rows)


async def _after_fill(db: AsyncSession, order: Order, now: datetime) -> list[Update]:
    updates: list[Update] = []
    if order.order_class == "simple" and order.leg_role is None:
        return updates  # no legs, no siblings
    if order.leg_role is not None and order.parent_order_id is not None:
        # An exit filled: the other exits of the same position are canceled (one cancels other).
        siblings = await _children(db, order.parent_order_id)
        parent = await db.get(Order, order.parent_order_id)
        if parent is not None and parent.order_class == "oco":
            siblings.append(parent)
        for other in siblings:
            if other.id != order.id and other.status in OPEN_VALUES:
                set_status(db, other, OrderStatus.CANCELED, now, reason="other leg filled")
                updates.append(("canceled", other, None))
        return updates
    legs = await _children(db, order.id)
    if order.order_class == "oco":
        for leg in legs:
            if leg.status in OPEN_VALUES:
                set_status(db, leg, OrderStatus.CANCELED, now, reason="other leg filled")
                updates.append(("canceled", leg, None))
        return updates
    if order.status == OrderStatus.FILLED.value:
        for leg in legs:
            if leg.status == OrderStatus.HELD.value:
                leg.qty = order.filled_qty
                set_status(db, leg, OrderStatus.NEW, now, reason="entry filled")
                updates.append(("new", leg, None))
    return updates


async def cancel_with_legs(
    db: AsyncSession,
    order: Order,
    now: datetime,
    *,
    reason: str,
    status: OrderStatus = OrderStatus.CANCELED,
) -> list[Update]:
    """Cancel (or expire) ``order``; held legs follow, or activate for what was filled."""
    set_status(db, order, status, now, reason=reason)
    updates: list[Update] = [(status.value, order, None)]
    if order.order_class == "simple":
        return updates  # a simple order has no legs
    for leg in await _children(db, order.id):
        if leg.status not in OPEN_VALUES:
            continue
        if leg.status == OrderStatus.HELD.value and order.filled_qty > ZERO:
            # Part of the entry filled: protect what was bought.
            leg.qty = order.filled_qty
            set_status(db, leg, OrderStatus.NEW, now, reason="entry partly filled")
            updates.append(("new", leg, None))
        else:
            set_status(db, leg, OrderStatus.CANCELED, now, reason="parent order closed")
            updates.append(("canceled", leg, None))
    return updates
