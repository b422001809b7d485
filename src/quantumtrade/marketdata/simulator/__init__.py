"""The simulated market: a deterministic, realistic stand-in for a live exchange feed.

Layers, each a pure function of the seed and the universe:

* ``model``: the master daily path from 2000-01-03, drawn in 365-day blocks, each block from
  its own ``SeedSequence`` (common, per sector, per symbol), carried over and cached.
* ``intraday``: daily OHLCV from the path, and for any single day its minute bars from
  ``SeedSequence([seed, crc32(symbol), day_ordinal])``, which aggregate to the daily bar exactly.
  The sampled tape of a minute adds the minute of the day to that seed.
* ``calendar``: NYSE sessions (exchange_calendars) for equities, UTC days for crypto.
* ``source``: :class:`SimulatedMarket`, which serves all of it up to its clock's now, and the
  live stream that continues it.
"""

from quantumtrade.marketdata.simulator.calendar import (
    LAST_DAY,
    ORIGIN,
    OutOfSimulationRange,
    TradingCalendar,
)
from quantumtrade.marketdata.simulator.model import REGIMES, MarketModel, Regime
from quantumtrade.marketdata.simulator.source import SimulatedMarket
from quantumtrade.marketdata.simulator.universe import (
    CRYPTO,
    DEFAULT_UNIVERSE,
    EQUITY,
    SymbolSpec,
    Universe,
)

__all__ = [
    "CRYPTO",
    "DEFAULT_UNIVERSE",
    "EQUITY",
    "LAST_DAY",
    "ORIGIN",
    "REGIMES",
    "MarketModel",
    "OutOfSimulationRange",
    "Regime",
    "SimulatedMarket",
    "SymbolSpec",
    "TradingCalendar",
    "Universe",
]
