"""The built-in strategies by name, and building validated params from plain dicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from quantumtrade.backtest.strategies._base import StrategyParamError, StrategyParams, StrategySpec
from quantumtrade.backtest.strategies.reversion import (
    MeanReversionParams,
    RsiParams,
    mean_reversion,
    rsi,
)
from quantumtrade.backtest.strategies.trend import (
    MacdParams,
    MomentumParams,
    SmaCrossoverParams,
    macd,
    momentum,
    sma_crossover,
    sma_crossover_shared,
)

STRATEGIES: dict[str, StrategySpec] = {
    spec.name: spec
    for spec in (
        StrategySpec(
            "sma_crossover",
            SmaCrossoverParams,
            sma_crossover,
            "Long when the fast SMA crosses above the slow SMA, flat/short on the cross below.",
            shared=sma_crossover_shared,
        ),
        StrategySpec(
            "rsi",
            RsiParams,
            rsi,
            "Long when Wilder RSI falls below oversold, flat/short when it rises above overbought.",
        ),
        StrategySpec(
            "macd",
            MacdParams,
            macd,
            "Long when the MACD line crosses above its signal line, flat/short on the cross below.",
        ),
        StrategySpec(
            "mean_reversion",
            MeanReversionParams,
            mean_reversion,
            "Fade closes beyond entry_z rolling standard deviations; exit inside exit_z.",
        ),
        StrategySpec(
            "momentum",
            MomentumParams,
            momentum,
            "Long while the rate of change over lookback bars exceeds threshold, short below -it.",
        ),
    )
}


def get_spec(name: str) -> StrategySpec:
    """Return the registered strategy ``name`` or raise ``StrategyParamError`` listing names."""
    try:
        return STRATEGIES[name]
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise StrategyParamError(f"unknown strategy {name!r}; known: {known}") from None


def from_dict(name: str, params: Mapping[str, object] | None = None) -> StrategyParams:
    """Build the params of strategy ``name`` from a plain mapping (missing keys take defaults).

    Raise ``StrategyParamError`` (a ``ValueError``) for an unknown strategy or parameter, a value
    of the wrong type or one out of range; the message names the parameter.
    """
    spec = get_spec(name)
    given = dict(params or {})
    fields = {f.name for f in dataclasses.fields(spec.params_type)}
    unknown = sorted(set(given) - fields)
    if unknown:
        raise StrategyParamError(
            f"unknown parameter(s) for {name}: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(fields))}"
        )
    # Field types and ranges are checked by the params class itself.
    return spec.params_type(**given)  # type: ignore[arg-type]
