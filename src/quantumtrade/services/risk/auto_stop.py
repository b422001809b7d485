"""Automatic stop-losses: a real resting stop order on every position a portfolio opens.

With ``auto_stop_pct`` or ``auto_stop_atr_multiple`` set in the portfolio's risk settings,
each fill that opens or changes a position replaces the position's protective stop: a ``gtc``
stop for the whole position, that far beyond the average entry price (below a long, above a
short). A fill that closes the position cancels the stop, so it can never open a reverse
position. The stop itself is an ordinary order (``source = "auto_stop"``): it shows in the
order list, can be canceled, and fills through the matching engine.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import Order, Portfolio, Position
from quantumtrade.domain.execution import Side, quantize_price, to_decimal
from quantumtrade.domain.indicators import atr
from quantumtrade.domain.market import Timeframe
from quantumtrade.domain.risk.stops import PositionSide, atr_stop, percent_stop
from quantumtrade.domain.trading.orders import OPEN, OrderStatus
from quantumtrade.services.risk.limits import limits_of
from quantumtrade.services.trading.ledger import Booked, record_event, set_status

if TYPE_CHECKING:
    from quantumtrade.services.trading.desk import TradingDesk

SOURCE = "auto_stop"
ZERO = Decimal(0)
OPEN_VALUES = tuple(status.value for status in OPEN)
Update = tuple[str, Order, Booked | None]


async def _atr(desk: TradingDesk, symbol: str, now: datetime) -> float | None:
    bars = await desk.container.market.get_bars(
        symbol, Timeframe.DAY_1, now - timedelta(days=60), now
    )
    if len(bars) < 16:
        return None
    values = atr(
        bars["high"].to_numpy(dtype=np.float64),
        bars["low"].to_numpy(dtype=np.float64),
        bars["close"].to_numpy(dtype=np.float64),
        14,
    )
    last = float(values[-1])
    return last if np.isfinite(last) and last > 0 else None


async def protect(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    portfolio: Portfolio,
    order: Order,
    now: datetime,
) -> list[Update]:
    """Replace the protective stop of ``order``'s symbol after it filled (inside its lock)."""
    limits = limits_of(portfolio)
    if order.source == SOURCE or (
        limits.auto_stop_pct is None and limits.auto_stop_atr_multiple is None
    ):
        return []
    updates: list[Update] = []
    existing = await db.scalars(
        sa.select(Order).where(
            Order.portfolio_id == portfolio.id,
            Order.symbol == order.symbol,
            Order.source == SOURCE,
            Order.status.in_(OPEN_VALUES),
        )
    )
    for stop in list(existing):
        set_status(db, stop, OrderStatus.CANCELED, now, reason="position changed")
        updates.append(("canceled", stop, None))
    position = await db.scalar(
        sa.select(Position).where(
            Position.portfolio_id == portfolio.id, Position.symbol == order.symbol
        )
    )
    if position is None or position.qty == ZERO:
        return updates
    side: PositionSide = "long" if position.qty > ZERO else "short"
    entry = float(position.avg_entry_price)
    if limits.auto_stop_pct is not None:
        level = percent_stop(entry, limits.auto_stop_pct, side)
    else:
        assert limits.auto_stop_atr_multiple is not None
        range_ = await _atr(desk, order.symbol, now)
        if range_ is None:
            return updates
        level = atr_stop(entry, range_, limits.auto_stop_atr_multiple, side)
    if level <= 0:
        return updates
    exit_side = Side.SELL if side == "long" else Side.BUY
    # Round the stop away from the entry: the protection never sits tighter than asked.
    stop_price = quantize_price(to_decimal(level), Side.SELL if side == "long" else Side.BUY)
    stop = Order(
        id=uuid.uuid4(),
        portfolio_id=portfolio.id,
        client_order_id=f"auto-stop-{uuid.uuid4()}",
        symbol=order.symbol,
        side=exit_side.value,
        type="stop",
        time_in_force="gtc",
        order_class="simple",
        qty=abs(position.qty),
        filled_qty=ZERO,
        stop_price=stop_price,
        extended_hours=False,
        source=SOURCE,
        asset_class=order.asset_class,
        status=OrderStatus.NEW.value,
        created_at=now,
        updated_at=now,
        submitted_at=now,
    )
    db.add(stop)
    await db.flush()
    record_event(db, stop, "new", now, reason="protective stop for the new position")
    updates.append(("new", stop, None))
    return updates
