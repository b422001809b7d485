"""The paper execution models built from settings: prices, fees and the per-bar cap."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from quantumtrade.core.settings import load_settings
from quantumtrade.domain.execution import Side
from quantumtrade.domain.market import Quote
from quantumtrade.services.trading.execution import Execution, qty_for_notional

QUOTE = Quote("AAPL", datetime(2026, 11, 18, 16, tzinfo=UTC), 99.98, 300.0, 100.02, 200.0)


def execution(**settings: object) -> Execution:
    return Execution.from_settings(load_settings(_env_file=None, **settings))


def test_market_orders_fill_at_the_touch_plus_the_configured_slippage() -> None:
    assert execution().price(Side.BUY, QUOTE, Decimal(10)) == (Decimal("100.02"), Decimal(0))
    assert execution().price(Side.SELL, QUOTE, Decimal(10)) == (Decimal("99.98"), Decimal(0))
    price, slip = execution(paper_slippage="fixed_bps", paper_slippage_bps=10).price(
        Side.BUY, QUOTE, Decimal(10)
    )
    assert price == Decimal("100.13")  # 100.02 + 10 bps, rounded up against the buyer
    assert slip == Decimal("0.11")


def test_limit_orders_fill_at_the_better_of_limit_and_touch_without_slippage() -> None:
    model = execution(paper_slippage="fixed_bps", paper_slippage_bps=50)
    assert model.price(Side.BUY, QUOTE, Decimal(1), limit=Decimal(101)) == (
        Decimal("100.02"),
        Decimal(0),
    )
    assert model.price(Side.BUY, QUOTE, Decimal(1), limit=Decimal(100)) is None


def test_participation_is_a_budget_per_bar() -> None:
    model = execution(paper_participation=Decimal("0.1"))
    assert model.fill_qty(Decimal(500), 1000.0) == Decimal(100)
    assert model.fill_qty(Decimal(500), 1000.0, filled_this_bar=Decimal(60)) == Decimal(40)
    assert model.fill_qty(Decimal(500), 1000.0, filled_this_bar=Decimal(100)) == Decimal(0)
    assert model.fill_qty(Decimal(30), 1000.0) == Decimal(30)
    assert model.fill_qty(Decimal(500), None) == Decimal(500)  # no bar seen yet: no cap


def test_commission_models_and_regulatory_fees() -> None:
    model = execution(
        paper_commission="per_share",
        paper_commission_rate=Decimal("0.005"),
        paper_commission_min=Decimal(1),
        paper_regulatory_fees=True,
    )
    buy = model.fees(Side.BUY, Decimal(100), Decimal(50))
    assert (buy.commission, buy.sec_fee, buy.taf_fee) == (Decimal(1), Decimal(0), Decimal(0))
    sell = model.fees(Side.SELL, Decimal(1000), Decimal(50))
    assert sell.commission == Decimal(5)
    assert sell.sec_fee == Decimal("1.39")  # 50,000 x 27.80 per million, rounded up
    assert sell.taf_fee == Decimal("0.17")


def test_random_partial_fills_replay_from_the_seed() -> None:
    def run() -> list[Decimal]:
        model = execution(paper_random_partial_fills=True, paper_seed=3)
        return [model.fill_qty(Decimal(100), None) for _ in range(50)]

    first = run()
    assert first == run()
    assert any(qty < 100 for qty in first) and all(0 < qty <= 100 for qty in first)


def test_notional_buys_a_truncated_fraction() -> None:
    assert qty_for_notional(Decimal(1000), Decimal("333.33")) == Decimal("3.000030000")
