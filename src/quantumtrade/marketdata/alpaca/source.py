"""Alpaca as a :class:`~quantumtrade.marketdata.source.MarketDataSource`.

Historical and latest data come from alpaca-py's REST clients (synchronous, so each call runs in a
worker thread); live data from its stream clients, wrapped by :mod:`.stream`. Symbols with a
slash (``BTC/USD``) go to Alpaca's crypto endpoints, all others to its stock endpoints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import pandas as pd
from alpaca.data.enums import Adjustment, CryptoFeed, DataFeed
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestQuoteRequest,
    CryptoLatestTradeRequest,
    StockBarsRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
)

from quantumtrade.domain.market import CHANNELS, Channel, MarketEvent, Quote, Timeframe, Trade
from quantumtrade.marketdata.alpaca import parsing
from quantumtrade.marketdata.alpaca.config import AlpacaConfig
from quantumtrade.marketdata.alpaca.errors import call_rest
from quantumtrade.marketdata.alpaca.stream import StreamSession
from quantumtrade.marketdata.source import SymbolInfo, UnknownSymbol

_T = TypeVar("_T")


class AlpacaMarketData:
    """Market data from Alpaca (or any server speaking its protocol, see :class:`AlpacaConfig`)."""

    name = "alpaca"

    def __init__(self, config: AlpacaConfig) -> None:
        self._config = config
        self._stock_client: StockHistoricalDataClient | None = None
        self._crypto_client: CryptoHistoricalDataClient | None = None
        self._sessions: set[StreamSession] = set()

    @property
    def config(self) -> AlpacaConfig:
        return self._config

    def symbols(self) -> list[SymbolInfo]:
        """Return the configured watch list (Alpaca's data API has no asset directory)."""
        return [_symbol_info(normalize_symbol(s)) for s in self._config.watchlist]

    async def get_bars(
        self, symbol: str, timeframe: Timeframe, start: datetime, end: datetime
    ) -> pd.DataFrame:
        """Return bars with ``start <= time < end``, fetching every page."""
        symbol = normalize_symbol(symbol)
        start, end = _utc(start), _utc(end)
        if end <= start:
            return parsing.bar_frame([], start, end)
        frame = parsing.to_alpaca_timeframe(timeframe)
        if parsing.is_crypto(symbol):
            crypto = CryptoBarsRequest(
                symbol_or_symbols=symbol, timeframe=frame, start=start, end=end
            )
            coins = self._crypto()
            reply = await self._call(lambda: coins.get_crypto_bars(crypto, feed=self._crypto_feed))
        else:
            stock = StockBarsRequest(
                symbol_or_symbols=symbol,
                timeframe=frame,
                start=start,
                end=end,
                feed=DataFeed(self._config.feed),
                adjustment=Adjustment(self._config.adjustment),
            )
            stocks = self._stocks()
            reply = await self._call(lambda: stocks.get_stock_bars(stock))
        return parsing.bar_frame(parsing.bar_rows(reply, symbol), start, end)

    async def latest_trade(self, symbol: str) -> Trade:
        symbol = normalize_symbol(symbol)
        if parsing.is_crypto(symbol):
            crypto = CryptoLatestTradeRequest(symbol_or_symbols=symbol)
            coins = self._crypto()
            reply = await self._call(
                lambda: coins.get_crypto_latest_trade(crypto, feed=self._crypto_feed)
            )
        else:
            stock = StockLatestTradeRequest(
                symbol_or_symbols=symbol, feed=DataFeed(self._config.feed)
            )
            stocks = self._stocks()
            reply = await self._call(lambda: stocks.get_stock_latest_trade(stock))
        trade = parsing.latest_trade(reply, symbol)
        if trade is None:
            raise UnknownSymbol(symbol)
        return trade

    async def latest_quote(self, symbol: str) -> Quote:
        symbol = normalize_symbol(symbol)
        if parsing.is_crypto(symbol):
            crypto = CryptoLatestQuoteRequest(symbol_or_symbols=symbol)
            coins = self._crypto()
            reply = await self._call(
                lambda: coins.get_crypto_latest_quote(crypto, feed=self._crypto_feed)
            )
        else:
            stock = StockLatestQuoteRequest(
                symbol_or_symbols=symbol, feed=DataFeed(self._config.feed)
            )
            stocks = self._stocks()
            reply = await self._call(lambda: stocks.get_stock_latest_quote(stock))
        quote = parsing.latest_quote(reply, symbol)
        if quote is None:
            raise UnknownSymbol(symbol)
        return quote

    def stream(
        self, symbols: Sequence[str], channels: Sequence[Channel]
    ) -> AsyncIterator[MarketEvent]:
        """Yield live events; reconnect and resubscribe after drops; raise on fatal errors.

        Alpaca allows one connection per feed and account, so run one stream at a time: put
        every symbol in one call rather than calling ``stream`` per symbol.
        """
        wanted = sorted({normalize_symbol(s) for s in symbols})
        if not wanted:
            raise ValueError("stream needs at least one symbol")
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown or not channels:
            raise ValueError(f"channels must be a non-empty subset of {CHANNELS}, not {unknown}")
        session = StreamSession(self._config, wanted, list(dict.fromkeys(channels)), self._sessions)
        return session.events()

    async def close(self) -> None:
        """End every open stream and release the HTTP sessions."""
        for session in list(self._sessions):
            await session.close()
        for client in (self._stock_client, self._crypto_client):
            http = getattr(client, "_session", None)
            if http is not None:
                http.close()
        self._stock_client = self._crypto_client = None

    # -- REST plumbing ------------------------------------------------------------------------

    @property
    def _crypto_feed(self) -> CryptoFeed:
        return CryptoFeed(self._config.crypto_feed)

    def _stocks(self) -> StockHistoricalDataClient:
        if self._stock_client is None:
            self._stock_client = StockHistoricalDataClient(
                self._config.api_key,
                self._config.secret_key,
                raw_data=True,
                url_override=self._config.data_url.rstrip("/"),
            )
        return self._stock_client

    def _crypto(self) -> CryptoHistoricalDataClient:
        if self._crypto_client is None:
            self._crypto_client = CryptoHistoricalDataClient(
                self._config.api_key,
                self._config.secret_key,
                raw_data=True,
                url_override=self._config.data_url.rstrip("/"),
            )
        return self._crypto_client

    async def _call(self, request: Callable[[], _T]) -> _T:
        return await call_rest(request, what="market data", url=self._config.data_url)


def normalize_symbol(symbol: str) -> str:
    return symbol.strip().upper()


def _utc(moment: datetime) -> datetime:
    # Naive datetimes are taken as UTC, as alpaca-py does.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _symbol_info(symbol: str) -> SymbolInfo:
    if parsing.is_crypto(symbol):
        return SymbolInfo(symbol, symbol, "crypto", "CRYPTO", shortable=False)
    return SymbolInfo(symbol, symbol, "us_equity", "UNKNOWN")
