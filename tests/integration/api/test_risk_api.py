"""The risk analytics API through the real app: VaR/CVaR, metrics and stress, stop suggestions.

Positions are bought with market orders (they fill at once against the deterministic simulated
market), so every figure can be checked against the positions the portfolio API reports.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import NormalDist
from typing import Any

import httpx
import pytest

from quantumtrade.domain.clock import FixedClock
from support import assert_error, bearer, register

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York: open
BOOK = {"AAPL": 60, "MSFT": 25, "JPM": 30, "XOM": 50, "SPY": 10}


@dataclass
class Trader:
    client: httpx.AsyncClient
    headers: dict[str, str]

    async def buy(self, symbol: str, qty: float) -> str:
        """Buy at the market; return the portfolio id."""
        body = {"symbol": symbol, "side": "buy", "type": "market", "qty": str(qty)}
        response = await self.client.post("/api/orders", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        order = response.json()
        assert order["status"] == "filled", order
        return str(order["portfolio_id"])

    async def hold(self, book: dict[str, float]) -> str:
        portfolio_ids = {await self.buy(symbol, qty) for symbol, qty in book.items()}
        assert len(portfolio_ids) == 1
        return portfolio_ids.pop()

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers)

    async def ok(self, path: str, **params: Any) -> dict[str, Any]:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def new_trader(client: httpx.AsyncClient) -> Trader:
    tokens = await register(client)
    return Trader(client, bearer(tokens["access_token"]))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def client(make_api: Any, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    # Tokens expire by the app's clock, and one test moves it 27 days on.
    settings = {
        "market_feed_enabled": False,
        "paper_matching_enabled": False,
        "access_token_ttl_seconds": 60 * 24 * 3600,
    }
    async with make_api(clock=clock, **settings) as (_app, client):
        yield client


@pytest.fixture
async def held(client: httpx.AsyncClient) -> tuple[Trader, str]:
    trader = await new_trader(client)
    return trader, await trader.hold(BOOK)


# --- VaR ----------------------------------------------------------------------------------


async def test_var_all_methods_are_positive_with_cvar_at_least_var(
    held: tuple[Trader, str],
) -> None:
    trader, portfolio_id = held
    body = await trader.ok(f"/api/risk/var/{portfolio_id}", method="all", confidence=0.95)
    assert set(body["methods"]) == {"historical", "parametric", "monte_carlo"}
    assert body["positions"] == len(BOOK)
    assert body["history"]["observations"] == 252 and body["horizon_days"] == 1
    assert body["conventions"]["sign"].startswith("VaR and CVaR are positive losses")
    for name, figures in body["methods"].items():
        assert figures["var"] > 0.0, name
        assert figures["cvar"] >= figures["var"], name
        assert figures["var_pct_of_equity"] == pytest.approx(figures["var"] / body["equity"])
        assert figures["var_pct_of_gross"] == pytest.approx(figures["var"] / body["gross_exposure"])
        assert {c["symbol"] for c in figures["components"]} == set(BOOK)


async def test_var_at_99_is_at_least_var_at_95(held: tuple[Trader, str]) -> None:
    trader, portfolio_id = held
    at95 = await trader.ok(f"/api/risk/var/{portfolio_id}", confidence=0.95)
    at99 = await trader.ok(f"/api/risk/var/{portfolio_id}", confidence=0.99)
    for name in ("historical", "parametric", "monte_carlo"):
        assert at99["methods"][name]["var"] >= at95["methods"][name]["var"], name
        assert at99["methods"][name]["cvar"] >= at95["methods"][name]["cvar"], name


async def test_var_scales_with_the_square_root_of_the_horizon(held: tuple[Trader, str]) -> None:
    trader, portfolio_id = held
    one = await trader.ok(f"/api/risk/var/{portfolio_id}", method="parametric", horizon_days=1)
    nine = await trader.ok(f"/api/risk/var/{portfolio_id}", method="parametric", horizon_days=9)
    assert set(one["methods"]) == {"parametric"} and one["monte_carlo"] is None
    # Zero mean: the scaling is exact, sqrt(9) = 3.
    for figure in ("var", "cvar"):
        assert nine["methods"]["parametric"][figure] == pytest.approx(
            3.0 * one["methods"]["parametric"][figure], rel=1e-9
        )


async def test_var_components_sum_to_their_basis(held: tuple[Trader, str]) -> None:
    trader, portfolio_id = held
    body = await trader.ok(f"/api/risk/var/{portfolio_id}", confidence=0.99, horizon_days=5)
    parametric = body["methods"]["parametric"]
    assert parametric["component_basis"] == "var"
    assert sum(c["component"] for c in parametric["components"]) == pytest.approx(
        parametric["var"], rel=1e-9
    )
    assert sum(c["share"] for c in parametric["components"]) == pytest.approx(1.0)
    for name in ("historical", "monte_carlo"):
        figures = body["methods"][name]
        assert figures["component_basis"] == "cvar"
        total = sum(c["component"] for c in figures["components"])
        assert total == pytest.approx(figures["cvar"], rel=1e-9)


@pytest.mark.parametrize("confidence", [0.95, 0.99])
async def test_var_monte_carlo_agrees_with_parametric(
    held: tuple[Trader, str], confidence: float
) -> None:
    trader, portfolio_id = held
    paths = 20_000
    body = await trader.ok(
        f"/api/risk/var/{portfolio_id}", confidence=confidence, paths=paths, seed=3
    )
    # Both use the same sample covariance and a normal law, so they differ only by sampling
    # error. The empirical p-quantile of n normal draws has standard error
    # sqrt(p (1 - p) / n) / phi(z) in units of sigma, i.e. relative to z sigma:
    z = NormalDist().inv_cdf(confidence)
    relative_se = math.sqrt(confidence * (1 - confidence) / paths) / NormalDist().pdf(z) / z
    # 1.1 % at 95 % and 1.4 % at 99 % with 20,000 paths; allow four standard errors.
    analytic = body["methods"]["parametric"]["var"]
    simulated = body["methods"]["monte_carlo"]["var"]
    assert simulated == pytest.approx(analytic, rel=4 * relative_se)
    assert body["monte_carlo"] == {"paths": paths, "seed": 3}


async def test_var_monte_carlo_is_reproducible_with_its_seed(held: tuple[Trader, str]) -> None:
    trader, portfolio_id = held
    path = f"/api/risk/var/{portfolio_id}"
    first = await trader.ok(path, method="monte_carlo", seed=5, paths=1000)
    again = await trader.ok(path, method="monte_carlo", seed=5, paths=1000)
    other = await trader.ok(path, method="monte_carlo", seed=6, paths=1000)
    assert first["methods"] == again["methods"]
    assert other["methods"]["monte_carlo"]["var"] != first["methods"]["monte_carlo"]["var"]


# --- metrics ------------------------------------------------------------------------------


async def positions_of(trader: Trader, portfolio_id: str) -> dict[str, float]:
    listed = await trader.client.get(
        f"/api/portfolios/{portfolio_id}/positions", headers=trader.headers
    )
    assert listed.status_code == 200, listed.text
    return {p["symbol"]: float(p["market_value"]) for p in listed.json()}


async def test_metrics_exposure_equals_the_positions_market_value(
    held: tuple[Trader, str],
) -> None:
    trader, portfolio_id = held
    values = await positions_of(trader, portfolio_id)
    body = await trader.ok(f"/api/risk/metrics/{portfolio_id}")
    exposure = body["exposure"]
    # The positions API rounds each market value to the cent.
    cents = 0.005 * len(values) + 1e-9
    assert exposure["gross"] == pytest.approx(sum(values.values()), abs=cents)
    assert exposure["long"] == exposure["net"] == exposure["gross"]  # a long-only book
    assert exposure["short"] == 0.0
    assert exposure["gross_pct_of_equity"] == pytest.approx(exposure["gross"] / body["equity"])
    by_symbol = {p["symbol"]: p for p in body["positions"]}
    assert set(by_symbol) == set(values)
    for symbol, value in values.items():
        assert by_symbol[symbol]["market_value"] == pytest.approx(value, abs=0.005)
    assert sum(p["weight"] for p in body["positions"]) == pytest.approx(1.0)
    weights = [p["weight"] for p in body["positions"]]
    assert body["concentration"]["herfindahl"] == pytest.approx(sum(w * w for w in weights))


async def test_metrics_spy_only_portfolio_has_beta_one(client: httpx.AsyncClient) -> None:
    trader = await new_trader(client)
    portfolio_id = await trader.hold({"SPY": 20})
    body = await trader.ok(f"/api/risk/metrics/{portfolio_id}")
    assert body["benchmark"] == "SPY"
    assert body["beta"] == pytest.approx(1.0, rel=1e-9)
    assert body["positions"][0]["beta"] == pytest.approx(1.0, rel=1e-9)
    assert body["correlation"]["matrix"] == [[pytest.approx(1.0)]]
    assert body["concentration"] == {"herfindahl": 1.0, "effective_positions": 1.0}
    assert body["volatility_annualised"] > 0.0


async def test_metrics_correlation_matrix_is_symmetric_with_unit_diagonal(
    held: tuple[Trader, str],
) -> None:
    trader, portfolio_id = held
    correlation = (await trader.ok(f"/api/risk/metrics/{portfolio_id}"))["correlation"]
    symbols, matrix = correlation["symbols"], correlation["matrix"]
    assert symbols == sorted(BOOK)
    n = len(symbols)
    assert len(matrix) == n and all(len(row) == n for row in matrix)
    for i in range(n):
        assert matrix[i][i] == pytest.approx(1.0)
        for j in range(n):
            assert matrix[i][j] == pytest.approx(matrix[j][i])
            assert -1.0 - 1e-12 <= matrix[i][j] <= 1.0 + 1e-12
    # The warnings are exactly the off-diagonal pairs at or above the threshold.
    assert correlation["threshold"] == 0.8
    flagged = {(w["first"], w["second"]) for w in correlation["warnings"]}
    expected = {
        (symbols[i], symbols[j])
        for i in range(n)
        for j in range(i + 1, n)
        if abs(matrix[i][j]) >= 0.8
    }
    assert flagged == expected


async def test_metrics_market_stress_moves_the_book_by_beta(held: tuple[Trader, str]) -> None:
    trader, portfolio_id = held
    body = await trader.ok(f"/api/risk/metrics/{portfolio_id}")
    weighted = sum(p["beta"] * p["market_value"] for p in body["positions"])
    assert body["exposure"]["beta_weighted"] == pytest.approx(weighted)
    # The book's beta is the weight-averaged beta of its positions (beta is linear).
    assert body["beta"] == pytest.approx(weighted / body["exposure"]["gross"])
    market = {s["shock"]: s for s in body["stress"] if s["kind"] == "market"}
    assert set(market) == {-0.10, -0.20}
    assert market[-0.10]["pnl"] == pytest.approx(-0.10 * weighted)
    assert market[-0.20]["pnl"] == pytest.approx(-0.20 * weighted)
    assert market[-0.10]["pnl_pct_of_equity"] == pytest.approx(
        market[-0.10]["pnl"] / body["equity"]
    )


async def test_metrics_sector_and_volatility_scenarios(held: tuple[Trader, str]) -> None:
    trader, portfolio_id = held
    body = await trader.ok(f"/api/risk/metrics/{portfolio_id}", sector_shock=-0.15)
    by_sector: dict[str, float] = {}
    for p in body["positions"]:
        if p["sector"]:
            by_sector[p["sector"]] = by_sector.get(p["sector"], 0.0) + p["market_value"]
    largest = max(by_sector, key=lambda name: by_sector[name])
    (sector,) = [s for s in body["stress"] if s["kind"] == "sector"]
    assert sector["sector"] == largest and sector["shock"] == -0.15
    assert sector["pnl"] == pytest.approx(-0.15 * by_sector[largest])
    (spike,) = [s for s in body["stress"] if s["kind"] == "volatility_spike"]
    assert spike["var_99_1d"] == pytest.approx(2.0 * spike["base_var_99_1d"])
    assert spike["pnl"] == pytest.approx(-spike["var_99_1d"])


async def test_metrics_applies_the_callers_shocks(held: tuple[Trader, str]) -> None:
    trader, portfolio_id = held
    plain = await trader.ok(f"/api/risk/metrics/{portfolio_id}")
    values = {p["symbol"]: p["market_value"] for p in plain["positions"]}
    body = await trader.ok(
        f"/api/risk/metrics/{portfolio_id}", shocks="aapl:-0.1, MSFT:0.05,NVDA:-0.5"
    )
    (custom,) = [s for s in body["stress"] if s["kind"] == "custom"]
    assert custom["shocks"] == {"AAPL": -0.1, "MSFT": 0.05, "NVDA": -0.5}
    assert custom["pnl"] == pytest.approx(-0.1 * values["AAPL"] + 0.05 * values["MSFT"])
    moved = {p["symbol"]: p["pnl"] for p in custom["positions"]}
    assert moved["AAPL"] == pytest.approx(-0.1 * values["AAPL"]) and moved["XOM"] == 0.0
    assert custom["unheld_symbols"] == ["NVDA"]
    assert any("NVDA" in warning for warning in body["warnings"])


async def test_metrics_report_the_drawdown_of_the_equity_curve(held: tuple[Trader, str]) -> None:
    trader, portfolio_id = held
    drawdown = (await trader.ok(f"/api/risk/metrics/{portfolio_id}"))["drawdown"]
    performance = await trader.ok(f"/api/portfolios/{portfolio_id}/performance")
    assert drawdown["since"] == performance["since"]
    # A portfolio opened today has a one-point curve: no drawdown yet.
    assert drawdown["current"] == 0.0 and drawdown["max"] == 0.0


async def test_metrics_drawdown_matches_the_performance_report_weeks_later(
    held: tuple[Trader, str], clock: FixedClock
) -> None:
    trader, portfolio_id = held
    clock.advance(timedelta(days=27))  # Tuesday 15 December 2026, 18 sessions later
    drawdown = (await trader.ok(f"/api/risk/metrics/{portfolio_id}"))["drawdown"]
    performance = await trader.ok(f"/api/portfolios/{portfolio_id}/performance")
    assert len(performance["equity_curve"]) > 10
    assert drawdown["max"] == pytest.approx(performance["summary"]["max_drawdown"], abs=1e-12)
    assert drawdown["max"] > 0.0
    assert 0.0 <= drawdown["current"] <= drawdown["max"]
    # Money is sent as decimal strings to the cent, as everywhere in the API.
    equity = [float(point["equity"]) for point in performance["equity_curve"]]
    assert all(isinstance(point["equity"], str) for point in performance["equity_curve"])
    assert drawdown["current"] == pytest.approx(1.0 - equity[-1] / max(equity), abs=1e-6)


# --- empty portfolio, ownership, bad input ------------------------------------------------


async def test_empty_portfolio_answers_zeros(client: httpx.AsyncClient) -> None:
    trader = await new_trader(client)
    created = await client.post("/api/portfolios", json={"name": "Empty"}, headers=trader.headers)
    assert created.status_code == 201, created.text
    portfolio_id = created.json()["id"]
    var = await trader.ok(f"/api/risk/var/{portfolio_id}")
    assert var["positions"] == 0 and var["gross_exposure"] == 0.0
    assert var["history"]["observations"] == 0
    for figures in var["methods"].values():
        assert figures["var"] == figures["cvar"] == figures["var_pct_of_equity"] == 0.0
        assert figures["components"] == []
    metrics = await trader.ok(f"/api/risk/metrics/{portfolio_id}", shocks="AAPL:-0.1")
    assert metrics["positions"] == [] and metrics["correlation"]["matrix"] == []
    assert set(metrics["exposure"].values()) == {0.0}
    assert metrics["beta"] == metrics["volatility_annualised"] == 0.0
    assert all(s["pnl"] == 0.0 and s["positions"] == [] for s in metrics["stress"])
    assert metrics["stress"][-1]["unheld_symbols"] == ["AAPL"]
    assert metrics["drawdown"]["current"] == 0.0


async def test_another_users_portfolio_is_not_found(held: tuple[Trader, str]) -> None:
    owner, portfolio_id = held
    stranger = await new_trader(owner.client)
    for path in (f"/api/risk/var/{portfolio_id}", f"/api/risk/metrics/{portfolio_id}"):
        assert_error(await stranger.get(path), 404, "portfolio_not_found")
    assert_error(await owner.client.get(f"/api/risk/var/{portfolio_id}"), 401)


@pytest.mark.parametrize(
    "params",
    [
        {"confidence": 1.5},
        {"confidence": 0.5},
        {"confidence": "nan"},
        {"horizon_days": 0},
        {"horizon_days": 31},
        {"lookback_days": 10},
        {"paths": 50},
        {"method": "garch"},
        {"seed": -1},
    ],
)
async def test_var_bad_query_is_422(held: tuple[Trader, str], params: dict[str, Any]) -> None:
    trader, portfolio_id = held
    response = await trader.get(f"/api/risk/var/{portfolio_id}", **params)
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["loc"][:2] == ["query", next(iter(params))]


@pytest.mark.parametrize(
    ("shocks", "code"),
    [
        ("AAPL=-0.1", "invalid_shocks"),
        ("AAPL:abc", "invalid_shocks"),
        ("AAPL:-2", "invalid_shocks"),
        ("AAPL:inf", "invalid_shocks"),
        ("AAPL:-0.1,,MSFT:0.1", "invalid_shocks"),
        ("AAPL:-0.1,aapl:-0.2", "invalid_shocks"),
        ("ZZZZZ:-0.1", "unknown_symbol"),
    ],
)
async def test_metrics_bad_shocks_are_422(held: tuple[Trader, str], shocks: str, code: str) -> None:
    trader, portfolio_id = held
    response = await trader.get(f"/api/risk/metrics/{portfolio_id}", shocks=shocks)
    error = assert_error(response, 422, code)
    assert error["message"]


# --- stops --------------------------------------------------------------------------------


async def test_stops_for_a_long_sit_below_the_entry_and_size_the_risk(
    client: httpx.AsyncClient,
) -> None:
    trader = await new_trader(client)
    body = await trader.ok("/api/risk/stops/AAPL", side="long", equity=100_000, risk_fraction=0.01)
    assert body["entry_source"] == "last_price" and body["risk_amount"] == pytest.approx(1000.0)
    entry = body["entry"]
    stops = {s["method"]: s for s in body["stops"]}
    assert set(stops) == {"percent", "atr", "volatility"}
    assert stops["percent"]["stop"] == pytest.approx(entry * 0.95)
    assert stops["atr"]["stop"] == pytest.approx(entry - 2.0 * stops["atr"]["atr"])
    assert stops["volatility"]["stop"] == pytest.approx(
        entry * (1 - 2.0 * stops["volatility"]["daily_volatility"])
    )
    for stop in stops.values():
        assert stop["stop"] < entry < stop["take_profit"], stop
        assert stop["take_profit"] - entry == pytest.approx(2.0 * (entry - stop["stop"]))
        assert stop["qty"] * (entry - stop["stop"]) == pytest.approx(1000.0)
        assert stop["whole_qty"] == math.floor(stop["qty"])
    assert body["kelly"] is None


async def test_stops_for_a_short_sit_above_a_given_entry(client: httpx.AsyncClient) -> None:
    trader = await new_trader(client)
    body = await trader.ok(
        "/api/risk/stops/BTC/USD",
        side="short",
        entry=50_000,
        stop_pct=0.1,
        win_rate=0.6,
        win_loss_ratio=1.5,
        equity=10_000,
    )
    assert body["symbol"] == "BTC/USD" and body["entry_source"] == "given"
    for stop in body["stops"]:
        assert stop["take_profit"] < 50_000 < stop["stop"], stop
    assert body["stops"][0]["stop"] == pytest.approx(55_000.0)
    assert body["kelly"]["fraction"] == pytest.approx(0.25)  # 0.6 - 0.4 / 1.5, capped
    assert body["kelly"]["notional"] == pytest.approx(2500.0)


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/risk/stops/ZZZZZ", {}, "unknown_symbol"),
        ("/api/risk/stops/AAPL", {"side": "flat"}, "validation_error"),
        ("/api/risk/stops/AAPL", {"risk_fraction": 0}, "validation_error"),
        ("/api/risk/stops/AAPL", {"win_rate": 0.6}, "invalid_kelly"),
    ],
)
async def test_stops_bad_input_is_422(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], code: str
) -> None:
    trader = await new_trader(client)
    assert_error(await trader.get(path, **params), 422, code)
