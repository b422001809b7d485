"""The pre-trade risk interface: every order passes these checks before it is stored.

A check is a function of a :class:`PreTradeContext` that raises an ``AppError`` to refuse the
order. :data:`BASE_CHECKS` covers what a brokerage account needs (tradable and shortable
symbol, market hours, price sanity, buying power); the risk service adds its own rules by
passing more checks to :func:`run_checks`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from quantumtrade.domain.errors import Forbidden, Unprocessable
from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.ledger import AccountFigures, exposure_increase
from quantumtrade.domain.trading.orders import OrderClass, OrderSpec, OrderType, TimeInForce
from quantumtrade.marketdata.source import SymbolInfo

ZERO = Decimal(0)
# A limit or stop this far from the last trade is almost surely a typo (10x or a tenth).
PRICE_COLLAR = Decimal(10)


@dataclass(frozen=True, slots=True)
class PreTradeContext:
    """What the checks see: the order, the symbol, the account and the market now."""

    spec: OrderSpec
    info: SymbolInfo
    account: AccountFigures
    holding_qty: Decimal
    shorting_enabled: bool
    market_open: bool
    last_price: Decimal
    qty: Decimal  # the order's quantity (notional orders: at the reference price)
    reference_price: Decimal  # what one share is expected to cost (fill price for market)
    fees: Decimal  # expected fees


PreTradeCheck = Callable[[PreTradeContext], None]


def check_tradable(ctx: PreTradeContext) -> None:
    if not ctx.info.tradable:
        raise Unprocessable(f"{ctx.info.symbol} is not tradable.", code="not_tradable")


def check_shortable(ctx: PreTradeContext) -> None:
    spec = ctx.spec
    if spec.side is not Side.SELL:
        return
    opening = exposure_increase(ctx.holding_qty, Side.SELL, ctx.qty)
    if opening <= ZERO:
        return
    if ctx.account.multiplier == 1 or not ctx.shorting_enabled:
        raise Forbidden(
            f"Selling {ctx.qty} {spec.symbol} would open a short of {opening}; this portfolio "
            "does not allow shorting (it needs a margin portfolio with shorting enabled).",
            code="shorting_not_allowed",
            details={"held": str(ctx.holding_qty), "qty": str(ctx.qty)},
        )
    if not ctx.info.shortable:
        raise Forbidden(f"{spec.symbol} is not shortable.", code="not_shortable")
    if ctx.qty != ctx.qty.to_integral_value():
        raise Forbidden("Short sales take whole shares.", code="not_shortable")


def check_market_hours(ctx: PreTradeContext) -> None:
    spec = ctx.spec
    if ctx.market_open and spec.time_in_force is TimeInForce.OPG:
        raise Unprocessable(
            "opg orders are taken while the market is closed, for the next open.",
            code="market_open",
        )
    if not ctx.market_open and spec.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        raise Unprocessable(
            f"{spec.time_in_force} orders need the market open; it is closed.",
            code="market_closed",
        )


def check_price_sanity(ctx: PreTradeContext) -> None:
    last = ctx.last_price
    if last <= ZERO:
        return
    for name in ("limit_price", "stop_price"):
        price: Decimal | None = getattr(ctx.spec, name)
        if price is not None and not last / PRICE_COLLAR <= price <= last * PRICE_COLLAR:
            raise Unprocessable(
                f"{name} {price} is too far from the last trade {last} (allowed: a tenth to "
                "ten times it).",
                code="price_out_of_range",
                details={"field": name, "last_price": str(last)},
            )


def check_leg_prices(ctx: PreTradeContext) -> None:
    """Refuse exit legs already through the market: they would trigger the moment they rest.

    As Alpaca does, a long's stop loss must lie below the base price and its take profit above
    it (a short's mirror that). The base is the entry's limit or stop, else the last trade; an
    oco order (an exit itself) is measured against the last trade.
    """
    spec = ctx.spec
    if spec.order_class is OrderClass.SIMPLE:
        return
    base = ctx.last_price
    if spec.order_class is not OrderClass.OCO:
        base = spec.limit_price or spec.stop_price or base
    if base <= ZERO:
        return
    exit_sell = (spec.side is Side.BUY) != (spec.order_class is OrderClass.OCO)
    legs = (
        ("stop_loss.stop_price", spec.stop_loss_stop, not exit_sell),
        ("take_profit.limit_price", spec.take_profit_limit, exit_sell),
    )
    for name, price, above in legs:
        if price is None or (price > base if above else price < base):
            continue
        relation = "above" if above else "below"
        raise Unprocessable(
            f"{name} {price} must be {relation} the base price {base}: the leg would trigger "
            "at once.",
            code="invalid_legs",
            details={"field": name, "base_price": str(base)},
        )


def check_buying_power(ctx: PreTradeContext) -> None:
    opening = exposure_increase(ctx.holding_qty, ctx.spec.side, ctx.qty)
    if opening <= ZERO:
        return
    needed = opening * ctx.reference_price + ctx.fees
    if needed > ctx.account.buying_power:
        raise Forbidden(
            f"Insufficient buying power: the order needs ${needed:.2f}, "
            f"${ctx.account.buying_power:.2f} is available.",
            code="insufficient_buying_power",
            details={
                "required": str(needed.quantize(Decimal("0.01"))),
                "buying_power": str(ctx.account.buying_power),
            },
        )


BASE_CHECKS: tuple[PreTradeCheck, ...] = (
    check_tradable,
    check_shortable,
    check_market_hours,
    check_price_sanity,
    check_leg_prices,
    check_buying_power,
)


def run_checks(ctx: PreTradeContext, extra: Sequence[PreTradeCheck] = ()) -> None:
    """Run the base checks, then ``extra``; the first refusal raises."""
    for check in (*BASE_CHECKS, *extra):
        check(ctx)


def reference_price(spec: OrderSpec, touch: Decimal, last: Decimal) -> Decimal:
    """Return the per-share price to reserve for an order: its limit, stop, or the market."""
    if spec.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and spec.limit_price is not None:
        return spec.limit_price
    if spec.type is OrderType.STOP and spec.stop_price is not None:
        return max(spec.stop_price, touch) if spec.side is Side.BUY else spec.stop_price
    return touch if touch > ZERO else last
