"""The official alpaca-py SDK, unmodified, trading against a real QuantumTrade server process.

The server is started the README's way (``dev.py serve``) with the market forced open, a user
signs up and creates an API key over our own API, and from then on only the SDK's
``TradingClient`` and ``TradingStream`` talk to the server, through ``url_override``. The SDK
parses every answer into its own models, which is the compatibility check.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.models import AccountConfiguration, Order, Position, Watchlist
from alpaca.trading.requests import (
    ClosePositionRequest,
    CreateWatchlistRequest,
    GetAssetsRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
    UpdateWatchlistRequest,
)
from alpaca.trading.stream import TradingStream

from support import STRONG_PASSWORD

from .conftest import ServerProcess

SYMBOL = "AAPL"


@pytest.fixture
def open_market(monkeypatch: pytest.MonkeyPatch) -> None:
    # The server fixture copies this process's environment, so market orders fill at once.
    monkeypatch.setenv("MARKET_ALWAYS_OPEN", "true")


@pytest.fixture
def key(open_market: None, server: ServerProcess) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        email = f"sdk-{uuid.uuid4().hex[:10]}@example.com"
        signed_up = http.post(
            "/api/auth/register", json={"email": email, "password": STRONG_PASSWORD}
        )
        assert signed_up.status_code == 201, signed_up.text
        auth = {"Authorization": f"Bearer {signed_up.json()['access_token']}"}
        portfolio = http.post(
            "/api/portfolios", json={"name": "bot", "starting_cash": "100000"}, headers=auth
        )
        assert portfolio.status_code == 201, portfolio.text
        created = http.post(
            "/api/auth/api-keys",
            json={"portfolio_id": portfolio.json()["id"], "name": "sdk"},
            headers=auth,
        )
        assert created.status_code == 201, created.text
        return {**created.json(), "base_url": server.base_url}


@pytest.fixture
def client(key: dict[str, Any]) -> TradingClient:
    return TradingClient(key["key_id"], key["secret_key"], paper=True, url_override=key["base_url"])


def test_trading_client_round_trip(client: TradingClient) -> None:
    account = client.get_account()
    assert account.cash is not None and float(account.cash) == 100_000.0
    assert client.get_clock().is_open is True
    assets = client.get_all_assets(GetAssetsRequest())
    assert SYMBOL in {a.symbol for a in assets}
    assert client.get_asset(SYMBOL).tradable is True

    bought = client.submit_order(
        MarketOrderRequest(
            symbol=SYMBOL, qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.DAY,
            client_order_id=f"cid-{uuid.uuid4().hex[:8]}",
        )
    )  # fmt: skip
    assert isinstance(bought, Order)
    filled = client.get_order_by_id(bought.id)
    assert isinstance(filled, Order) and filled.status == OrderStatus.FILLED
    assert client.get_order_by_client_id(bought.client_order_id).id == bought.id
    position = client.get_open_position(SYMBOL)
    assert isinstance(position, Position) and float(position.qty) == 10.0

    # A resting limit far below the market: read back, replaced, listed, cancelled.
    price = float(position.current_price or position.avg_entry_price)
    resting = client.submit_order(
        LimitOrderRequest(
            symbol=SYMBOL, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
            limit_price=round(price * 0.5, 2),
        )
    )  # fmt: skip
    assert isinstance(resting, Order)
    replaced = client.replace_order_by_id(
        resting.id, ReplaceOrderRequest(qty=2, limit_price=round(price * 0.4, 2))
    )
    assert isinstance(replaced, Order) and float(replaced.qty or 0) == 2.0
    open_orders = client.get_orders(
        GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=[SYMBOL], limit=50)
    )
    assert [o.id for o in open_orders] == [replaced.id]
    client.cancel_order_by_id(replaced.id)
    assert client.get_order_by_id(replaced.id).status == OrderStatus.CANCELED

    bracket = client.submit_order(
        MarketOrderRequest(
            symbol=SYMBOL, qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.GTC,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=round(price * 2, 2)),
            stop_loss=StopLossRequest(stop_price=round(price * 0.5, 2)),
        )
    )  # fmt: skip
    assert isinstance(bracket, Order) and bracket.order_class == OrderClass.BRACKET
    assert float(client.get_open_position(SYMBOL).qty) == 12.0

    trailing = client.submit_order(
        TrailingStopOrderRequest(
            symbol=SYMBOL, qty=5, side=OrderSide.SELL, time_in_force=TimeInForce.GTC,
            trail_percent=5.0,
        )
    )  # fmt: skip
    assert isinstance(trailing, Order)
    cancelled = client.cancel_orders()  # the bracket's two exit legs and the trailing stop
    assert len(cancelled) >= 3 and {c.status for c in cancelled} == {200}
    assert client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []

    closing = client.close_position(SYMBOL, ClosePositionRequest(percentage="50"))
    assert isinstance(closing, Order)
    assert float(client.get_open_position(SYMBOL).qty) == 6.0
    activities = client.get(
        "/account/activities", {"activity_types": "FILL"}
    )  # the SDK has no typed method for activities; its raw GET still authenticates
    assert isinstance(activities, list) and len(activities) >= 2

    watchlist = client.create_watchlist(CreateWatchlistRequest(name="sdk", symbols=[SYMBOL]))
    assert isinstance(watchlist, Watchlist)
    client.add_asset_to_watchlist_by_id(watchlist.id, "MSFT")
    client.remove_asset_from_watchlist_by_id(watchlist.id, SYMBOL)
    renamed = client.update_watchlist_by_id(watchlist.id, UpdateWatchlistRequest(name="sdk2"))
    assert renamed.name == "sdk2" and [a.symbol for a in renamed.assets or ()] == ["MSFT"]
    assert [w.id for w in client.get_watchlists()] == [watchlist.id]
    client.delete_watchlist_by_id(watchlist.id)
    assert client.get_watchlists() == []
    configuration = client.get_account_configurations()
    assert isinstance(configuration, AccountConfiguration) and configuration.no_shorting
    assert client.set_account_configurations(configuration).no_shorting is True

    with pytest.raises(APIError) as refused:
        client.submit_order(
            MarketOrderRequest(
                symbol=SYMBOL, qty=1_000_000, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        )
    assert refused.value.status_code == 403
    with pytest.raises(APIError) as unknown:
        client.get_order_by_id(uuid.uuid4())
    assert unknown.value.status_code == 404


def test_trading_stream_receives_fills_of_its_orders(
    key: dict[str, Any], client: TradingClient
) -> None:
    stream = TradingStream(
        key["key_id"], key["secret_key"], paper=True,
        url_override=key["base_url"].replace("http://", "ws://") + "/stream",
    )  # fmt: skip
    events: list[Any] = []
    got_fill = threading.Event()

    async def on_update(update: Any) -> None:
        events.append(update)
        if update.event == "fill":
            got_fill.set()

    stream.subscribe_trade_updates(on_update)
    runner = threading.Thread(target=stream.run, daemon=True)
    runner.start()
    try:
        for _attempt in range(20):
            if got_fill.is_set():
                break
            # Orders until the stream has connected and one fill came through it.
            client.submit_order(
                MarketOrderRequest(
                    symbol=SYMBOL, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
                )
            )
            got_fill.wait(timeout=3)
        assert got_fill.is_set(), events
        fill = next(e for e in events if e.event == "fill")
        assert fill.order.symbol == SYMBOL and fill.order.status == OrderStatus.FILLED
    finally:
        stream.stop()
        runner.join(timeout=10)
