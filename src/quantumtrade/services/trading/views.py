"""JSON views of orders, positions and portfolios, with Alpaca's field names.

Money and quantities are strings holding exact decimals, as Alpaca sends them, so no client
parses a price through a float by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from quantumtrade.db.models import Order, Portfolio, Position
from quantumtrade.domain.trading.ledger import AccountFigures, cents

ZERO = Decimal(0)


def text(value: Decimal | None) -> str | None:
    """Return a decimal as plain text without exponent or trailing zeros (None stays None)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def order_view(order: Order, legs: Sequence[Order] | None = None) -> dict[str, Any]:
    """Return an order as Alpaca's order object (``legs`` nested when given)."""
    view: dict[str, Any] = {
        "id": str(order.id),
        "client_order_id": order.client_order_id,
        "portfolio_id": str(order.portfolio_id),
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "submitted_at": _iso(order.submitted_at),
        "filled_at": _iso(order.filled_at),
        "expired_at": _iso(order.expired_at),
        "canceled_at": _iso(order.canceled_at),
        "failed_at": _iso(order.failed_at),
        "replaced_at": _iso(order.replaced_at),
        "replaced_by": str(order.replaced_by) if order.replaced_by else None,
        "replaces": str(order.replaces) if order.replaces else None,
        "symbol": order.symbol,
        "asset_class": order.asset_class,
        "notional": text(order.notional),
        "qty": text(order.qty),
        "filled_qty": text(order.filled_qty),
        "filled_avg_price": text(order.filled_avg_price),
        "order_class": "" if order.order_class == "simple" else order.order_class,
        "order_type": order.type,
        "type": order.type,
        "side": order.side,
        "time_in_force": order.time_in_force,
        "limit_price": text(order.limit_price),
        "stop_price": text(order.stop_price),
        "trail_price": text(order.trail_price),
        "trail_percent": text(order.trail_percent),
        "hwm": text(order.high_water_mark),
        "status": order.status,
        "status_reason": order.status_reason,
        "extended_hours": order.extended_hours,
        "parent_order_id": str(order.parent_order_id) if order.parent_order_id else None,
        "leg_role": order.leg_role,
        "source": order.source,
        "legs": None,
    }
    if legs is not None:
        view["legs"] = [order_view(leg) for leg in legs]
    return view


def position_view(position: Position, price: Decimal, lastday: Decimal | None) -> dict[str, Any]:
    """Return a position with Alpaca's fields, valued at ``price``."""
    qty = position.qty
    market_value = cents(qty * price)
    cost_basis = position.avg_entry_price * qty
    unrealized = market_value - cost_basis
    # Without the previous close the day's figures are unknown (null), not zero.
    intraday = None if lastday is None else cents(qty * (price - lastday))
    base = abs(cost_basis)
    return {
        "symbol": position.symbol,
        "asset_class": position.asset_class,
        "qty": text(qty),
        "side": "short" if qty < ZERO else "long",
        "avg_entry_price": text(position.avg_entry_price),
        "market_value": text(market_value),
        "cost_basis": text(cents(cost_basis)),
        "unrealized_pl": text(cents(unrealized)),
        "unrealized_plpc": float(unrealized / base) if base else 0.0,
        "unrealized_intraday_pl": None if intraday is None else text(intraday),
        "unrealized_intraday_plpc": None
        if intraday is None or lastday is None
        else (float(intraday / abs(qty * lastday)) if qty and lastday else 0.0),
        "current_price": text(price),
        "lastday_price": None if lastday is None else text(lastday),
        "change_today": None
        if lastday is None
        else (float((price - lastday) / lastday) if lastday else 0.0),
        "realized_pl": text(position.realized_pl),
        "opened_at": _iso(position.opened_at),
    }


def portfolio_view(
    portfolio: Portfolio, figures: AccountFigures | None = None, **extra: Any
) -> dict[str, Any]:
    """Return a portfolio, with its account figures when given."""
    view: dict[str, Any] = {
        "id": str(portfolio.id),
        "name": portfolio.name,
        "type": portfolio.type,
        "currency": portfolio.currency,
        "starting_cash": text(portfolio.starting_cash),
        "cash": text(portfolio.cash),
        "margin_multiplier": portfolio.margin_multiplier,
        "shorting_enabled": portfolio.shorting_enabled,
        "account_type": "cash" if portfolio.margin_multiplier == 1 else "margin",
        "realized_pl": text(portfolio.realized_pl),
        "created_at": _iso(portfolio.created_at),
        "reset_at": _iso(portfolio.reset_at),
    }
    if figures is not None:
        view.update(
            equity=text(figures.equity),
            buying_power=text(figures.buying_power),
            long_market_value=text(figures.long_market_value),
            short_market_value=text(figures.short_market_value),
            initial_margin=text(figures.initial_margin),
            maintenance_margin=text(figures.maintenance_margin),
            multiplier=str(figures.multiplier),
            reserved_for_orders=text(figures.reserved),
        )
    view.update(extra)
    return view
