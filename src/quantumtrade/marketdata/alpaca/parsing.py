"""Alpaca's wire schemas, translated to and from domain objects.

Everything that knows Alpaca's field names ("T", "S", "bp", "vw", ...), its timeframe objects or
its message framing lives here; the rest of the adapter sees only domain objects.

REST replies (``raw_data=True``) carry RFC-3339 strings in ``t``; stream frames are msgpack, whose
``t`` is a msgpack timestamp extension. :func:`parse_time` accepts both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgpack
import pandas as pd
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from quantumtrade.domain.market import (
    BAR_COLUMNS,
    Bar,
    MarketEvent,
    Quote,
    Timeframe,
    Trade,
    empty_bar_frame,
)

_TO_ALPACA = {
    Timeframe.MIN_1: (1, TimeFrameUnit.Minute),
    Timeframe.MIN_5: (5, TimeFrameUnit.Minute),
    Timeframe.MIN_15: (15, TimeFrameUnit.Minute),
    Timeframe.HOUR_1: (1, TimeFrameUnit.Hour),
    Timeframe.DAY_1: (1, TimeFrameUnit.Day),
}
# Alpaca's one-letter bar keys, in BAR_COLUMNS order.
_BAR_KEYS = {"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
_BAR_OPTIONAL_KEYS = {"vw": "vwap", "n": "trade_count"}
_RAW_BAR_KEYS = {**_BAR_KEYS, **_BAR_OPTIONAL_KEYS}
_EXTRA_DIGITS = re.compile(r"(\.\d{6})\d+")


def is_crypto(symbol: str) -> bool:
    """Tell whether Alpaca serves ``symbol`` from its crypto feed (pairs look like BTC/USD)."""
    return "/" in symbol


def to_alpaca_timeframe(timeframe: Timeframe) -> TimeFrame:
    amount, unit = _TO_ALPACA[timeframe]
    return TimeFrame(amount, unit)


def from_alpaca_timeframe(timeframe: TimeFrame) -> Timeframe:
    """Map an alpaca ``TimeFrame`` back; raise ValueError for lengths the domain lacks."""
    for ours, (amount, unit) in _TO_ALPACA.items():
        if timeframe.amount == amount and timeframe.unit == unit:
            return ours
    raise ValueError(f"no domain timeframe for Alpaca timeframe {timeframe.value}")


def parse_time(value: Any) -> datetime:
    """Return a UTC datetime from an RFC-3339 string, msgpack timestamp or datetime."""
    if isinstance(value, msgpack.Timestamp):
        value = value.to_datetime()
    elif isinstance(value, str):
        # Alpaca sends up to nine fractional digits; datetime keeps six.
        value = datetime.fromisoformat(_EXTRA_DIGITS.sub(r"\1", value))
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def _optional_float(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    return None if value is None else float(value)


def _optional_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return None if value is None or value == "" else str(value)


def trade_from_raw(symbol: str, raw: Mapping[str, Any]) -> Trade:
    return Trade(
        symbol=symbol,
        time=parse_time(raw["t"]),
        price=float(raw["p"]),
        size=float(raw["s"]),
        exchange=_optional_str(raw, "x"),
        trade_id=_optional_str(raw, "i"),
    )


def quote_from_raw(symbol: str, raw: Mapping[str, Any]) -> Quote:
    return Quote(
        symbol=symbol,
        time=parse_time(raw["t"]),
        bid_price=float(raw["bp"]),
        bid_size=float(raw["bs"]),
        ask_price=float(raw["ap"]),
        ask_size=float(raw["as"]),
    )


def bar_from_raw(symbol: str, timeframe: Timeframe, raw: Mapping[str, Any]) -> Bar:
    count = raw.get("n")
    return Bar(
        symbol=symbol,
        timeframe=timeframe,
        time=parse_time(raw["t"]),
        open=float(raw["o"]),
        high=float(raw["h"]),
        low=float(raw["l"]),
        close=float(raw["c"]),
        volume=float(raw["v"]),
        vwap=_optional_float(raw, "vw"),
        trade_count=None if count is None else int(count),
    )


def bar_frame(rows: Sequence[Mapping[str, Any]], start: datetime, end: datetime) -> pd.DataFrame:
    """Build the standard bar frame from REST bar rows, keeping ``start <= time < end``.

    Alpaca's ``end`` is inclusive; the domain's is not, so a bar stamped ``end`` is dropped.
    """
    if not rows:
        return empty_bar_frame()
    frame = pd.DataFrame([{key: row.get(key) for key in ("t", *_RAW_BAR_KEYS)} for row in rows])
    frame = frame.rename(columns=_RAW_BAR_KEYS).astype(dict.fromkeys(BAR_COLUMNS, "float64"))
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("t"), utc=True, format="ISO8601"))
    frame.index.name = "time"
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    frame = frame[(frame.index >= pd.Timestamp(start)) & (frame.index < pd.Timestamp(end))]
    return frame[list(BAR_COLUMNS)]


def _entry(reply: Any, symbol: str) -> Any:
    # alpaca-py's raw replies are {symbol: rows-or-row}, already merged across pages.
    if not isinstance(reply, Mapping):
        raise ValueError(f"unexpected Alpaca reply {type(reply).__name__}")
    return reply.get(symbol)


def bar_rows(reply: Any, symbol: str) -> list[Mapping[str, Any]]:
    rows = _entry(reply, symbol)
    return list(rows) if isinstance(rows, list) else []


def latest_trade(reply: Any, symbol: str) -> Trade | None:
    raw = _entry(reply, symbol)
    return trade_from_raw(symbol, raw) if isinstance(raw, Mapping) and raw else None


def latest_quote(reply: Any, symbol: str) -> Quote | None:
    raw = _entry(reply, symbol)
    return quote_from_raw(symbol, raw) if isinstance(raw, Mapping) and raw else None


def stream_event(message: Mapping[str, Any]) -> MarketEvent | None:
    """Translate one stream data frame; return None for types the domain does not model."""
    kind = message.get("T")
    symbol = message.get("S")
    if not isinstance(symbol, str):
        return None
    if kind == "t":
        return trade_from_raw(symbol, message)
    if kind == "q":
        return quote_from_raw(symbol, message)
    if kind == "b":
        # The "bars" channel carries minute bars.
        return bar_from_raw(symbol, Timeframe.MIN_1, message)
    return None


# -- control frames ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ControlError:
    """An ``{"T": "error"}`` frame."""

    code: int
    message: str


def auth_request(api_key: str, secret_key: str) -> bytes:
    packed: bytes = msgpack.packb({"action": "auth", "key": api_key, "secret": secret_key})
    return packed


def decode(payload: bytes | str) -> list[dict[str, Any]]:
    """Decode one stream message (a msgpack array of frames)."""
    frames = msgpack.unpackb(payload)
    if not isinstance(frames, list):
        raise ValueError(f"unexpected stream message {frames!r}")
    return [frame for frame in frames if isinstance(frame, dict)]


def control_error(frame: Mapping[str, Any]) -> ControlError | None:
    if frame.get("T") != "error":
        return None
    return ControlError(int(frame.get("code", 0)), str(frame.get("msg", "")))


def is_authenticated(frames: Iterable[Mapping[str, Any]]) -> bool:
    return any(f.get("T") == "success" and f.get("msg") == "authenticated" for f in frames)


def subscription(frame: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """Return the non-empty channels of a subscription acknowledgement, else None."""
    if frame.get("T") != "subscription":
        return None
    return {
        key: list(value)
        for key, value in frame.items()
        if key != "T" and isinstance(value, list) and value
    }
