"""alpaca-py's historical data clients, unmodified, against a real QuantumTrade server process.

The server runs as in ``test_alpaca_sdk.py`` (its fixtures: ``dev.py serve`` with the market
forced open, an API key made over our own API); ``StockHistoricalDataClient`` and
``CryptoHistoricalDataClient`` reach it through ``url_override=<server>/data``. The SDK parses
every answer into its own models, and its bars equal ``/api/market/history`` for the same range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.models import Bar, BarSet, Orderbook, Quote, Snapshot, Trade, TradeSet
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestBarRequest,
    CryptoLatestOrderbookRequest,
    CryptoLatestQuoteRequest,
    CryptoLatestTradeRequest,
    CryptoSnapshotRequest,
    StockBarsRequest,
    StockLatestBarRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
    StockSnapshotRequest,
    StockTradesRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from . import test_alpaca_sdk

# The trading SDK test's fixtures: the server with the market forced open, and an API key.
open_market = test_alpaca_sdk.open_market
key = test_alpaca_sdk.key

SDK_PAGE = 10_000  # what alpaca-py asks for per request when it pages by itself


def _clients(key: dict[str, Any]) -> tuple[StockHistoricalDataClient, list[str]]:
    """A stock client for the key, and the URLs of the requests it makes."""
    client = StockHistoricalDataClient(
        key["key_id"], key["secret_key"], url_override=f"{key['base_url']}/data"
    )
    urls: list[str] = []
    client._session.hooks["response"].append(lambda response, *_a, **_k: urls.append(response.url))
    return client, urls


def _crypto(key: dict[str, Any]) -> CryptoHistoricalDataClient:
    return CryptoHistoricalDataClient(
        key["key_id"], key["secret_key"], url_override=f"{key['base_url']}/data"
    )


def _history(base_url: str, symbol: str, timeframe: str, start: datetime, end: datetime) -> Any:
    """One call of ``/api/market/history`` (``end`` exclusive), as (time, o, h, l, c, v) rows."""
    response = httpx.get(
        f"{base_url}/api/market/history/{symbol.replace('/', '')}",
        params={
            "timeframe": timeframe,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "limit": 100_000,
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    fields = ("open", "high", "low", "close", "volume")
    return [
        (datetime.fromisoformat(bar["time"]), *(bar[name] for name in fields))
        for bar in response.json()["bars"]
    ]


def _rows(bars: list[Bar]) -> Any:
    return [(b.timestamp, b.open, b.high, b.low, b.close, b.volume) for b in bars]


def _same(ours: Any, theirs: Any) -> None:
    assert [row[0] for row in ours] == [row[0] for row in theirs]
    assert [row[1:] for row in ours] == [pytest.approx(row[1:], rel=1e-9) for row in theirs]


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def test_stock_bars_page_through_the_sdk(key: dict[str, Any]) -> None:
    client, urls = _clients(key)
    # Four days of minute bars of two symbols, every minute (the market is forced open): more
    # than one page of 10,000, so the SDK follows next_page_token by itself.
    end = _minute(datetime.now(UTC)) - timedelta(days=1) + timedelta(seconds=30)
    start = end - timedelta(days=4)
    request = StockBarsRequest(
        symbol_or_symbols=["MSFT", "AAPL"], timeframe=TimeFrame.Minute, start=start, end=end,
        feed=DataFeed.IEX, adjustment=Adjustment.RAW,
    )  # fmt: skip
    barset = client.get_stock_bars(request)
    assert isinstance(barset, BarSet) and set(barset.data) == {"AAPL", "MSFT"}
    pages = [url for url in urls if "/data/v2/stocks/bars" in url]
    assert len(pages) == 2 and "page_token=" in pages[1], urls
    total = sum(len(bars) for bars in barset.data.values())
    assert SDK_PAGE < total <= 2 * SDK_PAGE
    for symbol in ("AAPL", "MSFT"):
        _same(_rows(barset[symbol]), _history(key["base_url"], symbol, "1Min", start, end))

    # A limit is a total: the newest 25 first with sort=desc, in one request.
    urls.clear()
    newest = client.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="AAPL", timeframe=TimeFrame.Minute, start=start, end=end,
            limit=25, sort=Sort.DESC,
        )
    )  # fmt: skip
    assert isinstance(newest, BarSet) and len(urls) == 1
    assert _rows(newest["AAPL"]) == _rows(barset["AAPL"])[::-1][:25]

    # Hourly bars through the same client: the market's history again.
    hourly = client.get_stock_bars(
        StockBarsRequest(
            symbol_or_symbols="AAPL", timeframe=TimeFrame(1, TimeFrameUnit.Hour), start=start,
            end=end,
        )
    )  # fmt: skip
    assert isinstance(hourly, BarSet)
    _same(_rows(hourly["AAPL"]), _history(key["base_url"], "AAPL", "1Hour", start, end))


def test_stock_latest_data_and_snapshots(key: dict[str, Any]) -> None:
    client, _urls = _clients(key)
    now = datetime.now(UTC)
    symbols = ["AAPL", "MSFT"]
    trades = client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols=symbols))
    quotes = client.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols=symbols))
    bars = client.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols=symbols))
    assert isinstance(trades, dict) and isinstance(quotes, dict) and isinstance(bars, dict)
    assert sorted(trades) == sorted(quotes) == sorted(bars) == symbols
    for symbol in symbols:
        trade, quote, bar = trades[symbol], quotes[symbol], bars[symbol]
        assert isinstance(trade, Trade) and trade.price > 0 and trade.tape == "C"
        assert abs(trade.timestamp - now) < timedelta(minutes=5)
        assert isinstance(quote, Quote) and 0 < quote.bid_price <= quote.ask_price
        assert isinstance(bar, Bar) and timedelta(0) < now - bar.timestamp < timedelta(minutes=5)

    snapshots = client.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols=symbols))
    assert isinstance(snapshots, dict) and sorted(snapshots) == symbols
    for symbol, snapshot in snapshots.items():
        assert isinstance(snapshot, Snapshot) and snapshot.symbol == symbol
        daily, previous = snapshot.daily_bar, snapshot.previous_daily_bar
        assert snapshot.latest_trade and snapshot.latest_quote and snapshot.minute_bar
        assert daily is not None and previous is not None
        assert previous.timestamp < daily.timestamp <= snapshot.minute_bar.timestamp
        price = httpx.get(f"{key['base_url']}/api/market/price/{symbol}", timeout=30).json()
        assert previous.close == price["previous_close"]

    # The market keeps no tick history: the day's trades are its latest one.
    day = client.get_stock_trades(StockTradesRequest(symbol_or_symbols="AAPL"))
    assert isinstance(day, TradeSet) and len(day["AAPL"]) == 1


def test_crypto_client(key: dict[str, Any]) -> None:
    client = _crypto(key)
    end = _minute(datetime.now(UTC)) - timedelta(hours=1)
    start = end - timedelta(days=3)
    request = CryptoBarsRequest(
        symbol_or_symbols="BTC/USD", timeframe=TimeFrame.Hour, start=start, end=end
    )
    barset = client.get_crypto_bars(request)
    assert isinstance(barset, BarSet) and len(barset["BTC/USD"]) >= 71
    history = _history(key["base_url"], "BTC/USD", "1Hour", start, end + timedelta(seconds=1))
    _same(_rows(barset["BTC/USD"]), history)

    quote = client.get_crypto_latest_quote(CryptoLatestQuoteRequest(symbol_or_symbols="BTC/USD"))
    trade = client.get_crypto_latest_trade(CryptoLatestTradeRequest(symbol_or_symbols="BTC/USD"))
    bar = client.get_crypto_latest_bar(CryptoLatestBarRequest(symbol_or_symbols="BTC/USD"))
    book = client.get_crypto_latest_orderbook(
        CryptoLatestOrderbookRequest(symbol_or_symbols="BTC/USD")
    )
    snapshot = client.get_crypto_snapshot(CryptoSnapshotRequest(symbol_or_symbols="BTC/USD"))
    assert isinstance(quote, dict) and isinstance(quote["BTC/USD"], Quote)
    assert 0 < quote["BTC/USD"].bid_price <= quote["BTC/USD"].ask_price
    assert isinstance(trade, dict) and isinstance(trade["BTC/USD"], Trade)
    assert isinstance(bar, dict) and isinstance(bar["BTC/USD"], Bar)
    assert isinstance(book, dict) and isinstance(book["BTC/USD"], Orderbook)
    assert len(book["BTC/USD"].bids) == len(book["BTC/USD"].asks) == 1
    assert isinstance(snapshot, dict) and isinstance(snapshot["BTC/USD"], Snapshot)
    assert snapshot["BTC/USD"].previous_daily_bar is not None


def test_sdk_raises_alpaca_errors(key: dict[str, Any]) -> None:
    client, _urls = _clients(key)
    refusals = [
        (
            lambda: client.get_stock_bars(
                StockBarsRequest(symbol_or_symbols="AAPL", timeframe=TimeFrame.Week)
            ),
            422,
        ),
        (
            lambda: client.get_stock_latest_quote(
                StockLatestQuoteRequest(symbol_or_symbols="NOPE")
            ),
            404,
        ),
        (
            lambda: StockHistoricalDataClient(
                key["key_id"], "wrong-secret", url_override=f"{key['base_url']}/data"
            ).get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="AAPL")),
            401,
        ),
    ]
    for call, status in refusals:
        with pytest.raises(APIError) as refused:
            call()
        assert refused.value.status_code == status
        assert refused.value.code == status * 100_000 + 10_000
