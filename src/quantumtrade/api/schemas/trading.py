"""Request bodies of the portfolio and order endpoints (Alpaca's field names)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Protocol

from pydantic import AliasChoices, Field, StrictBool

from quantumtrade.api.schemas.common import StrictModel, Uuid
from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.orders import (
    MAX_NOTIONAL,
    MAX_PRICE,
    MAX_QTY,
    OrderClass,
    OrderSpec,
    OrderType,
    TimeInForce,
)

Money = Decimal
# The bounds of an order's numbers (the domain checks the same): larger values answer 422.
Price = Annotated[
    Decimal,
    Field(
        le=MAX_PRICE,
        allow_inf_nan=False,
        description=f"A price in dollars, at most {MAX_PRICE}: a string or a number.",
        examples=["187.25"],
    ),
]
Quantity = Annotated[
    Decimal,
    Field(
        le=MAX_QTY,
        allow_inf_nan=False,
        description=f"Shares or coins, at most {MAX_QTY} (up to 9 decimals).",
        examples=["10"],
    ),
]
Notional = Annotated[
    Decimal,
    Field(
        le=MAX_NOTIONAL,
        allow_inf_nan=False,
        description=f"Dollar amount to buy or sell, at most {MAX_NOTIONAL}.",
        examples=["2500.00"],
    ),
]
Percent = Annotated[
    Decimal, Field(le=100, allow_inf_nan=False, description="A percentage.", examples=["2.5"])
]


class PortfolioCreate(StrictModel):
    """A new portfolio: a cash account (multiplier 1) or a margin account (2 or 4)."""

    name: str = Field(min_length=1, max_length=100, examples=["Momentum"])
    type: Literal["paper", "live"] = "paper"
    starting_cash: Money | None = Field(
        default=None, gt=0, le=Decimal("1e12"), decimal_places=2, examples=["100000"]
    )
    margin_multiplier: Literal[1, 2, 4] = 1
    shorting_enabled: StrictBool = False


class TakeProfit(StrictModel):
    limit_price: Price


class StopLoss(StrictModel):
    stop_price: Price
    limit_price: Price | None = None


class OrderCreate(StrictModel):
    """An order, as Alpaca takes it. Give ``qty`` or ``notional``; prices as strings or numbers.

    ``portfolio_id`` picks the portfolio (your first one when omitted, created on first use).
    """

    symbol: str = Field(min_length=1, max_length=20, examples=["AAPL"])
    side: Literal["buy", "sell"]
    type: Literal["market", "limit", "stop", "stop_limit", "trailing_stop"] = Field(
        default="market", validation_alias=AliasChoices("type", "order_type")
    )
    time_in_force: Literal["day", "gtc", "ioc", "fok", "opg", "cls"] = "day"
    qty: Quantity | None = Field(
        default=None, validation_alias=AliasChoices("qty", "quantity"), examples=["10"]
    )
    notional: Notional | None = None
    limit_price: Price | None = Field(
        default=None, validation_alias=AliasChoices("limit_price", "price")
    )
    stop_price: Price | None = None
    trail_price: Price | None = None
    trail_percent: Percent | None = None
    order_class: Literal["simple", "bracket", "oco", "oto", ""] = "simple"
    take_profit: TakeProfit | None = None
    stop_loss: StopLoss | None = None
    extended_hours: StrictBool = False
    client_order_id: str | None = Field(default=None, min_length=1, max_length=128)
    portfolio_id: Uuid | None = None


class OrderReplace(StrictModel):
    """What a replacement changes; the rest is copied from the order it replaces."""

    qty: Quantity | None = None
    limit_price: Price | None = None
    stop_price: Price | None = None
    trail: Price | None = Field(
        default=None, description="The new trail_price or trail_percent, as the order has."
    )
    time_in_force: Literal["day", "gtc", "ioc", "fok", "opg", "cls"] | None = None
    client_order_id: str | None = Field(default=None, min_length=1, max_length=128)


class _Exit(Protocol):
    @property
    def limit_price(self) -> Decimal | None: ...


class _Stop(Protocol):
    @property
    def stop_price(self) -> Decimal: ...
    @property
    def limit_price(self) -> Decimal | None: ...


class OrderFields(Protocol):
    """What an order body says, as ``/api/orders`` and Alpaca's ``/v2/orders`` both take it."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def time_in_force(self) -> str: ...
    @property
    def qty(self) -> Decimal | None: ...
    @property
    def notional(self) -> Decimal | None: ...
    @property
    def limit_price(self) -> Decimal | None: ...
    @property
    def stop_price(self) -> Decimal | None: ...
    @property
    def trail_price(self) -> Decimal | None: ...
    @property
    def trail_percent(self) -> Decimal | None: ...
    @property
    def order_class(self) -> str | None: ...
    @property
    def take_profit(self) -> _Exit | None: ...
    @property
    def stop_loss(self) -> _Stop | None: ...
    @property
    def extended_hours(self) -> bool: ...
    @property
    def client_order_id(self) -> str | None: ...


def order_spec(body: OrderFields) -> OrderSpec:
    """Turn an order body into the order the trading services place."""
    return OrderSpec(
        symbol=body.symbol,
        side=Side(body.side),
        type=OrderType(body.type),
        time_in_force=TimeInForce(body.time_in_force),
        qty=body.qty,
        notional=body.notional,
        limit_price=body.limit_price,
        stop_price=body.stop_price,
        trail_price=body.trail_price,
        trail_percent=body.trail_percent,
        order_class=OrderClass(body.order_class or "simple"),
        take_profit_limit=body.take_profit.limit_price if body.take_profit else None,
        stop_loss_stop=body.stop_loss.stop_price if body.stop_loss else None,
        stop_loss_limit=body.stop_loss.limit_price if body.stop_loss else None,
        extended_hours=body.extended_hours,
        client_order_id=body.client_order_id,
    )
