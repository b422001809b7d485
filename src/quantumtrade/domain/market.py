"""Market data value objects: timeframes, bars, trades and quotes.

Prices here are float64: market data is analytics. The ledger turns a fill price into a
``Decimal`` at the moment it books it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd

BAR_COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "trade_count")


class Timeframe(StrEnum):
    """Bar lengths, named as Alpaca names them."""

    MIN_1 = "1Min"
    MIN_5 = "5Min"
    MIN_15 = "15Min"
    HOUR_1 = "1Hour"
    DAY_1 = "1Day"

    @property
    def delta(self) -> timedelta:
        return _DELTAS[self]

    @property
    def pandas_freq(self) -> str:
        return _PANDAS_FREQ[self]

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        """Parse a timeframe name, accepting common spellings (``1m``, ``1h``, ``1d``)."""
        normalized = _ALIASES.get(text.strip().lower())
        if normalized is None:
            valid = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown timeframe {text!r}; use one of {valid}")
        return normalized


_DELTAS = {
    Timeframe.MIN_1: timedelta(minutes=1),
    Timeframe.MIN_5: timedelta(minutes=5),
    Timeframe.MIN_15: timedelta(minutes=15),
    Timeframe.HOUR_1: timedelta(hours=1),
    Timeframe.DAY_1: timedelta(days=1),
}
_PANDAS_FREQ = {
    Timeframe.MIN_1: "1min",
    Timeframe.MIN_5: "5min",
    Timeframe.MIN_15: "15min",
    Timeframe.HOUR_1: "1h",
    Timeframe.DAY_1: "1D",
}
_ALIASES = {
    **{t.value.lower(): t for t in Timeframe},
    "1m": Timeframe.MIN_1,
    "1t": Timeframe.MIN_1,
    "5m": Timeframe.MIN_5,
    "15m": Timeframe.MIN_15,
    "1h": Timeframe.HOUR_1,
    "60min": Timeframe.HOUR_1,
    "1d": Timeframe.DAY_1,
    "day": Timeframe.DAY_1,
}


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; ``time`` is the bar's start, UTC."""

    symbol: str
    timeframe: Timeframe
    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float | None = None
    trade_count: int | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    """One print on the tape."""

    symbol: str
    time: datetime
    price: float
    size: float
    exchange: str | None = None
    trade_id: str | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """The best bid and offer."""

    symbol: str
    time: datetime
    bid_price: float
    bid_size: float
    ask_price: float
    ask_size: float

    @property
    def mid(self) -> float:
        return (self.bid_price + self.ask_price) / 2

    @property
    def spread(self) -> float:
        return self.ask_price - self.bid_price


MarketEvent = Trade | Quote | Bar
Channel = Literal["trades", "quotes", "bars"]
CHANNELS: tuple[Channel, ...] = ("trades", "quotes", "bars")


def empty_bar_frame() -> pd.DataFrame:
    """Return an empty bar frame with the standard columns and a UTC ``time`` index."""
    frame = pd.DataFrame({column: pd.Series(dtype="float64") for column in BAR_COLUMNS})
    frame.index = pd.DatetimeIndex([], tz="UTC", name="time")
    return frame


def bars_from_frame(symbol: str, timeframe: Timeframe, frame: pd.DataFrame) -> list[Bar]:
    """Turn a bar frame (UTC ``time`` index, :data:`BAR_COLUMNS`) into :class:`Bar` objects."""
    times = pd.DatetimeIndex(frame.index).to_pydatetime()
    columns = {
        name: frame[name].to_numpy(dtype="float64", na_value=np.nan)
        for name in BAR_COLUMNS
        if name in frame.columns
    }
    nan = np.full(len(frame), np.nan)
    vwaps, counts = columns.get("vwap", nan), columns.get("trade_count", nan)
    return [
        Bar(
            symbol=symbol,
            timeframe=timeframe,
            time=times[i],
            open=float(columns["open"][i]),
            high=float(columns["high"][i]),
            low=float(columns["low"][i]),
            close=float(columns["close"][i]),
            volume=float(columns["volume"][i]),
            vwap=None if np.isnan(vwaps[i]) else float(vwaps[i]),
            trade_count=None if np.isnan(counts[i]) else int(counts[i]),
        )
        for i in range(len(frame))
    ]


def resample_bars(frame: pd.DataFrame, timeframe: Timeframe) -> pd.DataFrame:
    """Aggregate finer bars into ``timeframe`` bars (first/max/min/last/sum, volume-weighted VWAP).

    Buckets are aligned to UTC (daily bars to UTC midnight); empty buckets are dropped.
    """
    if frame.empty:
        return empty_bar_frame()
    notional = frame["vwap"].fillna(frame["close"]) * frame["volume"]
    grouped = frame.assign(_notional=notional).resample(
        timeframe.pandas_freq, label="left", closed="left"
    )
    out = grouped.agg(
        {
            "open": "first",
            "high": "max",
            "low": "min",
            "close": "last",
            "volume": "sum",
            "trade_count": "sum",
            "_notional": "sum",
        }
    ).dropna(subset=["open"])
    out["vwap"] = (out["_notional"] / out["volume"]).where(out["volume"] > 0)
    out.index.name = "time"
    return out[list(BAR_COLUMNS)]
