"""Shapes of the market data API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Price(BaseModel):
    symbol: str
    price: float = Field(description="Last trade price.")
    size: float = Field(description="Last trade size.")
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    previous_close: float | None = Field(description="Close of the previous session.")
    change: float | None = Field(description="Price minus the previous session's close.")
    change_percent: float | None
    timestamp: datetime = Field(description="Time of the last trade (UTC).")
    quote_timestamp: datetime
    market_open: bool = Field(description="Whether the symbol's market is in session now.")
    asset_class: str


class Quotes(BaseModel):
    quotes: list[Price]


class BarOut(BaseModel):
    time: datetime = Field(description="Start of the bar, UTC (ISO 8601, 'Z').")
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float | None
    trade_count: float | None


class History(BaseModel):
    """Bars oldest first; pass ``next_page_token`` back as ``page_token`` for the next page."""

    symbol: str
    timeframe: str
    bars: list[BarOut]
    next_page_token: str | None


class SymbolOut(BaseModel):
    symbol: str
    name: str
    asset_class: str
    exchange: str
    sector: str | None = None
    tradable: bool
    shortable: bool
    fractionable: bool


class Symbols(BaseModel):
    symbols: list[SymbolOut]


class MarketClock(BaseModel):
    timestamp: datetime
    is_open: bool = Field(description="Whether the US equity session is open.")
    next_open: datetime
    next_close: datetime
    crypto_is_open: bool = Field(description="Crypto trades around the clock.")
