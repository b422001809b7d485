"""StoredBars: the ``market_data`` table behind the MarketDataSource interface ("file" source).

Bars come from the table (imported files, ingested feeds). The table holds bars only, so the
latest trade and quote are derived from the most recent stored bar (1Min bars preferred): the
trade is its close, timed at the bar's end (a daily bar's at its date), with the bar's volume
as size; the quote is bid = ask = that close with zero sizes. There is no live stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from quantumtrade.db.repositories import market_data
from quantumtrade.domain.market import Channel, MarketEvent, Quote, Timeframe, Trade


class NoStoredBars(LookupError):
    """No bars are stored for this symbol."""


class StoredBars:
    """Serve stored bars; ``symbols`` names those to list before :meth:`refresh` runs.

    ``describe`` turns a symbol into the source's symbol record (the composition root passes
    one building ``SymbolInfo``, which this layer may not import).
    """

    name = "file"

    def __init__(
        self, engine: AsyncEngine, *, describe: Callable[[str], Any], symbols: Iterable[str] = ()
    ) -> None:
        self._engine = engine
        self._describe = describe
        self._known: set[str] = {symbol.upper() for symbol in symbols}

    def symbols(self) -> Sequence[Any]:
        """Return the symbols known to have stored bars (as of the last :meth:`refresh`)."""
        return [self._describe(symbol) for symbol in sorted(self._known)]

    async def refresh(self) -> Sequence[Any]:
        """Read the stored symbols from the database and return them."""
        self._known.update(await market_data.stored_symbols(self._engine))
        return self.symbols()

    async def get_bars(
        self, symbol: str, timeframe: Timeframe, start: datetime, end: datetime
    ) -> pd.DataFrame:
        frame = await market_data.load_bars(self._engine, symbol, timeframe, start, end)
        if frame.empty and symbol not in self._known:
            await self._require(symbol)
        return frame

    async def latest_trade(self, symbol: str) -> Trade:
        timeframe, bar = await self._latest(symbol)
        return Trade(
            symbol=symbol,
            time=_end_of(bar, timeframe),
            price=float(bar["close"]),
            size=float(bar["volume"]),
        )

    async def latest_quote(self, symbol: str) -> Quote:
        timeframe, bar = await self._latest(symbol)
        close = float(bar["close"])
        return Quote(
            symbol=symbol,
            time=_end_of(bar, timeframe),
            bid_price=close,
            bid_size=0.0,
            ask_price=close,
            ask_size=0.0,
        )

    def stream(
        self, symbols: Sequence[str], channels: Sequence[Channel]
    ) -> AsyncIterator[MarketEvent]:
        """Refuse: stored bars have no live feed; route live symbols to another source."""
        raise NotImplementedError(
            "the 'file' source serves stored bars only and has no live stream"
        )

    async def close(self) -> None:
        """Release nothing: the engine belongs to the caller."""

    async def _latest(self, symbol: str) -> tuple[Timeframe, pd.Series]:
        found = await market_data.latest_bar(self._engine, symbol)
        if found is None:
            raise NoStoredBars(symbol)
        self._known.add(symbol)
        return found

    async def _require(self, symbol: str) -> None:
        if symbol in await market_data.stored_symbols(self._engine):
            self._known.add(symbol)
            return
        raise NoStoredBars(symbol)


def _end_of(bar: pd.Series, timeframe: Timeframe) -> datetime:
    start = pd.Timestamp(str(bar.name))
    # A daily bar is stamped with its session's date; its close belongs to that day, not the next.
    last = start if timeframe is Timeframe.DAY_1 else start + timeframe.delta
    end: datetime = last.to_pydatetime()
    return end
