"""The interface of a source of market information: news, social posts, insider filings, options.

Prices come from a :class:`~quantumtrade.marketdata.source.MarketDataSource`; what moves them
comes from an :class:`InformationSource`. The simulator serves all of it (its information world
is tied to its prices, see :mod:`quantumtrade.marketdata.simulator.events`); Alpaca serves news
only. A source that lacks a kind of information raises :class:`InformationUnavailable`, which
the API reports as such instead of pretending there is none.

Every method answers what was public by the source's clock: nothing dated after now.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from quantumtrade.domain.news import NewsItem, SocialPost


class InformationUnavailable(LookupError):
    """The source does not provide this kind of information (for this symbol)."""

    def __init__(self, kind: str, source: str) -> None:
        super().__init__(f"{source} does not provide {kind}")
        self.kind = kind
        self.source = source


class InformationSource(Protocol):
    """News, social posts, Form 4 filings and options, history up to now and a live news feed."""

    name: str

    async def get_news(
        self, symbols: Sequence[str] | None, start: datetime, end: datetime
    ) -> list[NewsItem]:
        """Stories created in ``[start, end)`` naming any of ``symbols`` (all when None)."""
        ...

    async def get_social(
        self, symbols: Sequence[str] | None, start: datetime, end: datetime
    ) -> list[SocialPost]:
        """Posts created in ``[start, end)`` naming any of ``symbols`` (all when None)."""
        ...

    async def get_insider_filings(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        """Form 4 filings of ``symbol`` filed in ``[start, end)``, oldest first."""
        ...

    async def get_option_chain(self, symbol: str, expiry: date | None) -> Any:
        """The option chain of ``symbol`` now (one expiry, or all listed when None)."""
        ...

    async def get_option_trades(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        """Option trades on ``symbol``'s contracts in ``[start, end)``, oldest first."""
        ...

    async def get_atm_iv_history(self, symbol: str, start: date, end: date) -> Any:
        """Daily 30-day at-the-money implied volatility (a pandas Series by session date)."""
        ...

    def stream_news(self, symbols: Sequence[str] | None) -> AsyncIterator[NewsItem]:
        """Yield stories as they are published, until cancelled."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class InformationRouter:
    """Send each symbol's questions to the information source of the source serving its prices.

    Market-wide questions (``symbols=None``) go to the default source. A symbol whose prices
    come from a source with no information (stored files) raises ``InformationUnavailable``.
    """

    name = "router"

    def __init__(
        self,
        sources: dict[str, InformationSource],
        *,
        source_for: Callable[[str], str],
        default: str,
    ) -> None:
        self.sources = sources
        self._source_for = source_for
        self.default = default

    def for_symbol(self, symbol: str) -> InformationSource:
        name = self._source_for(symbol)
        source = self.sources.get(name)
        if source is None:
            raise InformationUnavailable("market information", name)
        return source

    def _for(self, symbols: Sequence[str] | None) -> InformationSource:
        if not symbols:
            return self.for_symbol_or_default(None)
        names = {self._source_for(symbol) for symbol in symbols}
        if len(names) > 1:
            raise InformationUnavailable("one answer across sources", "router")
        return self.for_symbol(symbols[0])

    def for_symbol_or_default(self, symbol: str | None) -> InformationSource:
        if symbol is not None:
            return self.for_symbol(symbol)
        source = self.sources.get(self.default)
        if source is None:
            raise InformationUnavailable("market information", self.default)
        return source

    async def get_news(
        self, symbols: Sequence[str] | None, start: datetime, end: datetime
    ) -> list[NewsItem]:
        return await self._for(symbols).get_news(symbols, start, end)

    async def get_social(
        self, symbols: Sequence[str] | None, start: datetime, end: datetime
    ) -> list[SocialPost]:
        return await self._for(symbols).get_social(symbols, start, end)

    async def get_insider_filings(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        return await self.for_symbol(symbol).get_insider_filings(symbol, start, end)

    async def get_option_chain(self, symbol: str, expiry: date | None) -> Any:
        return await self.for_symbol(symbol).get_option_chain(symbol, expiry)

    async def get_option_trades(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        return await self.for_symbol(symbol).get_option_trades(symbol, start, end)

    async def get_atm_iv_history(self, symbol: str, start: date, end: date) -> Any:
        return await self.for_symbol(symbol).get_atm_iv_history(symbol, start, end)

    def stream_news(self, symbols: Sequence[str] | None) -> AsyncIterator[NewsItem]:
        return self._for(symbols).stream_news(symbols)

    async def close(self) -> None:
        for source in self.sources.values():
            await source.close()
