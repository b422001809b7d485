"""Response bodies of the risk analytics endpoints: VaR/CVaR, risk metrics and stops.

The fields mirror ``services.risk.analytics`` and ``services.risk.stops`` exactly. As those
answer them, figures are plain numbers (dollar amounts in the portfolio currency, as floats),
percentages are fractions (0.0123 = 1.23 %), losses (VaR, CVaR) are positive, P&L is signed,
and undefined figures are null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quantumtrade.api.schemas.orders_out import Id, Timestamp
from quantumtrade.api.schemas.portfolios_out import IsoDate

Dollars = Annotated[
    float,
    Field(description="An amount in the portfolio currency (a number).", examples=[1221.45]),
]
OptionalDollars = Annotated[
    float | None,
    Field(
        description="An amount in the portfolio currency (a number); null where undefined.",
        examples=[63.02],
    ),
]
Fraction = Annotated[
    float | None,
    Field(description="A fraction (0.0123 = 1.23 %); null where undefined.", examples=[0.0123]),
]
VarMethodName = Literal["historical", "parametric", "monte_carlo"]


class RiskHistory(BaseModel):
    """The daily returns used: the sessions all holdings share (null dates when none)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lookback_days": 252,
                    "observations": 252,
                    "start": "2025-11-17",
                    "end": "2026-11-17",
                }
            ]
        }
    )

    lookback_days: int = Field(examples=[252])
    observations: int = Field(ge=0, examples=[252])
    start: IsoDate | None
    end: IsoDate | None


# --- VaR ------------------------------------------------------------------------------------


class VarComponent(BaseModel):
    """One position's part of the VaR (parametric) or CVaR (historical, Monte Carlo)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "symbol": "MSFT",
                    "market_value": 1221.45,
                    "component": 36.84,
                    "share": 0.4527,
                }
            ]
        }
    )

    symbol: str = Field(examples=["MSFT"])
    market_value: Dollars = Field(description="Signed market value (negative = short).")
    component: OptionalDollars
    share: Fraction = Field(description="component / the basis (VaR or CVaR).")


class VarFigures(BaseModel):
    """VaR and CVaR by one method (zeros, no components, for an empty portfolio)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "var": 63.02,
                    "cvar": 81.38,
                    "var_pct_of_equity": 0.00063,
                    "cvar_pct_of_equity": 0.00081,
                    "var_pct_of_gross": 0.0207,
                    "cvar_pct_of_gross": 0.0268,
                    "component_basis": "cvar",
                    "components": [
                        {
                            "symbol": "MSFT",
                            "market_value": 1221.45,
                            "component": 36.84,
                            "share": 0.4527,
                        }
                    ],
                }
            ]
        }
    )

    var: OptionalDollars = Field(description="Value at Risk, a positive loss.")
    cvar: OptionalDollars = Field(description="Expected shortfall beyond the VaR, >= var.")
    var_pct_of_equity: Fraction
    cvar_pct_of_equity: Fraction
    var_pct_of_gross: Fraction
    cvar_pct_of_gross: Fraction
    component_basis: Literal["var", "cvar"] | None = Field(
        description="What the components sum to; null for an empty portfolio.", examples=["cvar"]
    )
    components: list[VarComponent] = Field(description="Largest first.")


class MonteCarloSettings(BaseModel):
    """The Monte Carlo draw: number of paths and the seed (same seed, same figure)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"paths": 10000, "seed": 42}]})

    paths: int = Field(examples=[10000])
    seed: int = Field(examples=[42])


class VarConventions(BaseModel):
    """How the figures are computed, in words."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sign": "VaR and CVaR are positive losses in the portfolio currency.",
                    "returns": "Simple daily returns of completed sessions' closes.",
                    "horizon": "One-day figures scaled by sqrt(horizon_days).",
                    "quantile": "k = ceil((1 - confidence) * scenarios).",
                    "parametric": "Normal variance-covariance.",
                    "components": "Parametric: Euler components, summing to VaR.",
                    "percentages": "Fractions of equity or of gross exposure, as named.",
                }
            ]
        }
    )

    sign: str
    returns: str
    horizon: str
    quantile: str
    parametric: str
    components: str
    percentages: str


class VarOut(BaseModel):
    """The portfolio's VaR and CVaR by the methods asked for, with component VaR."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "portfolio_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
                    "as_of": "2026-11-18T16:00:00+00:00",
                    "currency": "USD",
                    "equity": 99999.9,
                    "gross_exposure": 3037.05,
                    "positions": 3,
                    "confidence": 0.95,
                    "horizon_days": 1,
                    "history": {
                        "lookback_days": 252,
                        "observations": 252,
                        "start": "2025-11-17",
                        "end": "2026-11-17",
                    },
                    "monte_carlo": None,
                    "methods": {
                        "historical": {
                            "var": 63.02,
                            "cvar": 81.38,
                            "var_pct_of_equity": 0.00063,
                            "cvar_pct_of_equity": 0.00081,
                            "var_pct_of_gross": 0.0207,
                            "cvar_pct_of_gross": 0.0268,
                            "component_basis": "cvar",
                            "components": [
                                {
                                    "symbol": "MSFT",
                                    "market_value": 1221.45,
                                    "component": 36.84,
                                    "share": 0.4527,
                                }
                            ],
                        }
                    },
                    "conventions": {
                        "sign": "VaR and CVaR are positive losses in the portfolio currency.",
                        "returns": "Simple daily returns of completed sessions' closes.",
                        "horizon": "One-day figures scaled by sqrt(horizon_days).",
                        "quantile": "k = ceil((1 - confidence) * scenarios).",
                        "parametric": "Normal variance-covariance.",
                        "components": "Parametric: Euler components, summing to VaR.",
                        "percentages": "Fractions of equity or of gross exposure, as named.",
                    },
                }
            ]
        }
    )

    portfolio_id: Id
    as_of: Timestamp
    currency: str = Field(examples=["USD"])
    equity: Dollars = Field(examples=[99999.9])
    gross_exposure: Dollars = Field(description="Sum of |market value| of the positions.")
    positions: int = Field(ge=0, description="Open positions valued.", examples=[3])
    confidence: float = Field(examples=[0.95])
    horizon_days: int = Field(examples=[1])
    history: RiskHistory
    monte_carlo: MonteCarloSettings | None = Field(
        description="Null unless Monte Carlo was asked for."
    )
    methods: dict[VarMethodName, VarFigures] = Field(
        description="One entry per method asked for (all three for method=all)."
    )
    conventions: VarConventions


# --- risk metrics and stress ----------------------------------------------------------------


class PositionRisk(BaseModel):
    """One held position's weight, sector and beta to SPY."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "symbol": "AAPL",
                    "market_value": 815.6,
                    "weight": 0.2686,
                    "sector": "Technology",
                    "beta": 1.166,
                }
            ]
        }
    )

    symbol: str = Field(examples=["AAPL"])
    market_value: Dollars
    weight: Fraction = Field(description="market_value / gross exposure (signed).")
    sector: str | None = Field(examples=["Technology"])
    beta: float | None = Field(examples=[1.166])


class Exposure(BaseModel):
    """Gross, net, long and short exposure, and the beta-weighted exposure."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "gross": 3037.05,
                    "net": 3037.05,
                    "long": 3037.05,
                    "short": 0.0,
                    "gross_pct_of_equity": 0.0304,
                    "net_pct_of_equity": 0.0304,
                    "beta_weighted": 3183.41,
                }
            ]
        }
    )

    gross: OptionalDollars
    net: OptionalDollars
    long: OptionalDollars
    short: OptionalDollars = Field(description="Short exposure as a positive amount.")
    gross_pct_of_equity: Fraction
    net_pct_of_equity: Fraction
    beta_weighted: OptionalDollars


class CorrelationWarning(BaseModel):
    """A pair of holdings whose correlation reaches the threshold."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "first": "AAPL",
                    "second": "MSFT",
                    "correlation": 0.86,
                    "message": "AAPL and MSFT move together (rho +0.86): their risks add up "
                    "rather than diversify.",
                }
            ]
        }
    )

    first: str
    second: str
    correlation: float | None
    message: str


class Correlation(BaseModel):
    """The holdings' correlation matrix (rows and columns in ``symbols`` order)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "symbols": ["AAPL", "MSFT"],
                    "matrix": [[1.0, 0.58], [0.58, 1.0]],
                    "threshold": 0.8,
                    "warnings": [],
                }
            ]
        }
    )

    symbols: list[str]
    matrix: list[list[float | None]] = Field(description="Null where undefined.")
    threshold: float = Field(description="|rho| at or above which a pair is warned.")
    warnings: list[CorrelationWarning]


class Concentration(BaseModel):
    """Herfindahl index of absolute weights and the effective number of positions."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"herfindahl": 0.342, "effective_positions": 2.92}]}
    )

    herfindahl: float = Field(description="1/N for N equal weights, 1 for one position.")
    effective_positions: float = Field(description="1 / herfindahl (0 for an empty book).")


class PositionPnl(BaseModel):
    """One position's P&L in a stress scenario (signed: a loss is negative)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"symbol": "AAPL", "pnl": -95.13}]})

    symbol: str
    pnl: OptionalDollars


class _Stress(BaseModel):
    scenario: str = Field(examples=["market -10%"])
    pnl: OptionalDollars = Field(description="Signed P&L of the book (a loss is negative).")
    pnl_pct_of_equity: Fraction
    pnl_pct_of_gross: Fraction
    positions: list[PositionPnl]


class MarketStress(_Stress):
    """The market moves by ``shock``; each position by its beta times the shock."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scenario": "market -10%",
                    "kind": "market",
                    "shock": -0.1,
                    "pnl": -318.34,
                    "pnl_pct_of_equity": -0.00318,
                    "pnl_pct_of_gross": -0.1048,
                    "positions": [{"symbol": "AAPL", "pnl": -95.13}],
                }
            ]
        }
    )

    kind: Literal["market"]
    shock: float = Field(description="The market's move, a fraction.", examples=[-0.1])


class VolatilitySpikeStress(_Stress):
    """Volatility multiplied by ``multiple``: the 99 % one-day parametric VaR, as a loss."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scenario": "volatility x2",
                    "kind": "volatility_spike",
                    "multiple": 2.0,
                    "var_99_1d": 188.83,
                    "base_var_99_1d": 94.41,
                    "pnl": -188.83,
                    "pnl_pct_of_equity": -0.00189,
                    "pnl_pct_of_gross": -0.0622,
                    "positions": [{"symbol": "AAPL", "pnl": -62.67}],
                }
            ]
        }
    )

    kind: Literal["volatility_spike"]
    multiple: float = Field(examples=[2.0])
    var_99_1d: OptionalDollars = Field(description="The 99 % one-day VaR under the spike.")
    base_var_99_1d: OptionalDollars = Field(description="The 99 % one-day VaR today.")


class SectorStress(_Stress):
    """The largest sector by gross exposure moves by ``shock``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scenario": "sector Technology -10%",
                    "kind": "sector",
                    "sector": "Technology",
                    "shock": -0.1,
                    "pnl": -203.71,
                    "pnl_pct_of_equity": -0.00204,
                    "pnl_pct_of_gross": -0.0671,
                    "positions": [{"symbol": "AAPL", "pnl": -81.56}],
                }
            ]
        }
    )

    kind: Literal["sector"]
    sector: str = Field(examples=["Technology"])
    shock: float = Field(examples=[-0.1])


class CustomStress(_Stress):
    """The caller's per-symbol shocks; symbols not held are listed and change nothing."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scenario": "custom",
                    "kind": "custom",
                    "shocks": {"AAPL": -0.1, "XOM": -0.2},
                    "unheld_symbols": ["XOM"],
                    "pnl": -81.56,
                    "pnl_pct_of_equity": -0.00082,
                    "pnl_pct_of_gross": -0.0269,
                    "positions": [{"symbol": "AAPL", "pnl": -81.56}],
                }
            ]
        }
    )

    kind: Literal["custom"]
    shocks: dict[str, float] = Field(
        description="The shocks asked for, by symbol (fractions).", examples=[{"AAPL": -0.1}]
    )
    unheld_symbols: list[str] = Field(examples=[["XOM"]])


StressScenario = Annotated[
    MarketStress | VolatilitySpikeStress | SectorStress | CustomStress,
    Field(discriminator="kind"),
]


class Drawdown(BaseModel):
    """Current and maximum drawdown of the time-weighted equity curve (null without SPY)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current": 0.0, "max": 0.0, "since": "2026-11-18T16:00:00+00:00"}]
        }
    )

    current: Fraction
    max: Fraction
    since: Timestamp | None


_METRICS: dict[str, Any] = {
    "portfolio_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
    "as_of": "2026-11-18T16:00:00+00:00",
    "currency": "USD",
    "equity": 99999.9,
    "benchmark": "SPY",
    "history": {
        "lookback_days": 252,
        "observations": 252,
        "start": "2025-11-17",
        "end": "2026-11-17",
    },
    "positions": [
        {
            "symbol": "AAPL",
            "market_value": 815.6,
            "weight": 1.0,
            "sector": "Technology",
            "beta": 1.166,
        }
    ],
    "exposure": {
        "gross": 815.6,
        "net": 815.6,
        "long": 815.6,
        "short": 0.0,
        "gross_pct_of_equity": 0.00816,
        "net_pct_of_equity": 0.00816,
        "beta_weighted": 951.3,
    },
    "beta": 1.166,
    "volatility_annualised": 0.27,
    "correlation": {"symbols": ["AAPL"], "matrix": [[1.0]], "threshold": 0.8, "warnings": []},
    "concentration": {"herfindahl": 1.0, "effective_positions": 1.0},
    "stress": [
        {
            "scenario": "market -10%",
            "kind": "market",
            "shock": -0.1,
            "pnl": -95.13,
            "pnl_pct_of_equity": -0.00095,
            "pnl_pct_of_gross": -0.1166,
            "positions": [{"symbol": "AAPL", "pnl": -95.13}],
        }
    ],
    "drawdown": {"current": 0.0, "max": 0.0, "since": "2026-11-18T16:00:00+00:00"},
    "warnings": [],
}


class RiskMetricsOut(BaseModel):
    """Exposure, beta, volatility, correlation, concentration, drawdown and stress tests."""

    model_config = ConfigDict(json_schema_extra={"examples": [_METRICS]})

    portfolio_id: Id
    as_of: Timestamp
    currency: str = Field(examples=["USD"])
    equity: Dollars = Field(examples=[99999.9])
    benchmark: str | None = Field(description="SPY, or null when unavailable.", examples=["SPY"])
    history: RiskHistory
    positions: list[PositionRisk]
    exposure: Exposure
    beta: float | None = Field(description="The book's beta to SPY.", examples=[1.048])
    volatility_annualised: Fraction
    correlation: Correlation
    concentration: Concentration
    stress: list[StressScenario]
    drawdown: Drawdown
    warnings: list[str]


# --- stops ----------------------------------------------------------------------------------


class _Stop(BaseModel):
    """A suggested stop, its take-profit and (with ``equity``) the fixed-fraction size.

    The figures are null, with a ``note``, when the method cannot compute a stop (too little
    history, or a long stop that would sit at or below zero).
    """

    stop: float | None = Field(description="The stop price.", examples=[77.48])
    take_profit: float | None = Field(examples=[89.72])
    risk_per_unit: float | None = Field(description="|entry - stop|.", examples=[4.08])
    qty: float | None = Field(
        description="equity x risk_fraction / risk_per_unit (unrounded); null without equity.",
        examples=[245.22],
    )
    whole_qty: int | None = Field(description="qty rounded down.", examples=[245])
    notional: float | None = Field(description="qty x entry.", examples=[20000.0])
    notional_pct_of_equity: Fraction
    note: str | None = Field(examples=[None])


class PercentStop(_Stop):
    """``entry (1 -/+ pct)``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "method": "percent",
                    "pct": 0.05,
                    "stop": 77.482,
                    "take_profit": 89.716,
                    "risk_per_unit": 4.078,
                    "qty": 245.22,
                    "whole_qty": 245,
                    "notional": 20000.0,
                    "notional_pct_of_equity": 0.2,
                    "note": None,
                }
            ]
        }
    )

    method: Literal["percent"]
    pct: float = Field(examples=[0.05])


class AtrStop(_Stop):
    """``entry -/+ multiple x ATR`` (Wilder's ATR over ``period`` daily sessions)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "method": "atr",
                    "multiple": 2.0,
                    "period": 14,
                    "atr": 2.018,
                    "stop": 77.524,
                    "take_profit": 89.632,
                    "risk_per_unit": 4.036,
                    "qty": None,
                    "whole_qty": None,
                    "notional": None,
                    "notional_pct_of_equity": None,
                    "note": None,
                }
            ]
        }
    )

    method: Literal["atr"]
    multiple: float = Field(examples=[2.0])
    period: int = Field(examples=[14])
    atr: float | None = Field(description="Null without enough history.", examples=[2.018])


class VolatilityStop(_Stop):
    """``entry (1 -/+ multiple x sigma)``, sigma of the last ``window`` daily returns."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "method": "volatility",
                    "multiple": 2.0,
                    "window": 20,
                    "daily_volatility": 0.015,
                    "stop": 79.107,
                    "take_profit": 86.466,
                    "risk_per_unit": 2.453,
                    "qty": None,
                    "whole_qty": None,
                    "notional": None,
                    "notional_pct_of_equity": None,
                    "note": None,
                }
            ]
        }
    )

    method: Literal["volatility"]
    multiple: float = Field(examples=[2.0])
    window: int = Field(examples=[20])
    daily_volatility: float | None = Field(
        description="Null without enough history.", examples=[0.015]
    )


StopSuggestion = Annotated[PercentStop | AtrStop | VolatilityStop, Field(discriminator="method")]


class Kelly(BaseModel):
    """Kelly sizing: ``p - (1 - p) / b``, floored at 0 and capped at ``cap``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "win_rate": 0.55,
                    "win_loss_ratio": 1.5,
                    "cap": 0.25,
                    "fraction": 0.25,
                    "notional": 25000.0,
                }
            ]
        }
    )

    win_rate: float
    win_loss_ratio: float
    cap: float
    fraction: float
    notional: float | None = Field(description="fraction x equity; null without equity.")


class StopsOut(BaseModel):
    """Percent, ATR and volatility stops for a position, with take-profits and sizes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "symbol": "AAPL",
                    "side": "long",
                    "as_of": "2026-11-18T16:00:00+00:00",
                    "entry": 81.56,
                    "entry_source": "last_price",
                    "equity": None,
                    "risk_fraction": 0.01,
                    "risk_amount": None,
                    "reward_risk": 2.0,
                    "stops": [
                        {
                            "method": "percent",
                            "pct": 0.05,
                            "stop": 77.482,
                            "take_profit": 89.716,
                            "risk_per_unit": 4.078,
                            "qty": None,
                            "whole_qty": None,
                            "notional": None,
                            "notional_pct_of_equity": None,
                            "note": None,
                        }
                    ],
                    "kelly": None,
                }
            ]
        }
    )

    symbol: str = Field(examples=["AAPL"])
    side: Literal["long", "short"]
    as_of: Timestamp
    entry: float = Field(description="The entry price (given, or the last price).")
    entry_source: Literal["given", "last_price"]
    equity: float | None = Field(description="The equity given to size positions, or null.")
    risk_fraction: float = Field(examples=[0.01])
    risk_amount: float | None = Field(description="equity x risk_fraction; null without equity.")
    reward_risk: float = Field(examples=[2.0])
    stops: list[StopSuggestion]
    kelly: Kelly | None = Field(description="Null unless win_rate and win_loss_ratio are given.")
