"""Fill rules shared by the backtester and the paper-trading engine."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

import numpy as np

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution._money import (
    ONE,
    SUB_PENNY,
    ZERO,
    Side,
    quantize_price,
    quantize_qty,
    to_decimal,
)
from quantumtrade.domain.execution.slippage import SlippageModel
from quantumtrade.domain.market import Quote

HUNDRED = Decimal(100)


def touch(side: Side, quote: Quote) -> Decimal:
    """Return the price a marketable order meets: the ask for a buy, the bid for a sell."""
    price = to_decimal(quote.ask_price if side is Side.BUY else quote.bid_price)
    if price <= ZERO:
        raise InvalidInput(f"no {side} liquidity in the quote", code="no_liquidity")
    return price


def market_fill_price(
    side: Side,
    quote: Quote,
    slippage: SlippageModel,
    qty: Decimal,
    bar_volume: float | None = None,
) -> Decimal:
    """Return a market order's fill price: the touch plus adverse slippage, on the tick grid.

    The price is rounded against the trader (a buy up, a sell down). A sell slipped to zero
    or below fills at the smallest tick, $0.0001: prices cannot go lower.
    """
    reference = touch(side, quote)
    slipped = slippage.price(side, reference, qty, quote=quote, bar_volume=bar_volume)
    return quantize_price(max(slipped, SUB_PENNY), side)


def limit_fillable(side: Side, limit: Decimal, market: Quote | Decimal | float) -> Decimal | None:
    """Return the fill price of a limit order against a quote or a trade price, or ``None``.

    Against a quote the order is marketable when the touch is at or through the limit; against
    a trade price, when the print is. It fills at the better of the limit and that price.
    An empty side of the quote (price zero) fills nothing.
    """
    if isinstance(market, Quote):
        raw = market.ask_price if side is Side.BUY else market.bid_price
        if raw <= 0.0:
            return None
        price = to_decimal(raw)
    else:
        price = to_decimal(market)
    if side is Side.BUY:
        return min(limit, price) if price <= limit else None
    return max(limit, price) if price >= limit else None


def stop_triggered(side: Side, stop: Decimal, trade_price: Decimal | float) -> bool:
    """Return whether a trade triggers a stop: a buy stop at or above, a sell stop at or below."""
    price = to_decimal(trade_price)
    return price >= stop if side is Side.BUY else price <= stop


def trailing_stop_update(
    side: Side,
    hwm: Decimal | None,
    price: Decimal | float,
    *,
    trail_price: Decimal | None = None,
    trail_percent: Decimal | None = None,
) -> tuple[Decimal, Decimal]:
    """Advance a trailing stop's watermark and return ``(new_hwm, stop_price)``.

    A sell trailing stop (protecting a long) tracks the highest price seen and sits below it;
    a buy trailing stop tracks the lowest and sits above it. ``trail_percent`` is in percent
    (1.5 = 1.5 %), as Alpaca takes it. Pass ``hwm=None`` on the first update. The stop price
    is rounded half-to-even onto the tick grid.
    """
    if (trail_price is None) == (trail_percent is None):
        raise InvalidInput("give exactly one of trail_price and trail_percent", code="bad_trail")
    trail = trail_price if trail_price is not None else trail_percent
    if trail is None or trail <= ZERO:
        raise InvalidInput("trail must be positive", code="bad_trail")
    current = to_decimal(price)
    if side is Side.SELL:
        mark = current if hwm is None else max(hwm, current)
        offset = trail_price if trail_price is not None else mark * trail / HUNDRED
        stop = mark - offset
    else:
        mark = current if hwm is None else min(hwm, current)
        offset = trail_price if trail_price is not None else mark * trail / HUNDRED
        stop = mark + offset
    return mark, quantize_price(stop)


def max_fill_qty(order_remaining: Decimal, bar_volume: float, participation: Decimal) -> Decimal:
    """Cap a fill at ``participation`` of the bar's volume (0.1 = at most 10 % of the volume)."""
    if not ZERO < participation <= ONE:
        raise InvalidInput("participation must be in (0, 1]", code="bad_participation")
    volume = to_decimal(bar_volume)
    if volume < ZERO or order_remaining < ZERO:
        raise InvalidInput("volume and quantity must not be negative", code="bad_quantity")
    return quantize_qty(min(order_remaining, volume * participation))


@dataclass(frozen=True, slots=True)
class RandomPartialFills:
    """Fill only part of an order now and then, like Alpaca's paper engine.

    Rule: draw ``u`` uniform on [0, 1). If ``u >= probability`` the whole remainder fills.
    Otherwise draw ``f`` uniform on ``[min_fraction, 1)`` and fill ``floor(remaining * f)``
    whole shares; when that rounds to nothing, or the remainder is under one share, the
    whole remainder fills, so an order always makes progress. The same generator seed gives
    the same sequence of fills.
    """

    probability: float = 0.1
    min_fraction: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0 or not 0.0 < self.min_fraction < 1.0:
            raise InvalidInput(
                "need 0 <= probability <= 1 and 0 < min_fraction < 1", code="bad_partial_fill"
            )

    def fill_qty(self, remaining: Decimal, rng: np.random.Generator) -> Decimal:
        """Return how much of ``remaining`` fills now."""
        if remaining <= ZERO:
            return ZERO
        if rng.random() >= self.probability:
            return remaining
        fraction = to_decimal(float(rng.uniform(self.min_fraction, 1.0)))
        partial = (remaining * fraction).to_integral_value(rounding=ROUND_FLOOR)
        if partial <= ZERO or partial >= remaining:
            return remaining
        return partial
