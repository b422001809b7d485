"""The Alpaca-compatible face in process: API keys, Alpaca's error bodies, and ledger parity.

A key is bound to one portfolio; a wrong key, a revoked key, a wrong secret and no key at all
get the same 401 body, and another portfolio's order (even the same user's) answers 404.
An order placed through ``/v2/orders`` and the same one through ``/api/orders`` move the
ledger the same way. The SDK drives a real server process in ``tests/e2e/test_alpaca_sdk.py``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from alpaca.trading.models import Order, Position, TradeAccount

from support import bearer, register

from .conftest import AppFactory

UNAUTHORIZED = {"code": 40110000, "message": "request is not authorized"}


async def portfolio(client: httpx.AsyncClient, auth: dict[str, str], cash: str = "100000") -> str:
    name = f"p-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/api/portfolios", json={"name": name, "starting_cash": cash}, headers=auth
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_key(client: httpx.AsyncClient, auth: dict[str, str], portfolio_id: str) -> Any:
    response = await client.post(
        "/api/auth/api-keys", json={"portfolio_id": portfolio_id, "name": "bot"}, headers=auth
    )
    assert response.status_code == 201, response.text
    return response.json()


def apca(key: dict[str, Any]) -> dict[str, str]:
    return {"APCA-API-KEY-ID": key["key_id"], "APCA-API-SECRET-KEY": key["secret_key"]}


async def trader(
    client: httpx.AsyncClient, cash: str = "100000"
) -> tuple[dict[str, str], str, Any]:
    auth = bearer((await register(client))["access_token"])
    portfolio_id = await portfolio(client, auth, cash)
    return auth, portfolio_id, await new_key(client, auth, portfolio_id)


async def test_api_key_is_shown_once_and_revocation_holds_at_once(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        auth, portfolio_id, key = await trader(client)
        assert key["key_id"].startswith("PK") and len(key["secret_key"]) >= 32
        listed = (await client.get("/api/auth/api-keys", headers=auth)).json()
        assert [k["key_id"] for k in listed] == [key["key_id"]]
        assert "secret_key" not in listed[0] and listed[0]["portfolio_id"] == portfolio_id

        account = await client.get("/v2/account", headers=apca(key))
        assert account.status_code == 200, account.text
        parsed = TradeAccount(**account.json())
        assert str(parsed.id) == portfolio_id and parsed.cash == "100000"

        revoked = await client.delete(f"/api/auth/api-keys/{key['id']}", headers=auth)
        assert revoked.status_code == 204
        refused = await client.get("/v2/account", headers=apca(key))
        assert (refused.status_code, refused.json()) == (401, UNAUTHORIZED)
        again = (await client.get("/api/auth/api-keys", headers=auth)).json()
        assert again[0]["revoked_at"] is not None


async def test_bad_secret_answers_like_an_unknown_key(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        _auth, _portfolio_id, key = await trader(client)
        wrong_secret = {**apca(key), "APCA-API-SECRET-KEY": key["secret_key"][:-1] + "x"}
        unknown_key = {**apca(key), "APCA-API-KEY-ID": "PK" + "Z" * 18}
        answers = []
        for headers in (wrong_secret, unknown_key, {}, {"APCA-API-KEY-ID": key["key_id"]}):
            response = await client.get("/v2/orders", headers=headers)
            answers.append((response.status_code, response.json()))
        assert answers == [(401, UNAUTHORIZED)] * 4


async def test_a_key_sees_only_its_portfolio(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        auth_a, _pa, key_a = await trader(client)
        other_a = await portfolio(client, auth_a)
        auth_b, _pb, key_b = await trader(client)
        # A key for someone else's portfolio cannot even be made.
        stolen = await client.post(
            "/api/auth/api-keys", json={"portfolio_id": other_a}, headers=auth_b
        )
        assert stolen.status_code == 404
        order = await client.post(
            "/v2/orders",
            json={"symbol": "MSFT", "qty": "1", "side": "buy", "type": "market"},
            headers=apca(key_a),
        )
        assert order.status_code == 200, order.text
        order_id = order.json()["id"]
        # The same user's other portfolio, through its own key, does not see it either.
        key_a2 = await new_key(client, auth_a, other_a)
        for key in (key_b, key_a2):
            for method in ("GET", "DELETE"):
                response = await client.request(method, f"/v2/orders/{order_id}", headers=apca(key))
                assert response.status_code == 404, response.text
                assert response.json()["code"] == 40410000
            positions = await client.get("/v2/positions", headers=apca(key))
            assert positions.json() == []
            position = await client.get("/v2/positions/MSFT", headers=apca(key))
            assert position.status_code == 404
        mine = await client.get(f"/v2/orders/{order_id}", headers=apca(key_a))
        assert Order(**mine.json()).status.value == "filled"
        Position(**(await client.get("/v2/positions/MSFT", headers=apca(key_a))).json())


async def test_alpaca_error_cases(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        _auth, _portfolio_id, key = await trader(client, cash="1000")
        headers = apca(key)
        too_big = await client.post(
            "/v2/orders", json={"symbol": "AAPL", "qty": "1000", "side": "buy"}, headers=headers
        )
        assert too_big.status_code == 403, too_big.text
        assert too_big.json()["code"] == 40310000 and "buying_power" in too_big.json()

        no_limit = await client.post(
            "/v2/orders",
            json={"symbol": "AAPL", "qty": "1", "side": "buy", "type": "limit"},
            headers=headers,
        )
        assert no_limit.status_code == 422 and no_limit.json()["code"] == 42210000
        bad_type = await client.post(
            "/v2/orders", json={"symbol": "AAPL", "qty": "1", "side": "up"}, headers=headers
        )
        assert bad_type.status_code == 422 and set(bad_type.json()) >= {"code", "message"}

        missing = await client.get(f"/v2/orders/{uuid.uuid4()}", headers=headers)
        assert missing.status_code == 404 and missing.json()["code"] == 40410000

        body = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "limit"}
        body |= {"limit_price": "45.00", "time_in_force": "gtc", "client_order_id": "mine-1"}
        first = await client.post("/v2/orders", json=body, headers=headers)
        assert first.status_code == 200, first.text
        reused = await client.post("/v2/orders", json=body, headers=headers)
        assert reused.status_code == 422 and reused.json()["code"] == 42210000
        found = await client.get(
            "/v2/orders:by_client_order_id", params={"client_order_id": "mine-1"}, headers=headers
        )
        assert found.json()["id"] == first.json()["id"]

        legs = await client.post(
            "/v2/orders",
            json={"symbol": "AAPL", "qty": "1", "side": "buy", "order_class": "mleg"},
            headers=headers,
        )
        assert legs.status_code == 422 and "multi-leg" in legs.json()["message"]
        history = await client.get(
            "/v2/account/portfolio/history", params={"timeframe": "5Min"}, headers=headers
        )
        assert history.status_code == 422 and "1D" in history.json()["message"]


def _effects(
    portfolio: dict[str, Any], positions: list[dict[str, Any]], trades: dict[str, Any]
) -> Any:
    return (
        portfolio["cash"],
        portfolio["realized_pl"],
        [(p["symbol"], p["qty"], p["avg_entry_price"]) for p in positions],
        [(t["symbol"], t["side"], t["qty"], t["price"], t["fees"]) for t in trades["items"]],
    )


@pytest.mark.parametrize("order", [{"qty": "3"}, {"notional": "500"}])
async def test_v2_order_and_api_order_move_the_ledger_alike(
    make_api: AppFactory, order: dict[str, str]
) -> None:
    async with make_api() as (_app, client):
        auth, via_v2, key = await trader(client)
        via_api = await portfolio(client, auth)
        body = {"symbol": "NVDA", "side": "buy", "type": "market", **order}
        v2 = await client.post("/v2/orders", json=body, headers=apca(key))
        assert v2.status_code == 200, v2.text
        api = await client.post("/api/orders", json={**body, "portfolio_id": via_api}, headers=auth)
        assert api.status_code == 201, api.text
        effects = []
        for portfolio_id in (via_v2, via_api):
            base = f"/api/portfolios/{portfolio_id}"
            effects.append(
                _effects(
                    (await client.get(base, headers=auth)).json(),
                    (await client.get(f"{base}/positions", headers=auth)).json(),
                    (await client.get(f"{base}/trades", headers=auth)).json(),
                )
            )
        assert effects[0] == effects[1]
        assert Decimal(effects[0][0]) < Decimal(100000)
        assert v2.json()["filled_qty"] == api.json()["filled_qty"]
