"""Response bodies of the order endpoints: Alpaca's order object, its events, cancel results.

The field set mirrors ``services.trading.views.order_view`` exactly. Money and quantities are
strings holding exact decimals (no exponent, no trailing zeros), as Alpaca sends them; times
are ISO 8601 strings with their UTC offset.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

# --- shared field types (also used by the portfolio and risk responses) ----------------------

MoneyText = Annotated[
    str, Field(description="A decimal string, dollars (exact, no exponent).", examples=["81.57"])
]
OptionalMoneyText = Annotated[
    str | None,
    Field(description="A decimal string, dollars (exact, no exponent); null when unset."),
]
QuantityText = Annotated[
    str, Field(description="A decimal string: shares or coins (exact).", examples=["10"])
]
OptionalQuantityText = Annotated[
    str | None, Field(description="A decimal string: shares or coins (exact); null when unset.")
]
Timestamp = Annotated[
    str,
    Field(
        description="An ISO 8601 time with its UTC offset.",
        examples=["2026-11-18T16:00:00+00:00"],
        json_schema_extra={"format": "date-time"},
    ),
]
OptionalTimestamp = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})] | None,
    Field(
        description="An ISO 8601 time with its UTC offset; null until it happens.",
        examples=[None],
    ),
]
Id = Annotated[
    str,
    Field(
        description="A UUID.",
        examples=["3f1c2a9e-6c1b-4d8e-9a57-0e4b2f6d7c10"],
        json_schema_extra={"format": "uuid"},
    ),
]
OptionalId = Annotated[
    Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})] | None,
    Field(description="A UUID, or null.", examples=[None]),
]

OrderSide = Literal["buy", "sell"]
OrderTypeName = Literal["market", "limit", "stop", "stop_limit", "trailing_stop"]
TimeInForceName = Literal["day", "gtc", "ioc", "fok", "opg", "cls"]
OrderStatusName = Literal[
    "accepted",
    "held",
    "new",
    "partially_filled",
    "filled",
    "canceled",
    "expired",
    "replaced",
    "rejected",
]

_FILLED_ORDER: dict[str, Any] = {
    "id": "3f1c2a9e-6c1b-4d8e-9a57-0e4b2f6d7c10",
    "client_order_id": "b0a3c2d4-58e1-4f0a-9d3e-7c6b5a4f3e21",
    "portfolio_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
    "created_at": "2026-11-18T16:00:00+00:00",
    "updated_at": "2026-11-18T16:00:00+00:00",
    "submitted_at": "2026-11-18T16:00:00+00:00",
    "filled_at": "2026-11-18T16:00:00+00:00",
    "expired_at": None,
    "canceled_at": None,
    "failed_at": None,
    "replaced_at": None,
    "replaced_by": None,
    "replaces": None,
    "symbol": "AAPL",
    "asset_class": "us_equity",
    "notional": None,
    "qty": "10",
    "filled_qty": "10",
    "filled_avg_price": "81.57",
    "order_class": "",
    "order_type": "market",
    "type": "market",
    "side": "buy",
    "time_in_force": "day",
    "limit_price": None,
    "stop_price": None,
    "trail_price": None,
    "trail_percent": None,
    "hwm": None,
    "status": "filled",
    "status_reason": None,
    "extended_hours": False,
    "parent_order_id": None,
    "leg_role": None,
    "source": "api",
    "legs": None,
}


class OrderOut(BaseModel):
    """An order, as Alpaca's order object; a bracket, OCO or OTO parent nests its ``legs``."""

    model_config = ConfigDict(json_schema_extra={"examples": [_FILLED_ORDER]})

    id: Id
    client_order_id: str = Field(
        description="The caller's id of the order (a UUID when none was given); unique per "
        "portfolio.",
        examples=["my-order-1"],
    )
    portfolio_id: Id
    created_at: Timestamp
    updated_at: Timestamp
    submitted_at: OptionalTimestamp
    filled_at: OptionalTimestamp = Field(description="The last fill's time, null before one.")
    expired_at: OptionalTimestamp
    canceled_at: OptionalTimestamp
    failed_at: OptionalTimestamp = Field(description="When the order was rejected, or null.")
    replaced_at: OptionalTimestamp
    replaced_by: OptionalId = Field(description="The id of the order that replaced this one.")
    replaces: OptionalId = Field(description="The id of the order this one replaced.")
    symbol: str = Field(examples=["AAPL", "BTC/USD"])
    asset_class: str = Field(examples=["us_equity", "crypto"])
    notional: OptionalMoneyText = Field(
        description="Dollar amount ordered (a decimal string, dollars), or null for a qty order.",
        examples=[None, "1000"],
    )
    qty: OptionalQuantityText = Field(
        description="Quantity ordered (a decimal string), or null for a notional order.",
        examples=["10"],
    )
    filled_qty: QuantityText = Field(examples=["10", "0"])
    filled_avg_price: OptionalMoneyText = Field(
        description="Average fill price: a decimal string, dollars; null before a fill.",
        examples=["81.57"],
    )
    order_class: Literal["", "bracket", "oco", "oto"] = Field(
        description='Empty ("") for a simple order, as Alpaca sends it.', examples=[""]
    )
    order_type: OrderTypeName = Field(description="The same as ``type`` (Alpaca sends both).")
    type: OrderTypeName = Field(examples=["market"])
    side: OrderSide = Field(examples=["buy"])
    time_in_force: TimeInForceName = Field(examples=["day"])
    limit_price: OptionalMoneyText = Field(examples=[None, "180.5"])
    stop_price: OptionalMoneyText = Field(examples=[None, "175"])
    trail_price: OptionalMoneyText = Field(examples=[None, "2.5"])
    trail_percent: str | None = Field(
        description="Trailing distance in percent (a decimal string), or null.",
        examples=[None, "1.5"],
    )
    hwm: OptionalMoneyText = Field(
        description="A trailing stop's high (or low) water mark: a decimal string, dollars.",
        examples=[None],
    )
    status: OrderStatusName = Field(examples=["filled"])
    status_reason: str | None = Field(
        description="Why the order was rejected, canceled or expired, when known.",
        examples=[None],
    )
    extended_hours: bool = Field(examples=[False])
    parent_order_id: OptionalId = Field(description="A leg's parent (entry) order.")
    leg_role: Literal["take_profit", "stop_loss"] | None = Field(
        description="A leg's role in its bracket, OCO or OTO order; null otherwise.",
        examples=[None],
    )
    source: str = Field(
        description="What placed the order: api, or a strategy, alert or risk rule.",
        examples=["api"],
    )
    legs: list[OrderOut] | None = Field(
        description="The legs of a bracket, OCO or OTO order (null when not asked for or none).",
        examples=[None],
    )


class OrderEventOut(BaseModel):
    """One status change or fill of an order, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event": "fill",
                    "status": "filled",
                    "qty": "10",
                    "price": "81.57",
                    "reason": None,
                    "at": "2026-11-18T16:00:00+00:00",
                }
            ]
        }
    )

    event: str = Field(
        description="The new status (new, accepted, canceled, ...), or fill / partial_fill.",
        examples=["fill"],
    )
    status: OrderStatusName = Field(description="The order's status after the event.")
    qty: OptionalQuantityText = Field(
        description="A fill's quantity (a decimal string); null for a status change.",
        examples=["10"],
    )
    price: OptionalMoneyText = Field(
        description="A fill's price: a decimal string, dollars; null for a status change.",
        examples=["81.57"],
    )
    reason: str | None = Field(examples=[None])
    at: Timestamp


class CancelDone(BaseModel):
    """The order was canceled: its status now."""

    status: OrderStatusName = Field(examples=["canceled"])


class CancelRefused(BaseModel):
    """The order could not be canceled: the error code."""

    code: str = Field(examples=["order_not_open"])


class CancelResult(BaseModel):
    """The outcome of canceling one open order (``DELETE /api/orders`` answers one each)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f1c2a9e-6c1b-4d8e-9a57-0e4b2f6d7c10",
                    "status": 200,
                    "body": {"status": "canceled"},
                },
                {
                    "id": "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
                    "status": 422,
                    "body": {"code": "order_not_open"},
                },
            ]
        }
    )

    id: Id
    status: Literal[200, 422] = Field(description="HTTP status of this order's cancel.")
    body: CancelDone | CancelRefused
