"""Order validation is total: any number a client can send is accepted or refused, never a crash."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrade.domain.errors import Unprocessable
from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.orders import (
    MAX_NOTIONAL,
    MAX_PRICE,
    MAX_QTY,
    OrderClass,
    OrderSpec,
    OrderType,
    TimeInForce,
    is_on_tick_grid,
    validate_order,
)

HUGE = ["1e27", "1e308", "1e999999", "6.478e185", "-1e999999", "1e-999999", "Infinity", "NaN"]


def spec(**changes: object) -> OrderSpec:
    values: dict[str, object] = {
        "symbol": "AAPL",
        "side": Side.BUY,
        "type": OrderType.MARKET,
        "time_in_force": TimeInForce.DAY,
        "qty": Decimal(10),
    }
    values.update(changes)
    return OrderSpec(**values)  # type: ignore[arg-type]


def problem_fields(order: OrderSpec) -> set[str]:
    with pytest.raises(Unprocessable) as refused:
        validate_order(order)
    return {item["field"] for item in refused.value.details}


@pytest.mark.parametrize("text", HUGE)
def test_is_on_tick_grid_extreme_price_is_false_not_an_error(text: str) -> None:
    assert is_on_tick_grid(Decimal(text)) is False


def test_is_on_tick_grid_cents_and_sub_penny() -> None:
    assert is_on_tick_grid(Decimal("187.25"))
    assert not is_on_tick_grid(Decimal("187.255"))
    assert is_on_tick_grid(Decimal("0.1234"))
    assert not is_on_tick_grid(Decimal("0.12345"))


@pytest.mark.parametrize("text", ["1e27", "1e308", "1e999999", "1000000000.5"])
def test_validate_order_qty_above_the_maximum_is_refused(text: str) -> None:
    assert problem_fields(spec(qty=Decimal(text))) == {"qty"}


def test_validate_order_qty_at_the_maximum_is_accepted() -> None:
    assert validate_order(spec(qty=MAX_QTY)).qty == MAX_QTY


@pytest.mark.parametrize("text", ["1e308", "6.478e185", "1e999999", "10000000.01"])
@pytest.mark.parametrize("field", ["limit_price", "stop_price"])
def test_validate_order_price_above_the_maximum_is_refused(text: str, field: str) -> None:
    order = spec(type=OrderType.STOP_LIMIT, limit_price=Decimal(100), stop_price=Decimal(100))
    assert problem_fields(replace(order, **{field: Decimal(text)})) == {field}


def test_validate_order_price_at_the_maximum_is_accepted() -> None:
    order = spec(type=OrderType.LIMIT, limit_price=MAX_PRICE)
    assert validate_order(order).limit_price == MAX_PRICE


@pytest.mark.parametrize("text", ["1e308", "1e999999", "1000000000000.01"])
def test_validate_order_notional_above_the_maximum_is_refused(text: str) -> None:
    assert problem_fields(spec(qty=None, notional=Decimal(text))) == {"notional"}


def test_validate_order_bracket_leg_of_extreme_size_is_refused() -> None:
    order = spec(
        order_class=OrderClass.BRACKET,
        take_profit_limit=Decimal("1e308"),
        stop_loss_stop=Decimal("6.478e185"),
    )
    assert problem_fields(order) == {"take_profit.limit_price", "stop_loss.stop_price"}


numbers = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal(text) for text in HUGE]),
    st.none(),
)


@given(
    qty=numbers,
    notional=numbers,
    limit=numbers,
    stop=numbers,
    trail=numbers,
    take_profit=numbers,
    stop_loss=numbers,
    kind=st.sampled_from(list(OrderType)),
    order_class=st.sampled_from(list(OrderClass)),
)
def test_validate_order_any_numbers_accept_or_refuse_never_crash(
    qty: Decimal | None,
    notional: Decimal | None,
    limit: Decimal | None,
    stop: Decimal | None,
    trail: Decimal | None,
    take_profit: Decimal | None,
    stop_loss: Decimal | None,
    kind: OrderType,
    order_class: OrderClass,
) -> None:
    order = spec(
        type=kind,
        order_class=order_class,
        qty=qty,
        notional=notional,
        limit_price=limit,
        stop_price=stop,
        trail_price=trail,
        take_profit_limit=take_profit,
        stop_loss_stop=stop_loss,
    )
    try:
        accepted = validate_order(order)
    except Unprocessable:
        return
    for value in (accepted.qty, accepted.limit_price, accepted.stop_price):
        assert value is None or (value.is_finite() and 0 < value <= max(MAX_QTY, MAX_PRICE))
    assert accepted.notional is None or accepted.notional <= MAX_NOTIONAL
