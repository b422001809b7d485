"""``/api/alerts``: CRUD, validation and ownership."""

from __future__ import annotations

import uuid

import httpx

from support import assert_error, bearer, register


async def test_alert_crud_round_trip(api: httpx.AsyncClient) -> None:
    user = await register(api)
    auth = bearer(user["access_token"])
    created = await api.post(
        "/api/alerts",
        json={
            "symbol": "aapl",
            "kind": "price_below",
            "condition": {"price": 120},
            "message": "dip",
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    alert = created.json()
    assert alert["symbol"] == "AAPL" and alert["status"] == "active"
    assert alert["condition"] == {"price": 120.0} and alert["triggered_at"] is None

    second = await api.post(
        "/api/alerts",
        json={
            "symbol": "NVDA",
            "kind": "percent_change",
            "condition": {"percent": 3, "window_minutes": 30},
        },
        headers=auth,
    )
    assert second.json()["condition"] == {
        "percent": 3.0,
        "window_minutes": 30.0,
        "direction": "either",
    }

    page = (await api.get("/api/alerts?limit=1", headers=auth)).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["limit"] == 1
    assert (await api.get("/api/alerts?status=triggered", headers=auth)).json()["total"] == 0

    patched = await api.patch(
        f"/api/alerts/{alert['id']}",
        json={"condition": {"price": 110}, "message": None},
        headers=auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["condition"] == {"price": 110.0} and patched.json()["message"] is None
    disabled = await api.patch(
        f"/api/alerts/{alert['id']}", json={"status": "disabled"}, headers=auth
    )
    assert disabled.json()["status"] == "disabled"
    rearmed = await api.patch(f"/api/alerts/{alert['id']}", json={"status": "active"}, headers=auth)
    assert rearmed.json()["status"] == "active"

    assert (await api.get(f"/api/alerts/{alert['id']}", headers=auth)).json()["id"] == alert["id"]
    assert (await api.delete(f"/api/alerts/{alert['id']}", headers=auth)).status_code == 204
    assert_error(await api.get(f"/api/alerts/{alert['id']}", headers=auth), 404, "alert_not_found")


async def test_alert_validation_is_clear(api: httpx.AsyncClient) -> None:
    auth = bearer((await register(api))["access_token"])
    cases = [
        (
            {"symbol": "AAPL", "kind": "price_above", "condition": {"price": -1}},
            "invalid_condition",
        ),
        ({"symbol": "AAPL", "kind": "price_above", "condition": {}}, "invalid_condition"),
        (
            {"symbol": "AAPL", "kind": "price_above", "condition": {"price": "x"}},
            "invalid_condition",
        ),
        (
            {
                "symbol": "AAPL",
                "kind": "percent_change",
                "condition": {"percent": 2, "window_minutes": 5, "direction": "sideways"},
            },
            "invalid_condition",
        ),
        (
            {
                "symbol": "AAPL",
                "kind": "volume_spike",
                "condition": {"multiplier": 0.5, "lookback_bars": 1},
            },
            "invalid_condition",
        ),
        (
            {"symbol": "AAPL", "kind": "price_above", "condition": {"price": 1, "extra": 2}},
            "invalid_condition",
        ),
        ({"symbol": "NOPE", "kind": "price_above", "condition": {"price": 1}}, "unknown_symbol"),
        ({"symbol": "AAPL", "kind": "moon", "condition": {"price": 1}}, "validation_error"),
    ]
    for body, code in cases:
        error = assert_error(await api.post("/api/alerts", json=body, headers=auth), 422, code)
        if code == "invalid_condition":
            assert error["details"], error
    assert_error(await api.get("/api/alerts?status=bogus", headers=auth), 422)
    assert_error(await api.get("/api/alerts"), 401)


async def test_another_users_alert_is_not_found(api: httpx.AsyncClient) -> None:
    owner = bearer((await register(api))["access_token"])
    stranger = bearer((await register(api))["access_token"])
    alert = (
        await api.post(
            "/api/alerts",
            json={"symbol": "TSLA", "kind": "price_above", "condition": {"price": 500}},
            headers=owner,
        )
    ).json()
    path = f"/api/alerts/{alert['id']}"
    assert_error(await api.get(path, headers=stranger), 404, "alert_not_found")
    assert_error(await api.patch(path, json={"status": "disabled"}, headers=stranger), 404)
    assert_error(await api.delete(path, headers=stranger), 404)
    assert (await api.get("/api/alerts", headers=stranger)).json()["total"] == 0
    assert_error(await api.get(f"/api/alerts/{uuid.uuid4()}", headers=owner), 404)
    assert (await api.get(path, headers=owner)).json()["status"] == "active"
