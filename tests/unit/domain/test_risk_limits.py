"""The pure check of an order against a portfolio's risk limits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.risk.limits import OrderRisk, RiskLimits, check_order

BASE = OrderRisk(
    symbol="AAPL",
    sector="Technology",
    adds_risk=True,
    order_value=5_000.0,
    equity=100_000.0,
    symbol_exposure_after=20_000.0,
    sector_exposure_after=45_000.0,
    gross_after=80_000.0,
    open_positions_after=4,
    day_pl=-1_000.0,
    last_equity=101_000.0,
    drawdown=-0.02,
    orders_last_minute=3,
)


def rules(limits: RiskLimits, risk: OrderRisk = BASE) -> list[str]:
    return [breach.rule for breach in check_order(limits, risk)]


def test_defaults_let_an_ordinary_order_through() -> None:
    assert rules(RiskLimits()) == []


@pytest.mark.parametrize(
    ("limits", "rule", "value"),
    [
        (RiskLimits(max_position_pct=0.1), "max_position_pct", 0.2),
        (RiskLimits(max_position_value=10_000), "max_position_value", 20_000.0),
        (RiskLimits(max_order_value=1_000), "max_order_value", 5_000.0),
        (RiskLimits(max_open_positions=3), "max_open_positions", 4),
        (RiskLimits(max_symbol_concentration_pct=0.2), "max_symbol_concentration_pct", 0.25),
        (RiskLimits(max_sector_concentration_pct=0.4), "max_sector_concentration_pct", 0.45),
        (RiskLimits(max_leverage=0.5), "max_leverage", 0.8),
        (RiskLimits(daily_loss_limit_value=500), "daily_loss_limit_value", 1_000.0),
        (RiskLimits(daily_loss_limit_pct=0.005), "daily_loss_limit_pct", round(1000 / 101000, 6)),
        (RiskLimits(max_drawdown_pct=0.01), "max_drawdown_pct", 0.02),
        (RiskLimits(blocked_symbols=("AAPL",)), "blocked_symbols", "AAPL"),
        (RiskLimits(allowed_symbols=("MSFT",)), "allowed_symbols", "AAPL"),
        (RiskLimits(max_orders_per_minute=3), "max_orders_per_minute", 4),
    ],
)
def test_each_rule_names_its_limit_and_the_breaking_value(
    limits: RiskLimits, rule: str, value: float | str
) -> None:
    breaches = check_order(limits, BASE)
    assert [b.rule for b in breaches] == [rule]
    assert breaches[0].value == value
    assert breaches[0].code == f"risk_{rule}"
    assert breaches[0].message.endswith(".")


def test_limits_just_met_are_not_breached() -> None:
    limits = RiskLimits(max_position_pct=0.2, max_order_value=5_000, max_open_positions=4)
    assert rules(limits) == []


def test_a_risk_reducing_order_passes_every_rule_but_the_order_rate() -> None:
    strict = RiskLimits(
        max_position_pct=0.01,
        max_order_value=1,
        blocked_symbols=("AAPL",),
        daily_loss_limit_value=1,
        max_drawdown_pct=0.001,
        max_orders_per_minute=1,
    )
    assert rules(strict, replace(BASE, adds_risk=False)) == ["max_orders_per_minute"]


def test_from_dict_normalises_symbols_and_round_trips() -> None:
    limits = RiskLimits.from_dict({"blocked_symbols": ["tsla", " TSLA "], "max_leverage": 2})
    assert limits.blocked_symbols == ("TSLA",)
    assert RiskLimits.from_dict(limits.to_dict()) == limits


def test_null_switches_a_symbol_list_off() -> None:
    """``null`` is "off" for every limit, the symbol lists included (the schema allows it)."""
    limits = RiskLimits.from_dict({"allowed_symbols": ["aapl"], "blocked_symbols": ["tsla"]})
    off = RiskLimits.from_dict(
        {**limits.to_dict(), "allowed_symbols": None, "blocked_symbols": None}
    )
    assert off.allowed_symbols is None and off.blocked_symbols == ()
    assert off.to_dict()["blocked_symbols"] == []


@pytest.mark.parametrize(
    "raw",
    [
        {"max_position_pct": 1.5},
        {"max_order_value": 0},
        {"max_order_value": "lots"},
        {"max_open_positions": 2.5},
        {"blocked_symbols": "TSLA"},
        {"max_leverage": True},
        {"no_such_limit": 1},
    ],
)
def test_from_dict_refuses_bad_values(raw: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as caught:
        RiskLimits.from_dict(raw)
    assert caught.value.code == "invalid_risk_limits"


def test_usage_reports_each_limit_that_is_on_most_used_first() -> None:
    from quantumtrade.domain.risk.limits import AccountRisk, limit_usage

    state = AccountRisk(
        equity=100_000.0,
        exposures={"AAPL": 18_000.0, "MSFT": 12_000.0, "XOM": 5_000.0},
        sectors={"AAPL": "Technology", "MSFT": "Technology", "XOM": "Energy"},
        day_pl=-900.0,
        last_equity=100_900.0,
        drawdown=-0.01,
    )
    limits = RiskLimits(
        max_position_pct=0.2,
        max_sector_concentration_pct=0.5,
        daily_loss_limit_value=1000,
        max_open_positions=10,
    )
    usage = {u.rule: u for u in limit_usage(limits, state)}
    assert set(usage) == {
        "max_position_pct",
        "max_sector_concentration_pct",
        "daily_loss_limit_value",
        "max_open_positions",
    }
    assert usage["max_position_pct"].used == pytest.approx(0.9)
    assert usage["max_position_pct"].subject == "AAPL"
    assert usage["max_sector_concentration_pct"].used == pytest.approx(0.6)
    assert usage["max_sector_concentration_pct"].subject == "Technology"
    assert usage["daily_loss_limit_value"].used == pytest.approx(0.9)
    assert usage["max_open_positions"].used == pytest.approx(0.3)
    ordered = [u.used for u in limit_usage(limits, state)]
    assert ordered == sorted(ordered, reverse=True)
