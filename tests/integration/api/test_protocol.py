"""HTTP protocol conformance: methods, ``Allow``, and ids and times only in their documented form.

- A method a path does not have answers 405, whose ``Allow`` lists every method of the path
  (each method is a route of its own, and the router alone would name only one).
- A concrete path owns its methods: ``GET /api/backtest/optimize`` is a 405, not a request for
  the backtest whose id is "optimize" (a 422).
- A UUID is 8-4-4-4-12 hexadecimal digits in a path, a query or a body: not 32 bare digits,
  which pydantic would read as an id.
- A date-time is ISO 8601 text: a number (or a numeric string) is not read as a Unix time.
- A boolean in a body is ``true`` or ``false``, not ``0`` or ``"yes"``.
- A rule the schema can state is stated there, so a request the schema accepts is not refused
  with a 400 (``GET /api/market/quotes`` needs a symbol); a refusal a valid request can get is
  declared, with the uniform error body, and so is each content type an answer may have.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from support import assert_error, bearer, register

from .conftest import AppFactory

DIGITS_ID = "12345678901234567890123456789012"  # a valid UUID to Python, without its hyphens
SOME_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
BACKTEST = {
    "strategy": "sma_crossover",
    "symbol": "AAPL",
    "start": "2024-01-01T00:00:00Z",
    "end": "2024-03-01T00:00:00Z",
    "params": {"fast": 5, "slow": 20},
}


@pytest.fixture
async def client(make_api: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_api(paper_matching_enabled=False, risk_monitor_enabled=False) as (
        _app,
        client,
    ):
        yield client


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> dict[str, str]:
    user = await register(client)
    return bearer(user["access_token"])


def allowed(response: httpx.Response) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")}


@pytest.mark.parametrize(
    ("method", "path", "methods"),
    [
        ("PUT", "/api/orders", {"GET", "POST", "DELETE"}),
        ("OPTIONS", "/api/orders", {"GET", "POST", "DELETE"}),
        ("PUT", f"/api/orders/{SOME_ID}", {"GET", "PATCH", "DELETE"}),
        ("POST", f"/api/alerts/{SOME_ID}", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/api/alerts", {"GET", "POST"}),
        ("PATCH", "/api/backtest/datasets", {"GET", "POST"}),
        ("PUT", f"/api/risk/limits/{SOME_ID}", {"GET", "POST"}),
        ("POST", "/api/market/price/BTC/USD", {"GET"}),
    ],
)
async def test_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, auth: dict[str, str], method: str, path: str, methods: set[str]
) -> None:
    response = await client.request(method, path, headers=auth)
    assert_error(response, 405, "method_not_allowed")
    assert allowed(response) == methods


@pytest.mark.parametrize(
    ("method", "path", "methods"),
    [
        ("GET", "/api/backtest/optimize", {"POST"}),
        ("DELETE", "/api/backtest/datasets", {"GET", "POST"}),
    ],
)
async def test_a_concrete_path_is_not_taken_for_an_id(
    client: httpx.AsyncClient, auth: dict[str, str], method: str, path: str, methods: set[str]
) -> None:
    response = await client.request(method, path, headers=auth)
    assert_error(response, 405, "method_not_allowed")
    assert allowed(response) == methods


async def test_the_declared_methods_still_answer(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.get("/api/backtest/datasets", headers=auth)).status_code == 200
    assert (await client.get("/api/orders", headers=auth)).status_code == 200
    response = await client.get(f"/api/backtest/{SOME_ID}", headers=auth)
    assert_error(response, 404)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/orders/{DIGITS_ID}",
        f"/api/portfolios/{DIGITS_ID}",
        f"/api/orders?portfolio_id={DIGITS_ID}",
        f"/api/orders/{{{SOME_ID}}}",
        f"/api/alerts/urn:uuid:{SOME_ID}",
    ],
)
async def test_an_id_is_a_canonical_uuid_in_a_path_or_query(
    client: httpx.AsyncClient, auth: dict[str, str], path: str
) -> None:
    error = assert_error(await client.get(path, headers=auth), 422, "validation_error")
    assert error["details"][0]["type"] == "uuid_parsing"


async def test_an_id_is_a_canonical_uuid_in_a_body(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    order = {"symbol": "AAPL", "side": "buy", "type": "market", "qty": "1"}
    for portfolio_id in (DIGITS_ID, 12345678901234567890123456789012):
        response = await client.post(
            "/api/orders", json=order | {"portfolio_id": portfolio_id}, headers=auth
        )
        error = assert_error(response, 422, "validation_error")
        assert error["details"][0]["loc"] == ["body", "portfolio_id"]
    response = await client.post(
        "/api/backtest", json=BACKTEST | {"dataset_id": DIGITS_ID}, headers=auth
    )
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders?after=1700000000",
        "/api/orders?until=0.5",
        "/api/market/history/AAPL?start=1700000000",
        "/api/market/history/AAPL?end=-5",
    ],
)
async def test_a_number_is_not_a_date_time_in_a_query(
    client: httpx.AsyncClient, auth: dict[str, str], path: str
) -> None:
    error = assert_error(await client.get(path, headers=auth), 422, "validation_error")
    assert error["details"][0]["type"] == "datetime_type"


async def test_a_number_is_not_a_date_time_in_a_portfolio_query(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    placed = await client.post(
        "/api/orders",
        json={"symbol": "AAPL", "side": "buy", "type": "market", "qty": "1"},
        headers=auth,
    )
    assert placed.status_code == 201, placed.text
    trades = f"/api/portfolios/{placed.json()['portfolio_id']}/trades"
    assert (await client.get(trades, headers=auth)).status_code == 200
    for query in ("after=1700000000", "until=1700000000.5"):
        response = await client.get(f"{trades}?{query}", headers=auth)
        assert_error(response, 422, "validation_error")


@pytest.mark.parametrize("start", [1704067200, "1704067200", 1704067200.0])
async def test_a_number_is_not_a_date_time_in_a_body(
    client: httpx.AsyncClient, auth: dict[str, str], start: Any
) -> None:
    response = await client.post("/api/backtest", json=BACKTEST | {"start": start}, headers=auth)
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["loc"] == ["body", "start"]


async def test_iso_8601_date_times_are_still_read(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for start in ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00", "2024-01-01"):
        response = await client.post(
            "/api/backtest", json=BACKTEST | {"start": start}, headers=auth
        )
        assert response.status_code == 202, response.text
    response = await client.get(
        "/api/orders", params={"after": "2024-01-01T00:00:00Z"}, headers=auth
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        (
            "/api/orders",
            "extended_hours",
            {"symbol": "AAPL", "side": "buy", "type": "market", "qty": "1"},
        ),
        ("/api/trade", "extended_hours", {"symbol": "AAPL", "side": "buy", "qty": "1"}),
        ("/api/portfolios", "shorting_enabled", {"name": "Margin", "margin_multiplier": 2}),
    ],
)
@pytest.mark.parametrize("value", [0, 1, "true", "yes"])
async def test_a_boolean_in_a_body_is_true_or_false(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    path: str,
    field: str,
    body: dict[str, Any],
    value: Any,
) -> None:
    response = await client.post(path, json=body | {field: value}, headers=auth)
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["loc"] == ["body", field]


@pytest.mark.parametrize("symbols", ["", ",", " , ,"])
async def test_quotes_declare_that_they_need_a_symbol(
    client: httpx.AsyncClient, symbols: str
) -> None:
    """The schema states the rule (a 422 as for any bad query), not only the service (a 400)."""
    response = await client.get("/api/market/quotes", params={"symbols": symbols})
    assert_error(response, 422, "validation_error")


ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/orders"),
        ("post", "/api/trade"),
        ("patch", "/api/orders/{order_id}"),
        ("delete", "/api/orders/{order_id}"),
        ("post", "/api/auth/login"),
    ],
)
async def test_refusals_are_declared_with_the_error_body(
    make_api: AppFactory, method: str, path: str
) -> None:
    async with make_api() as (app, _client):
        responses = app.openapi()["paths"][path][method]["responses"]
    assert responses["403"]["content"]["application/json"]["schema"] == ERROR_BODY


@pytest.mark.parametrize("export", ["trades", "equity"])
async def test_exports_declare_csv(make_api: AppFactory, export: str) -> None:
    async with make_api() as (app, _client):
        ok = app.openapi()["paths"][f"/api/backtest/{{backtest_id}}/{export}"]["get"]
    assert set(ok["responses"]["200"]["content"]) == {"application/json", "text/csv"}
