"""Tomorrow's watch items of a portfolio, from its state at the close.

Stops and their distance from the close, positions without one, other open orders, limits
80 % used or more, open losses near the daily loss limit, regime changes recorded during the
day, and the day's latest stories on the symbols held.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from quantumtrade.domain.reports import average_costs
from quantumtrade.domain.risk.limits import WARNING_LEVEL
from quantumtrade.services.reports._data import PortfolioDay
from quantumtrade.services.reports._sections import (
    STOP_TYPES,
    Section,
    pct,
    section,
    usage_of,
)
from quantumtrade.services.risk.limits import limits_of
from quantumtrade.services.trading.views import text

LOSS_NEAR_LIMIT = 0.5  # a position's open loss at half the daily loss limit is worth a look


def watch(day: PortfolioDay) -> Section:
    """Tomorrow's watch items, from the state at the close."""
    f = day.figures
    items: list[dict[str, Any]] = []
    costs = average_costs(day.all_fills)
    stops: dict[str, list[Any]] = {}
    for order in day.open_orders:
        held = f.end.qty.get(order.symbol, Decimal(0))
        exits = (held > 0 and order.side == "sell") or (held < 0 and order.side == "buy")
        if exits and order.type in STOP_TYPES and order.stop_price is not None:
            stops.setdefault(order.symbol, []).append(order)
            continue
        close = day.end_prices.get(order.symbol)
        level = order.limit_price or order.stop_price
        distance = float(level / close - 1) if close and level else None
        items.append(
            {
                "kind": "open_order",
                "symbol": order.symbol,
                "message": f"Open {order.type} {order.side} order on {order.symbol}"
                + (f" at {text(level)} ({pct(distance)} from the close)." if level else "."),
                "order_id": str(order.id),
                "distance": distance,
            }
        )
    for symbol, qty in f.end.qty.items():
        close = day.end_prices[symbol]
        mine = stops.get(symbol, [])
        if not mine:
            items.append(
                {
                    "kind": "no_stop",
                    "symbol": symbol,
                    "message": f"{text(qty)} {symbol} held with no stop order.",
                    "order_id": None,
                    "distance": None,
                }
            )
        for order in mine:
            distance = float(abs(close - order.stop_price) / close)
            items.append(
                {
                    "kind": "stop_distance",
                    "symbol": symbol,
                    "message": f"{symbol}: stop at {text(order.stop_price)}, "
                    f"{distance:.2%} from the close {text(close)}.",
                    "order_id": str(order.id),
                    "distance": distance,
                }
            )
    limits = limits_of(day.portfolio)
    loss_limit = limits.daily_loss_limit_value
    if limits.daily_loss_limit_pct is not None:
        by_pct = limits.daily_loss_limit_pct * float(f.equity_end)
        loss_limit = by_pct if loss_limit is None else min(loss_limit, by_pct)
    for symbol, qty in f.end.qty.items():
        cost = costs.get(symbol)
        if cost is None or not loss_limit:
            continue
        open_pl = float(qty * (day.end_prices[symbol] - cost))
        if -open_pl >= LOSS_NEAR_LIMIT * loss_limit:
            items.append(
                {
                    "kind": "position_loss",
                    "symbol": symbol,
                    "message": f"{symbol}: open loss {-open_pl:,.2f} is "
                    f"{-open_pl / loss_limit:.0%} of the daily loss limit.",
                    "order_id": None,
                    "distance": None,
                }
            )
    for usage in usage_of(day):
        if usage.used >= WARNING_LEVEL:
            items.append(
                {
                    "kind": "limit_near",
                    "symbol": usage.subject if usage.subject in f.end.qty else None,
                    "message": f"{usage.rule} is {usage.used:.0%} used.",
                    "order_id": None,
                    "distance": None,
                }
            )
    held_now = set(f.end.qty)
    for change in day.regimes:
        items.append(
            {
                "kind": "regime_change",
                "symbol": change.symbol,
                "message": f"{change.symbol} ({change.timeframe}) turned {change.trend_regime}"
                + (f" from {change.previous_regime}" if change.previous_regime else "")
                + (" (held)." if change.symbol in held_now else "."),
                "order_id": None,
                "distance": None,
            }
        )
    for story in day.news:
        items.append(
            {
                "kind": "news",
                "symbol": ",".join(s for s in story.symbols if s in held_now) or None,
                "message": f"{story.created_at.isoformat()}: {story.headline}",
                "order_id": None,
                "distance": None,
            }
        )
    return section(
        "watch",
        "Watch tomorrow",
        text_=[f"{len(items)} item(s)."],
        tables=[
            {
                "title": "Watch items",
                "columns": ["kind", "symbol", "message"],
                "rows": [[i["kind"], i["symbol"], i["message"]] for i in items],
            }
        ],
        data={"items": items},
    )
