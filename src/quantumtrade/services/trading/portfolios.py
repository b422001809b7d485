"""Portfolio use cases: create, list, summary with account figures, positions, trades, reset."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import Order, Portfolio, Position, Trade
from quantumtrade.domain.errors import AppError, Conflict, NotFound, Unprocessable
from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.ledger import AccountFigures, account_figures, exposure_increase
from quantumtrade.domain.trading.orders import OPEN, OrderStatus
from quantumtrade.infra.cache import portfolio_summary_key
from quantumtrade.services.trading import ledger
from quantumtrade.services.trading.views import portfolio_view, position_view, text

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from quantumtrade.services.trading.desk import TradingDesk

ZERO = Decimal(0)
OPEN_VALUES = tuple(status.value for status in OPEN)
DEFAULT_NAME = "Paper"


async def create_portfolio(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    name: str,
    type: str = "paper",
    starting_cash: Decimal,
    margin_multiplier: int = 1,
    shorting_enabled: bool = False,
    now: datetime,
) -> Portfolio:
    """Create a portfolio funded with ``starting_cash`` (journaled as a deposit)."""
    portfolio = Portfolio(
        id=uuid.uuid4(),
        user_id=user_id,
        name=name,
        type=type,
        currency="USD",
        starting_cash=starting_cash,
        cash=ZERO,
        margin_multiplier=margin_multiplier,
        shorting_enabled=shorting_enabled,
        realized_pl=ZERO,
        version=0,
        ledger_seq=0,
        created_at=now,
        updated_at=now,
    )
    db.add(portfolio)
    try:
        await db.flush()  # the row first: the journal line refers to it
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(
            f"You already have a portfolio named {name!r}.", code="portfolio_name_taken"
        ) from exc
    ledger.deposit(db, portfolio, starting_cash, now)
    await db.commit()
    return portfolio


async def default_portfolio(
    db: AsyncSession, *, desk: TradingDesk, user_id: uuid.UUID
) -> Portfolio:
    """Return the user's first portfolio, creating the default paper one if there is none."""
    found = await db.scalar(
        sa.select(Portfolio)
        .where(Portfolio.user_id == user_id)
        .order_by(Portfolio.created_at, Portfolio.id)
        .limit(1)
    )
    if found is not None:
        return found
    try:
        return await create_portfolio(
            db,
            user_id=user_id,
            name=DEFAULT_NAME,
            starting_cash=desk.container.settings.paper_starting_cash,
            now=desk.container.clock.now(),
        )
    except Conflict:
        # A concurrent request created it first.
        found = await db.scalar(
            sa.select(Portfolio).where(Portfolio.user_id == user_id, Portfolio.name == DEFAULT_NAME)
        )
        assert found is not None
        return found


async def get_portfolio(
    db: AsyncSession, *, user_id: uuid.UUID, portfolio_id: uuid.UUID
) -> Portfolio:
    """Return one of the user's portfolios; another user's answers 404 like a missing one."""
    portfolio = await db.scalar(
        sa.select(Portfolio).where(Portfolio.id == portfolio_id, Portfolio.user_id == user_id)
    )
    if portfolio is None:
        raise NotFound("Portfolio not found.", code="portfolio_not_found")
    return portfolio


async def list_portfolios(db: AsyncSession, *, user_id: uuid.UUID) -> list[Portfolio]:
    rows = await db.scalars(
        sa.select(Portfolio).where(Portfolio.user_id == user_id).order_by(Portfolio.created_at)
    )
    return list(rows)


async def reserved_amount(
    db: AsyncSession,
    portfolio_id: uuid.UUID,
    positions: dict[str, Position],
    prices: dict[str, Decimal],
    *,
    last_price: Any = None,
    exclude: uuid.UUID | None = None,
) -> Decimal:
    """Return what the open orders would spend if they filled at their limit, stop or market."""
    rows = list(
        await db.scalars(
            sa.select(Order).where(
                Order.portfolio_id == portfolio_id,
                Order.status.in_(OPEN_VALUES),
                Order.status != OrderStatus.HELD.value,
                *([Order.id != exclude] if exclude is not None else []),
            )
        )
    )
    known = await reservation_prices(rows, prices, last_price)
    return reserved_for(rows, positions, known)


async def reservation_prices(
    orders: Iterable[Order], prices: dict[str, Decimal], last_price: Any
) -> dict[str, Decimal]:
    """``prices`` plus the last price of each symbol an order without limit or stop trades."""
    known = dict(prices)
    for order in orders:
        if not (order.limit_price or order.stop_price) and order.symbol not in known:
            known[order.symbol] = await last_price(order.symbol) if last_price else ZERO
    return known


def reserved_for(
    orders: Iterable[Order], positions: dict[str, Position], prices: dict[str, Decimal]
) -> Decimal:
    """Return what ``orders`` (open, not held) would spend at their limit, stop or ``prices``."""
    total = ZERO
    for order in orders:
        price = order.limit_price or order.stop_price or prices[order.symbol]
        remaining = (
            (order.qty - order.filled_qty)
            if order.qty is not None
            else (order.notional or ZERO) / price
            if price
            else ZERO
        )
        held = positions.get(order.symbol)
        opening = exposure_increase(held.qty if held else ZERO, Side(order.side), remaining)
        total += opening * price
    return total


async def figures(
    db: AsyncSession, *, desk: TradingDesk, portfolio: Portfolio
) -> tuple[AccountFigures, dict[str, Position], dict[str, Decimal]]:
    """Return the account figures, positions and their current prices."""
    positions = await ledger.holdings(db, portfolio.id)
    prices = {symbol: await desk.last_price(symbol) for symbol in positions}
    reserved = await reserved_amount(
        db, portfolio.id, positions, prices, last_price=desk.last_price
    )
    account = account_figures(
        portfolio.cash,
        [(p.qty, prices[s]) for s, p in positions.items()],
        multiplier=portfolio.margin_multiplier,
        reserved=reserved,
    )
    return account, positions, prices


async def summary(db: AsyncSession, *, desk: TradingDesk, portfolio: Portfolio) -> dict[str, Any]:
    """Return the portfolio with Alpaca's account fields and day and total P&L.

    Cached for ``PORTFOLIO_CACHE_TTL`` seconds (30); every change to the portfolio drops it.
    """
    container = desk.container
    key = portfolio_summary_key(portfolio.id)
    cached = await container.cache.get_json(key)
    if isinstance(cached, dict) and cached.get("version") == portfolio.version:
        return cached
    view = await _summary(db, desk=desk, portfolio=portfolio)
    view["version"] = portfolio.version
    if not view["day_pl_unavailable"]:  # a passing outage must not stick for the cache's life
        await container.cache.set_json(key, view, container.settings.portfolio_cache_ttl)
    return view


async def _summary(db: AsyncSession, *, desk: TradingDesk, portfolio: Portfolio) -> dict[str, Any]:
    account, positions, prices = await figures(db, desk=desk, portfolio=portfolio)
    lastday = {s: await _lastday_or_none(desk, s) for s in positions}
    unknown = sorted(s for s, close in lastday.items() if close is None)
    day_pl = None
    if not unknown:
        day_pl = sum(
            (p.qty * (prices[s] - (lastday[s] or prices[s])) for s, p in positions.items()), ZERO
        )
    total_pl = account.equity - portfolio.starting_cash
    return portfolio_view(
        portfolio,
        account,
        position_count=len(positions),
        day_pl=None if day_pl is None else text(day_pl.quantize(Decimal("0.01"))),
        day_pl_unavailable=unknown,
        total_pl=text(total_pl.quantize(Decimal("0.01"))),
        total_plpc=float(total_pl / portfolio.starting_cash) if portfolio.starting_cash else 0.0,
    )


async def lastday_price(desk: TradingDesk, symbol: str) -> Decimal | None:
    """Return the previous session's close of ``symbol`` (None when the source has none).

    A failure to load the price raises (an ``AppError``); it is not taken for "no close".
    """
    from quantumtrade.services import market

    view = await market.price(desk.container, symbol)
    previous = view.get("previous_close")
    return None if previous is None else Decimal(str(previous))


async def _lastday_or_none(desk: TradingDesk, symbol: str) -> Decimal | None:
    """Return :func:`lastday_price`, or None (logged) when it cannot be read now.

    The caller shows the day's figures as unknown (null) for such a symbol, never as zero.
    """
    try:
        return await lastday_price(desk, symbol)
    except AppError as exc:
        _log.warning("previous close of %s unavailable: %s", symbol, exc)
        return None


async def positions_view(
    db: AsyncSession, *, desk: TradingDesk, portfolio: Portfolio
) -> list[dict[str, Any]]:
    positions = await ledger.holdings(db, portfolio.id)
    views = []
    for symbol in sorted(positions):
        price = await desk.last_price(symbol)
        lastday = await _lastday_or_none(desk, symbol)
        views.append(position_view(positions[symbol], price, lastday))
    return views


async def trades_page(
    db: AsyncSession,
    *,
    portfolio: Portfolio,
    symbol: str | None = None,
    side: str | None = None,
    after: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Trade], int]:
    """Return one page of the portfolio's executions, newest first, and the total count."""
    where = [Trade.portfolio_id == portfolio.id]
    if symbol is not None:
        where.append(Trade.symbol == symbol)
    if side is not None:
        where.append(Trade.side == side)
    if after is not None:
        where.append(Trade.executed_at >= after)
    if until is not None:
        where.append(Trade.executed_at < until)
    total = await db.scalar(sa.select(sa.func.count()).select_from(Trade).where(*where))
    rows = await db.scalars(
        sa.select(Trade)
        .where(*where)
        .order_by(Trade.executed_at.desc(), Trade.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def reset_portfolio(
    db: AsyncSession, *, desk: TradingDesk, user_id: uuid.UUID, portfolio_id: uuid.UUID
) -> Portfolio:
    """Cancel open orders, close positions at no price and restore the starting cash."""
    from quantumtrade.services.trading.execute import cancel_with_legs

    portfolio = await ledger.lock_portfolio(db, portfolio_id, user_id=user_id)
    now = desk.container.clock.now()
    rows = await db.scalars(
        sa.select(Order).where(
            Order.portfolio_id == portfolio.id,
            Order.status.in_(OPEN_VALUES),
            Order.parent_order_id.is_(None),
        )
    )
    updates = []
    for order in list(rows):
        if order.status in OPEN_VALUES:
            updates += await cancel_with_legs(db, order, now, reason="portfolio reset")
    await ledger.reset(db, portfolio, now)
    await db.commit()
    await desk.publish(portfolio.user_id, updates)
    await desk.notify_engine([order for _e, order, _b in updates])
    return portfolio


async def configure(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID,
    margin_multiplier: int | None = None,
    shorting_enabled: bool | None = None,
) -> Portfolio:
    """Change the margin multiplier and/or shorting of a portfolio (``None`` keeps a value).

    Shorting needs margin; a portfolio that borrows (negative cash) or holds shorts cannot drop
    to a cash account (multiplier 1) until they are closed. Turning shorting off leaves open
    shorts alone and refuses new ones, as a broker does.
    """
    portfolio = await ledger.lock_portfolio(db, portfolio_id, user_id=user_id)
    multiplier = portfolio.margin_multiplier if margin_multiplier is None else margin_multiplier
    shorting = portfolio.shorting_enabled if shorting_enabled is None else shorting_enabled
    problem: AppError | None = None
    if shorting and multiplier == 1:
        problem = Unprocessable(
            "Shorting needs a margin account (multiplier 2 or 4).", code="shorting_needs_margin"
        )
    elif multiplier == 1 and portfolio.margin_multiplier != 1:
        shorts = await db.scalar(
            sa.select(sa.func.count())
            .select_from(Position)
            .where(Position.portfolio_id == portfolio.id, Position.qty < 0)
        )
        if shorts or portfolio.cash < 0:
            problem = Unprocessable(
                "The account borrows (short positions or negative cash): close them before "
                "making it a cash account.",
                code="margin_in_use",
                details={"short_positions": int(shorts or 0), "cash": text(portfolio.cash)},
            )
    if problem is not None:
        await db.rollback()
        raise problem
    portfolio.margin_multiplier = multiplier
    portfolio.shorting_enabled = shorting
    await db.commit()
    return portfolio
