from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution import (
    FeeBreakdown,
    FixedBps,
    NoSlippage,
    Percentage,
    PerShare,
    RandomPartialFills,
    RegulatoryFees,
    Side,
    SlippageModel,
    SpreadSlippage,
    SquareRootImpact,
    ZeroCommission,
    limit_fillable,
    market_fill_price,
    max_fill_qty,
    quantize_price,
    quantize_qty,
    stop_triggered,
    tick_size,
    trailing_stop_update,
)
from quantumtrade.domain.market import Quote

D = Decimal
T0 = datetime(2024, 6, 3, 14, 30, tzinfo=UTC)


def make_quote(bid: float, ask: float) -> Quote:
    return Quote("AAPL", T0, bid_price=bid, bid_size=100, ask_price=ask, ask_size=100)


# --- price grid -------------------------------------------------------------------------


def test_quantize_price_buy_rounds_up_to_cent() -> None:
    assert quantize_price(D("10.015005"), Side.BUY) == D("10.02")


def test_quantize_price_sell_rounds_down_to_cent() -> None:
    assert quantize_price(D("9.995"), Side.SELL) == D("9.99")


def test_quantize_price_below_one_dollar_uses_sub_penny_tick() -> None:
    assert quantize_price(D("0.51255615"), Side.BUY) == D("0.5126")
    assert quantize_price(D("0.51255615"), Side.SELL) == D("0.5125")


def test_quantize_price_no_side_rounds_half_even() -> None:
    assert quantize_price(D("10.005")) == D("10.00")
    assert quantize_price(D("10.015")) == D("10.02")


def test_quantize_price_rounding_up_across_one_dollar_lands_on_cent_grid() -> None:
    assert quantize_price(D("0.99995"), Side.BUY) == D("1.00")


def test_quantize_price_sell_below_smallest_tick_stays_at_smallest_tick() -> None:
    assert quantize_price(D("0.00005"), Side.SELL) == D("0.0001")


def test_quantize_price_non_positive_raises() -> None:
    with pytest.raises(InvalidInput):
        quantize_price(D(0))


def test_quantize_qty_truncates_to_nano_share() -> None:
    assert quantize_qty(D("1.1234567899")) == D("1.123456789")


# --- slippage ---------------------------------------------------------------------------


def test_market_fill_no_slippage_buys_at_ask_sells_at_bid() -> None:
    quote = make_quote(10.00, 10.01)
    assert market_fill_price(Side.BUY, quote, NoSlippage(), D(100)) == D("10.01")
    assert market_fill_price(Side.SELL, quote, NoSlippage(), D(100)) == D("10.00")


def test_fixed_bps_buy_5bps_at_10_01_rounds_up_to_10_02() -> None:
    # 10.01 * 1.0005 = 10.015005, rounded against the buyer.
    quote = make_quote(10.00, 10.01)
    assert FixedBps(D(5)).price(Side.BUY, D("10.01"), D(100), quote=quote, bar_volume=None) == D(
        "10.015005"
    )
    assert market_fill_price(Side.BUY, quote, FixedBps(D(5)), D(100)) == D("10.02")


def test_fixed_bps_sell_5bps_at_10_00_rounds_down_to_9_99() -> None:
    # 10.00 * 0.9995 = 9.995, rounded against the seller.
    quote = make_quote(10.00, 10.01)
    assert market_fill_price(Side.SELL, quote, FixedBps(D(5)), D(100)) == D("9.99")


def test_spread_slippage_half_spread_beyond_touch() -> None:
    quote = make_quote(10.00, 10.04)
    model = SpreadSlippage(D("0.5"))
    assert market_fill_price(Side.BUY, quote, model, D(100)) == D("10.06")
    assert market_fill_price(Side.SELL, quote, model, D(100)) == D("9.98")


def test_spread_slippage_crossed_quote_gives_no_improvement() -> None:
    quote = make_quote(10.05, 10.00)
    assert market_fill_price(Side.BUY, quote, SpreadSlippage(D(1)), D(1)) == D("10.00")


def test_spread_slippage_without_quote_raises() -> None:
    with pytest.raises(InvalidInput):
        SpreadSlippage(D("0.5")).price(Side.BUY, D(10), D(1), quote=None, bar_volume=None)


def test_square_root_impact_matches_formula() -> None:
    # impact = 1 * 0.02 * sqrt(10_000 / 1_000_000) = 0.002 -> 50.00 * 1.002 = 50.10
    quote = make_quote(50.00, 50.00)
    model = SquareRootImpact(coefficient=D(1), daily_volatility=D("0.02"))
    assert model.impact(D(10_000), 1_000_000.0) == D("0.002")
    assert market_fill_price(Side.BUY, quote, model, D(10_000), 1_000_000.0) == D("50.10")
    assert market_fill_price(Side.SELL, quote, model, D(10_000), 1_000_000.0) == D("49.90")


def test_square_root_impact_prefers_average_daily_volume_and_caps() -> None:
    model = SquareRootImpact(D(1), D("0.02"), average_daily_volume=D(40_000))
    assert model.impact(D(10_000), 1.0) == D("0.01")  # 0.02 * sqrt(0.25)
    capped = SquareRootImpact(D(10), D("0.05"), max_impact=D("0.1"))
    assert capped.impact(D(1_000), 1_000.0) == D("0.1")


def test_square_root_impact_without_volume_raises() -> None:
    with pytest.raises(InvalidInput):
        SquareRootImpact(D(1), D("0.02")).impact(D(100), None)
    with pytest.raises(InvalidInput):
        SquareRootImpact(D(1), D("0.02")).impact(D(100), 0.0)


def test_negative_slippage_parameters_are_rejected() -> None:
    with pytest.raises(InvalidInput):
        FixedBps(D(-1))
    with pytest.raises(InvalidInput):
        SpreadSlippage(D("-0.5"))


def test_market_fill_without_liquidity_raises() -> None:
    with pytest.raises(InvalidInput):
        market_fill_price(Side.BUY, make_quote(10.0, 0.0), NoSlippage(), D(1))


# --- commissions and regulatory fees ----------------------------------------------------


def test_zero_commission_buy_is_free() -> None:
    fees = ZeroCommission(RegulatoryFees()).fees(Side.BUY, D(1234), D("45.67"))
    assert fees == FeeBreakdown(D(0), D(0), D(0), D(0))


def test_regulatory_fees_on_sell_round_up_to_cent() -> None:
    # SEC: 1234 * 45.67 = 56,356.78 * 0.0000278 = 1.5667... -> 1.57
    # TAF: 1234 * 0.000166 = 0.204844 -> 0.21
    fees = ZeroCommission(RegulatoryFees()).fees(Side.SELL, D(1234), D("45.67"))
    assert fees.commission == D(0)
    assert fees.sec_fee == D("1.57")
    assert fees.taf_fee == D("0.21")
    assert fees.total == D("1.78")


def test_taf_is_capped_per_trade() -> None:
    # 100,000 * 0.000166 = 16.60, above the 8.30 cap.
    assert RegulatoryFees().taf_fee(Side.SELL, D(100_000)) == D("8.30")


def test_sec_rate_is_configurable() -> None:
    fees = RegulatoryFees(sec_rate=D(0))
    assert fees.sec_fee(Side.SELL, D(1000), D(100)) == D(0)


def test_zero_commission_without_regulatory_fees_is_free_on_sell() -> None:
    assert ZeroCommission().fees(Side.SELL, D(100), D(10)).total == D(0)


def test_per_share_minimum_clamp() -> None:
    # 100 * 0.005 = 0.50 -> minimum 1.00
    assert PerShare(D("0.005"), minimum=D(1)).fees(Side.BUY, D(100), D(10)).commission == D(1)


def test_per_share_between_bounds() -> None:
    model = PerShare(D("0.005"), minimum=D(1), maximum=D(20))
    assert model.fees(Side.BUY, D(1000), D(10)).commission == D("5.00")


def test_per_share_maximum_clamp() -> None:
    model = PerShare(D("0.005"), minimum=D(1), maximum=D(20))
    assert model.fees(Side.BUY, D(10_000), D(10)).commission == D(20)


def test_per_share_with_regulatory_fees_totals_all_parts() -> None:
    model = PerShare(D("0.005"), minimum=D(1), regulatory=RegulatoryFees())
    fees = model.fees(Side.SELL, D(1234), D("45.67"))
    assert fees == FeeBreakdown(D("6.17"), D("1.57"), D("0.21"), D("7.95"))


def test_percentage_clamps_to_minimum_and_maximum() -> None:
    model = Percentage(D("0.001"), minimum=D(1), maximum=D(10))
    assert model.fees(Side.BUY, D(10), D(10)).commission == D(1)  # 0.10 -> 1
    assert model.fees(Side.BUY, D(500), D(10)).commission == D("5.00")
    assert model.fees(Side.BUY, D(100_000), D(10)).commission == D(10)  # 1000 -> 10


def test_percentage_rounds_commission_up_to_cent() -> None:
    # 3 * 10.01 * 0.001 = 0.03003 -> 0.04
    assert Percentage(D("0.001")).fees(Side.BUY, D(3), D("10.01")).commission == D("0.04")


def test_zero_quantity_costs_nothing_even_with_minimum() -> None:
    assert PerShare(D("0.005"), minimum=D(1)).fees(Side.BUY, D(0), D(10)).total == D(0)


def test_invalid_commission_bounds_are_rejected() -> None:
    with pytest.raises(InvalidInput):
        PerShare(D("0.005"), minimum=D(5), maximum=D(1))
    with pytest.raises(InvalidInput):
        Percentage(D("-0.001"))
    with pytest.raises(InvalidInput):
        RegulatoryFees(sec_rate=D(-1))


# --- limit, stop, trailing stop ---------------------------------------------------------


def test_marketable_buy_limit_fills_at_ask_when_better() -> None:
    assert limit_fillable(Side.BUY, D("10.05"), make_quote(10.00, 10.02)) == D("10.02")


def test_buy_limit_below_ask_does_not_fill() -> None:
    assert limit_fillable(Side.BUY, D("10.00"), make_quote(9.99, 10.01)) is None


def test_marketable_sell_limit_fills_at_bid_when_better() -> None:
    assert limit_fillable(Side.SELL, D("9.95"), make_quote(10.00, 10.02)) == D("10.00")


def test_sell_limit_above_bid_does_not_fill() -> None:
    assert limit_fillable(Side.SELL, D("10.01"), make_quote(10.00, 10.02)) is None


def test_limit_against_empty_quote_side_does_not_fill() -> None:
    assert limit_fillable(Side.BUY, D("10.00"), make_quote(9.99, 0.0)) is None
    assert limit_fillable(Side.SELL, D("0.01"), make_quote(0.0, 10.01)) is None


def test_limit_against_trade_price_fills_at_or_through_limit() -> None:
    assert limit_fillable(Side.BUY, D("10.00"), 10.00) == D("10.00")
    assert limit_fillable(Side.BUY, D("10.00"), 9.97) == D("9.97")
    assert limit_fillable(Side.SELL, D("10.00"), 9.99) is None


def test_buy_stop_triggers_at_or_above_stop() -> None:
    assert stop_triggered(Side.BUY, D("10.00"), 10.00)
    assert stop_triggered(Side.BUY, D("10.00"), 10.01)
    assert not stop_triggered(Side.BUY, D("10.00"), 9.99)


def test_sell_stop_triggers_at_or_below_stop() -> None:
    assert stop_triggered(Side.SELL, D("10.00"), 10.00)
    assert stop_triggered(Side.SELL, D("10.00"), 9.99)
    assert not stop_triggered(Side.SELL, D("10.00"), 10.01)


def test_sell_trailing_stop_follows_high_water_mark_only_upwards() -> None:
    hwm, stop = trailing_stop_update(Side.SELL, None, D(100), trail_price=D(1))
    assert (hwm, stop) == (D(100), D("99.00"))
    hwm, stop = trailing_stop_update(Side.SELL, hwm, D(105), trail_price=D(1))
    assert (hwm, stop) == (D(105), D("104.00"))
    hwm, stop = trailing_stop_update(Side.SELL, hwm, D(102), trail_price=D(1))
    assert (hwm, stop) == (D(105), D("104.00"))
    assert stop_triggered(Side.SELL, stop, 103.99)


def test_sell_trailing_stop_percent() -> None:
    assert trailing_stop_update(Side.SELL, D(100), 99.0, trail_percent=D(2)) == (
        D(100),
        D("98.00"),
    )


def test_buy_trailing_stop_follows_low_water_mark_downwards() -> None:
    low, stop = trailing_stop_update(Side.BUY, None, D(50), trail_percent=D(2))
    assert (low, stop) == (D(50), D("51.00"))
    low, stop = trailing_stop_update(Side.BUY, low, D(48), trail_percent=D(2))
    assert (low, stop) == (D(48), D("48.96"))
    low, stop = trailing_stop_update(Side.BUY, low, D(49), trail_percent=D(2))
    assert (low, stop) == (D(48), D("48.96"))


def test_trailing_stop_needs_exactly_one_positive_trail() -> None:
    with pytest.raises(InvalidInput):
        trailing_stop_update(Side.SELL, None, D(100))
    with pytest.raises(InvalidInput):
        trailing_stop_update(Side.SELL, None, D(100), trail_price=D(1), trail_percent=D(1))
    with pytest.raises(InvalidInput):
        trailing_stop_update(Side.SELL, None, D(100), trail_price=D(0))


# --- participation and partial fills ----------------------------------------------------


def test_max_fill_qty_caps_at_participation_of_volume() -> None:
    assert max_fill_qty(D(5000), 20_000.0, D("0.1")) == D(2000)


def test_max_fill_qty_returns_remaining_when_below_cap() -> None:
    assert max_fill_qty(D(500), 20_000.0, D("0.1")) == D(500)


def test_max_fill_qty_zero_volume_fills_nothing() -> None:
    assert max_fill_qty(D(500), 0.0, D("0.1")) == D(0)


def test_max_fill_qty_rejects_bad_participation() -> None:
    with pytest.raises(InvalidInput):
        max_fill_qty(D(500), 1000.0, D(0))
    with pytest.raises(InvalidInput):
        max_fill_qty(D(500), 1000.0, D("1.5"))


def _fill_sequence(seed: int, total: Decimal, rule: RandomPartialFills) -> list[Decimal]:
    rng = np.random.default_rng(seed)
    fills, remaining = [], total
    while remaining > 0:
        qty = rule.fill_qty(remaining, rng)
        fills.append(qty)
        remaining -= qty
    return fills


def test_random_partial_fills_are_reproducible_with_seed() -> None:
    rule = RandomPartialFills(probability=0.5)
    first = _fill_sequence(42, D(1000), rule)
    assert first == _fill_sequence(42, D(1000), rule)
    assert sum(first) == D(1000)


def test_random_partial_fills_always_partial_fills_whole_shares_and_finishes() -> None:
    fills = _fill_sequence(7, D(1000), RandomPartialFills(probability=1.0, min_fraction=0.5))
    assert len(fills) > 1
    assert sum(fills) == D(1000)
    assert all(q == q.to_integral_value() and q > 0 for q in fills)


def test_random_partial_fills_never_partial_fills_with_zero_probability() -> None:
    assert _fill_sequence(1, D(1000), RandomPartialFills(probability=0.0)) == [D(1000)]


def test_random_partial_fills_under_one_share_fills_whole_remainder() -> None:
    rng = np.random.default_rng(0)
    assert RandomPartialFills(probability=1.0).fill_qty(D("0.5"), rng) == D("0.5")


def test_random_partial_fills_rejects_bad_parameters() -> None:
    with pytest.raises(InvalidInput):
        RandomPartialFills(probability=1.5)
    with pytest.raises(InvalidInput):
        RandomPartialFills(min_fraction=1.0)


# --- properties -------------------------------------------------------------------------

prices = st.decimals(min_value="0.0001", max_value="10000", places=4)
quantities = st.decimals(min_value="0.000000001", max_value="1000000", places=9)
sides = st.sampled_from(list(Side))
slippage_models = st.one_of(
    st.just(NoSlippage()),
    st.decimals(min_value=0, max_value=500, places=2).map(FixedBps),
    st.decimals(min_value=0, max_value=2, places=2).map(SpreadSlippage),
    st.builds(
        SquareRootImpact,
        coefficient=st.decimals(min_value=0, max_value=2, places=2),
        daily_volatility=st.decimals(min_value=0, max_value="0.2", places=3),
    ),
)


@given(side=sides, bid=prices, spread=prices, qty=quantities, model=slippage_models)
def test_slippage_is_never_favourable_to_the_trader(
    side: Side, bid: Decimal, spread: Decimal, qty: Decimal, model: SlippageModel
) -> None:
    quote = make_quote(float(bid), float(bid + spread))
    fill = market_fill_price(side, quote, model, qty, bar_volume=1_000_000.0)
    if side is Side.BUY:
        assert fill >= Decimal(repr(quote.ask_price))
    else:
        assert fill <= Decimal(repr(quote.bid_price))


@given(price=st.decimals(min_value="0.00001", max_value="100000", places=6), side=sides)
def test_quantized_prices_lie_on_the_tick_grid(price: Decimal, side: Side) -> None:
    for rounding_side in (side, None):
        quantized = quantize_price(price, rounding_side)
        assert quantized % tick_size(quantized) == 0


@given(
    side=sides,
    qty=quantities,
    price=prices,
    rate=st.decimals(min_value=0, max_value="0.05", places=4),
    minimum=st.decimals(min_value=0, max_value=5, places=2),
)
def test_fees_are_never_negative(
    side: Side, qty: Decimal, price: Decimal, rate: Decimal, minimum: Decimal
) -> None:
    regulatory = RegulatoryFees()
    for model in (
        ZeroCommission(regulatory),
        PerShare(rate, minimum=minimum, regulatory=regulatory),
        Percentage(rate, minimum=minimum, maximum=minimum + 10, regulatory=regulatory),
    ):
        fees = model.fees(side, qty, price)
        assert min(fees.commission, fees.sec_fee, fees.taf_fee) >= 0
        assert fees.total == fees.commission + fees.sec_fee + fees.taf_fee


def test_sell_slipped_below_zero_fills_at_smallest_tick() -> None:
    quote = make_quote(1.00, 2.00)
    assert market_fill_price(Side.SELL, quote, SpreadSlippage(D(1)), D(1)) == D("0.0001")
