"""The pure parts of the risk analytics use cases: shock parsing and the JSON-ready figures."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.errors import Unprocessable
from quantumtrade.domain.risk import beta
from quantumtrade.services.risk.analytics import (
    METHODS,
    check_var_inputs,
    metric_figures,
    parse_shocks,
    var_figures,
)

DATES = pd.date_range("2025-01-02", periods=300, freq="B")


def market(seed: int = 1) -> tuple[pd.DataFrame, pd.Series]:
    """Return returns of four symbols with known betas (1.5, 0.5, -1, 0) and the benchmark."""
    rng = np.random.default_rng(seed)
    bench = rng.normal(0.0, 0.01, len(DATES))
    noise = rng.normal(0.0, [0.002, 0.01, 0.002], (len(DATES), 3))
    frame = pd.DataFrame(
        {
            "TECH1": 1.5 * bench + noise[:, 0],
            "TECH2": 0.5 * bench + noise[:, 1],
            "OIL": -1.0 * bench + noise[:, 2],
            "FLAT": np.zeros(len(DATES)),  # a constant series has no correlation
        },
        index=DATES,
    )
    return frame, pd.Series(bench, index=DATES, name="SPY")


def strict_json(body: Any) -> Any:
    return json.loads(json.dumps(body, allow_nan=False))


# --- shocks -------------------------------------------------------------------------------


def test_parse_shocks_reads_symbol_return_pairs() -> None:
    assert parse_shocks("AAPL:-0.1,MSFT:-0.05") == {"AAPL": -0.1, "MSFT": -0.05}
    assert parse_shocks(" aapl : -0.1 , btc/usd:0.2 ") == {"AAPL": -0.1, "BTC/USD": 0.2}
    assert parse_shocks("XOM:-1") == {"XOM": -1.0}
    assert parse_shocks(None) == {} and parse_shocks("  ") == {}


@pytest.mark.parametrize(
    "text",
    ["AAPL", "AAPL=-0.1", "AAPL:", ":0.1", "AAPL:x", "AAPL:nan", "AAPL:-1.5", "AAPL:11", "A,B:1"],
)
def test_parse_shocks_refuses_bad_syntax(text: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        parse_shocks(text)
    assert caught.value.code == "invalid_shocks"


def test_parse_shocks_refuses_duplicates_and_too_many() -> None:
    with pytest.raises(Unprocessable, match="twice"):
        parse_shocks("AAPL:-0.1,aapl:0.1")
    with pytest.raises(Unprocessable, match="At most 100"):
        parse_shocks(",".join(f"S{i}:0.1" for i in range(101)))


def test_check_var_inputs_refuses_out_of_range() -> None:
    good = {"confidence": 0.99, "horizon_days": 10, "lookback_days": 504, "paths": 500, "seed": 0}
    check_var_inputs(**good)
    for name, bad in [("confidence", 0.9999), ("horizon_days", 31), ("paths", 99), ("seed", -1)]:
        with pytest.raises(Unprocessable) as caught:
            check_var_inputs(**(good | {name: bad}))
        assert caught.value.code == "invalid_risk_parameter"


# --- VaR ----------------------------------------------------------------------------------

SETTINGS: dict[str, Any] = {"confidence": 0.99, "horizon_days": 4, "paths": 2000, "seed": 1}


def test_var_figures_of_an_empty_book_are_zero() -> None:
    figures = var_figures(pd.Series(dtype="float64"), None, equity=1e5, **SETTINGS)
    assert set(figures) == set(METHODS)
    for view in figures.values():
        assert view["var"] == view["cvar"] == view["var_pct_of_gross"] == 0.0
        assert view["components"] == []


def test_var_figures_are_json_ready_and_components_add_up() -> None:
    returns, _ = market()
    values = pd.Series({"FLAT": 5_000.0, "OIL": -20_000.0, "TECH1": 30_000.0, "TECH2": 10_000.0})
    figures = strict_json(var_figures(values, returns, equity=50_000.0, **SETTINGS))
    for method, view in figures.items():
        basis = view["var"] if view["component_basis"] == "var" else view["cvar"]
        parts = [c["component"] for c in view["components"]]
        assert sum(parts) == pytest.approx(basis), method
        assert parts == sorted(parts, reverse=True)
        assert view["var_pct_of_equity"] == pytest.approx(view["var"] / 50_000.0)
        assert view["var_pct_of_gross"] == pytest.approx(view["var"] / 65_000.0)
    assert figures["parametric"]["component_basis"] == "var"


# --- metrics ------------------------------------------------------------------------------

SECTORS = {"TECH1": "Technology", "TECH2": "Technology", "OIL": "Energy", "FLAT": None}


def test_metric_figures_of_a_long_short_book() -> None:
    returns, bench = market()
    values = pd.Series({"FLAT": 5_000.0, "OIL": -20_000.0, "TECH1": 30_000.0, "TECH2": 10_000.0})
    body = strict_json(metric_figures(values, returns, bench, equity=50_000.0, sectors=SECTORS))
    exposure = body["exposure"]
    assert (exposure["gross"], exposure["net"]) == (65_000.0, 25_000.0)
    assert (exposure["long"], exposure["short"]) == (45_000.0, 20_000.0)
    betas = {p["symbol"]: p["beta"] for p in body["positions"]}
    assert betas["TECH1"] == pytest.approx(1.5, abs=0.05)
    assert betas["OIL"] == pytest.approx(-1.0, abs=0.05)
    assert betas["FLAT"] == 0.0
    weighted = sum(betas[s] * v for s, v in values.items())
    assert exposure["beta_weighted"] == pytest.approx(weighted)
    assert body["beta"] == pytest.approx(weighted / 65_000.0)
    market_10 = body["stress"][0]
    assert market_10["scenario"] == "market -10%"
    assert market_10["pnl"] == pytest.approx(-0.1 * weighted)
    # Technology holds 40,000 gross against Energy's 20,000.
    (sector,) = [s for s in body["stress"] if s["kind"] == "sector"]
    assert sector["sector"] == "Technology" and sector["pnl"] == pytest.approx(-4_000.0)
    # FLAT never moves: its correlations are undefined (None), its diagonal too.
    matrix = body["correlation"]["matrix"]
    flat = body["correlation"]["symbols"].index("FLAT")
    assert all(value is None for value in matrix[flat])
    pairs = {(w["first"], w["second"]): w["correlation"] for w in body["correlation"]["warnings"]}
    assert list(pairs) == [("OIL", "TECH1")]  # TECH2 carries more noise (rho about 0.45)
    assert pairs["OIL", "TECH1"] == pytest.approx(-0.97, abs=0.02)  # -1.5 / sqrt(2.29 * 1.04)


def test_metric_figures_without_a_benchmark_assume_beta_one() -> None:
    returns, _ = market()
    values = pd.Series({"OIL": 20_000.0, "TECH1": 20_000.0})
    body = strict_json(
        metric_figures(values, returns, None, equity=50_000.0, sectors={"OIL": "E", "TECH1": "T"})
    )
    assert body["beta"] is None
    assert all(p["beta"] is None for p in body["positions"])
    assert body["exposure"]["beta_weighted"] == pytest.approx(40_000.0)
    assert body["stress"][0]["pnl"] == pytest.approx(-4_000.0)
    # Two sectors of equal size: the alphabetically first one is shocked.
    (sector,) = [s for s in body["stress"] if s["kind"] == "sector"]
    assert sector["sector"] == "E"


def test_metric_figures_skip_the_sector_scenario_without_sectors() -> None:
    returns, bench = market()
    values = pd.Series({"FLAT": 1_000.0, "TECH1": 1_000.0})
    body = metric_figures(
        values, returns, bench, equity=2_000.0, sectors={"FLAT": None, "TECH1": None}
    )
    assert [s["kind"] for s in body["stress"]] == ["market", "market", "volatility_spike"]
    assert body["concentration"] == {"herfindahl": 0.5, "effective_positions": 2.0}


def test_metric_figures_betas_match_the_domain_beta() -> None:
    returns, bench = market(seed=7)
    values = pd.Series({"FLAT": 1.0, "OIL": 2.0, "TECH1": 3.0, "TECH2": 4.0})
    body = metric_figures(values, returns, bench, equity=10.0, sectors=SECTORS)
    for position in body["positions"]:
        expected = beta(returns[position["symbol"]], bench)
        assert position["beta"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    flat_benchmark = pd.Series(0.01, index=DATES)
    body = metric_figures(values, returns, flat_benchmark, equity=10.0, sectors=SECTORS)
    assert body["beta"] is None and {p["beta"] for p in body["positions"]} == {None}
    assert body["stress"][0]["pnl"] == pytest.approx(-0.1 * 10.0)  # as if every beta were 1
