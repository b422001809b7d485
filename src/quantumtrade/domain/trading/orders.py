"""Orders as Alpaca defines them: types, time in force, classes, statuses and their lifecycle.

``validate_order`` turns a request into an :class:`OrderSpec` or refuses it with every problem
listed. The status machine (:data:`TRANSITIONS`) is the only way a status changes, so each
change can be recorded as an order event.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from quantumtrade.domain.errors import Unprocessable
from quantumtrade.domain.execution import Side, tick_size

ZERO = Decimal(0)
QTY_PLACES = 9
MIN_NOTIONAL = Decimal(1)
# The largest order we take. Far beyond any real order, and small enough that every product
# and rounding of them stays exact in Decimal's 28 digits (quantity 9 decimals, price 4).
MAX_QTY = Decimal(1_000_000_000)
MAX_PRICE = Decimal(10_000_000)
MAX_NOTIONAL = Decimal(1_000_000_000_000)
MAX_CLIENT_ORDER_ID = 128


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"


class OrderClass(StrEnum):
    SIMPLE = "simple"
    BRACKET = "bracket"
    OCO = "oco"
    OTO = "oto"


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"  # received while the market is closed; routed at the open
    HELD = "held"  # a bracket/oto leg waiting for its entry to fill
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    REJECTED = "rejected"


TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REPLACED,
        OrderStatus.REJECTED,
    }
)
OPEN = frozenset(OrderStatus) - TERMINAL
_ENDINGS = {OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REPLACED}
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.ACCEPTED: frozenset(
        {OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.REJECTED}
        | _ENDINGS
    ),
    OrderStatus.HELD: frozenset({OrderStatus.NEW, OrderStatus.ACCEPTED} | _ENDINGS),
    OrderStatus.NEW: frozenset(
        {OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED, OrderStatus.REJECTED} | _ENDINGS
    ),
    OrderStatus.PARTIALLY_FILLED: frozenset(
        {OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED} | _ENDINGS
    ),
    **{status: frozenset() for status in TERMINAL},
}


def check_transition(current: str, new: str) -> OrderStatus:
    """Return ``new`` as a status if an order in ``current`` may move to it, else refuse."""
    target = OrderStatus(new)
    if target not in TRANSITIONS[OrderStatus(current)]:
        raise Unprocessable(
            f"An order that is {current} cannot become {new}.",
            code="order_not_open" if OrderStatus(current) in TERMINAL else "invalid_transition",
            details={"status": current, "requested": new},
        )
    return target


@dataclass(frozen=True, slots=True)
class LegSpec:
    """One exit leg of a bracket, oco or oto order."""

    role: str  # "take_profit" or "stop_loss"
    type: OrderType
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """A validated order request."""

    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    order_class: OrderClass = OrderClass.SIMPLE
    take_profit_limit: Decimal | None = None
    stop_loss_stop: Decimal | None = None
    stop_loss_limit: Decimal | None = None
    extended_hours: bool = False
    client_order_id: str | None = None
    legs: tuple[LegSpec, ...] = field(default=())

    @property
    def exit_side(self) -> Side:
        """Return the side of the legs that close this order's position."""
        return Side.SELL if self.side is Side.BUY else Side.BUY


def is_on_tick_grid(price: Decimal) -> bool:
    """Return whether ``price`` is a whole number of ticks (no sub-penny price at or above $1).

    Total: a price too large to round to a tick, or not finite, is not on the grid.
    """
    if not price.is_finite():
        return False
    try:
        return price == price.quantize(tick_size(price))
    except InvalidOperation:
        return False


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field_name: str, code: str, message: str) -> None:
        self.items.append({"field": field_name, "code": code, "message": message})

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        if len(self.items) == 1:
            raise Unprocessable(first["message"], code=first["code"], details=self.items)
        raise Unprocessable(
            f"The order has {len(self.items)} problems: {first['message']} ...",
            code="invalid_order",
            details=self.items,
        )


def _price(problems: _Problems, name: str, value: Decimal | None, required: bool) -> None:
    if value is None:
        if required:
            problems.add(name, "missing_price", f"{name} is required for this order.")
        return
    if not value.is_finite() or value <= ZERO:
        problems.add(name, "invalid_price", f"{name} must be a positive price.")
    elif value > MAX_PRICE:
        problems.add(name, "invalid_price", f"{name} must be at most {MAX_PRICE}.")
    elif not is_on_tick_grid(value):
        problems.add(
            name,
            "sub_penny_price",
            f"{name} {value} is sub-penny: prices of $1 or more take at most 2 decimals, "
            "below $1 at most 4.",
        )


def _usable(value: Decimal | None) -> bool:
    """Return whether ``value`` is a price the cross-field checks can compare."""
    return value is not None and value.is_finite() and ZERO < value <= MAX_PRICE


def _forbid(problems: _Problems, name: str, value: object, why: str) -> None:
    if value is not None:
        problems.add(name, "unexpected_field", f"{name} is not allowed {why}.")


def _check_amount(problems: _Problems, qty: Decimal | None, notional: Decimal | None) -> bool:
    """Check qty/notional; return whether the order is fractional."""
    if (qty is None) == (notional is None):
        problems.add("qty", "qty_or_notional", "Give exactly one of qty and notional.")
        return False
    if qty is not None:
        if not qty.is_finite() or qty <= ZERO:
            problems.add("qty", "invalid_qty", "qty must be greater than zero.")
            return False
        if qty > MAX_QTY:
            problems.add("qty", "invalid_qty", f"qty must be at most {MAX_QTY}.")
            return False
        exponent = qty.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > QTY_PLACES:
            problems.add("qty", "invalid_qty", f"qty takes at most {QTY_PLACES} decimals.")
        return qty != qty.to_integral_value()
    assert notional is not None
    if not notional.is_finite() or notional < MIN_NOTIONAL:
        problems.add("notional", "invalid_notional", f"notional must be at least ${MIN_NOTIONAL}.")
    elif notional > MAX_NOTIONAL:
        problems.add("notional", "invalid_notional", f"notional must be at most ${MAX_NOTIONAL}.")
    elif notional != notional.quantize(Decimal("0.01")):
        problems.add("notional", "invalid_notional", "notional takes at most 2 decimals.")
    return True


def _check_type_fields(problems: _Problems, spec: OrderSpec) -> None:
    kind = spec.type
    needs_limit = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
    _price(problems, "limit_price", spec.limit_price, needs_limit)
    _price(problems, "stop_price", spec.stop_price, needs_stop)
    if not needs_limit:
        _forbid(problems, "limit_price", spec.limit_price, f"on a {kind} order")
    if not needs_stop:
        _forbid(problems, "stop_price", spec.stop_price, f"on a {kind} order")
    if kind is OrderType.TRAILING_STOP:
        if (spec.trail_price is None) == (spec.trail_percent is None):
            problems.add(
                "trail_price", "invalid_trail", "Give exactly one of trail_price and trail_percent."
            )
        elif spec.trail_price is not None:
            _price(problems, "trail_price", spec.trail_price, True)
        elif spec.trail_percent is not None and not (
            spec.trail_percent.is_finite() and ZERO < spec.trail_percent < 100
        ):
            problems.add("trail_percent", "invalid_trail", "trail_percent must be in (0, 100).")
        if spec.time_in_force not in (TimeInForce.DAY, TimeInForce.GTC):
            problems.add(
                "time_in_force", "invalid_time_in_force", "Trailing stops take day or gtc."
            )
    else:
        _forbid(problems, "trail_price", spec.trail_price, f"on a {kind} order")
        _forbid(problems, "trail_percent", spec.trail_percent, f"on a {kind} order")


def _check_time_in_force(problems: _Problems, spec: OrderSpec, fractional: bool) -> None:
    tif = spec.time_in_force
    if tif in (TimeInForce.OPG, TimeInForce.CLS, TimeInForce.IOC, TimeInForce.FOK) and (
        spec.type not in (OrderType.MARKET, OrderType.LIMIT)
    ):
        problems.add(
            "time_in_force",
            "invalid_time_in_force",
            f"time_in_force {tif} takes market or limit orders only.",
        )
    if fractional and tif is not TimeInForce.DAY:
        problems.add(
            "time_in_force",
            "invalid_time_in_force",
            "Fractional and notional orders must be day orders.",
        )
    if fractional and spec.type is OrderType.TRAILING_STOP:
        problems.add("qty", "invalid_qty", "Trailing stops take whole shares.")
    if spec.extended_hours and not (
        spec.type is OrderType.LIMIT and tif is TimeInForce.DAY and not fractional
    ):
        problems.add(
            "extended_hours",
            "invalid_extended_hours",
            "extended_hours is for whole-share limit day orders only.",
        )


def _leg(role: str, limit: Decimal | None, stop: Decimal | None) -> LegSpec:
    if role == "take_profit":
        return LegSpec(role, OrderType.LIMIT, limit_price=limit)
    kind = OrderType.STOP_LIMIT if limit is not None else OrderType.STOP
    return LegSpec(role, kind, limit_price=limit, stop_price=stop)


def _check_class(problems: _Problems, spec: OrderSpec, fractional: bool) -> tuple[LegSpec, ...]:
    cls = spec.order_class
    tp, sl, sl_limit = spec.take_profit_limit, spec.stop_loss_stop, spec.stop_loss_limit
    if cls is OrderClass.SIMPLE:
        _forbid(problems, "take_profit", tp, "on a simple order")
        _forbid(problems, "stop_loss", sl, "on a simple order")
        return ()
    if fractional:
        problems.add("qty", "invalid_qty", f"{cls} orders take whole shares.")
    if spec.time_in_force not in (TimeInForce.DAY, TimeInForce.GTC):
        problems.add("time_in_force", "invalid_time_in_force", f"{cls} orders take day or gtc.")
    if sl_limit is not None and sl is None:
        problems.add("stop_loss", "missing_price", "stop_loss.limit_price needs a stop_price.")
    _price(problems, "take_profit.limit_price", tp, cls in (OrderClass.BRACKET, OrderClass.OCO))
    _price(problems, "stop_loss.stop_price", sl, cls in (OrderClass.BRACKET, OrderClass.OCO))
    if sl_limit is not None:
        _price(problems, "stop_loss.limit_price", sl_limit, True)
    if cls is OrderClass.OTO and (tp is None) == (sl is None):
        problems.add(
            "take_profit", "invalid_legs", "An oto order takes one leg: take_profit or stop_loss."
        )
    if cls is OrderClass.OCO and spec.type is not OrderType.LIMIT:
        problems.add(
            "type", "invalid_order_class", "An oco order is a limit order (its take-profit)."
        )
    if cls is OrderClass.BRACKET and spec.type is OrderType.TRAILING_STOP:
        problems.add("type", "invalid_order_class", "A bracket's entry cannot be a trailing stop.")
    if tp is not None and sl is not None and _usable(tp) and _usable(sl):
        # A long's exits sell: profit above, stop below; a short's exits mirror that.
        exit_sell = spec.side is Side.BUY if cls is not OrderClass.OCO else spec.side is Side.SELL
        if (tp <= sl) if exit_sell else (tp >= sl):
            relation = "above" if exit_sell else "below"
            problems.add(
                "take_profit.limit_price",
                "invalid_legs",
                f"take_profit.limit_price must be {relation} stop_loss.stop_price.",
            )
        entry = spec.limit_price if cls is OrderClass.BRACKET else None
        if (
            entry is not None
            and _usable(entry)
            and not ((sl < entry < tp) if exit_sell else (tp < entry < sl))
        ):
            problems.add(
                "limit_price",
                "invalid_legs",
                "The entry limit must lie between the stop loss and the take profit.",
            )
    legs = []
    if tp is not None:
        legs.append(_leg("take_profit", tp, None))
    if sl is not None:
        legs.append(_leg("stop_loss", sl_limit, sl))
    if cls is OrderClass.OCO:
        return tuple(leg for leg in legs if leg.role == "stop_loss")
    return tuple(legs)


def validate_order(spec: OrderSpec, *, fractionable: bool = True) -> OrderSpec:
    """Return ``spec`` with its legs filled in, or raise ``Unprocessable`` listing every problem.

    An oco order is itself the take-profit limit order; its one leg is the stop loss.
    """
    if (
        spec.order_class is OrderClass.OCO
        and spec.limit_price is None
        and spec.type is OrderType.LIMIT
    ):
        spec = replace(spec, limit_price=spec.take_profit_limit)
    problems = _Problems()
    fractional = _check_amount(problems, spec.qty, spec.notional)
    if fractional and not fractionable:
        problems.add("qty", "not_fractionable", f"{spec.symbol} does not trade in fractions.")
    if spec.notional is not None and spec.type is not OrderType.MARKET:
        problems.add("notional", "invalid_notional", "notional is for market orders only.")
    _check_type_fields(problems, spec)
    _check_time_in_force(problems, spec, fractional)
    legs = _check_class(problems, spec, fractional)
    if (
        spec.client_order_id is not None
        and not 0 < len(spec.client_order_id) <= MAX_CLIENT_ORDER_ID
    ):
        problems.add(
            "client_order_id",
            "invalid_client_order_id",
            f"client_order_id takes 1 to {MAX_CLIENT_ORDER_ID} characters.",
        )
    problems.raise_if_any()
    return replace(spec, legs=legs)
