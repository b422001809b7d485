"""Market data use cases: latest price, quotes, bar history with paging, symbols, the clock.

Symbols are case-insensitive; a crypto pair may be written ``BTC/USD``, ``BTC-USD`` or
``BTCUSD``. Prices are cached for ``settings.price_cache_ttl`` seconds (5 by default).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import Awaitable, Collection
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import pandas as pd

from quantumtrade.db.bar_store import NoStoredBars
from quantumtrade.domain.errors import AppError, InvalidInput, NotFound, Unprocessable
from quantumtrade.domain.market import Quote, Timeframe, Trade, empty_bar_frame
from quantumtrade.infra.cache import price_key
from quantumtrade.marketdata.registry import MarketCalendar
from quantumtrade.marketdata.simulator.calendar import LAST_DAY as SIMULATED_LAST_DAY
from quantumtrade.marketdata.simulator.calendar import ORIGIN as SIMULATED_FIRST_DAY
from quantumtrade.marketdata.simulator.calendar import TradingCalendar
from quantumtrade.marketdata.source import MarketDataSource, UnknownSymbol
from quantumtrade.services import price_cache
from quantumtrade.services.container import Container
from quantumtrade.services.price_cache import PriceSnapshot

T = TypeVar("T")

DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000
MAX_QUOTE_SYMBOLS = 100
# History starts this far before ``end`` when no start is given: ~30 sessions of daily bars,
# a few sessions of intraday bars.
DEFAULT_LOOKBACK = {
    Timeframe.DAY_1: timedelta(days=45),
    Timeframe.HOUR_1: timedelta(days=14),
    Timeframe.MIN_15: timedelta(days=7),
    Timeframe.MIN_5: timedelta(days=4),
    Timeframe.MIN_1: timedelta(days=2),
}
_SYMBOL = re.compile(r"[A-Z0-9./\-]{1,20}")
_QUOTE_CURRENCIES = ("USDT", "USDC", "USD", "BTC", "ETH")


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of bars; ``next_page_token`` is None on the last page."""

    symbol: str
    timeframe: Timeframe
    bars: pd.DataFrame
    next_page_token: str | None


def resolve_symbol(container: Container, text: str, known: Collection[str] | None = None) -> str:
    """Return the canonical spelling of ``text`` (upper case, crypto pairs with "/").

    ``known`` is the set of symbols to match against (all the market's when None).
    """
    raw = text.strip().upper()
    if not _SYMBOL.fullmatch(raw):
        raise NotFound(f"Unknown symbol {text.strip()[:30]!r}.", code="unknown_symbol")
    candidates = [raw, raw.replace("-", "/")]
    if "/" not in raw and "-" not in raw:
        candidates += [
            f"{raw[: -len(quote)]}/{quote}"
            for quote in _QUOTE_CURRENCIES
            if raw.endswith(quote) and len(raw) > len(quote)
        ]
    if known is None:
        known = {info.symbol for info in container.market.symbols()}
    for candidate in candidates:
        if candidate in known:
            return candidate
    return candidates[1]


def known_symbol(container: Container, symbol: str) -> str:
    """Return the canonical symbol, or raise 404 for one the market does not serve."""
    known = {info.symbol for info in container.market.symbols()}
    canonical = resolve_symbol(container, symbol, known)
    if canonical not in known:
        raise NotFound(f"Unknown symbol {symbol.strip()[:30]!r}.", code="unknown_symbol")
    return canonical


async def price(container: Container, symbol: str) -> dict[str, Any]:
    """Return the latest trade, quote and today's change of ``symbol`` (cached briefly)."""
    canonical = resolve_symbol(container, symbol)
    snapshot = await container.cache.get_or_load(
        price_key(canonical),
        container.settings.price_cache_ttl,
        lambda: _load_price(container, canonical),
        parse=PriceSnapshot.from_json,
        dump=PriceSnapshot.to_json,
    )
    return snapshot.to_json()


async def refresh_cached_price(container: Container, event: Trade | Quote, ttl: float) -> None:
    """Fold a live trade or quote into the cached snapshot of its symbol, if one is cached.

    A miss is left for the price endpoint to load (it needs the previous close); a trade on a
    new day drops the entry for the same reason.
    """
    cache = container.cache
    snapshot = await price_cache.read(cache, event.symbol)
    if snapshot is None:
        return
    if isinstance(event, Quote):
        await price_cache.write(cache, snapshot.with_quote(event), ttl)
        return
    updated = snapshot.with_trade(event, market_open=_is_open(container, snapshot.asset_class))
    if updated is None:
        await price_cache.forget(cache, event.symbol)
    else:
        await price_cache.write(cache, updated, ttl)


async def quotes(container: Container, symbols: list[str]) -> list[dict[str, Any]]:
    """Return :func:`price` for each of ``symbols`` (at most MAX_QUOTE_SYMBOLS, duplicates once)."""
    wanted = [s for s in dict.fromkeys(s.strip() for s in symbols) if s]
    if not wanted:
        raise InvalidInput("Name at least one symbol.", code="missing_symbols")
    if len(wanted) > MAX_QUOTE_SYMBOLS:
        raise Unprocessable(
            f"Ask for at most {MAX_QUOTE_SYMBOLS} symbols at once.",
            code="too_many_symbols",
            details={"max": MAX_QUOTE_SYMBOLS, "given": len(wanted)},
        )
    results = await asyncio.gather(*(price(container, s) for s in wanted), return_exceptions=True)
    unknown = [s for s, r in zip(wanted, results, strict=True) if isinstance(r, NotFound)]
    if unknown:
        raise NotFound(
            f"Unknown symbol(s): {', '.join(unknown)}.",
            code="unknown_symbol",
            details={"symbols": unknown},
        )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [r for r in results if isinstance(r, dict)]


async def symbols(container: Container) -> list[dict[str, Any]]:
    """Return every symbol the configured sources serve."""
    for name in getattr(container.market, "source_names", ()):
        source = container.market.source(name)  # type: ignore[attr-defined]
        refresh = getattr(source, "refresh", None)
        if refresh is not None:
            await refresh()
    return [asdict(info) for info in container.market.symbols()]


def clock(container: Container) -> dict[str, Any]:
    """Return the US equity session state now; crypto trades around the clock."""
    now = container.clock.now()
    calendar = _calendar(container.market)
    try:
        return {
            "timestamp": now.isoformat(),
            "is_open": calendar.is_open("us_equity", now),
            "next_open": calendar.next_open("us_equity", now).isoformat(),
            "next_close": calendar.next_close("us_equity", now).isoformat(),
            "crypto_is_open": calendar.is_open("crypto", now),
        }
    except ValueError as exc:
        raise InvalidInput(str(exc), code="out_of_range") from exc


def trading_days(
    container: Container, start: date, end: date
) -> list[tuple[date, datetime, datetime]]:
    """Return the US equity sessions dated ``start`` to ``end``: (day, open, close) in UTC."""
    calendar = _calendar(container.market)
    sessions = getattr(calendar, "sessions", None)
    if sessions is None:
        sessions = TradingCalendar().sessions
    try:
        frame = sessions("us_equity", start, end)
    except (ValueError, OverflowError) as exc:
        raise Unprocessable(str(exc), code="out_of_range") from exc
    return [
        (day.date(), row.open.to_pydatetime(), row.close.to_pydatetime())
        for day, row in zip(frame.index, frame.itertuples(), strict=True)
    ]


async def history(
    container: Container,
    *,
    symbol: str,
    timeframe: str,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    page_token: str | None = None,
) -> HistoryPage:
    """Return up to ``limit`` bars from ``start`` (or the page token) to ``end``, oldest first."""
    frame_of = parse_timeframe(timeframe)
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}.", code="invalid_limit")
    end = _utc(end) if end is not None else container.clock.now()
    if page_token:
        start = decode_page_token(page_token)
    elif start is None:
        start = end - DEFAULT_LOOKBACK[frame_of]
    start = _utc(start)
    if start >= end:
        raise InvalidInput("start must be before end.", code="invalid_range")
    canonical = resolve_symbol(container, symbol)
    start, end = _within_coverage(container.market, canonical, start, end)
    bars = await _collect(container.market, canonical, frame_of, start, end, limit)
    token = None
    if len(bars) > limit:
        token = encode_page_token(pd.Timestamp(bars.index[limit]).to_pydatetime())
        bars = bars.iloc[:limit]
    return HistoryPage(canonical, frame_of, bars, token)


def parse_timeframe(text: str) -> Timeframe:
    try:
        return Timeframe.parse(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_timeframe") from exc


def encode_page_token(start: datetime) -> str:
    """Return an opaque token for a page starting at ``start``."""
    payload = json.dumps({"start": _utc(start).isoformat()}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_page_token(token: str) -> datetime:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return _utc(datetime.fromisoformat(payload["start"]))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidInput("The page token is not valid.", code="invalid_page_token") from exc


async def _collect(
    market: MarketDataSource,
    symbol: str,
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
    limit: int,
) -> pd.DataFrame:
    """Fetch windows of growing length until ``limit`` + 1 bars or ``end`` is reached."""
    frames: list[pd.DataFrame] = []
    count, cursor = 0, start
    # Four times the bare span covers nights and weekends of equity sessions in one window.
    span = max(timeframe.delta * limit * 4, timedelta(days=4))
    while cursor < end and count <= limit:
        window_end = end if end - cursor <= span else cursor + span
        frame = await _source_call(market.get_bars(symbol, timeframe, cursor, window_end))
        frames.append(frame)
        count += len(frame)
        cursor, span = window_end, span * 4
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_bar_frame()
    return frames[0] if len(frames) == 1 else pd.concat(frames)


async def _load_price(container: Container, symbol: str) -> PriceSnapshot:
    market = container.market
    trade = await _source_call(market.latest_trade(symbol))
    quote = await _source_call(market.latest_quote(symbol))
    day = trade.time.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    daily = await _source_call(
        market.get_bars(symbol, Timeframe.DAY_1, day - timedelta(days=10), day)
    )
    asset_class = _asset_class(market, symbol)
    return PriceSnapshot.build(
        trade,
        quote,
        previous_close=float(daily["close"].iloc[-1]) if len(daily) else None,
        market_open=_is_open(container, asset_class),
        asset_class=asset_class,
    )


def _is_open(container: Container, asset_class: str) -> bool:
    try:
        return _calendar(container.market).is_open(asset_class, container.clock.now())
    except ValueError:
        return False


async def _source_call(call: Awaitable[T]) -> T:
    try:
        return await call
    except AppError:
        raise
    except (UnknownSymbol, NoStoredBars) as exc:
        # The source's own message already names the symbol (and why it is unknown).
        reason = str(exc.args[0]) if exc.args else "unknown symbol"
        raise NotFound(f"Unknown symbol: {reason}.", code="unknown_symbol") from exc
    except NotImplementedError as exc:
        raise InvalidInput(str(exc), code="not_supported") from exc
    except ValueError as exc:  # e.g. a date outside the simulated days
        raise InvalidInput(str(exc), code="out_of_range") from exc


def _within_coverage(
    market: MarketDataSource, symbol: str, start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """Clip the range to the simulated days when the simulator serves ``symbol``."""
    source_name_for = getattr(market, "source_name_for", None)
    name = source_name_for(symbol) if source_name_for else market.name
    if name != "simulator":
        return start, end
    first = datetime.combine(SIMULATED_FIRST_DAY, time(), tzinfo=UTC)
    last = datetime.combine(SIMULATED_LAST_DAY, time(), tzinfo=UTC) + timedelta(days=1)
    if end <= first or start >= last:
        raise InvalidInput(
            f"The simulated market covers {SIMULATED_FIRST_DAY} to {SIMULATED_LAST_DAY}.",
            code="out_of_range",
        )
    return max(start, first), min(end, last)


def _calendar(market: MarketDataSource) -> MarketCalendar:
    calendar: MarketCalendar | None = getattr(market, "calendar", None)
    return calendar or TradingCalendar()


def _asset_class(market: MarketDataSource, symbol: str) -> str:
    for info in market.symbols():
        if info.symbol == symbol:
            return info.asset_class
    return "crypto" if "/" in symbol else "us_equity"


def _utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
