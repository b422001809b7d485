"""Order use cases: submit, fill what is marketable now, cancel, replace, list.

Each use case runs in one transaction that starts by locking the portfolio, and publishes
its private events only after the commit, so a client never hears of an order that was
rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from quantumtrade.db.models import Order, OrderEvent, Portfolio, Position
from quantumtrade.domain.errors import AppError, NotFound, Unprocessable
from quantumtrade.domain.execution import Side, to_decimal, trailing_stop_update
from quantumtrade.domain.market import Quote
from quantumtrade.domain.trading.ledger import AccountFigures, account_figures
from quantumtrade.domain.trading.orders import (
    OPEN,
    OrderClass,
    OrderSpec,
    OrderStatus,
    OrderType,
    TimeInForce,
    validate_order,
)
from quantumtrade.marketdata.source import SymbolInfo
from quantumtrade.services.risk import limits as risk_limits
from quantumtrade.services.trading import execute
from quantumtrade.services.trading.desk import TradingDesk
from quantumtrade.services.trading.ledger import holdings, lock_portfolio, record_event, set_status
from quantumtrade.services.trading.portfolios import default_portfolio, reserved_amount
from quantumtrade.services.trading.pretrade import PreTradeContext, reference_price, run_checks

ZERO = Decimal(0)
OPEN_VALUES = tuple(status.value for status in OPEN)
Update = tuple[str, Order, execute.Booked | None]


def client_order_id_taken(client_order_id: str, order_id: uuid.UUID) -> Unprocessable:
    """Return the refusal of a client_order_id that an order of the portfolio already has."""
    return Unprocessable(
        f"client_order_id {client_order_id!r} is already used by order {order_id}.",
        code="client_order_id_in_use",
        details={"order_id": str(order_id), "client_order_id": client_order_id},
    )


async def _existing(
    db: AsyncSession, portfolio_id: uuid.UUID, client_order_id: str
) -> Order | None:
    return await db.scalar(
        sa.select(Order).where(
            Order.portfolio_id == portfolio_id, Order.client_order_id == client_order_id
        )
    )


def new_order(
    spec: OrderSpec,
    portfolio: Portfolio,
    asset_class: str,
    now: datetime,
    source: str,
    *,
    make: Callable[..., Order] = Order,
) -> Order:
    """The order ``spec`` describes, as placed now (``make`` builds it: the ORM class)."""
    return make(
        id=uuid.uuid4(),
        portfolio_id=portfolio.id,
        client_order_id=spec.client_order_id or str(uuid.uuid4()),
        symbol=spec.symbol,
        side=spec.side.value,
        type=spec.type.value,
        time_in_force=spec.time_in_force.value,
        order_class=spec.order_class.value,
        qty=spec.qty,
        notional=spec.notional,
        filled_qty=ZERO,
        limit_price=spec.limit_price,
        stop_price=spec.stop_price,
        trail_price=spec.trail_price,
        trail_percent=spec.trail_percent,
        extended_hours=spec.extended_hours,
        source=source,
        asset_class=asset_class,
        status=OrderStatus.NEW.value,
        created_at=now,
        updated_at=now,
        submitted_at=now,
    )


def _legs(spec: OrderSpec, entry: Order, now: datetime) -> list[Order]:
    legs = []
    for leg in spec.legs:
        legs.append(
            Order(
                id=uuid.uuid4(),
                portfolio_id=entry.portfolio_id,
                client_order_id=str(uuid.uuid4()),
                symbol=entry.symbol,
                side=spec.exit_side.value if spec.order_class is not OrderClass.OCO else entry.side,
                type=leg.type.value,
                time_in_force=entry.time_in_force,
                order_class=entry.order_class,
                qty=entry.qty,
                filled_qty=ZERO,
                limit_price=leg.limit_price,
                stop_price=leg.stop_price,
                extended_hours=False,
                source=entry.source,
                asset_class=entry.asset_class,
                # Exits of an oco are live at once; a bracket's or oto's wait for the entry.
                status=(
                    OrderStatus.NEW.value
                    if spec.order_class is OrderClass.OCO
                    else OrderStatus.HELD.value
                ),
                parent_order_id=entry.id,
                leg_role=leg.role,
                created_at=now,
                updated_at=now,
                submitted_at=now,
            )
        )
    return legs


async def _check(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    portfolio: Portfolio,
    spec: OrderSpec,
    info: SymbolInfo,
    quote: Quote,
    now: datetime,
    replacing: uuid.UUID | None = None,
) -> None:
    """Run the pre-trade checks and the risk limits on a locked portfolio (raises to refuse).

    ``replacing`` leaves that order's own reservation out of the buying power.
    """
    last = await desk.last_price(info.symbol)
    positions = await holdings(db, portfolio.id)
    prices = {symbol: await desk.last_price(symbol) for symbol in positions}
    reserved = await reserved_amount(
        db, portfolio.id, positions, prices, last_price=desk.last_price, exclude=replacing
    )
    qty, ref, figures = pretrade(
        desk=desk,
        portfolio=portfolio,
        spec=spec,
        info=info,
        quote=quote,
        last=last,
        positions=positions,
        prices=prices,
        reserved=reserved,
    )
    await risk_limits.enforce(
        db,
        desk=desk,
        portfolio=portfolio,
        symbol=info.symbol,
        side=spec.side,
        qty=qty,
        price=ref,
        positions=positions,
        prices=prices,
        account=figures,
        now=now,
    )


def pretrade(
    *,
    desk: TradingDesk,
    portfolio: Portfolio,
    spec: OrderSpec,
    info: SymbolInfo,
    quote: Quote,
    last: Decimal,
    positions: dict[str, Position],
    prices: dict[str, Decimal],
    reserved: Decimal,
) -> tuple[Decimal, Decimal, AccountFigures]:
    """Run the pre-trade checks (raises to refuse); return the quantity, price and figures.

    The quantity of a notional order is taken at the reference price: the expected fill price
    of a market order, else the limit or stop.
    """
    market_open = desk.market_open(info.asset_class)
    figures = account_figures(
        portfolio.cash,
        [(p.qty, prices[s]) for s, p in positions.items()],
        multiplier=portfolio.margin_multiplier,
        reserved=reserved,
    )
    touch = to_decimal(quote.ask_price if spec.side is Side.BUY else quote.bid_price)
    ref = reference_price(spec, touch, last)
    if spec.type is OrderType.MARKET and market_open:
        priced = desk.execution.price(spec.side, quote, spec.qty or Decimal(1))
        ref = priced[0] if priced else ref
    if spec.qty is not None:
        qty = spec.qty
    else:
        assert spec.notional is not None  # validate_order: exactly one of the two
        qty = execute.qty_for_notional(spec.notional, ref)
    held = positions.get(info.symbol)
    fees = desk.execution.fees(spec.side, qty, ref).total if qty > ZERO else ZERO
    run_checks(
        PreTradeContext(
            spec=spec,
            info=info,
            account=figures,
            holding_qty=held.qty if held else ZERO,
            shorting_enabled=portfolio.shorting_enabled,
            market_open=market_open,
            last_price=last,
            qty=qty,
            reference_price=ref,
            fees=fees,
        ),
        desk.extra_checks,
    )
    return qty, ref, figures


async def submit_order(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    user_id: uuid.UUID,
    portfolio_id: uuid.UUID | None,
    spec: OrderSpec,
    source: str = "api",
) -> Order:
    """Validate, check and store an order, and fill it at once where it is marketable."""
    container = desk.container
    info = desk.symbol_info(spec.symbol)
    spec = validate_order(replace(spec, symbol=info.symbol), fractionable=info.fractionable)
    if portfolio_id is None:
        portfolio_id = (await default_portfolio(db, desk=desk, user_id=user_id)).id
    if spec.client_order_id is not None:
        taken = await _existing(db, portfolio_id, spec.client_order_id)
        if taken is not None:
            raise client_order_id_taken(taken.client_order_id, taken.id)
    quote = await desk.quote(info.symbol)
    market_open = desk.market_open(info.asset_class)
    now = container.clock.now()
    portfolio = await lock_portfolio(db, portfolio_id, user_id=user_id)
    await _check(db, desk=desk, portfolio=portfolio, spec=spec, info=info, quote=quote, now=now)
    order = new_order(spec, portfolio, info.asset_class, now, source)
    updates: list[Update] = []
    queued = not market_open or spec.time_in_force in (TimeInForce.OPG, TimeInForce.CLS)
    if (
        queued
        and spec.type is OrderType.MARKET
        and container.settings.paper_outside_session == "reject"
        and not market_open
    ):
        raise Unprocessable(
            "The market is closed and this server refuses market orders outside the session.",
            code="market_closed",
        )
    if queued:
        order.status = OrderStatus.ACCEPTED.value
    if spec.type is OrderType.TRAILING_STOP:
        hwm, stop = trailing_stop_update(
            spec.side,
            None,
            await desk.last_price(info.symbol),
            trail_price=spec.trail_price,
            trail_percent=spec.trail_percent,
        )
        order.high_water_mark, order.stop_price = hwm, stop
    db.add(order)
    legs = _legs(spec, order, now)
    for leg in legs:
        db.add(leg)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        taken = await _existing(db, portfolio_id, order.client_order_id)
        if taken is not None:
            raise client_order_id_taken(taken.client_order_id, taken.id) from exc
        raise
    record_event(db, order, order.status, now)
    updates.append((order.status, order, None))
    for leg in legs:
        record_event(db, leg, leg.status, now)
    if not queued and spec.type in (OrderType.MARKET, OrderType.LIMIT):
        # Stops wait for a trade to trigger them: the matching engine fills those.
        updates += await execute.execute_now(
            db, desk=desk, portfolio=portfolio, order=order, quote=quote, now=now
        )
    await db.commit()
    await desk.publish(portfolio.user_id, updates)
    touched = {o.id: o for o in (order, *legs, *(u[1] for u in updates))}
    if order.status not in OPEN_VALUES:
        touched.pop(order.id)  # filled or canceled at once: never in the engine's books
    await desk.notify_engine(list(touched.values()))
    return order


async def get_order(db: AsyncSession, *, user_id: uuid.UUID, order_id: uuid.UUID) -> Order:
    """Return one of the user's orders; someone else's answers 404 like a missing one."""
    order = await db.scalar(
        sa.select(Order)
        .join(Portfolio, Portfolio.id == Order.portfolio_id)
        .where(Order.id == order_id, Portfolio.user_id == user_id)
    )
    if order is None:
        raise NotFound("Order not found.", code="order_not_found")
    return order


async def order_events(
    db: AsyncSession, *, user_id: uuid.UUID, order_id: uuid.UUID
) -> list[OrderEvent]:
    """Return every recorded step of one of the user's orders, oldest first."""
    order = await get_order(db, user_id=user_id, order_id=order_id)
    rows = await db.scalars(
        sa.select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    )
    return list(rows)


async def get_by_client_order_id(
    db: AsyncSession, *, user_id: uuid.UUID, client_order_id: str, portfolio_id: uuid.UUID | None
) -> Order:
    """Return the user's order with ``client_order_id`` (in one portfolio when given)."""
    query = (
        sa.select(Order)
        .join(Portfolio, Portfolio.id == Order.portfolio_id)
        .where(Order.client_order_id == client_order_id, Portfolio.user_id == user_id)
        .order_by(Order.created_at.desc())
    )
    if portfolio_id is not None:
        query = query.where(Order.portfolio_id == portfolio_id)
    order = await db.scalar(query.limit(1))
    if order is None:
        raise NotFound("Order not found.", code="order_not_found")
    return order


async def legs_of(db: AsyncSession, orders: list[Order]) -> dict[uuid.UUID, list[Order]]:
    """Return the legs of ``orders`` by parent id."""
    ids = [order.id for order in orders]
    if not ids:
        return {}
    rows = await db.scalars(
        sa.select(Order).where(Order.parent_order_id.in_(ids)).order_by(Order.created_at)
    )
    found: dict[uuid.UUID, list[Order]] = {order_id: [] for order_id in ids}
    for row in rows:
        assert row.parent_order_id is not None
        found[row.parent_order_id].append(row)
    return found


async def list_orders(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    user_id: uuid.UUID,
    status: str = "open",
    portfolio_id: uuid.UUID | None = None,
    symbols: str | None = None,
    side: str | None = None,
    after: datetime | None = None,
    until: datetime | None = None,
    direction: str = "desc",
    limit: int = 50,
    nested: bool = True,
) -> list[tuple[Order, list[Order] | None]]:
    """List the user's orders, Alpaca-style: status open, closed or all, newest first.

    ``symbols`` is a comma-separated list (an unknown symbol answers 422). Each order comes
    with its legs when ``nested`` (``None`` for an order without legs, or not nested).
    """
    wanted = None
    if symbols:
        wanted = [desk.symbol_info(s).symbol for s in symbols.split(",") if s.strip()]
    query = (
        sa.select(Order)
        .join(Portfolio, Portfolio.id == Order.portfolio_id)
        .where(Portfolio.user_id == user_id, Order.parent_order_id.is_(None))
    )
    if status == "open":
        query = query.where(Order.status.in_(OPEN_VALUES))
    elif status == "closed":
        query = query.where(Order.status.not_in(OPEN_VALUES))
    if portfolio_id is not None:
        query = query.where(Order.portfolio_id == portfolio_id)
    if wanted:
        query = query.where(Order.symbol.in_(wanted))
    if side is not None:
        query = query.where(Order.side == side)
    if after is not None:
        query = query.where(Order.submitted_at > after)
    if until is not None:
        query = query.where(Order.submitted_at < until)
    order_by = Order.submitted_at.asc() if direction == "asc" else Order.submitted_at.desc()
    rows = list(await db.scalars(query.order_by(order_by, Order.id).limit(limit)))
    legs = await legs_of(db, rows) if nested else {}
    return [(row, legs.get(row.id) or None) for row in rows]


async def _locked(
    db: AsyncSession, order_id: uuid.UUID, *, user_id: uuid.UUID | None = None
) -> tuple[Portfolio, Order] | None:
    """Lock the order's portfolio and return it with the order re-read under the lock.

    With ``user_id``, another user's order answers 404; without, a missing one gives None.
    """
    if user_id is not None:
        found: Order | None = await get_order(db, user_id=user_id, order_id=order_id)
    else:
        found = await db.get(Order, order_id)
    if found is None:
        return None
    portfolio = await lock_portfolio(db, found.portfolio_id, user_id=user_id)
    order = await db.get(Order, order_id, populate_existing=True)
    assert order is not None  # the lock is held: the order cannot have gone
    return portfolio, order


def _require_open(order: Order, verb: str) -> None:
    if order.status not in OPEN_VALUES:
        raise Unprocessable(
            f"The order is {order.status} and can no longer be {verb}.",
            code="order_not_open",
            details={"status": order.status},
        )


async def cancel_order(
    db: AsyncSession, *, desk: TradingDesk, user_id: uuid.UUID, order_id: uuid.UUID
) -> Order:
    """Cancel an open order (and its legs); a closed one is refused with 422."""
    locked = await _locked(db, order_id, user_id=user_id)
    assert locked is not None  # get_order raised 404 otherwise
    portfolio, order = locked
    _require_open(order, "canceled")
    now = desk.container.clock.now()
    updates = await execute.cancel_with_legs(db, order, now, reason="canceled by the user")
    await db.commit()
    await desk.publish(portfolio.user_id, updates)
    await desk.notify_engine([order])
    return order


async def cancel_all(
    db: AsyncSession, *, desk: TradingDesk, user_id: uuid.UUID, portfolio_id: uuid.UUID | None
) -> list[dict[str, object]]:
    """Cancel every open order of the user (of one portfolio when given); one result each.

    Legs go with their parent while it is open; once the parent has filled, its resting exit
    legs are open orders of their own and are cancelled too. A leg an earlier cancel already
    took with it (its sibling's OCO) is reported with its status.
    """
    parent = aliased(Order)
    query = (
        sa.select(Order.id)
        .join(Portfolio, Portfolio.id == Order.portfolio_id)
        .outerjoin(parent, parent.id == Order.parent_order_id)
        .where(
            Portfolio.user_id == user_id,
            Order.status.in_(OPEN_VALUES),
            sa.or_(Order.parent_order_id.is_(None), parent.status.not_in(OPEN_VALUES)),
        )
        .order_by(Order.created_at, Order.id)
    )
    if portfolio_id is not None:
        query = query.where(Order.portfolio_id == portfolio_id)
    results: list[dict[str, object]] = []
    for order_id in list(await db.scalars(query)):
        status = await db.scalar(sa.select(Order.status).where(Order.id == order_id))
        if status not in OPEN_VALUES:
            results.append({"id": str(order_id), "status": 200, "body": {"status": status}})
            continue
        try:
            order = await cancel_order(db, desk=desk, user_id=user_id, order_id=order_id)
            results.append({"id": str(order_id), "status": 200, "body": {"status": order.status}})
        except AppError as exc:
            await db.rollback()
            results.append({"id": str(order_id), "status": 422, "body": {"code": exc.code}})
    return results


async def replace_order(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    user_id: uuid.UUID,
    order_id: uuid.UUID,
    changes: dict[str, object],
) -> Order:
    """Replace an open order by a new one with ``changes`` (a new id, as Alpaca does)."""
    locked = await _locked(db, order_id, user_id=user_id)
    assert locked is not None  # get_order raised 404 otherwise
    portfolio, old = locked
    _require_open(old, "replaced")
    if old.notional is not None:
        raise Unprocessable("Notional orders cannot be replaced.", code="not_replaceable")
    remaining = (old.qty or ZERO) - old.filled_qty
    spec = OrderSpec(
        symbol=old.symbol,
        side=Side(old.side),
        type=OrderType(old.type),
        time_in_force=TimeInForce(str(changes.get("time_in_force") or old.time_in_force)),
        qty=_decimal(changes.get("qty"), remaining),
        limit_price=_decimal(changes.get("limit_price"), old.limit_price),
        stop_price=(
            _decimal(changes.get("stop_price"), old.stop_price)
            if old.type != "trailing_stop"
            else None
        ),
        trail_price=_decimal(changes.get("trail"), old.trail_price) if old.trail_price else None,
        trail_percent=(
            _decimal(changes.get("trail"), old.trail_percent) if old.trail_percent else None
        ),
        extended_hours=old.extended_hours,
        client_order_id=str(changes.get("client_order_id") or uuid.uuid4()),
    )
    info = desk.symbol_info(old.symbol)
    spec = validate_order(spec, fractionable=info.fractionable)
    if old.status != OrderStatus.HELD.value:
        await _check(
            db,
            desk=desk,
            portfolio=portfolio,
            spec=spec,
            info=info,
            quote=await desk.quote(old.symbol),
            now=desk.container.clock.now(),
            replacing=old.id,
        )
    assert spec.client_order_id is not None  # set above
    taken = await _existing(db, portfolio.id, spec.client_order_id)
    if taken is not None:
        raise client_order_id_taken(taken.client_order_id, taken.id)
    now = desk.container.clock.now()
    new = new_order(spec, portfolio, old.asset_class, now, old.source)
    new.order_class = old.order_class
    new.parent_order_id = old.parent_order_id
    new.leg_role = old.leg_role
    new.replaces = old.id
    new.status = old.status if old.status in ("accepted", "held") else OrderStatus.NEW.value
    if spec.type is OrderType.TRAILING_STOP:
        last = await desk.last_price(old.symbol)
        hwm, stop = trailing_stop_update(
            spec.side,
            old.high_water_mark,
            last,
            trail_price=spec.trail_price,
            trail_percent=spec.trail_percent,
        )
        new.high_water_mark, new.stop_price = hwm, stop
    db.add(new)
    await db.flush()
    old.replaced_by = new.id
    set_status(db, old, OrderStatus.REPLACED, now)
    record_event(db, new, new.status, now)
    # The legs follow their parent to the replacement.
    await db.execute(
        sa.update(Order)
        .where(Order.parent_order_id == old.id)
        .values(parent_order_id=new.id)
        .execution_options(synchronize_session=False)
    )
    updates: list[Update] = [("replaced", old, None), (new.status, new, None)]
    await db.commit()
    await desk.publish(portfolio.user_id, updates)
    await desk.notify_engine([old, new])
    return new


def _decimal(value: object, default: Decimal | None) -> Decimal | None:
    if value is None:
        return default
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


async def fill_against(
    db: AsyncSession,
    *,
    desk: TradingDesk,
    order_id: uuid.UUID,
    quote: Quote,
    now: datetime,
    as_market: bool = False,
) -> list[Update]:
    """Fill a resting order against ``quote`` if it is still open (the engine's entry point)."""
    locked = await _locked(db, order_id)
    if locked is None or locked[1].status not in OPEN_VALUES:
        return []
    portfolio, order = locked
    return await execute.execute_now(
        db, desk=desk, portfolio=portfolio, order=order, quote=quote, now=now, as_market=as_market
    )


async def activate(db: AsyncSession, *, order_id: uuid.UUID, now: datetime) -> list[Update]:
    """Route an order accepted outside the session now that the market is open."""
    locked = await _locked(db, order_id)
    if locked is None or locked[1].status != OrderStatus.ACCEPTED.value:
        return []
    order = locked[1]
    set_status(db, order, OrderStatus.NEW, now, reason="market open")
    return [("new", order, None)]


async def expire(
    db: AsyncSession, *, order_id: uuid.UUID, now: datetime, reason: str
) -> list[Update]:
    """Expire an open order (a day order after its session), with its legs."""
    locked = await _locked(db, order_id)
    if locked is None or locked[1].status not in OPEN_VALUES:
        return []
    return await execute.cancel_with_legs(
        db, locked[1], now, reason=reason, status=OrderStatus.EXPIRED
    )


async def mark_triggered(
    db: AsyncSession,
    *,
    order_id: uuid.UUID,
    now: datetime,
    hwm: Decimal | None,
    stop: Decimal | None,
) -> list[Update]:
    """Persist a stop-limit's trigger or a trailing stop's watermark (kept across restarts)."""
    values: dict[str, object] = {"updated_at": now}
    if hwm is not None:
        values.update(high_water_mark=hwm, stop_price=stop)
    else:
        values["triggered_at"] = now
    await db.execute(
        sa.update(Order)
        .where(Order.id == order_id, Order.status.in_(OPEN_VALUES))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return []
