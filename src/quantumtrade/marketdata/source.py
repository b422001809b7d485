"""The interface every market data source implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pandas as pd

from quantumtrade.domain.market import Channel, MarketEvent, Quote, Timeframe, Trade


class UnknownSymbol(LookupError):
    """The source does not know this symbol."""


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    symbol: str
    name: str
    asset_class: str  # "us_equity" or "crypto"
    exchange: str
    sector: str | None = None
    tradable: bool = True
    shortable: bool = True
    fractionable: bool = True


class MarketDataSource(Protocol):
    """Historical bars, the latest trade and quote, and a live stream of events."""

    name: str

    def symbols(self) -> Sequence[SymbolInfo]:
        """Return the symbols this source serves."""
        ...

    async def get_bars(
        self, symbol: str, timeframe: Timeframe, start: datetime, end: datetime
    ) -> pd.DataFrame:
        """Return bars with ``start <= time < end``: a UTC ``time`` index and BAR_COLUMNS."""
        ...

    async def latest_trade(self, symbol: str) -> Trade:
        """Return the most recent trade."""
        ...

    async def latest_quote(self, symbol: str) -> Quote:
        """Return the current best bid and offer."""
        ...

    def stream(
        self, symbols: Sequence[str], channels: Sequence[Channel]
    ) -> AsyncIterator[MarketEvent]:
        """Yield live trades, quotes and bars for ``symbols`` until cancelled."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
