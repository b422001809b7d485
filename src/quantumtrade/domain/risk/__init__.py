"""Risk engine: VaR/CVaR, portfolio risk metrics, stress tests and stop/size helpers.

Each module's docstring states its conventions so a quant can check the figures by hand.
"""

from quantumtrade.domain.risk.portfolio import (
    CorrelatedPair,
    CorrelationReport,
    DrawdownState,
    Exposure,
    annualised_volatility,
    beta,
    correlation_report,
    drawdown_state,
    exposure,
    herfindahl,
    portfolio_returns,
)
from quantumtrade.domain.risk.stops import (
    PositionSide,
    atr_stop,
    kelly_fraction,
    percent_stop,
    position_size_fixed_fraction,
    take_profit,
    volatility_stop,
)
from quantumtrade.domain.risk.stress import (
    DEFAULT_MARKET_SHOCKS,
    StressResult,
    market_shock,
    market_shocks,
    sector_shock,
    symbol_shocks,
    volatility_spike,
)
from quantumtrade.domain.risk.var import (
    MeanMode,
    VarResult,
    covariance_factor,
    historical_var,
    monte_carlo_var,
    parametric_var,
    tail_count,
)

__all__ = [
    "DEFAULT_MARKET_SHOCKS",
    "CorrelatedPair",
    "CorrelationReport",
    "DrawdownState",
    "Exposure",
    "MeanMode",
    "PositionSide",
    "StressResult",
    "VarResult",
    "annualised_volatility",
    "atr_stop",
    "beta",
    "correlation_report",
    "covariance_factor",
    "drawdown_state",
    "exposure",
    "herfindahl",
    "historical_var",
    "kelly_fraction",
    "market_shock",
    "market_shocks",
    "monte_carlo_var",
    "parametric_var",
    "percent_stop",
    "portfolio_returns",
    "position_size_fixed_fraction",
    "sector_shock",
    "symbol_shocks",
    "tail_count",
    "take_profit",
    "volatility_spike",
    "volatility_stop",
]
