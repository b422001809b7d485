"""SourceRouter: one MarketDataSource that sends each symbol to the source configured for it.

A symbol goes to the source named for it, else for its asset class (``us_equity``, ``crypto``),
else to the default. Sources are built by factories the composition root passes in, each once,
on first use, so this module never imports an adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import pandas as pd

from quantumtrade.domain.market import Channel, MarketEvent, Quote, Timeframe, Trade
from quantumtrade.marketdata.source import MarketDataSource, SymbolInfo

ASSET_CLASSES = ("us_equity", "crypto")
SourceFactory = Callable[[], MarketDataSource]


class MarketCalendar(Protocol):
    """Trading sessions per asset class."""

    def is_open(self, asset_class: str, moment: datetime) -> bool: ...

    def next_open(self, asset_class: str, moment: datetime) -> datetime: ...

    def next_close(self, asset_class: str, moment: datetime) -> datetime: ...


class SourceRouter:
    """Route each call to the source configured for the symbol; see the module docstring."""

    name = "router"

    def __init__(
        self,
        factories: Mapping[str, SourceFactory],
        *,
        default: str,
        routes: Mapping[str, str] | None = None,
        calendar: MarketCalendar,
    ) -> None:
        self._factories = dict(factories)
        self._routes = {key.strip(): value for key, value in (routes or {}).items()}
        for label, name in [("default", default), *self._routes.items()]:
            if name not in self._factories:
                known = ", ".join(sorted(self._factories))
                raise ValueError(f"market data source {name!r} ({label}) is not one of: {known}")
        self.default = default
        self.calendar = calendar
        self._sources: dict[str, MarketDataSource] = {}

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(self._factories)

    def source(self, name: str) -> MarketDataSource:
        """Return the source called ``name``, building it on first use."""
        built = self._sources.get(name)
        if built is None:
            built = self._sources[name] = self._factories[name]()
        return built

    def asset_class(self, symbol: str, classes: dict[str, str] | None = None) -> str:
        """Return the symbol's asset class as its sources report it ("/" means crypto)."""
        known = self._asset_classes() if classes is None else classes
        return known.get(symbol) or ("crypto" if "/" in symbol else "us_equity")

    def source_name_for(self, symbol: str, classes: dict[str, str] | None = None) -> str:
        """Return the name of the source serving ``symbol``."""
        upper = symbol.upper()
        for key in (symbol, upper):
            if key in self._routes:
                return self._routes[key]
        return self._routes.get(self.asset_class(upper, classes), self.default)

    def route(self, symbol: str) -> MarketDataSource:
        return self.source(self.source_name_for(symbol))

    def symbols(self) -> Sequence[SymbolInfo]:
        """Return every symbol a source offers and the router sends to that same source."""
        seen: dict[str, SymbolInfo] = {}
        classes = self._asset_classes()  # once: looking it up per symbol was quadratic
        for name in self._used_names():
            for info in self.source(name).symbols():
                if info.symbol not in seen and self.source_name_for(info.symbol, classes) == name:
                    seen[info.symbol] = info
        return list(seen.values())

    async def get_bars(
        self, symbol: str, timeframe: Timeframe, start: datetime, end: datetime
    ) -> pd.DataFrame:
        return await self.route(symbol).get_bars(symbol, timeframe, start, end)

    async def latest_trade(self, symbol: str) -> Trade:
        return await self.route(symbol).latest_trade(symbol)

    async def latest_quote(self, symbol: str) -> Quote:
        return await self.route(symbol).latest_quote(symbol)

    def stream(
        self, symbols: Sequence[str], channels: Sequence[Channel]
    ) -> AsyncIterator[MarketEvent]:
        """Yield the events of every symbol, each from the source serving it."""
        groups: dict[str, list[str]] = {}
        for symbol in symbols:
            groups.setdefault(self.source_name_for(symbol), []).append(symbol)
        streams = [self.source(name).stream(group, channels) for name, group in groups.items()]
        if len(streams) == 1:
            return streams[0]
        return _merge(streams)

    async def close(self) -> None:
        """Close every source built so far."""
        for source in self._sources.values():
            with contextlib.suppress(Exception):
                await source.close()

    def _used_names(self) -> list[str]:
        names = [self.default, *self._routes.values()]
        return list(dict.fromkeys(names))

    def _asset_classes(self) -> dict[str, str]:
        """Return each symbol's asset class, the first source listing it winning."""
        classes: dict[str, str] = {}
        for name in self._used_names():
            for info in self.source(name).symbols():
                classes.setdefault(info.symbol, info.asset_class)
        return classes


async def _merge(streams: Sequence[AsyncIterator[MarketEvent]]) -> AsyncIterator[MarketEvent]:
    """Interleave several streams as their events arrive; one failing stops them all."""
    queue: asyncio.Queue[MarketEvent | BaseException] = asyncio.Queue(maxsize=1000)

    async def pump(stream: AsyncIterator[MarketEvent]) -> None:
        try:
            async for event in stream:
                await queue.put(event)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # handed to the consumer, which re-raises it
            await queue.put(exc)

    tasks = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
