"""The Alpaca-compatible market data API in process, checked against ``/api/market``.

The app's clock is fixed on Wednesday 2026-11-18 16:00 UTC (the 17th's session closed, the
18th's open). Every answer must hold what our own market endpoints say for the same symbols and
range, parse into alpaca-py's models, and page as Alpaca pages: by symbol, then by time, the
pages together equal to one call. alpaca-py itself drives a real server process in
``tests/e2e/test_alpaca_sdk_data.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from alpaca.data.historical.utils import parse_obj_as_symbol_dict
from alpaca.data.models import Bar, BarSet, Orderbook, Quote, QuoteSet, Snapshot, Trade, TradeSet

from quantumtrade.domain.clock import FixedClock
from support import DEFAULT_NOW

from .conftest import AppFactory
from .test_alpaca_api import UNAUTHORIZED, apca, trader

STOCKS = "/data/v2/stocks"
CRYPTO = "/data/v1beta3/crypto/us"
SYMBOLS = "MSFT,BTC/USD,aapl"  # answered as AAPL, BTC/USD, MSFT: Alpaca's order
ORDERED = ["AAPL", "BTC/USD", "MSFT"]
BAR_FIELDS = {"t": "time", "o": "open", "h": "high", "l": "low", "c": "close", "v": "volume"}
BAR_FIELDS |= {"n": "trade_count", "vw": "vwap"}


@dataclass
class Api:
    client: httpx.AsyncClient
    headers: dict[str, str]

    async def get(self, path: str, status: int = 200, **params: Any) -> Any:
        response = await self.client.get(path, params=params, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()

    async def refused(
        self, path: str, status: int, reason: str | None = None, **params: Any
    ) -> Any:
        """An Alpaca error body: ``{"code": status * 100000 + 10000, "message", ...}``."""
        body = await self.get(path, status, **params)
        assert body["code"] == status * 100_000 + 10_000 and isinstance(body["message"], str)
        if reason is not None:
            assert body.get("reason") == reason, body
        return body

    async def history(self, symbol: str, timeframe: str, start: str, end: str) -> list[Any]:
        """Bars of ``/api/market/history`` (``end`` exclusive), in the Alpaca data API's form."""
        body = await self.get(
            f"/api/market/history/{symbol.replace('/', '')}",
            timeframe=timeframe,
            start=start,
            end=end,
            limit=100_000,
        )
        return [{key: bar[name] for key, name in BAR_FIELDS.items()} for bar in body["bars"]]

    async def pages(self, path: str, **params: Any) -> list[Any]:
        """Every page of a paged answer, following ``next_page_token``."""
        found, token = [], None
        while True:
            page = await self.get(path, **params, **({"page_token": token} if token else {}))
            found.append(page)
            token = page["next_page_token"]
            if token is None:
                return found


@pytest.fixture
async def api(make_api: AppFactory) -> AsyncIterator[Api]:
    async with make_api() as (_app, client):
        _auth, _portfolio_id, key = await trader(client)
        yield Api(client, apca(key))


def same_bars(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    assert [bar["t"] for bar in ours] == [bar["t"] for bar in theirs]
    for mine, other in zip(ours, theirs, strict=True):
        assert mine == {k: pytest.approx(v, rel=1e-9) if k != "t" else v for k, v in other.items()}


@pytest.mark.parametrize(
    ("timeframe", "start", "end", "history_end"),
    [
        ("1Min", "2026-11-17T00:00:00Z", "2026-11-17T23:59:00Z", "2026-11-18T00:00:00Z"),
        ("5Min", "2026-11-17T14:30:00Z", "2026-11-18T15:00:00Z", "2026-11-18T15:00:01Z"),
        ("15Min", "2026-11-16", "2026-11-17T23:59:59Z", "2026-11-18T00:00:00Z"),
        ("1Hour", "2026-11-16T00:00:00Z", "2026-11-18T15:00:00Z", "2026-11-18T15:00:01Z"),
        ("1Day", "2026-10-01", "2026-11-17", "2026-11-17T00:00:01Z"),
    ],
)
async def test_bars_are_the_market_history_of_the_same_range(
    api: Api, timeframe: str, start: str, end: str, history_end: str
) -> None:
    body = await api.get(
        f"{STOCKS}/bars", symbols=SYMBOLS, timeframe=timeframe, start=start, end=end, limit=10000
    )
    assert list(body["bars"]) == ORDERED and body["next_page_token"] is None
    for symbol in ORDERED:
        expected = await api.history(symbol, timeframe, start, history_end)
        assert expected, f"no {symbol} bars to compare"
        same_bars(body["bars"][symbol], expected)
    # Alpaca's end is inclusive: the last bar starts exactly at ``end`` when one does.
    if timeframe in ("5Min", "1Hour", "1Day"):
        assert _moment(body["bars"]["AAPL"][-1]["t"]) == _moment(end)
    parsed = BarSet(body["bars"])
    assert [bar.close for bar in parsed["MSFT"]] == [bar["c"] for bar in body["bars"]["MSFT"]]
    # The crypto family answers the same bars.
    assert (
        await api.get(
            f"{CRYPTO}/bars",
            symbols=SYMBOLS,
            timeframe=timeframe,
            start=start,
            end=end,
            limit=10000,
        )
        == body
    )


@pytest.mark.parametrize("sort", ["asc", "desc"])
async def test_pages_together_equal_one_call(api: Api, sort: str) -> None:
    window = {"timeframe": "15Min", "start": "2026-11-16", "sort": sort}
    query = {"symbols": SYMBOLS, **window}
    whole = await api.get(f"{STOCKS}/bars", **query, limit=10000)
    assert list(whole["bars"]) == ORDERED and whole["next_page_token"] is None
    times = [bar["t"] for bar in whole["bars"]["BTC/USD"]]
    assert times == sorted(times, reverse=sort == "desc")

    pages = await api.pages(f"{STOCKS}/bars", **query, limit=40)
    total = sum(len(bars) for bars in whole["bars"].values())
    assert len(pages) == -(-total // 40)
    assert all(sum(len(b) for b in page["bars"].values()) == 40 for page in pages[:-1])
    joined: dict[str, list[Any]] = {}
    for page in pages:
        for symbol, bars in page["bars"].items():
            joined.setdefault(symbol, []).extend(bars)
    assert joined == whole["bars"]
    # Symbol by symbol: a page never goes back to a symbol an earlier page finished.
    order = [symbol for page in pages for symbol in page["bars"]]
    assert order == sorted(order)
    # The token is stable: the same request answers the same page and token.
    again = await api.get(
        f"{STOCKS}/bars", **query, limit=40, page_token=pages[0]["next_page_token"]
    )
    assert again == pages[1]

    # One symbol's route pages the same way.
    one = await api.pages(f"{STOCKS}/BTC%2FUSD/bars", **window, limit=100)
    assert [page["symbol"] for page in one] == ["BTC/USD"] * len(one) and len(one) > 1
    assert [bar for page in one for bar in page["bars"]] == whole["bars"]["BTC/USD"]


async def test_descending_bars_are_the_ascending_ones_reversed(api: Api) -> None:
    window = {"timeframe": "1Day", "start": "2026-06-01", "end": "2026-11-17"}
    up = await api.get(f"{STOCKS}/bars", symbols="AAPL,MSFT", **window, sort="asc")
    down = await api.get(f"{STOCKS}/bars", symbols="AAPL,MSFT", **window, sort="desc")
    assert {s: bars[::-1] for s, bars in up["bars"].items()} == down["bars"]
    # A limit takes the newest bars first.
    newest = await api.get(f"{STOCKS}/AAPL/bars", **window, sort="desc", limit=3)
    assert newest["bars"] == down["bars"]["AAPL"][:3] and newest["next_page_token"]


async def test_latest_trades_and_quotes_are_the_market_prices(api: Api) -> None:
    prices = {
        p["symbol"]: p
        for p in (await api.get("/api/market/quotes", symbols=",".join(ORDERED)))["quotes"]
    }
    trades = (await api.get(f"{STOCKS}/trades/latest", symbols=SYMBOLS))["trades"]
    quotes = (await api.get(f"{STOCKS}/quotes/latest", symbols=SYMBOLS))["quotes"]
    assert list(trades) == list(quotes) == ORDERED
    for symbol in ORDERED:
        price, trade, quote = prices[symbol], trades[symbol], quotes[symbol]
        assert (trade["p"], trade["s"]) == (price["price"], price["size"])
        assert _moment(trade["t"]) == _moment(price["timestamp"]) <= DEFAULT_NOW
        assert (quote["bp"], quote["bs"]) == (price["bid"], price["bid_size"])
        assert (quote["ap"], quote["as"]) == (price["ask"], price["ask_size"])
        assert _moment(quote["t"]) == _moment(price["quote_timestamp"])
        assert trade["t"].endswith("Z") and quote["bp"] <= quote["ap"]
    # The listing exchange's tape: Nasdaq is C; crypto has none.
    assert (trades["AAPL"]["z"], trades["BTC/USD"]["z"]) == ("C", None)
    for symbol, trade in parse_obj_as_symbol_dict(Trade, trades).items():
        assert (trade.symbol, trade.price) == (symbol, prices[symbol]["price"])
    for symbol, quote in parse_obj_as_symbol_dict(Quote, quotes).items():
        assert quote.bid_price == prices[symbol]["bid"]

    one = await api.get(f"{STOCKS}/MSFT/trades/latest")
    assert one == {"symbol": "MSFT", "trade": trades["MSFT"]}
    assert await api.get(f"{STOCKS}/msft/quotes/latest") == {
        "symbol": "MSFT",
        "quote": quotes["MSFT"],
    }

    crypto_trades = (await api.get(f"{CRYPTO}/latest/trades", symbols="BTC/USD"))["trades"]
    crypto_quotes = (await api.get(f"{CRYPTO}/latest/quotes", symbols="BTCUSD"))["quotes"]
    # Crypto's shapes: no exchange, condition or tape fields.
    assert set(crypto_trades["BTC/USD"]) == {"t", "p", "s", "i", "tks"}
    assert set(crypto_quotes["BTC/USD"]) == {"t", "bp", "bs", "ap", "as"}
    assert crypto_trades["BTC/USD"]["p"] == trades["BTC/USD"]["p"]
    assert crypto_quotes["BTC/USD"] == {k: quotes["BTC/USD"][k] for k in crypto_quotes["BTC/USD"]}
    books = (await api.get(f"{CRYPTO}/latest/orderbooks", symbols="BTC/USD"))["orderbooks"]
    book = parse_obj_as_symbol_dict(Orderbook, books)["BTC/USD"]
    best = crypto_quotes["BTC/USD"]
    assert [(b.price, b.size) for b in book.bids] == [(best["bp"], best["bs"])]
    assert [(a.price, a.size) for a in book.asks] == [(best["ap"], best["as"])]


async def test_trades_and_quotes_of_a_range_hold_only_the_latest(api: Api) -> None:
    latest = (await api.get(f"{STOCKS}/trades/latest", symbols="AAPL,MSFT"))["trades"]
    # The default range is the current day: the latest trade is in it.
    today = await api.get(f"{STOCKS}/trades", symbols="AAPL,MSFT")
    assert today == {"trades": {s: [t] for s, t in latest.items()}, "next_page_token": None}
    assert TradeSet(today["trades"])["AAPL"][0].price == latest["AAPL"]["p"]
    # A past range: the market keeps no tick history, so nothing (never made-up ticks).
    past = {"start": "2026-11-17", "end": "2026-11-17T23:59:59Z"}
    assert await api.get(f"{STOCKS}/trades", symbols="AAPL", **past) == {
        "trades": {},
        "next_page_token": None,
    }
    assert await api.get(f"{STOCKS}/quotes", symbols="AAPL", **past) == {
        "quotes": {},
        "next_page_token": None,
    }
    # Pages of one entry: one symbol each.
    pages = await api.pages(f"{STOCKS}/quotes", symbols="MSFT,AAPL", limit=1)
    assert [list(page["quotes"]) for page in pages] == [["AAPL"], ["MSFT"]]
    quotes = QuoteSet(pages[0]["quotes"])
    assert quotes["AAPL"][0].ask_price >= quotes["AAPL"][0].bid_price
    one = await api.get(f"{STOCKS}/AAPL/trades")
    assert one == {"trades": [latest["AAPL"]], "symbol": "AAPL", "next_page_token": None}
    crypto = await api.get(f"{CRYPTO}/quotes", symbols="BTC/USD", start="2026-11-18T15:00:00Z")
    assert set(crypto["quotes"]["BTC/USD"][0]) == {"t", "bp", "bs", "ap", "as"}
    assert len((await api.get(f"{CRYPTO}/trades", symbols="BTC/USD"))["trades"]["BTC/USD"]) == 1


async def test_latest_bar_is_the_last_complete_minute(api: Api) -> None:
    minutes = await api.history("AAPL", "1Min", "2026-11-18T00:00:00Z", DEFAULT_NOW.isoformat())
    bars = (await api.get(f"{STOCKS}/bars/latest", symbols="AAPL,MSFT"))["bars"]
    assert list(bars) == ["AAPL", "MSFT"] and bars["AAPL"]["t"] == "2026-11-18T15:59:00Z"
    same_bars([bars["AAPL"]], minutes[-1:])
    assert await api.get(f"{STOCKS}/AAPL/bars/latest") == {"symbol": "AAPL", "bar": bars["AAPL"]}
    crypto = (await api.get(f"{CRYPTO}/latest/bars", symbols="BTC/USD"))["bars"]
    same_bars(
        [crypto["BTC/USD"]],
        (await api.history("BTC/USD", "1Min", "2026-11-18T15:59:00Z", "2026-11-18T16:00:00Z")),
    )
    parse_obj_as_symbol_dict(Bar, bars)


async def check_snapshot(api: Api, symbol: str, snapshot: dict[str, Any], now: datetime) -> None:
    """The snapshot's parts against the market's own prices and bars at ``now``."""
    price = await api.get(f"/api/market/price/{symbol.replace('/', '')}")
    assert snapshot["latestTrade"]["p"] == price["price"]
    assert snapshot["latestQuote"]["bp"] == price["bid"]
    day = now.strftime("%Y-%m-%dT00:00:00Z")
    minutes = await api.history(symbol, "1Min", day, now.isoformat())
    same_bars([snapshot["minuteBar"]], minutes[-1:])
    days = await api.history(symbol, "1Day", "2026-11-01", now.isoformat())
    if days[-1]["t"] == day:  # the day is over: its daily bar, and the one before
        same_bars([snapshot["dailyBar"], snapshot["prevDailyBar"]], days[-1:-3:-1])
    else:  # the day so far, from its minute bars
        daily = snapshot["dailyBar"]
        assert daily["t"] == day
        assert (daily["o"], daily["c"]) == (minutes[0]["o"], minutes[-1]["c"])
        assert daily["h"] == max(bar["h"] for bar in minutes)
        assert daily["l"] == min(bar["l"] for bar in minutes)
        assert daily["v"] == pytest.approx(sum(bar["v"] for bar in minutes))
        assert daily["n"] == sum(bar["n"] for bar in minutes)
        same_bars([snapshot["prevDailyBar"]], days[-1:])
    # The previous daily bar's close is the price endpoint's previous close.
    assert snapshot["prevDailyBar"]["c"] == price["previous_close"]


@pytest.mark.parametrize(
    "now",
    [DEFAULT_NOW, datetime(2026, 11, 18, 22, 0, tzinfo=UTC)],
    ids=["in-session", "after-the-close"],
)
async def test_snapshots_match_prices_and_bars(make_api: AppFactory, now: datetime) -> None:
    async with make_api(clock=FixedClock(now)) as (_app, client):
        _auth, _portfolio_id, key = await trader(client)
        api = Api(client, apca(key))
        stocks = await api.get(f"{STOCKS}/snapshots", symbols="MSFT,AAPL")
        assert list(stocks) == ["AAPL", "MSFT"]
        for symbol, snapshot in stocks.items():
            await check_snapshot(api, symbol, snapshot, now)
        parsed = parse_obj_as_symbol_dict(Snapshot, stocks)
        assert parsed["AAPL"].previous_daily_bar is not None
        one = await api.get(f"{STOCKS}/AAPL/snapshot")
        assert one == {"symbol": "AAPL", **stocks["AAPL"]}
        crypto = await api.get(f"{CRYPTO}/snapshots", symbols="BTC/USD")
        await check_snapshot(api, "BTC/USD", crypto["snapshots"]["BTC/USD"], now)
        parse_obj_as_symbol_dict(Snapshot, crypto["snapshots"])


async def test_timeframes_in_alpaca_syntax(api: Api) -> None:
    query = {"symbols": "AAPL", "start": "2026-11-10", "end": "2026-11-17"}
    for alias, name in (("1T", "1Min"), ("1H", "1Hour"), ("1D", "1Day"), ("15Min", "15Min")):
        assert await api.get(f"{STOCKS}/bars", timeframe=alias, **query) == await api.get(
            f"{STOCKS}/bars", timeframe=name, **query
        )
    # Alpaca's other timeframes are valid but not served; "1M" is a month, not a minute.
    for timeframe in ("1Week", "1W", "1M", "3Month", "30Min", "2Hour", "10T"):
        body = await api.refused(
            f"{STOCKS}/bars", 422, "timeframe_not_supported", timeframe=timeframe, **query
        )
        assert "1Min, 5Min, 15Min, 1Hour, 1Day" in body["message"]
    for timeframe in ("1min", "minute", "0Day", "1Days", ""):
        await api.refused(f"{STOCKS}/bars", 422, timeframe=timeframe, **query)


async def test_refusals_use_alpaca_bodies(api: Api) -> None:
    bars = {"symbols": "AAPL", "timeframe": "1Min"}
    # Keys: none, a wrong secret, another key id: the same 401.
    for headers in (
        {},
        {**api.headers, "APCA-API-SECRET-KEY": "x" * 40},
        {**api.headers, "APCA-API-KEY-ID": "PK" + "Z" * 18},
    ):
        for path, params in (
            (f"{STOCKS}/bars", bars),
            (f"{STOCKS}/AAPL/snapshot", {}),
            (f"{CRYPTO}/latest/quotes", {"symbols": "BTC/USD"}),
        ):
            response = await api.client.get(path, params=params, headers=headers)
            assert (response.status_code, response.json()) == (401, UNAUTHORIZED)

    unknown = await api.refused(
        f"{STOCKS}/bars", 404, "unknown_symbol", **{**bars, "symbols": "AAPL,NOPE"}
    )
    assert unknown["symbols"] == ["NOPE"]
    await api.refused(f"{CRYPTO}/latest/trades", 404, "unknown_symbol", symbols="DOGE/USD")
    await api.refused(f"{STOCKS}/NOPE/bars", 404, "unknown_symbol", timeframe="1Min")
    await api.refused(f"{STOCKS}/NOPE/snapshot", 404, "unknown_symbol")
    await api.refused(f"{STOCKS}/quotes/latest", 404, "unknown_symbol", symbols="$$$")
    # Any text in the path is a symbol, a line break too: the answer is still Alpaca's.
    await api.refused(f"{STOCKS}/AA%0APL/bars/latest", 404, "unknown_symbol")

    for limit in ("0", "10001", "ten", "-1"):
        await api.refused(f"{STOCKS}/bars", 422, **bars, limit=limit)
    for bad in (
        {"sort": "sideways"},
        {"start": "yesterday"},
        {"start": "1700000000"},
        {"start": "0001-01-01T00:00:00+14:00"},  # before year 1 in UTC
        {"feed": "nasdaq"},
        {"adjustment": "everything"},
        {"currency": "EUR"},
        {"asof": "18/11/2026"},
        {"symbols": ","},
        {"symbols": "\x1c"},  # white space to str.strip(), not to the schema's pattern
        {"symbols": ",".join(f"S{i}" for i in range(101))},
        {"timeframe": None},
        {"symbols": None},
    ):
        query = {k: v for k, v in {**bars, **bad}.items() if v is not None}
        await api.refused(f"{STOCKS}/bars", 422, **query)
    await api.refused(
        f"{STOCKS}/bars", 422, "invalid_range", **bars, start="2026-11-18", end="2026-11-17"
    )

    # Page tokens: garbage, one of a descending read used ascending, one of other symbols.
    await api.refused(f"{STOCKS}/bars", 422, "invalid_page_token", **bars, page_token="bm9wZQ")
    down = await api.get(f"{STOCKS}/bars", **bars, sort="desc", limit=2)
    await api.refused(
        f"{STOCKS}/bars", 422, "invalid_page_token", **bars, page_token=down["next_page_token"]
    )
    await api.refused(
        f"{STOCKS}/bars",
        422,
        "invalid_page_token",
        **{**bars, "symbols": "MSFT"},
        sort="desc",
        page_token=down["next_page_token"],
    )

    # Alpaca's parameters that change nothing here are accepted.
    plain = await api.get(f"{STOCKS}/bars", **bars, start="2026-11-18")
    assert plain["bars"]["AAPL"]
    dressed = await api.get(
        f"{STOCKS}/bars",
        **bars,
        start="2026-11-18",
        feed="sip",
        adjustment="split,dividend",
        asof="2026-11-18",
        currency="USD",
    )
    assert dressed == plain


async def test_ranges_without_data_are_empty(api: Api) -> None:
    for start, end in (
        ("1990-01-01", "1990-02-01"),
        ("2027-01-01", "2027-02-01"),
        ("9999-12-31", "9999-12-31T23:59:59.999999Z"),
    ):
        for sort in ("asc", "desc"):
            body = await api.get(
                f"{STOCKS}/bars", symbols="AAPL", timeframe="1Day", start=start, end=end, sort=sort
            )
            assert body == {"bars": {}, "next_page_token": None}
    # Saturday: the stock market is closed, crypto trades.
    weekend = {"start": "2026-11-14", "end": "2026-11-14T23:59:59Z", "timeframe": "1Hour"}
    body = await api.get(f"{STOCKS}/bars", symbols="AAPL,BTC/USD", **weekend)
    assert list(body["bars"]) == ["BTC/USD"] and len(body["bars"]["BTC/USD"]) == 24


async def test_openapi_declares_every_data_route(api: Api) -> None:
    spec = await api.get("/openapi.json")
    paths = {p: ops["get"] for p, ops in spec["paths"].items() if p.startswith("/data/")}
    assert len(paths) == 22 and all(len(spec["paths"][p]) == 1 for p in paths)
    schemas = spec["components"]["schemas"]
    for path, operation in paths.items():
        responses = operation["responses"]
        for status in ("401", "404", "422"):
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/AlpacaError", (path, status)
        schema = responses["200"]["content"]["application/json"]["schema"]
        ref = schema.get("$ref") or schema["additionalProperties"]["$ref"]
        name = ref.rsplit("/", 1)[1]
        assert name.startswith("AlpacaData") and name in schemas, (path, name)
        assert {"AlpacaKeyId": []} in operation["security"], path
    bar = schemas["AlpacaDataBar"]
    assert set(bar["required"]) == {"t", "o", "h", "l", "c", "v", "n", "vw"}
    assert bar["examples"][0]["t"].endswith("Z")
    assert "as" in schemas["AlpacaDataQuote"]["properties"]


def _moment(text: str) -> datetime:
    """An ISO 8601 time or date; a naive one is UTC."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
