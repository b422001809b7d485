"""Trading strategies as target positions per bar, computed without look-ahead.

Every built-in strategy is a pure function
``f(close, high=None, low=None, volume=None, *, params) -> int8 array`` paired with a frozen params
dataclass that validates its ranges on construction. The value at bar ``i`` is the position to
hold after bar ``i`` closes (``+1`` long, ``0`` flat, ``-1`` short only when ``allow_short``);
the engine trades it at the next bar's open.

User-defined strategies either satisfy ``SignalStrategy`` (vectorised, a ``signals`` method) or
subclass ``EventStrategy`` (per bar, ``init`` / ``next``) and run through
``EventStrategyAdapter``.
"""

from quantumtrade.backtest.strategies._base import (
    BoundStrategy,
    Int8Array,
    SignalFunction,
    SignalStrategy,
    StrategyParamError,
    StrategyParams,
    StrategySpec,
)
from quantumtrade.backtest.strategies.event import (
    EventStrategy,
    EventStrategyAdapter,
    History,
    run_event_strategy,
)
from quantumtrade.backtest.strategies.registry import STRATEGIES, from_dict, get_spec
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
)

__all__ = [
    "STRATEGIES",
    "BoundStrategy",
    "EventStrategy",
    "EventStrategyAdapter",
    "History",
    "Int8Array",
    "MacdParams",
    "MeanReversionParams",
    "MomentumParams",
    "RsiParams",
    "SignalFunction",
    "SignalStrategy",
    "SmaCrossoverParams",
    "StrategyParamError",
    "StrategyParams",
    "StrategySpec",
    "from_dict",
    "get_spec",
    "macd",
    "mean_reversion",
    "momentum",
    "rsi",
    "run_event_strategy",
    "sma_crossover",
]
