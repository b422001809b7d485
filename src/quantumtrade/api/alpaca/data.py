"""``/data``: Alpaca's Market Data API v2 over the market service (bars, trades, quotes, snapshots).

Point alpaca-py's ``StockHistoricalDataClient`` or ``CryptoHistoricalDataClient`` at
``url_override="http://host:port/data"``: stocks answer under ``/data/v2/stocks``, crypto under
``/data/v1beta3/crypto/us``. Every symbol the market serves answers on both; the family only
decides the shape of trades, quotes and snapshots. The same API key pair as the trading API
signs every request (crypto too).

Parameters are Alpaca's: ``start`` and ``end`` both inclusive (RFC-3339 or ``YYYY-MM-DD``, UTC;
``start`` defaults to the start of the current UTC day, ``end`` to now), ``limit`` 1 to 10000
(1000 by default) counted over all symbols, ``sort`` ``asc`` or ``desc`` (within each symbol;
symbols stay in alphabetical order), an opaque ``page_token`` from ``next_page_token``.
``feed``, ``adjustment``, ``asof`` and ``currency`` (USD only) are accepted and change nothing:
the market has one feed and no corporate actions.

Bars are the market service's history (``1Min``, ``5Min``, ``15Min``, ``1Hour``, ``1Day``; any
other Alpaca timeframe answers 422). The service keeps no tick history: a trades or quotes query
returns the latest trade or quote when it falls in the range, and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from starlette.convertors import PathConvertor, register_url_convertor

from quantumtrade.api.alpaca.data_schemas import (
    AlpacaDataBars,
    AlpacaDataCryptoSnapshots,
    AlpacaDataLatestBar,
    AlpacaDataLatestBars,
    AlpacaDataLatestQuote,
    AlpacaDataLatestQuotes,
    AlpacaDataLatestTrade,
    AlpacaDataLatestTrades,
    AlpacaDataOrderbooks,
    AlpacaDataQuotes,
    AlpacaDataSnapshot,
    AlpacaDataSymbolBars,
    AlpacaDataSymbolQuotes,
    AlpacaDataSymbolSnapshot,
    AlpacaDataSymbolTrades,
    AlpacaDataTrades,
)
from quantumtrade.api.alpaca.deps import get_key_principal
from quantumtrade.api.alpaca.errors import ALPACA_ERRORS, AlpacaRoute
from quantumtrade.api.alpaca.views import EXCHANGE_CODES
from quantumtrade.api.deps import ContainerDep
from quantumtrade.api.schemas.common import IsoDateTime
from quantumtrade.domain.errors import InvalidInput, NotFound, Unprocessable
from quantumtrade.domain.market import (
    Bar,
    Timeframe,
    bars_from_frame,
    empty_bar_frame,
    resample_bars,
)
from quantumtrade.marketdata.source import SymbolInfo
from quantumtrade.services import market
from quantumtrade.services.container import Container

DATA_ERRORS = {status: ALPACA_ERRORS[status] for status in (400, 401, 404, 422, 429)}


class TextConvertor(PathConvertor):
    """A path parameter of any text, line breaks included (``{symbol:text}``): every symbol
    reaches the handler and its Alpaca 404, never the router's own 404 body."""

    regex = "(?s:.*)"


register_url_convertor("text", TextConvertor())

_COMMON: dict[str, Any] = {
    "route_class": AlpacaRoute,
    "responses": DATA_ERRORS,
    "dependencies": [Depends(get_key_principal)],
}
stocks = APIRouter(prefix="/data/v2/stocks", tags=["alpaca market data: stocks"], **_COMMON)
crypto = APIRouter(prefix="/data/v1beta3/crypto/us", tags=["alpaca market data: crypto"], **_COMMON)
router = APIRouter()

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
# How far back the latest bar and the snapshots' bars are looked for.
LATEST_LOOKBACK = timedelta(days=30)
# The first window read back from the end when looking for the last bars.
_FIRST_SPAN = timedelta(hours=6)
# Alpaca's ``end`` is inclusive, the market service's exclusive: one microsecond past it.
_INCLUSIVE = timedelta(microseconds=1)
_TIMEFRAME = re.compile(r"(\d{1,2})(Min|T|Hour|H|Day|D|Week|W|Month|M)")
_UNIT = {"T": "Min", "H": "Hour", "D": "Day", "W": "Week", "M": "Month"}
_SUPPORTED = {timeframe.value: timeframe for timeframe in Timeframe}
# The consolidated tape of a listing exchange (A: NYSE, C: Nasdaq, B: the other venues).
_ADJUSTMENTS = r"raw|split|dividend|spin-off|all"
# Alpaca's bar fields (besides ``t``) and ours.
_BAR_FIELDS = {"o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
_BAR_FIELDS |= {"n": "trade_count", "vw": "vwap"}

Entries = list[dict[str, Any]]
# One symbol's page: (symbol, cursor or None for its first page, how many at most) ->
# (entries, the cursor of the rest or None when the symbol is done).
PageOf = Callable[[str, datetime | None, int], Awaitable[tuple[Entries, datetime | None]]]

# -- parameters ---------------------------------------------------------------------------------

Symbols = Annotated[
    str,
    Query(
        description=f"Comma-separated symbols, at most {market.MAX_QUOTE_SYMBOLS}.",
        max_length=3000,
        pattern=r"[^,\s]",
        examples=["AAPL,MSFT"],
    ),
]
SymbolPath = Annotated[
    str, Path(min_length=1, max_length=30, description="A symbol.", examples=["AAPL"])
]
TimeframeQuery = Annotated[
    str,
    Query(
        max_length=10,
        description="Alpaca's syntax: 1Min (or 1T), 5Min, 15Min, 1Hour (or 1H), 1Day (or 1D); "
        "other timeframes (1Week, 1Month, 30Min...) answer 422.",
        examples=["1Min"],
    ),
]


class Window:
    """Alpaca's range, order and paging parameters."""

    def __init__(
        self,
        start: Annotated[
            IsoDateTime | None,
            Query(description="Inclusive (UTC); default the start of the current UTC day."),
        ] = None,
        end: Annotated[IsoDateTime | None, Query(description="Inclusive; default now.")] = None,
        limit: Annotated[
            int,
            Query(ge=1, le=MAX_LIMIT, description="At most this many, over all symbols."),
        ] = DEFAULT_LIMIT,
        page_token: Annotated[
            str | None, Query(max_length=300, description="next_page_token of the last page.")
        ] = None,
        sort: Annotated[
            Literal["asc", "desc"], Query(description="By time, within each symbol.")
        ] = "asc",
    ) -> None:
        self.start, self.end, self.limit = start, end, limit
        self.page_token, self.sort = page_token, sort


WindowDep = Annotated[Window, Depends()]


async def _stock_options(
    feed: Annotated[
        Literal["iex", "sip", "delayed_sip", "otc", "boats", "overnight"] | None,
        Query(description="Accepted; the market has one feed."),
    ] = None,
    asof: Annotated[
        str | None,
        Query(pattern=r"^(\d{4}-\d{2}-\d{2}|-)$", description="Accepted; no symbol renames."),
    ] = None,
    currency: Annotated[Literal["USD"] | None, Query(description="USD only.")] = None,
) -> None:
    """Alpaca's stock parameters that change nothing here, validated so a typo is a 422."""


async def _adjustment(
    adjustment: Annotated[
        str | None,
        Query(
            pattern=rf"^({_ADJUSTMENTS})(,({_ADJUSTMENTS}))*$",
            description="Accepted; the market has no corporate actions, so all are raw.",
        ),
    ] = None,
) -> None:
    """Alpaca's ``adjustment``: every adjustment of bars without corporate actions is raw."""


def timeframe_of(text: str) -> Timeframe:
    """Return the market's timeframe for an Alpaca timeframe (``1Min``, ``1H``...), else 422."""
    match = _TIMEFRAME.fullmatch(text.strip())
    if match is None:
        raise Unprocessable(f"invalid timeframe: {text[:20]}", code="invalid_timeframe")
    name = f"{int(match[1])}{_UNIT.get(match[2], match[2])}"
    if name not in _SUPPORTED:
        raise Unprocessable(
            f"timeframe {name} is not supported; use one of {', '.join(_SUPPORTED)}",
            code="timeframe_not_supported",
        )
    return _SUPPORTED[name]


def symbols_of(container: Container, text: str) -> list[str]:
    """Return the canonical symbols of a ``symbols`` list in Alpaca's order (alphabetical)."""
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise Unprocessable("name at least one symbol", code="missing_symbols")
    if len(names) > market.MAX_QUOTE_SYMBOLS:
        raise Unprocessable(
            f"at most {market.MAX_QUOTE_SYMBOLS} symbols at once", code="too_many_symbols"
        )
    known = {info.symbol for info in container.market.symbols()}
    canonical = [market.resolve_symbol(container, name, known) for name in names]
    unknown = [name for name, symbol in zip(names, canonical, strict=True) if symbol not in known]
    if unknown:
        raise NotFound(
            f"unknown symbol(s): {', '.join(unknown)}",
            code="unknown_symbol",
            details={"symbols": unknown},
        )
    return sorted(set(canonical))


@dataclass(frozen=True, slots=True)
class Range:
    """A window in the market service's terms: ``start`` inclusive, ``end`` exclusive."""

    start: datetime
    end: datetime
    limit: int
    sort: str
    page_token: str | None


def range_of(container: Container, window: Window) -> Range:
    now = container.clock.now()
    try:
        end = _utc(window.end) if window.end is not None else now
        start = _utc(window.start) if window.start is not None else _day_of(now)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise Unprocessable("start or end is out of range", code="invalid_range") from exc
    if start > end:
        raise Unprocessable("end should not be before start", code="invalid_range")
    # Nothing exists after now: a later end only costs empty windows.
    return Range(start, min(end, now) + _INCLUSIVE, window.limit, window.sort, window.page_token)


# -- page tokens --------------------------------------------------------------------------------


def encode_token(symbol: str, cursor: datetime | None, sort: str) -> str:
    """An opaque token: the symbol to go on with, where in it, and the order it was read in."""
    moment = None if cursor is None else _utc(cursor).isoformat()
    payload = json.dumps([symbol, moment, sort], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_token(token: str, sort: str) -> tuple[str, datetime | None]:
    try:
        padded = token + "=" * (-len(token) % 4)
        symbol, moment, order = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor = None if moment is None else _utc(datetime.fromisoformat(moment))
        valid = isinstance(symbol, str) and order == sort
    except (ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise Unprocessable("invalid page token", code="invalid_page_token")
    return symbol, cursor


async def pages(
    symbols: list[str], page_of: PageOf, window: Range
) -> tuple[dict[str, Entries], str | None]:
    """Fill one page of at most ``window.limit`` entries, symbol after symbol, from the token."""
    first, cursor = 0, None
    if window.page_token:
        symbol, cursor = decode_token(window.page_token, window.sort)
        if symbol not in symbols:
            raise Unprocessable("invalid page token", code="invalid_page_token")
        first = symbols.index(symbol)
    found: dict[str, Entries] = {}
    room = window.limit
    for symbol in symbols[first:]:
        if room == 0:
            return found, encode_token(symbol, None, window.sort)
        entries, following = await page_of(symbol, cursor, room)
        cursor = None
        if entries:
            found[symbol] = entries
        room -= len(entries)
        if following is not None:
            return found, encode_token(symbol, following, window.sort)
    return found, None


# -- bars ---------------------------------------------------------------------------------------


async def _history(
    container: Container,
    symbol: str,
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
    limit: int,
) -> market.HistoryPage:
    """The market service's bars; a range outside the market's data holds no bars."""
    if start >= end:
        return market.HistoryPage(symbol, timeframe, empty_bar_frame(), None)
    try:
        return await market.history(
            container, symbol=symbol, timeframe=timeframe.value, start=start, end=end, limit=limit
        )
    except InvalidInput as exc:
        if exc.code != "out_of_range":
            raise
        return market.HistoryPage(symbol, timeframe, empty_bar_frame(), None)


async def last_bars(
    container: Container,
    symbol: str,
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
    count: int,
) -> pd.DataFrame:
    """Return the last ``count`` bars with ``start <= time < end``, oldest first.

    The market service reads forward: windows reaching further back (four times as far each
    time) are read until ``count`` bars or ``start``. A window spans at most ``MAX_LIMIT`` bars
    of the timeframe, so one history call holds all of it.
    """
    frames: list[pd.DataFrame] = []
    have, cursor = 0, end
    widest = timeframe.delta * (market.MAX_LIMIT - 1)
    span = min(max(timeframe.delta * (count + 1), _FIRST_SPAN), widest)
    while have < count and cursor > start:
        lower = start if cursor - start <= span else cursor - span
        page = await _history(container, symbol, timeframe, lower, cursor, market.MAX_LIMIT)
        frames.insert(0, page.bars)
        have += len(page.bars)
        cursor, span = lower, min(span * 4, widest)
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return empty_bar_frame()
    bars = frames[0] if len(frames) == 1 else pd.concat(frames)
    return bars.iloc[-count:]


def bar_entry(bar: Bar) -> dict[str, Any]:
    return {"t": _time(bar.time)} | {key: getattr(bar, name) for key, name in _BAR_FIELDS.items()}


def _entries(symbol: str, timeframe: Timeframe, frame: pd.DataFrame) -> Entries:
    return [bar_entry(bar) for bar in bars_from_frame(symbol, timeframe, frame)]


async def bars(
    container: Container, symbols: list[str], timeframe: Timeframe, window: Range
) -> tuple[dict[str, Entries], str | None]:
    async def page_of(
        symbol: str, cursor: datetime | None, room: int
    ) -> tuple[Entries, datetime | None]:
        if window.sort == "asc":
            page = await _history(
                container, symbol, timeframe, cursor or window.start, window.end, room
            )
            token = page.next_page_token
            following = market.decode_page_token(token) if token else None
            return _entries(symbol, timeframe, page.bars), following
        frame = await last_bars(
            container, symbol, timeframe, window.start, cursor or window.end, room + 1
        )
        following = None
        if len(frame) > room:  # more before these: the next page ends where this one starts
            frame = frame.iloc[1:]
            following = pd.Timestamp(frame.index[0]).to_pydatetime()
        return _entries(symbol, timeframe, frame)[::-1], following

    return await pages(symbols, page_of, window)


async def _latest_bar(container: Container, symbol: str) -> dict[str, Any] | None:
    now = container.clock.now()
    frame = await last_bars(container, symbol, Timeframe.MIN_1, now - LATEST_LOOKBACK, now, 1)
    entries = _entries(symbol, Timeframe.MIN_1, frame)
    return entries[-1] if entries else None


# -- trades and quotes: the latest only ---------------------------------------------------------


class Latest:
    """The latest trade and quote of symbols (the market service's cached prices)."""

    def __init__(self, container: Container, views: list[dict[str, Any]], stock: bool) -> None:
        infos = {info.symbol: info for info in container.market.symbols()}
        self.views = {str(view["symbol"]): view for view in views}
        self.stock = stock
        self._tapes = {symbol: _tape(infos.get(symbol)) for symbol in self.views}

    @classmethod
    async def load(cls, container: Container, symbols: list[str], stock: bool) -> Latest:
        return cls(container, await market.quotes(container, symbols), stock)

    def trade(self, symbol: str) -> dict[str, Any]:
        view = self.views[symbol]
        entry = {"t": _time(view["timestamp"]), "p": view["price"], "s": view["size"], "i": None}
        if self.stock:
            return entry | {"x": None, "c": None, "z": self._tapes[symbol]}
        return entry | {"tks": None}

    def quote(self, symbol: str) -> dict[str, Any]:
        view = self.views[symbol]
        entry = {"t": _time(view["quote_timestamp"]), "ap": view["ask"], "as": view["ask_size"]}
        entry |= {"bp": view["bid"], "bs": view["bid_size"]}
        if self.stock:
            return entry | {"ax": None, "bx": None, "c": None, "z": self._tapes[symbol]}
        return entry

    def orderbook(self, symbol: str) -> dict[str, Any]:
        view = self.views[symbol]
        return {
            "t": _time(view["quote_timestamp"]),
            "b": [{"p": view["bid"], "s": view["bid_size"]}],
            "a": [{"p": view["ask"], "s": view["ask_size"]}],
        }

    def all(self, kind: Literal["trade", "quote", "orderbook"]) -> dict[str, dict[str, Any]]:
        make = getattr(self, kind)
        return {symbol: make(symbol) for symbol in self.views}


async def ticks(
    container: Container,
    symbols: list[str],
    window: Range,
    kind: Literal["trade", "quote"],
    stock: bool,
) -> tuple[dict[str, Entries], str | None]:
    """Trades or quotes in the range: the latest one of each symbol, when it falls in it."""
    latest = await Latest.load(container, symbols, stock)

    async def page_of(
        symbol: str, _cursor: datetime | None, _room: int
    ) -> tuple[Entries, datetime | None]:
        entry = getattr(latest, kind)(symbol)
        moment = datetime.fromisoformat(entry["t"])
        return ([entry] if window.start <= moment < window.end else []), None

    return await pages(symbols, page_of, window)


# -- snapshots ----------------------------------------------------------------------------------


async def snapshot(container: Container, latest: Latest, symbol: str) -> dict[str, Any]:
    """The latest trade and quote, the last minute bar, the day's bar and the previous one.

    The day is the UTC day of the latest trade. Its bar is the market's daily bar once the day
    is over, and until then the day's minute bars so far, aggregated; ``prevDailyBar`` is the
    daily bar before it, whose close is the price endpoint's ``previous_close``.
    """
    now = container.clock.now()
    since = now - LATEST_LOOKBACK
    days = bars_from_frame(
        symbol, Timeframe.DAY_1, await last_bars(container, symbol, Timeframe.DAY_1, since, now, 2)
    )
    trade_time = datetime.fromisoformat(str(latest.views[symbol]["timestamp"]))
    day = _day_of(trade_time)
    if days and days[-1].time >= day:
        daily: Bar | None = days[-1]
        previous = days[-2] if len(days) > 1 else None
    else:
        previous = days[-1] if days else None
        minutes = await _history(container, symbol, Timeframe.MIN_1, day, now, 2 * 24 * 60)
        so_far = bars_from_frame(
            symbol, Timeframe.DAY_1, resample_bars(minutes.bars, Timeframe.DAY_1)
        )
        daily = so_far[-1] if so_far else None
    return {
        "latestTrade": latest.trade(symbol),
        "latestQuote": latest.quote(symbol),
        "minuteBar": await _latest_bar(container, symbol),
        "dailyBar": None if daily is None else bar_entry(daily),
        "prevDailyBar": None if previous is None else bar_entry(previous),
    }


async def snapshots(container: Container, symbols: list[str], stock: bool) -> dict[str, Any]:
    latest = await Latest.load(container, symbols, stock)
    return {symbol: await snapshot(container, latest, symbol) for symbol in symbols}


# -- what each route loads --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ask:
    """One request: its symbols (canonical, in order), family, range and timeframe."""

    symbols: list[str]
    stock: bool
    window: Range | None
    timeframe: Timeframe | None

    @property
    def range(self) -> Range:
        assert self.window is not None, "a route that loads a range takes one"
        return self.window


Body = dict[str, Any]
Load = Callable[[Container, Ask], Awaitable[Body]]
# The one-symbol form of a multi-symbol answer.
Shape = Callable[[Body, str], Body]


async def load_bars(container: Container, ask: Ask) -> Body:
    assert ask.timeframe is not None, "a bars route takes a timeframe"
    found, token = await bars(container, ask.symbols, ask.timeframe, ask.range)
    return {"bars": found, "next_page_token": token}


def load_ticks(kind: Literal["trade", "quote"]) -> Load:
    async def load(container: Container, ask: Ask) -> Body:
        found, token = await ticks(container, ask.symbols, ask.range, kind, ask.stock)
        return {f"{kind}s": found, "next_page_token": token}

    return load


def load_latest(kind: Literal["trade", "quote", "orderbook"]) -> Load:
    async def load(container: Container, ask: Ask) -> Body:
        latest = await Latest.load(container, ask.symbols, ask.stock)
        return {f"{kind}s": latest.all(kind)}

    return load


async def load_latest_bars(container: Container, ask: Ask) -> Body:
    found = {symbol: await _latest_bar(container, symbol) for symbol in ask.symbols}
    return {"bars": {symbol: bar for symbol, bar in found.items() if bar is not None}}


async def load_snapshots(container: Container, ask: Ask) -> Body:
    latest = await Latest.load(container, ask.symbols, ask.stock)
    found = {symbol: await snapshot(container, latest, symbol) for symbol in ask.symbols}
    # Stocks answer the snapshots themselves, keyed by symbol; crypto wraps them.
    return found if ask.stock else {"snapshots": found}


def listed(key: str) -> Shape:
    """``{key: [...], "symbol", "next_page_token"}``."""
    return lambda body, symbol: {
        key: body[key].get(symbol, []),
        "symbol": symbol,
        "next_page_token": body["next_page_token"],
    }


def single(key: str, name: str) -> Shape:
    """``{"symbol", name: {...}}``; 404 when the symbol has none."""

    def shape(body: Body, symbol: str) -> Body:
        if symbol not in body[key]:
            raise NotFound(f"no {name} found for {symbol}", code=f"no_{name}")
        return {"symbol": symbol, name: body[key][symbol]}

    return shape


def own_snapshot(body: Body, symbol: str) -> Body:
    return {"symbol": symbol, **body[symbol]}


# -- routes -----------------------------------------------------------------------------------

_TICKS_NOTE = (
    "Partial: the market keeps no tick history, so this is the latest one of each symbol when"
    " it falls in the range."
)


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """A route of both families (a path of None: not in that family) and its one-symbol form."""

    load: Load
    summary: str
    model: Any
    stocks: str | None
    crypto: str | None
    one: tuple[str, Shape, Any] | None = None  # stocks only: path, shape, model
    window: bool = False
    timeframe: bool = False
    note: str = ""
    crypto_model: Any = None


_ROUTES = (
    RouteSpec(
        load_bars, "Bars", AlpacaDataBars, "/bars", "/bars", window=True, timeframe=True,
        one=("/{symbol:text}/bars", listed("bars"), AlpacaDataSymbolBars),
    ),
    RouteSpec(
        load_ticks("trade"), "Trades", AlpacaDataTrades, "/trades", "/trades", window=True,
        one=("/{symbol:text}/trades", listed("trades"), AlpacaDataSymbolTrades), note=_TICKS_NOTE,
    ),
    RouteSpec(
        load_ticks("quote"), "Quotes", AlpacaDataQuotes, "/quotes", "/quotes", window=True,
        one=("/{symbol:text}/quotes", listed("quotes"), AlpacaDataSymbolQuotes), note=_TICKS_NOTE,
    ),
    RouteSpec(
        load_latest("trade"), "The latest trade", AlpacaDataLatestTrades, "/trades/latest",
        "/latest/trades",
        one=("/{symbol:text}/trades/latest", single("trades", "trade"), AlpacaDataLatestTrade),
    ),
    RouteSpec(
        load_latest("quote"), "The latest quote", AlpacaDataLatestQuotes, "/quotes/latest",
        "/latest/quotes",
        one=("/{symbol:text}/quotes/latest", single("quotes", "quote"), AlpacaDataLatestQuote),
    ),
    RouteSpec(
        load_latest_bars, "The latest minute bar", AlpacaDataLatestBars, "/bars/latest",
        "/latest/bars",
        one=("/{symbol:text}/bars/latest", single("bars", "bar"), AlpacaDataLatestBar),
    ),
    RouteSpec(
        load_snapshots, "The latest trade, quote, minute bar, daily bar and previous daily bar",
        dict[str, AlpacaDataSnapshot], "/snapshots", "/snapshots",
        one=("/{symbol:text}/snapshot", own_snapshot, AlpacaDataSymbolSnapshot),
        crypto_model=AlpacaDataCryptoSnapshots,
    ),
    RouteSpec(
        load_latest("orderbook"), "The top of the book", AlpacaDataOrderbooks, None,
        "/latest/orderbooks",
        note="Partial: one bid level and one ask level, from the latest quote.",
    ),
)  # fmt: skip


async def _symbols_query(container: ContainerDep, symbols: Symbols) -> list[str]:
    return symbols_of(container, symbols)


async def _symbol_path(container: ContainerDep, symbol: SymbolPath) -> list[str]:
    return [market.known_symbol(container, symbol)]


async def _range(container: ContainerDep, window: WindowDep) -> Range:
    return range_of(container, window)


async def _timeframe(timeframe: TimeframeQuery) -> Timeframe:
    return timeframe_of(timeframe)


async def _nothing() -> None:
    return None


def _endpoint(route: RouteSpec, stock: bool, one: Shape | None) -> Callable[..., Any]:
    """The route's handler: its parameters are the dependencies the route takes."""

    async def endpoint(
        container: ContainerDep,
        symbols: list[str] = Depends(_symbol_path if one else _symbols_query),
        window: Range | None = Depends(_range if route.window else _nothing),
        timeframe: Timeframe | None = Depends(_timeframe if route.timeframe else _nothing),
    ) -> JSONResponse:
        body = await route.load(container, Ask(symbols, stock, window, timeframe))
        return JSONResponse(body if one is None else one(body, symbols[0]))

    return endpoint


def _add(family: APIRouter, path: str, route: RouteSpec, model: Any, one: Shape | None) -> None:
    stock = family is stocks
    summary = f"{route.summary} of {'one symbol' if one else 'several symbols'}"
    options = [Depends(_stock_options)] if stock else []
    if stock and route.timeframe:
        options.append(Depends(_adjustment))
    family.add_api_route(
        path,
        _endpoint(route, stock, one),
        methods=["GET"],
        summary=summary if stock else f"{route.summary}: crypto",
        description=route.note,
        responses={200: {"model": model}},
        dependencies=options,
        name=re.sub(r"\W+", "_", f"{'stocks' if stock else 'crypto'}{path}").strip("_"),
    )


def _register() -> None:
    # The multi-symbol paths go before the one-symbol templates (``/{symbol:text}/...``).
    for route in _ROUTES:
        if route.stocks is not None:
            _add(stocks, route.stocks, route, route.model, None)
        if route.crypto is not None:
            _add(crypto, route.crypto, route, route.crypto_model or route.model, None)
    for route in _ROUTES:
        if route.one is not None:
            path, shape, model = route.one
            _add(stocks, path, route, model, shape)
    router.include_router(stocks)
    router.include_router(crypto)


_register()


def _tape(info: SymbolInfo | None) -> str | None:
    if info is None or info.asset_class != "us_equity":
        return None
    return EXCHANGE_CODES.get(info.exchange, ("", "B"))[1]


def _time(moment: datetime | str) -> str:
    """RFC-3339 in UTC with a ``Z``, as Alpaca writes times."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return _utc(moment).isoformat().replace("+00:00", "Z")


def _day_of(moment: datetime) -> datetime:
    """The start of ``moment``'s UTC day."""
    return _utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
