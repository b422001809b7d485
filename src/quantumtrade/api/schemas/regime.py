"""Shapes of the market regime endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quantumtrade.api.schemas.common import StrictModel, Uuid
from quantumtrade.services.regime._bars import MAX_BARS

Mode = Literal["filtered", "smoothed"]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class BarIn(StrictModel):
    """One bar: ``timestamp`` and ``close`` are required; the rest improve the volatility."""

    timestamp: str = Field(
        min_length=10, max_length=40, description="ISO 8601 time.", examples=["2026-11-18"]
    )
    close: PositiveFloat = Field(examples=[187.25])
    open: PositiveFloat | None = None
    high: PositiveFloat | None = None
    low: PositiveFloat | None = None
    volume: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class ClassifyRequest(StrictModel):
    """Bars to classify, or one of your uploaded datasets (``POST /api/backtest/datasets``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mode": "filtered",
                    "bars": [
                        {"timestamp": "2026-11-16", "close": 187.1},
                        {"timestamp": "2026-11-17", "close": 188.4},
                    ],
                },
                {"mode": "smoothed", "dataset_id": "0b7f3b8e-8a51-4a2c-9d1e-2f3a4b5c6d7e"},
            ]
        }
    )

    bars: list[BarIn] | None = Field(default=None, max_length=MAX_BARS)
    dataset_id: Uuid | None = None
    mode: Mode = "filtered"

    @model_validator(mode="after")
    def _one_source(self) -> ClassifyRequest:
        if (self.bars is None) == (self.dataset_id is None):
            raise ValueError("give exactly one of bars and dataset_id")
        return self


class Probabilities(BaseModel):
    bull: float
    bear: float
    sideways: float


class Volatility(BaseModel):
    regime: Literal["low", "normal", "high", "extreme"]
    annualized: float | None = Field(description="Annualised volatility of returns (0.2 = 20 %).")
    percentile: float | None = Field(
        description="Where it stands in the symbol's own history so far, 0 to 1."
    )


class Trend(BaseModel):
    direction: Literal["up", "down", "flat"]
    strength: float | None = Field(description="ADX(14): above 25 is a strong trend.")
    t_stat: float | None = Field(description="t-statistic of the log-price slope.")


class Evidence(BaseModel):
    sharpe: float | None
    annual_return: float | None
    total_return: float | None
    max_drawdown: float | None
    bars: int
    segments: int
    symbols: int


class StrategyAdvice(BaseModel):
    rank: int
    strategy: str
    params: dict[str, float | int | bool | str]
    out_of_sample: Evidence = Field(description="Measured on history the choice never saw.")
    in_sample: Evidence


class Period(BaseModel):
    start: str
    end: str


class Recommendations(BaseModel):
    status: Literal["ready", "pending"] = Field(
        description="pending until the daily measurement has run once"
    )
    measured_at: str | None
    out_of_sample: Period | None
    strategies: list[StrategyAdvice]


class RegimeNow(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "symbol": "AAPL",
                    "timeframe": "1Day",
                    "as_of": "2026-11-18T16:00:00+00:00",
                    "time": "2026-11-17T00:00:00+00:00",
                    "trend_regime": "bull",
                    "probabilities": {"bull": 0.93, "bear": 0.02, "sideways": 0.05},
                    "bars_held": 41,
                    "since": "2026-09-18T00:00:00+00:00",
                    "volatility": {"regime": "normal", "annualized": 0.21, "percentile": 0.46},
                    "trend": {"direction": "up", "strength": 28.4, "t_stat": 3.1},
                    "recommendations": {
                        "status": "ready",
                        "measured_at": "2026-11-18T16:00:00+00:00",
                        "out_of_sample": None,
                        "strategies": [],
                    },
                }
            ]
        }
    )

    symbol: str
    timeframe: str
    as_of: str
    time: str = Field(description="The last complete bar the label is for.")
    trend_regime: Literal["bull", "bear", "sideways"]
    probabilities: Probabilities
    bars_held: int = Field(description="Bars the regime has held, this one included.")
    since: str = Field(description="The first bar of the current regime.")
    volatility: Volatility
    trend: Trend
    recommendations: Recommendations


class MarketRegime(BaseModel):
    symbol: str
    regime: RegimeNow
    breadth: dict[str, float] = Field(description="Share of the classified symbols in each regime.")
    symbols: dict[str, str] = Field(description="Each classified symbol's regime.")
    pending: list[str] = Field(
        description="Symbols whose model is not fitted yet today (the regime watch fits them)."
    )
    as_of: str


class Segment(BaseModel):
    start: str
    end: str
    trend_regime: Literal["bull", "bear", "sideways"]
    bars: int


class RegimeHistory(BaseModel):
    symbol: str
    timeframe: str
    mode: Mode
    segments: list[Segment]


class BarLabel(BaseModel):
    time: str
    trend_regime: Literal["bull", "bear", "sideways"]
    probabilities: Probabilities
    volatility_regime: Literal["low", "normal", "high", "extreme"]


class Classification(BaseModel):
    mode: Mode
    bars: int
    labels: list[BarLabel]
    segments: list[Segment]
