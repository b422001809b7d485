"""Every order, portfolio, risk and system answer matches the schema the OpenAPI publishes.

A signed-in user with filled orders (so positions), a resting order and a bracket order with
its legs calls each route. Each body is checked three ways:

- the operation's response schema in ``/openapi.json`` names the route's response model, and
  the body validates against that published JSON schema (with ``jsonschema_rs``, which the
  dev dependency schemathesis brings, when it is installed);
- the model validates it strictly (``model_validate(..., strict=True)``);
- every object in the body has exactly its model's fields, nested models included, so a field
  a view adds without a schema field (which the response model would drop) fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter

from quantumtrade.api.schemas import admin, orders_out, portfolios_out, risk_out, system_out
from quantumtrade.api.schemas.orders_out import CancelResult, OrderEventOut, OrderOut
from quantumtrade.api.schemas.portfolios_out import (
    PerformanceOut,
    PortfolioOut,
    PositionOut,
    TradesPage,
)
from quantumtrade.api.schemas.risk_out import RiskMetricsOut, StopsOut, VarOut
from quantumtrade.api.schemas.system_out import HealthOut, StatsOut
from quantumtrade.db.models import Position
from quantumtrade.domain.clock import FixedClock
from quantumtrade.services.trading.views import position_view
from support import bearer, register

jsonschema_rs: ModuleType | None
try:  # brought by schemathesis (a dev dependency); the model checks run without it
    import jsonschema_rs
except ImportError:  # pragma: no cover
    jsonschema_rs = None

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York: open
MODULES = (admin, orders_out, portfolios_out, risk_out, system_out)


def exact_fields(value: Any, raw: Any, where: str = "body") -> None:
    """Assert each object in ``raw`` has exactly the fields of its model in ``value``."""
    if isinstance(value, BaseModel):
        assert isinstance(raw, dict), where
        fields = type(value).model_fields
        expected = {info.alias or name for name, info in fields.items()}
        assert set(raw) == expected, (
            f"{where} ({type(value).__name__}): only in the body {sorted(set(raw) - expected)}, "
            f"only in the schema {sorted(expected - set(raw))}"
        )
        for name, info in fields.items():
            key = info.alias or name
            exact_fields(getattr(value, name), raw[key], f"{where}.{key}")
    elif isinstance(value, list):
        assert isinstance(raw, list) and len(raw) == len(value), where
        for i, (item, raw_item) in enumerate(zip(value, raw, strict=True)):
            exact_fields(item, raw_item, f"{where}[{i}]")
    elif isinstance(value, dict):
        assert isinstance(raw, dict) and set(raw) == set(value), where
        for key, item in value.items():
            exact_fields(item, raw[key], f"{where}.{key}")


def conforms(model: type[BaseModel], body: Any, *, many: bool = False) -> None:
    """Validate ``body`` (a list of them when ``many``) strictly, with exact field sets."""
    if many:
        assert isinstance(body, list)
        items = TypeAdapter(list[model]).validate_python(body, strict=True)  # type: ignore[valid-type]
        exact_fields(items, body)
    else:
        exact_fields(model.model_validate(body, strict=True), body)


@dataclass
class Caller:
    client: httpx.AsyncClient
    headers: dict[str, str]
    spec: dict[str, Any]

    async def check(
        self,
        method: str,
        path: str,
        route: str,
        model: type[BaseModel],
        *,
        status: int = 200,
        many: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Call ``path``; check its body against ``route``'s published schema and ``model``."""
        response = await self.client.request(method, path, headers=self.headers, **kwargs)
        assert response.status_code == status, response.text
        body = response.json()
        declared = self.spec["paths"][route][method.lower()]["responses"][str(status)]
        schema = declared["content"]["application/json"]["schema"]
        reference = schema["items"]["$ref"] if many else schema["$ref"]
        assert reference == f"#/components/schemas/{model.__name__}", (route, schema)
        if many:
            assert schema["type"] == "array"
        if jsonschema_rs is not None:
            root = {"components": self.spec["components"], **schema}
            jsonschema_rs.validator_for(root).validate(body)
        conforms(model, body, many=many)
        return body


@pytest.fixture
async def caller(make_api: Any) -> AsyncIterator[Caller]:
    settings = {"market_feed_enabled": False, "paper_matching_enabled": False}
    async with make_api(clock=FixedClock(NOW), **settings) as (_app, client):
        spec = (await client.get("/openapi.json")).json()
        headers = bearer((await register(client))["access_token"])
        yield Caller(client, headers, spec)


async def test_order_routes_answer_their_schema(caller: Caller) -> None:
    c = caller
    filled = await c.check(
        "POST",
        "/api/orders",
        "/api/orders",
        OrderOut,
        status=201,
        json={"symbol": "AAPL", "side": "buy", "type": "market", "qty": "10"},
    )
    assert filled["status"] == "filled"
    traded = await c.check(
        "POST",
        "/api/trade",
        "/api/trade",
        OrderOut,
        status=201,
        json={"symbol": "MSFT", "side": "buy", "notional": "1000"},
    )
    assert traded["status"] == "filled" and traded["notional"] == "1000"
    low = str((Decimal(filled["filled_avg_price"]) / 2).quantize(Decimal("0.01")))
    resting = await c.check(
        "POST",
        "/api/orders",
        "/api/orders",
        OrderOut,
        status=201,
        json={
            "symbol": "AAPL",
            "side": "buy",
            "type": "limit",
            "limit_price": low,
            "qty": "1",
            "time_in_force": "gtc",
            "client_order_id": "schema-check-1",
        },
    )
    assert resting["status"] == "new"
    bracket = await c.check(
        "POST",
        "/api/orders",
        "/api/orders",
        OrderOut,
        status=201,
        json={
            "symbol": "AAPL",
            "side": "buy",
            "type": "limit",
            "limit_price": low,
            "qty": "1",
            "time_in_force": "gtc",
            "order_class": "bracket",
            "take_profit": {"limit_price": filled["filled_avg_price"]},
            "stop_loss": {"stop_price": str(Decimal(low) - 1)},
        },
    )
    assert bracket["order_class"] == "bracket" and len(bracket["legs"]) == 2

    listed = await c.check(
        "GET", "/api/orders", "/api/orders", OrderOut, many=True, params={"status": "all"}
    )
    assert any(order["legs"] for order in listed)
    await c.check(
        "GET", "/api/orders", "/api/orders", OrderOut, many=True, params={"nested": "false"}
    )
    found = await c.check(
        "GET",
        "/api/orders:by_client_order_id",
        "/api/orders:by_client_order_id",
        OrderOut,
        params={"client_order_id": "schema-check-1"},
    )
    assert found["id"] == resting["id"]
    await c.check("GET", f"/api/orders/{filled['id']}", "/api/orders/{order_id}", OrderOut)
    await c.check("GET", f"/api/orders/{bracket['id']}", "/api/orders/{order_id}", OrderOut)
    fills = await c.check(
        "GET",
        f"/api/orders/{filled['id']}/events",
        "/api/orders/{order_id}/events",
        OrderEventOut,
        many=True,
    )
    assert [event["event"] for event in fills] == ["new", "fill"]
    await c.check(
        "GET",
        f"/api/orders/{resting['id']}/events",
        "/api/orders/{order_id}/events",
        OrderEventOut,
        many=True,
    )
    replaced = await c.check(
        "PATCH",
        f"/api/orders/{resting['id']}",
        "/api/orders/{order_id}",
        OrderOut,
        json={"limit_price": str(Decimal(low) + 1)},
    )
    assert replaced["replaces"] == resting["id"]
    canceled = await c.check(
        "DELETE", "/api/orders", "/api/orders", CancelResult, status=207, many=True
    )
    assert len(canceled) == 2 and {r["status"] for r in canceled} == {200}


async def test_portfolio_routes_answer_their_schema(caller: Caller) -> None:
    c = caller
    order = await c.check(
        "POST",
        "/api/orders",
        "/api/orders",
        OrderOut,
        status=201,
        json={"symbol": "AAPL", "side": "buy", "qty": "3"},
    )
    await c.check(
        "POST",
        "/api/orders",
        "/api/orders",
        OrderOut,
        status=201,
        json={"symbol": "AAPL", "side": "sell", "qty": "1"},
    )
    low = str((Decimal(order["filled_avg_price"]) / 2).quantize(Decimal("0.01")))
    await c.check(
        "POST",
        "/api/orders",
        "/api/orders",
        OrderOut,
        status=201,
        json={"symbol": "AAPL", "side": "buy", "type": "limit", "limit_price": low, "qty": "1"},
    )
    pid = order["portfolio_id"]
    listed = await c.check("GET", "/api/portfolios", "/api/portfolios", PortfolioOut, many=True)
    assert [p["id"] for p in listed] == [pid]
    summary = await c.check(
        "GET", f"/api/portfolios/{pid}", "/api/portfolios/{portfolio_id}", PortfolioOut
    )
    assert summary["position_count"] == 1 and summary["reserved_for_orders"] != "0"
    positions = await c.check(
        "GET",
        f"/api/portfolios/{pid}/positions",
        "/api/portfolios/{portfolio_id}/positions",
        PositionOut,
        many=True,
    )
    assert [p["qty"] for p in positions] == ["2"]
    performance = await c.check(
        "GET",
        f"/api/portfolios/{pid}/performance",
        "/api/portfolios/{portfolio_id}/performance",
        PerformanceOut,
    )
    assert performance["summary"]["n_trades"] == 1  # the sale realized a P&L
    assert isinstance(performance["summary"]["expectancy"], str)
    page = await c.check(
        "GET",
        f"/api/portfolios/{pid}/trades",
        "/api/portfolios/{portfolio_id}/trades",
        TradesPage,
    )
    assert page["total"] == 2
    created = await c.check(
        "POST",
        "/api/portfolios",
        "/api/portfolios",
        PortfolioOut,
        status=201,
        json={"name": "Margin", "margin_multiplier": 2, "shorting_enabled": True},
    )
    await c.check(
        "GET",
        f"/api/portfolios/{created['id']}/performance",
        "/api/portfolios/{portfolio_id}/performance",
        PerformanceOut,
    )
    reset = await c.check(
        "POST",
        f"/api/portfolios/{pid}/reset",
        "/api/portfolios/{portfolio_id}/reset",
        PortfolioOut,
    )
    assert reset["position_count"] == 0 and reset["reset_at"] is not None


async def test_risk_routes_answer_their_schema(caller: Caller) -> None:
    c = caller
    for symbol, qty in (("AAPL", "10"), ("MSFT", "5"), ("SPY", "2")):
        order = await c.check(
            "POST",
            "/api/orders",
            "/api/orders",
            OrderOut,
            status=201,
            json={"symbol": symbol, "side": "buy", "qty": qty},
        )
    pid = order["portfolio_id"]
    route = "/api/risk/var/{portfolio_id}"
    every = await c.check("GET", f"/api/risk/var/{pid}", route, VarOut)
    assert set(every["methods"]) == {"historical", "parametric", "monte_carlo"}
    one = await c.check(
        "GET", f"/api/risk/var/{pid}", route, VarOut, params={"method": "historical"}
    )
    assert set(one["methods"]) == {"historical"} and one["monte_carlo"] is None
    metrics = await c.check(
        "GET",
        f"/api/risk/metrics/{pid}",
        "/api/risk/metrics/{portfolio_id}",
        RiskMetricsOut,
        params={"shocks": "AAPL:-0.1,XOM:-0.2"},
    )
    kinds = [scenario["kind"] for scenario in metrics["stress"]]
    assert kinds == ["market", "market", "volatility_spike", "sector", "custom"]

    stops = "/api/risk/stops/{symbol}"
    sized = await c.check(
        "GET",
        "/api/risk/stops/AAPL",
        stops,
        StopsOut,
        params={"equity": 100000, "win_rate": 0.55, "win_loss_ratio": 1.5},
    )
    assert sized["kelly"] is not None and sized["stops"][0]["whole_qty"] is not None
    short = await c.check(
        "GET",
        "/api/risk/stops/AAPL",
        stops,
        StopsOut,
        params={"side": "short", "entry": 200, "atr_period": 200, "volatility_window": 500},
    )
    assert short["equity"] is None and short["kelly"] is None

    empty = await c.check(
        "POST",
        "/api/portfolios",
        "/api/portfolios",
        PortfolioOut,
        status=201,
        json={"name": "Empty"},
    )
    nothing = await c.check("GET", f"/api/risk/var/{empty['id']}", route, VarOut)
    assert all(figures["components"] == [] for figures in nothing["methods"].values())
    await c.check(
        "GET",
        f"/api/risk/metrics/{empty['id']}",
        "/api/risk/metrics/{portfolio_id}",
        RiskMetricsOut,
        params={"shocks": "AAPL:-0.1"},
    )


async def test_system_routes_answer_their_schema(caller: Caller) -> None:
    health = await caller.check("GET", "/api/health", "/api/health", HealthOut)
    assert health["status"] == "ok"
    assert "down" in caller.spec["paths"]["/api/health"]["get"]["responses"]["503"]["description"]
    await caller.check("GET", "/api/stats", "/api/stats", StatsOut)


def test_a_position_without_a_previous_close_matches_its_schema() -> None:
    """The day's figures are null, not zero, when the previous close is unknown."""
    position = Position(
        symbol="AAPL",
        asset_class="us_equity",
        qty=Decimal(10),
        avg_entry_price=Decimal("81.57"),
        realized_pl=Decimal(0),
        opened_at=NOW,
    )
    view = position_view(position, Decimal("82"), None)
    assert view["unrealized_intraday_pl"] is None and view["change_today"] is None
    conforms(PositionOut, view)


def _models(module: ModuleType) -> list[type[BaseModel]]:
    return [
        value
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    ]


@pytest.mark.parametrize(
    "model", [m for module in MODULES for m in _models(module)], ids=lambda m: m.__name__
)
def test_every_response_model_documents_valid_examples(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    if "$ref" in schema:  # a recursive model (an order nests its legs)
        schema = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    examples = schema.get("examples")
    if examples is None:  # documented field by field instead
        properties = schema["properties"].values()
        assert all("examples" in p or "$ref" in p or "items" in p for p in properties), model
        return
    for example in examples:
        conforms(model, example)
