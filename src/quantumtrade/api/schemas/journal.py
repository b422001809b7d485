"""Bodies of ``/api/journal``: entries built from the ledger, and what the trader adds to them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantumtrade.api.schemas.common import StrictModel
from quantumtrade.api.schemas.orders_out import (
    Id,
    MoneyText,
    OptionalId,
    OptionalMoneyText,
    OptionalTimestamp,
    QuantityText,
    Timestamp,
)
from quantumtrade.api.schemas.trading import Price

Emotion = Literal[
    "calm",
    "confident",
    "excited",
    "anxious",
    "fearful",
    "greedy",
    "fomo",
    "revenge",
    "bored",
    "frustrated",
]
Intensity = Annotated[int, Field(ge=1, le=5, description="1 (faint) to 5 (overwhelming).")]

_FILL: dict[str, Any] = {
    "fill_id": "5b0e7f0e-2f0c-4c43-8f0a-8f1e9c3a2d11",
    "role": "entry",
    "qty": "10",
    "price": "187.25",
    "fees": "0",
    "at": "2026-11-18T15:31:00+00:00",
}
_ENTRY: dict[str, Any] = {
    "id": "3f1c2a9e-6c1b-4d8e-9a57-0e4b2f6d7c10",
    "portfolio_id": "8d2f4c1a-1b3e-4f5a-9c6d-7e8f9a0b1c2d",
    "key": "AAPL:5b0e7f0e-2f0c-4c43-8f0a-8f1e9c3a2d11",
    "symbol": "AAPL",
    "direction": "long",
    "status": "closed",
    "opened_at": "2026-11-18T15:31:00+00:00",
    "closed_at": "2026-11-18T19:02:00+00:00",
    "entry_qty": "10",
    "exit_qty": "10",
    "max_qty": "10",
    "entry_price": "187.25",
    "exit_price": "189.1",
    "gross_pl": "18.5",
    "fees": "0.02",
    "net_pl": "18.48",
    "return_pct": 0.00987,
    "holding_seconds": 12660.0,
    "stop_price": "185",
    "stop_source": "order",
    "r_multiple": 0.82,
    "mae": "6.3",
    "mfe": "24.1",
    "mae_pct": 0.00336,
    "mfe_pct": 0.01287,
    "strategy": None,
    "order_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "ai_decision_id": None,
    "regime": "bull",
    "fills": [_FILL],
    "notes": "Waited for the open range break.",
    "tags": ["breakout"],
    "setup": "ORB",
    "emotion_before": "calm",
    "emotion_before_intensity": 2,
    "emotion_after": "confident",
    "emotion_after_intensity": 3,
    "rating": 4,
    "planned_stop": "185",
    "planned_target": "192",
    "updated_at": "2026-11-18T20:00:00+00:00",
}


class JournalFillOut(BaseModel):
    """One fill's part in the trip (a fill through zero is split between two trips)."""

    fill_id: str = Field(description="The execution (trade) id.")
    role: Literal["entry", "exit"]
    qty: QuantityText
    price: MoneyText
    fees: MoneyText
    at: Timestamp


class JournalEntryOut(BaseModel):
    """A round trip, open to flat, built from the ledger, with the trader's own fields."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY]})

    id: Id
    portfolio_id: Id
    key: str = Field(description="``symbol:first fill id``: the same trip after every rebuild.")
    symbol: str
    direction: Literal["long", "short"]
    status: Literal["open", "closed", "reset"] = Field(
        description="``reset``: the portfolio was reset while the trip was open."
    )
    opened_at: Timestamp
    closed_at: OptionalTimestamp
    entry_qty: QuantityText
    exit_qty: QuantityText
    max_qty: QuantityText = Field(description="The largest size the position reached.")
    entry_price: MoneyText = Field(description="Volume-weighted average of the entries.")
    exit_price: OptionalMoneyText = Field(description="Volume-weighted average of the exits.")
    gross_pl: MoneyText
    fees: MoneyText
    net_pl: MoneyText = Field(description="Gross P&L less every fee of the trip's fills.")
    return_pct: float = Field(description="Net P&L over the money put in, as a fraction.")
    holding_seconds: float | None = Field(description="Null while the trip is open.")
    stop_price: OptionalMoneyText = Field(description="The stop the R-multiple is measured to.")
    stop_source: Literal["order", "planned"] | None = Field(
        description="``order``: a stop order in force while open; ``planned``: your planned stop."
    )
    r_multiple: float | None = Field(
        description="Net P&L over the initial risk (first entry to stop, times the entry qty)."
    )
    mae: OptionalMoneyText = Field(description="Maximum adverse excursion at the largest size.")
    mfe: OptionalMoneyText = Field(description="Maximum favourable excursion at the largest size.")
    mae_pct: float | None
    mfe_pct: float | None
    strategy: str | None = Field(description="The source of the opening order, when not you.")
    order_id: OptionalId = Field(description="The opening order.")
    ai_decision_id: OptionalId = Field(description="The AI decision that placed the opening order.")
    regime: str | None = Field(description="The daily trend regime recorded at entry, if any.")
    fills: list[JournalFillOut]
    notes: str | None
    tags: list[str]
    setup: str | None
    emotion_before: Emotion | None
    emotion_before_intensity: int | None
    emotion_after: Emotion | None
    emotion_after_intensity: int | None
    rating: int | None
    planned_stop: OptionalMoneyText
    planned_target: OptionalMoneyText
    updated_at: Timestamp


class JournalPage(BaseModel):
    """One page of entries, newest opened first, and the total count matching the filters."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_ENTRY], "total": 1, "limit": 50, "offset": 0}]}
    )

    items: list[JournalEntryOut]
    total: int = Field(ge=0)
    limit: int
    offset: int


class JournalEntryPatch(StrictModel):
    """The fields you keep on an entry. Give only those to change; null clears one.

    A planned stop must be on the loss side of the first entry price and a target on the profit
    side (422 otherwise); without a stop order in force, the planned stop is the R-multiple's.
    """

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "notes": "Chased the gap; entered late.",
                    "tags": ["gap", "fomo"],
                    "setup": "Gap and go",
                    "emotion_before": "fomo",
                    "emotion_before_intensity": 4,
                    "emotion_after": "frustrated",
                    "emotion_after_intensity": 3,
                    "rating": 2,
                    "planned_stop": "185",
                    "planned_target": "192",
                }
            ]
        },
    )

    notes: str | None = Field(default=None, max_length=10_000)
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = Field(
        default=None, max_length=20
    )
    setup: str | None = Field(default=None, min_length=1, max_length=100)
    emotion_before: Emotion | None = None
    emotion_before_intensity: Intensity | None = None
    emotion_after: Emotion | None = None
    emotion_after_intensity: Intensity | None = None
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    planned_stop: Annotated[Price, Field(gt=0)] | None = None
    planned_target: Annotated[Price, Field(gt=0)] | None = None


class JournalRebuildOut(BaseModel):
    """How many entries the portfolio's journal holds after a rebuild from its ledger."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"entries": 12, "ledger_seq": 57}]})

    entries: int = Field(ge=0)
    ledger_seq: int = Field(ge=0, description="The last ledger line the journal covers.")
