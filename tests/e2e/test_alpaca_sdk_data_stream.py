"""alpaca-py's data stream clients, unmodified, against a real server process.

``StockDataStream`` (``/v2/iex``) receives the trades and 1-minute bars of a stock, and
``CryptoDataStream`` (``/v1beta3/crypto/us``) the trades of BTC/USD, from the server's own
simulated feed, over the same key at once (one stream per endpoint). The SDK speaks msgpack and
parses every message into its models, which is the compatibility check.

The feed releases a minute's bar on the minute. The server's clock starts at second 30 of a
minute (``MARKET_CLOCK_START``; it runs at the real pace from there), so the first bars come
about 30 s after the server starts rather than up to a minute later.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from alpaca.data.live.crypto import CryptoDataStream
from alpaca.data.live.stock import StockDataStream
from alpaca.data.live.websocket import DataStream
from alpaca.data.models import Bar, Trade

from .test_alpaca_sdk import SYMBOL, key, open_market

__all__ = ["key", "open_market"]  # the SDK tests' server with the market open, and its key

COIN = "BTC/USD"


@pytest.fixture(autouse=True)
def clock_mid_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    # Autouse: set before the server fixture copies the environment. In the last minute, not
    # ahead of the real time: access tokens must not be issued in the future.
    start = (datetime.now(UTC) - timedelta(seconds=30)).replace(second=30, microsecond=0)
    monkeypatch.setenv("MARKET_CLOCK_START", start.isoformat())


class Received:
    """What a handler got, for the test thread to wait on."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = threading.Condition()

    async def add(self, item: Any) -> None:
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.items), timeout)


@contextlib.contextmanager
def running(*streams: DataStream) -> Iterator[None]:
    runners = [threading.Thread(target=stream.run, daemon=True) for stream in streams]
    for runner in runners:
        runner.start()
    try:
        yield
    finally:
        for stream, runner in zip(streams, runners, strict=True):
            with contextlib.suppress(Exception):  # a stream that never started has no loop
                stream.stop()
            runner.join(timeout=10)


def seconds_to_the_minute(key: dict[str, Any]) -> float:
    """How long until the server's clock reaches its next minute (and its feed the bars)."""
    headers = {"APCA-API-KEY-ID": key["key_id"], "APCA-API-SECRET-KEY": key["secret_key"]}
    clock = httpx.get(f"{key['base_url']}/v2/clock", headers=headers, timeout=30)
    assert clock.status_code == 200, clock.text
    now = datetime.fromisoformat(clock.json()["timestamp"])
    return 60 - now.second - now.microsecond / 1e6


def test_stock_and_crypto_data_streams_receive_trades_and_bars(key: dict[str, Any]) -> None:
    base = key["base_url"].replace("http://", "ws://")
    stocks = StockDataStream(key["key_id"], key["secret_key"], url_override=f"{base}/v2/iex")
    coins = CryptoDataStream(
        key["key_id"], key["secret_key"], url_override=f"{base}/v1beta3/crypto/us"
    )
    trades, bars, coin_trades = Received(), Received(), Received()
    stocks.subscribe_trades(trades.add, SYMBOL)
    stocks.subscribe_bars(bars.add, SYMBOL)
    coins.subscribe_trades(coin_trades.add, COIN)
    # The first bar comes on the server's next minute, or the one after for a slow start.
    bar_timeout = seconds_to_the_minute(key) + 60 + 15
    with running(stocks, coins):
        # Waits bound a hang only: trades flow several times a second.
        assert trades.wait_for(lambda items: len(items) >= 3, timeout=30), trades.items
        assert coin_trades.wait_for(lambda items: len(items) >= 1, timeout=30)
        assert bars.wait_for(lambda items: len(items) >= 1, timeout=bar_timeout), bars.items
    for trade in trades.items:
        assert isinstance(trade, Trade) and trade.symbol == SYMBOL
        assert trade.price > 0 and trade.size > 0 and trade.timestamp.tzinfo is not None
    assert len({trade.id for trade in trades.items}) == len(trades.items)  # ids tell them apart
    coin = coin_trades.items[0]
    assert isinstance(coin, Trade) and coin.symbol == COIN and coin.price > 0
    bar = bars.items[0]
    assert isinstance(bar, Bar) and bar.symbol == SYMBOL
    assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
    assert bar.volume > 0 and bar.trade_count and bar.vwap
    assert bar.timestamp.second == 0 and bar.timestamp.microsecond == 0
