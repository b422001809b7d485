"""Alpaca's watchlists and account configurations, in process, parsed by alpaca-py's models.

A watchlist belongs to the key's portfolio: its symbols are checked against the market and
kept in order, a name is unique in the account, and another portfolio's list answers 404.
``PATCH /v2/account/configurations`` changes shorting and the margin multiplier for real:
the next short sale is refused or accepted accordingly.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from alpaca.trading.models import AccountConfiguration, Watchlist

from support import bearer, register

from .conftest import AppFactory
from .test_alpaca_api import apca, new_key, trader


def _symbols(body: dict[str, Any]) -> list[str]:
    return [asset.symbol for asset in Watchlist(**body).assets or ()]


async def _create(client: httpx.AsyncClient, key: Any, name: str, symbols: list[str]) -> Any:
    response = await client.post(
        "/v2/watchlists", json={"name": name, "symbols": symbols}, headers=apca(key)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_watchlist_lifecycle_keeps_symbols_in_order(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        _auth, portfolio_id, key = await trader(client)
        created = await _create(client, key, "tech", ["msft", "AAPL"])
        assert _symbols(created) == ["MSFT", "AAPL"]
        assert created["account_id"] == portfolio_id
        wid = created["id"]

        added = await client.post(
            f"/v2/watchlists/{wid}", json={"symbol": "NVDA"}, headers=apca(key)
        )
        assert added.status_code == 200, added.text
        assert _symbols(added.json()) == ["MSFT", "AAPL", "NVDA"]

        removed = await client.delete(f"/v2/watchlists/{wid}/AAPL", headers=apca(key))
        assert removed.status_code == 200, removed.text
        assert _symbols(removed.json()) == ["MSFT", "NVDA"]

        renamed = await client.put(
            f"/v2/watchlists/{wid}", json={"name": "chips"}, headers=apca(key)
        )
        assert renamed.status_code == 200, renamed.text
        assert Watchlist(**renamed.json()).name == "chips"
        assert _symbols(renamed.json()) == ["MSFT", "NVDA"]  # the symbols stay

        by_name = await client.get("/v2/watchlists:by_name?name=chips", headers=apca(key))
        assert by_name.status_code == 200 and by_name.json()["id"] == wid

        listed = (await client.get("/v2/watchlists", headers=apca(key))).json()
        assert [(w["id"], w["name"]) for w in listed] == [(wid, "chips")]
        assert "assets" not in listed[0]  # as Alpaca: the list carries no assets

        deleted = await client.delete(f"/v2/watchlists/{wid}", headers=apca(key))
        assert deleted.status_code == 204
        gone = await client.get(f"/v2/watchlists/{wid}", headers=apca(key))
        assert gone.status_code == 404 and gone.json()["code"] == 40410000


async def test_watchlist_refusals(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        _auth, _portfolio_id, key = await trader(client)
        wid = (await _create(client, key, "main", ["AAPL"]))["id"]
        cases = [
            ("POST", "/v2/watchlists", {"name": "main", "symbols": []}, 422),  # name taken
            ("POST", "/v2/watchlists", {"name": "x", "symbols": ["NOPE123"]}, 422),
            ("POST", "/v2/watchlists", {"name": "x", "symbols": ["AAPL", "aapl"]}, 422),
            ("POST", "/v2/watchlists", {"symbols": ["AAPL"]}, 422),  # no name
            ("POST", f"/v2/watchlists/{wid}", {"symbol": "AAPL"}, 422),  # already listed
            ("DELETE", f"/v2/watchlists/{wid}/MSFT", None, 404),  # not listed
            ("GET", "/v2/watchlists/not-a-uuid", None, 422),
            ("GET", "/v2/watchlists:by_name?name=none", None, 404),
        ]
        for method, path, body, status in cases:
            response = await client.request(method, path, json=body, headers=apca(key))
            assert response.status_code == status, (method, path, body, response.text)
            assert set(response.json()) >= {"code", "message"}, response.text
        # Nothing half-written: the list is as it was.
        kept = await client.get(f"/v2/watchlists/{wid}", headers=apca(key))
        assert _symbols(kept.json()) == ["AAPL"]
        assert len((await client.get("/v2/watchlists", headers=apca(key))).json()) == 1


async def test_watchlists_belong_to_the_keys_portfolio(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        auth, _portfolio_id, key = await trader(client)
        wid = (await _create(client, key, "mine", ["AAPL"]))["id"]
        _auth_b, _pb, other_user = await trader(client)
        other = await client.post(
            "/api/portfolios", json={"name": "second", "starting_cash": "1000"}, headers=auth
        )
        same_user_other_portfolio = await new_key(client, auth, other.json()["id"])
        for stranger in (other_user, same_user_other_portfolio):
            for method, path, body in (
                ("GET", f"/v2/watchlists/{wid}", None),
                ("PUT", f"/v2/watchlists/{wid}", {"name": "stolen"}),
                ("POST", f"/v2/watchlists/{wid}", {"symbol": "MSFT"}),
                ("DELETE", f"/v2/watchlists/{wid}/AAPL", None),
                ("DELETE", f"/v2/watchlists/{wid}", None),
            ):
                response = await client.request(method, path, json=body, headers=apca(stranger))
                assert response.status_code == 404, (method, path, response.text)
            assert (await client.get("/v2/watchlists", headers=apca(stranger))).json() == []
            # The same name is free in another account.
            await _create(client, stranger, "mine", [])
        assert _symbols((await client.get(f"/v2/watchlists/{wid}", headers=apca(key))).json()) == [
            "AAPL"
        ]


async def test_concurrent_additions_all_land(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        _auth, _portfolio_id, key = await trader(client)
        wid = (await _create(client, key, "many", []))["id"]
        symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META"]
        answers = await asyncio.gather(
            *(
                client.post(f"/v2/watchlists/{wid}", json={"symbol": s}, headers=apca(key))
                for s in symbols
            )
        )
        assert [a.status_code for a in answers] == [200] * len(symbols)
        final = await client.get(f"/v2/watchlists/{wid}", headers=apca(key))
        assert sorted(_symbols(final.json())) == sorted(symbols)


async def _short(client: httpx.AsyncClient, key: Any) -> httpx.Response:
    return await client.post(
        "/v2/orders",
        json={"symbol": "MSFT", "qty": "1", "side": "sell", "type": "market"},
        headers=apca(key),
    )


async def test_configurations_change_shorting_for_real(make_api: AppFactory) -> None:
    async with make_api() as (_app, client):
        auth = bearer((await register(client))["access_token"])
        created = await client.post(
            "/api/portfolios",
            json={"name": "margin", "starting_cash": "100000", "margin_multiplier": 2},
            headers=auth,
        )
        key = await new_key(client, auth, created.json()["id"])
        read = await client.get("/v2/account/configurations", headers=apca(key))
        config = AccountConfiguration(**read.json())
        assert (config.no_shorting, config.max_margin_multiplier) == (True, "2")
        refused = await _short(client, key)
        assert refused.status_code in (403, 422), refused.text

        # What alpaca-py's set_account_configurations sends: the whole object, one field changed.
        config.no_shorting = False
        changed = await client.patch(
            "/v2/account/configurations", json=config.model_dump(mode="json"), headers=apca(key)
        )
        assert changed.status_code == 200, changed.text
        assert AccountConfiguration(**changed.json()).no_shorting is False
        short = await _short(client, key)
        assert short.status_code == 200, short.text
        assert short.json()["status"] == "filled"

        # A cash account cannot hold the short: refused, and nothing changes.
        cash = await client.patch(
            "/v2/account/configurations",
            json={"max_margin_multiplier": "1", "no_shorting": True},
            headers=apca(key),
        )
        assert cash.status_code == 422, cash.text
        assert cash.json()["reason"] == "margin_in_use"
        after = (await client.get("/v2/account/configurations", headers=apca(key))).json()
        assert (after["no_shorting"], after["max_margin_multiplier"]) == (False, "2")

        for body, reason in (
            ({"suspend_trade": True}, "configuration_not_supported"),
            ({"no_shorting": False, "max_margin_multiplier": "1"}, "shorting_needs_margin"),
        ):
            response = await client.patch(
                "/v2/account/configurations", json=body, headers=apca(key)
            )
            assert response.status_code == 422, response.text
            assert response.json()["reason"] == reason, response.text
        bad = await client.patch(
            "/v2/account/configurations", json={"max_margin_multiplier": "3"}, headers=apca(key)
        )
        assert bad.status_code == 422, bad.text
