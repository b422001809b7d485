"""Shapes of the risk endpoints."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from quantumtrade.api.schemas.common import StrictModel

Fraction = Annotated[
    float,
    Field(
        gt=0,
        le=1,
        description="A fraction, not a percentage: 0.05 means 5 %.",
        examples=[0.05],
    ),
]
Dollars = Annotated[float, Field(gt=0, le=1e15, description="Dollars.", examples=[25000])]
Count = Annotated[int, Field(ge=1, le=1_000_000)]
# A ticker as the market names it (AAPL, BRK.B, BTC/USD, BTC-USD): letters, digits, ".", "/"
# and "-", which also keeps control characters (a NUL PostgreSQL cannot store) out of the limits.
Symbols = Annotated[
    list[
        Annotated[
            str, Field(min_length=1, max_length=20, pattern=r"^\s*[A-Za-z0-9][A-Za-z0-9./-]*\s*$")
        ]
    ],
    Field(max_length=1000, examples=[["AAPL", "MSFT"]]),
]


class RiskLimitsUpdate(StrictModel):
    """The limits to change; those left out stay as they are, and ``null`` switches one off.

    Every ``*_pct`` field is a **fraction** (0.05 = 5 %), of equity unless said otherwise.
    """

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "max_position_pct": 0.05,
                    "daily_loss_limit_pct": 0.03,
                    "blocked_symbols": ["TSLA"],
                }
            ]
        }
    }

    max_position_pct: Fraction | None = Field(
        default=None, description="One symbol's exposure / equity, as a fraction (0.05 = 5 %)."
    )
    max_position_value: Dollars | None = Field(default=None, description="One symbol's exposure.")
    max_order_value: Dollars | None = Field(default=None, description="qty x price of one order.")
    max_open_positions: Count | None = None
    max_symbol_concentration_pct: Fraction | None = Field(
        default=None, description="One symbol / gross exposure, as a fraction."
    )
    max_sector_concentration_pct: Fraction | None = Field(
        default=None, description="One sector's exposure / equity, as a fraction."
    )
    daily_loss_limit_pct: Fraction | None = Field(
        default=None,
        description="Loss since the last close / the equity then, as a fraction; once reached, "
        "risk-adding orders are refused until the next day.",
    )
    daily_loss_limit_value: Dollars | None = None
    max_leverage: Annotated[float, Field(gt=0, le=100)] | None = Field(
        default=None, description="Gross exposure / equity."
    )
    max_drawdown_pct: Fraction | None = Field(
        default=None, description="Kill switch: equity below its peak by this fraction."
    )
    allowed_symbols: Symbols | None = Field(
        default=None, description="Only these may be traded (null: any)."
    )
    blocked_symbols: Symbols | None = Field(default=None, description="These may not be traded.")
    max_orders_per_minute: Count | None = None
    auto_stop_pct: Fraction | None = Field(
        default=None,
        description="Rest a stop this fraction beyond the average entry of every new position.",
    )
    auto_stop_atr_multiple: Annotated[float, Field(gt=0, le=100)] | None = Field(
        default=None, description="Or this many ATR(14) of daily bars beyond it."
    )


class RiskLimitsOut(BaseModel):
    """A portfolio's limits; ``null`` means the rule is off. ``*_pct`` values are fractions."""

    portfolio_id: str
    limits: dict[str, float | int | list[str] | None] = Field(
        examples=[{"max_position_pct": 0.05, "max_open_positions": 100, "blocked_symbols": []}]
    )
