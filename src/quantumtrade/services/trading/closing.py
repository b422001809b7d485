"""Close positions, Alpaca-style: a market order on the other side for some or all of one.

Each close is an ordinary order placed through :func:`orders.submit_order`, so it goes
through the same checks, ledger and events as any other.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_DOWN, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import Order
from quantumtrade.domain.errors import AppError, NotFound, Unprocessable
from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.orders import OrderSpec, OrderType, TimeInForce
from quantumtrade.services.trading import orders
from quantumtrade.services.trading.desk import TradingDesk
from quantumtrade.services.trading.execution import QTY_STEP
from quantumtrade.services.trading.ledger import holdings
from quantumtrade.services.trading.portfolios import get_portfolio

HUNDRED = Decimal(100)


def _close_qty(
    held: Decimal, qty: Decimal | None, percentage: Decimal | None, fractionable: bool
) -> Decimal:
    size = abs(held)
    if qty is not None:
        if qty > size:
            raise Unprocessable(
                f"qty {qty} is more than the {size} held.",
                code="insufficient_qty",
                details={"available": str(size), "requested": str(qty)},
            )
        return qty
    if percentage is not None:
        step = QTY_STEP if fractionable else Decimal(1)
        wanted = (size * percentage / HUNDRED).quantize(step, rounding=ROUND_DOWN)
        if wanted <= 0:
            raise Unprocessable(f"{percentage}% of {size} rounds to nothing.", code="qty_too_small")
        return wanted
    return size


async def close_position(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID,
    symbol: str,
    qty: Decimal | None = None,
    percentage: Decimal | None = None,
) -> Order:
    """Place a market order that closes ``qty``, ``percentage`` % or all of a position."""
    portfolio = await get_portfolio(db, user_id=user_id, portfolio_id=portfolio_id)
    info = desk.symbol_info(symbol)
    position = (await holdings(db, portfolio.id)).get(info.symbol)
    if position is None or position.qty == 0:
        raise NotFound("position does not exist", code="position_not_found")
    size = _close_qty(position.qty, qty, percentage, info.fractionable)
    spec = OrderSpec(
        symbol=info.symbol,
        side=Side.SELL if position.qty > 0 else Side.BUY,
        type=OrderType.MARKET,
        # A fractional quantity of a stock trades only as a day order; crypto takes gtc.
        time_in_force=TimeInForce.GTC if info.asset_class == "crypto" else TimeInForce.DAY,
        qty=size,
    )
    return await orders.submit_order(
        db, desk=desk, user_id=user_id, portfolio_id=portfolio.id, spec=spec
    )


async def close_all_positions(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID,
    cancel_orders: bool = False,
) -> list[tuple[str, Order | AppError]]:
    """Close every position of the portfolio; each symbol's order, or why it was refused."""
    portfolio = await get_portfolio(db, user_id=user_id, portfolio_id=portfolio_id)
    if cancel_orders:
        await orders.cancel_all(db, desk=desk, user_id=user_id, portfolio_id=portfolio.id)
    results: list[tuple[str, Order | AppError]] = []
    for symbol in sorted(await holdings(db, portfolio.id)):
        try:
            order = await close_position(
                db, desk=desk, user_id=user_id, portfolio_id=portfolio.id, symbol=symbol
            )
        except AppError as exc:
            await db.rollback()
            results.append((symbol, exc))
        else:
            results.append((symbol, order))
    return results
