"""The cached latest price of a symbol: one shape, written by the feed and the price endpoint alike.

The market feed refreshes the entry on every trade and quote it publishes, and the price
endpoint fills it on a miss; both go through :class:`PriceSnapshot`, so the two cannot write
different shapes into the same key. A cached value that does not parse as a snapshot (an
older release's entry, a foreign writer) counts as a miss, never as an answer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quantumtrade.domain.market import Quote, Trade
from quantumtrade.infra.cache import Cache, price_key

_FIELDS: dict[str, tuple[type, ...]] = {
    "symbol": (str,),
    "price": (float, int),
    "size": (float, int),
    "bid": (float, int),
    "ask": (float, int),
    "bid_size": (float, int),
    "ask_size": (float, int),
    "previous_close": (float, int, type(None)),
    "change": (float, int, type(None)),
    "change_percent": (float, int, type(None)),
    "timestamp": (str,),
    "quote_timestamp": (str,),
    "market_open": (bool,),
    "asset_class": (str,),
}


@dataclass(frozen=True, slots=True)
class PriceSnapshot:
    """The last trade and quote of a symbol, with today's change against the previous close."""

    symbol: str
    price: float
    size: float
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    previous_close: float | None
    change: float | None
    change_percent: float | None
    timestamp: str  # the last trade's time, ISO 8601 UTC
    quote_timestamp: str
    market_open: bool
    asset_class: str

    @classmethod
    def build(
        cls,
        trade: Trade,
        quote: Quote,
        *,
        previous_close: float | None,
        market_open: bool,
        asset_class: str,
    ) -> PriceSnapshot:
        """Return the snapshot of ``trade`` and ``quote`` against ``previous_close``."""
        change, percent = _change(trade.price, previous_close)
        return cls(
            symbol=trade.symbol,
            price=trade.price,
            size=trade.size,
            bid=quote.bid_price,
            ask=quote.ask_price,
            bid_size=quote.bid_size,
            ask_size=quote.ask_size,
            previous_close=previous_close,
            change=change,
            change_percent=percent,
            timestamp=_iso(trade.time),
            quote_timestamp=_iso(quote.time),
            market_open=market_open,
            asset_class=asset_class,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the snapshot as the JSON object cached and served."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> PriceSnapshot | None:
        """Return the snapshot ``value`` holds, or None when it is not exactly one."""
        if not isinstance(value, dict) or set(value) != set(_FIELDS):
            return None
        for name, types in _FIELDS.items():
            item = value[name]
            if not isinstance(item, types) or (isinstance(item, bool) and bool not in types):
                return None
        return cls(**{name: _number(value[name]) for name in _FIELDS})

    def with_trade(self, trade: Trade, *, market_open: bool) -> PriceSnapshot | None:
        """Return the snapshot after ``trade``; None when it starts a new day (close unknown)."""
        if _day(trade.time) != self.timestamp[:10]:
            return None
        change, percent = _change(trade.price, self.previous_close)
        return dataclasses.replace(
            self,
            price=trade.price,
            size=trade.size,
            change=change,
            change_percent=percent,
            timestamp=_iso(trade.time),
            market_open=market_open,
        )

    def with_quote(self, quote: Quote) -> PriceSnapshot:
        """Return the snapshot after ``quote``."""
        return dataclasses.replace(
            self,
            bid=quote.bid_price,
            ask=quote.ask_price,
            bid_size=quote.bid_size,
            ask_size=quote.ask_size,
            quote_timestamp=_iso(quote.time),
        )


async def read(cache: Cache, symbol: str) -> PriceSnapshot | None:
    """Return the cached snapshot of ``symbol``, or None on a miss or an unreadable entry."""
    return PriceSnapshot.from_json(await cache.get_json(price_key(symbol)))


async def write(cache: Cache, snapshot: PriceSnapshot, ttl: float) -> None:
    """Cache ``snapshot`` for ``ttl`` seconds."""
    await cache.set_json(price_key(snapshot.symbol), snapshot.to_json(), ttl)


async def forget(cache: Cache, symbol: str) -> None:
    """Drop the cached snapshot of ``symbol`` (the next read loads it afresh)."""
    await cache.delete(price_key(symbol))


def _change(price: float, previous: float | None) -> tuple[float | None, float | None]:
    if previous is None:
        return None, None
    change = round(price - previous, 10)
    return change, (round(change / previous * 100, 6) if previous else None)


def _number(value: Any) -> Any:
    # JSON has one number type: an integral price may come back as an int.
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()
