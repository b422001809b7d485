"""The cash and position ledger: one fill's effect, account figures, and the journal replay.

The property tests at the end run random journals (fills over a few symbols with quantities
to 1e-9, prices on the cent grid and fees in cents) and check the bookkeeping invariants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution import Side
from quantumtrade.domain.trading.ledger import (
    FillEffect,
    Holding,
    LedgerLine,
    account_figures,
    apply_fill,
    cents,
    exposure_increase,
    replay,
)

D = Decimal
ZERO = D(0)
CENT = D("0.01")
BUY, SELL = Side.BUY, Side.SELL


def fill(holding: Holding, side: Side, qty: str, price: str, fees: str = "0") -> FillEffect:
    return apply_fill(holding, side, D(qty), D(price), D(fees))


def exact_cents(amount: Decimal) -> Decimal:
    """The rounding the ledger promises, written out independently of the module."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


# --- apply_fill: longs ------------------------------------------------------------------


def test_buy_from_flat_opens_a_long_at_the_fill_price() -> None:
    effect = fill(Holding(), BUY, "10", "100.00", "1.00")

    assert effect.holding == Holding(D(10), D(100))
    assert effect.holding.side == "long"
    assert effect.realized_pl == 0
    assert effect.gross == D("1000.00")
    assert effect.cash_delta == D("-1001.00")


def test_buy_adds_to_a_long_at_the_weighted_average_price() -> None:
    effect = fill(Holding(D(10), D(100)), BUY, "10", "110.00")

    assert effect.holding == Holding(D(20), D(105))
    assert effect.realized_pl == 0
    assert effect.cash_delta == D("-1100.00")


def test_average_price_keeps_ten_decimals_half_even() -> None:
    # (1 * 10 + 2 * 10.01) / 3 = 10.00666666...
    effect = fill(Holding(D(1), D(10)), BUY, "2", "10.01")

    assert effect.holding.avg_entry_price == D("10.0066666667")
    assert effect.holding.avg_entry_price.as_tuple().exponent == -10
    assert effect.holding.cost_basis == D("30.0200000001")


def test_sell_part_of_a_long_realises_on_that_part_and_keeps_the_entry_price() -> None:
    effect = fill(Holding(D(10), D(100)), SELL, "4", "110.00", "0.50")

    assert effect.holding == Holding(D(6), D(100))
    assert effect.realized_pl == D(40)
    assert effect.cash_delta == D("439.50")


def test_sell_the_whole_long_closes_it_at_zero_average() -> None:
    effect = fill(Holding(D(10), D(100)), SELL, "10", "90.00")

    assert effect.holding == Holding(ZERO, ZERO)
    assert effect.realized_pl == D(-100)
    assert effect.cash_delta == D("900.00")


def test_realised_pl_of_a_partial_close_is_scaled_to_ten_decimals() -> None:
    effect = fill(Holding(D(3), D("10.0066666667")), SELL, "1", "10.02")

    assert effect.realized_pl == D("0.0133333333")
    assert effect.holding == Holding(D(2), D("10.0066666667"))


# --- apply_fill: shorts and flips -------------------------------------------------------


def test_sell_from_flat_opens_a_short() -> None:
    effect = fill(Holding(), SELL, "5", "50.00")

    assert effect.holding == Holding(D(-5), D(50))
    assert effect.holding.side == "short"
    assert effect.holding.cost_basis == D(250)
    assert effect.realized_pl == 0
    assert effect.cash_delta == D("250.00")


def test_sell_adds_to_a_short_at_the_weighted_average_price() -> None:
    effect = fill(Holding(D(-5), D(50)), SELL, "5", "60.00")

    assert effect.holding == Holding(D(-10), D(55))
    assert effect.realized_pl == 0


def test_buy_covers_part_of_a_short() -> None:
    effect = fill(Holding(D(-10), D(55)), BUY, "4", "40.00", "1.00")

    assert effect.holding == Holding(D(-6), D(55))
    assert effect.realized_pl == D(60)  # (55 - 40) * 4
    assert effect.cash_delta == D("-161.00")


def test_buy_covers_the_whole_short_at_a_loss() -> None:
    effect = fill(Holding(D(-6), D(55)), BUY, "6", "70.00")

    assert effect.holding == Holding(ZERO, ZERO)
    assert effect.realized_pl == D(-90)
    assert effect.cash_delta == D("-420.00")


def test_sell_through_zero_closes_the_long_and_opens_a_short_at_the_fill_price() -> None:
    effect = fill(Holding(D(10), D(100)), SELL, "15", "120.00")

    assert effect.holding == Holding(D(-5), D(120))
    assert effect.realized_pl == D(200)  # only the 10 closed shares realise
    assert effect.cash_delta == D("1800.00")
    assert effect.gross == D("1800.00")


def test_buy_through_zero_covers_the_short_and_opens_a_long_at_the_fill_price() -> None:
    effect = fill(Holding(D(-5), D(120)), BUY, "8", "100.00")

    assert effect.holding == Holding(D(3), D(100))
    assert effect.realized_pl == D(100)  # (120 - 100) * 5
    assert effect.cash_delta == D("-800.00")


@pytest.mark.parametrize(
    ("holding", "side", "price", "sign"),
    [
        (Holding(D(2), D(100)), SELL, "101.00", 1),  # long, sold higher: a gain
        (Holding(D(2), D(100)), SELL, "99.00", -1),  # long, sold lower: a loss
        (Holding(D(-2), D(100)), BUY, "99.00", 1),  # short, covered lower: a gain
        (Holding(D(-2), D(100)), BUY, "101.00", -1),  # short, covered higher: a loss
        (Holding(D(2), D(100)), SELL, "100.00", 0),
    ],
)
def test_realised_pl_sign_follows_the_direction_of_the_trade(
    holding: Holding, side: Side, price: str, sign: int
) -> None:
    realized = fill(holding, side, "1", price, "5.00").realized_pl

    assert (realized > 0) - (realized < 0) == sign
    assert realized == sign * D(1)


# --- apply_fill: cash ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "qty", "price", "cash_delta"),
    [
        (BUY, "3", "0.3333", "-1.00"),  # 0.9999 rounds up
        (BUY, "0.5", "10.01", "-5.00"),  # 5.005: half to even, down
        (BUY, "0.5", "10.03", "-5.02"),  # 5.015: half to even, up
        (SELL, "0.5", "10.01", "5.00"),
        (SELL, "0.000000001", "185.00", "0.00"),  # 0.000000185 rounds to nothing
        (SELL, "1.123456789", "123.45", "138.69"),  # 138.6907...
    ],
)
def test_cash_moves_by_the_gross_rounded_to_the_cent_half_to_even(
    side: Side, qty: str, price: str, cash_delta: str
) -> None:
    effect = fill(Holding(D(10)) if side is SELL else Holding(), side, qty, price)

    assert effect.cash_delta == D(cash_delta)
    assert effect.gross == abs(D(cash_delta))
    assert effect.cash_delta.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("holding", "side"),
    [
        (Holding(), BUY),
        (Holding(), SELL),
        (Holding(D(5), D(100)), SELL),
        (Holding(D(5), D(100)), BUY),
        (Holding(D(-5), D(100)), BUY),
        (Holding(D(5), D(100)), SELL),
    ],
)
def test_fees_reduce_cash_and_never_touch_the_position_or_realised_pl(
    holding: Holding, side: Side
) -> None:
    free = fill(holding, side, "8", "104.37")
    charged = fill(holding, side, "8", "104.37", "2.37")

    assert charged.holding == free.holding
    assert charged.realized_pl == free.realized_pl
    assert charged.gross == free.gross
    assert charged.cash_delta == free.cash_delta - D("2.37")


def test_a_sell_whose_fees_exceed_its_proceeds_takes_cash_down() -> None:
    # The ledger books what happened; refusing such a fill is the caller's job (see the
    # cash-account property below).
    effect = fill(Holding(D(1), D(185)), SELL, "0.000000001", "185.00", "0.02")

    assert effect.gross == 0
    assert effect.cash_delta == D("-0.02")


@pytest.mark.parametrize(
    ("qty", "price", "fees"),
    [
        ("0", "10", "0"),
        ("-1", "10", "0"),
        ("1", "0", "0"),
        ("1", "-10", "0"),
        ("1", "10", "-0.01"),
    ],
)
@pytest.mark.parametrize("side", [BUY, SELL])
def test_apply_fill_refuses_bad_input(side: Side, qty: str, price: str, fees: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        fill(Holding(D(3), D(10)), side, qty, price, fees)

    assert caught.value.code == "invalid_fill"


@pytest.mark.parametrize(
    ("qty", "price", "fees"),
    [
        ("NaN", "10", "0"),  # today: decimal.InvalidOperation
        ("1", "Infinity", "0"),  # today: decimal.InvalidOperation
        ("1", "10", "Infinity"),  # today: books a cash delta of -Infinity
    ],
)
def test_apply_fill_refuses_non_finite_amounts(qty: str, price: str, fees: str) -> None:
    # A non-finite amount must be refused like any other bad amount, not crash with
    # decimal.InvalidOperation or book an infinite cash delta.
    with pytest.raises(InvalidInput) as caught:
        fill(Holding(), BUY, qty, price, fees)

    assert caught.value.code == "invalid_fill"


# --- exposure_increase -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "side", "qty", "opening"),
    [
        ("0", BUY, "5", "5"),
        ("3", BUY, "5", "5"),
        ("-3", BUY, "5", "2"),
        ("-8", BUY, "5", "0"),
        ("0", SELL, "5", "5"),
        ("8", SELL, "5", "0"),
        ("3", SELL, "5", "2"),
        ("-3", SELL, "5", "5"),
    ],
)
def test_exposure_increase_is_the_part_of_an_order_that_opens(
    held: str, side: Side, qty: str, opening: str
) -> None:
    assert exposure_increase(D(held), side, D(qty)) == D(opening)


# --- account_figures --------------------------------------------------------------------


def test_cash_account_buying_power_is_the_cash() -> None:
    figures = account_figures(D("10000"), [(D(10), D("150.00"))], multiplier=1)

    assert figures.buying_power == D(10000)
    assert figures.long_market_value == D(1500)
    assert figures.short_market_value == 0
    assert figures.equity == D(11500)
    assert figures.initial_margin == 0
    assert figures.maintenance_margin == 0
    assert figures.multiplier == 1


def test_cash_account_buying_power_is_the_cash_less_what_open_orders_reserve() -> None:
    figures = account_figures(D("10000"), [(D(10), D(150))], multiplier=1, reserved=D("2500.5"))

    assert figures.buying_power == D("7499.50")
    assert figures.reserved == D("2500.5")


POSITIONS = [(D(100), D("200.00")), (D(-50), D("100.00"))]  # long 20,000, short -5,000


def test_reg_t_margin_account_has_twice_the_equity_less_the_gross_exposure() -> None:
    figures = account_figures(D(50000), POSITIONS, multiplier=2)

    assert figures.long_market_value == D(20000)
    assert figures.short_market_value == D(-5000)
    assert figures.equity == D(65000)
    assert figures.buying_power == 2 * figures.equity - D(25000) == D(105000)
    assert figures.initial_margin == D(12500)  # 50 % of the gross
    assert figures.maintenance_margin == D(6500)  # 25 % of longs + 30 % of shorts


def test_intraday_margin_account_has_four_times_the_equity_less_the_gross_exposure() -> None:
    figures = account_figures(D(50000), POSITIONS, multiplier=4)

    assert figures.buying_power == 4 * figures.equity - D(25000) == D(235000)
    assert figures.initial_margin == D(6250)  # 25 % of the gross
    assert figures.maintenance_margin == D(6500)


@pytest.mark.parametrize("multiplier", [2, 4])
def test_reserved_comes_off_margin_buying_power(multiplier: int) -> None:
    free = account_figures(D(50000), POSITIONS, multiplier=multiplier)
    reserved = account_figures(D(50000), POSITIONS, multiplier=multiplier, reserved=D(1234))

    assert reserved.buying_power == free.buying_power - D(1234)


@pytest.mark.parametrize("multiplier", [1, 2, 4])
def test_buying_power_is_never_negative(multiplier: int) -> None:
    underwater = account_figures(D(-5000), [(D(10), D(100))], multiplier=multiplier)
    overreserved = account_figures(D(1000), [], multiplier=multiplier, reserved=D(10**9))

    assert underwater.buying_power == 0
    assert overreserved.buying_power == 0


def test_market_values_are_rounded_to_the_cent() -> None:
    figures = account_figures(D(0), [(D("0.333"), D("10.01")), (D(-1), D("0.005"))], multiplier=2)

    assert figures.long_market_value == D("3.33")  # 3.33333
    assert figures.short_market_value == D("0.00")  # -0.005, half to even
    assert figures.equity == D("3.33")


@pytest.mark.parametrize("multiplier", [0, 3, 5, -2])
def test_account_figures_refuse_an_unknown_multiplier(multiplier: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        account_figures(D(1000), [], multiplier=multiplier)

    assert caught.value.code == "invalid_multiplier"


# --- replay -----------------------------------------------------------------------------


def test_replay_rebuilds_a_short_journal() -> None:
    lines = [
        LedgerLine(D(10000)),
        LedgerLine(D("-1000.00"), "AAPL", BUY, D(10), D(100), ZERO, ZERO),
        LedgerLine(D("1799.00"), "AAPL", SELL, D(15), D(120), D(1), D(200)),
        LedgerLine(D(-500)),
    ]

    state = replay(lines)

    assert state.cash == D("10299.00")
    assert state.holdings == {"AAPL": Holding(D(-5), D(120))}
    assert state.realized_pl == D(200)


@pytest.mark.parametrize(
    "tampered",
    [
        {"cash_delta": D("-1000.01")},
        {"realized_pl": D("0.01")},
    ],
)
def test_replay_refuses_a_fill_line_that_breaks_the_rules(tampered: dict[str, Decimal]) -> None:
    line = LedgerLine(D("-1000.00"), "AAPL", BUY, D(10), D(100), ZERO, ZERO)

    with pytest.raises(InvalidInput) as caught:
        replay([LedgerLine(D(10000)), replace(line, **tampered)])

    assert caught.value.code == "ledger_mismatch"


# --- properties ---------------------------------------------------------------------------
#
# Ranges keep every product exact in Decimal's default 28 digits: at most 30 fills of up to
# 100 shares (9 decimals), so |position| <= 3000; prices 0.01..1000.00; fees 0..10.00.

SYMBOLS = ("AAA", "BBB", "CCC")
HALF_CENT = D("0.005")
# One rounding of a scaled amount to 1e-10, half to even: 0.5e-10. An average price is a
# 28-digit quotient rounded again to 1e-10 (double rounding), which adds at most half a unit
# of the 28th digit; averages stay below 10^4, so that unit is below 1e-24.
AVG_ROUNDING = D("0.5e-10") + D("1e-24")
SCALE_ROUNDING = D("0.5e-10")

qtys = st.integers(1, 100 * 10**9).map(lambda n: D(n).scaleb(-9))
prices = st.integers(1, 100_000).map(lambda n: D(n).scaleb(-2))
fees_st = st.integers(0, 1000).map(lambda n: D(n).scaleb(-2))
start_cash = st.integers(0, 10**9).map(lambda n: D(n).scaleb(-2))


@dataclass(frozen=True)
class Fill:
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fees: Decimal


fills_st = st.builds(Fill, st.sampled_from(SYMBOLS), st.sampled_from(Side), qtys, prices, fees_st)
price_vectors = st.fixed_dictionaries({s: prices for s in SYMBOLS})


@dataclass
class Book:
    """A test-side account: books fills with ``apply_fill`` and keeps the journal."""

    cash: Decimal
    holdings: dict[str, Holding]
    realized: Decimal
    lines: list[LedgerLine]
    effects: list[tuple[Fill, FillEffect, Holding]]  # fill, effect, holding before

    @classmethod
    def funded(cls, cash: Decimal) -> Book:
        return cls(cash, {}, ZERO, [LedgerLine(cash)], [])

    def book(self, f: Fill) -> FillEffect:
        before = self.holdings.get(f.symbol, Holding())
        effect = apply_fill(before, f.side, f.qty, f.price, f.fees)
        self.holdings[f.symbol] = effect.holding
        self.cash += effect.cash_delta
        self.realized += effect.realized_pl
        self.lines.append(
            LedgerLine(
                effect.cash_delta, f.symbol, f.side, f.qty, f.price, f.fees, effect.realized_pl
            )
        )
        self.effects.append((f, effect, before))
        return effect

    def open_holdings(self) -> dict[str, Holding]:
        return {s: h for s, h in self.holdings.items() if h.qty != 0}


def book_all(start: Decimal, fills: Iterable[Fill]) -> Book:
    book = Book.funded(start)
    for f in fills:
        book.book(f)
    return book


def signed_qty(f: Fill) -> Decimal:
    return f.qty if f.side is BUY else -f.qty


@settings(max_examples=300, deadline=None)
@given(start=start_cash, fills=st.lists(fills_st, max_size=30))
def test_property_cash_is_the_start_plus_the_cash_deltas_exactly(
    start: Decimal, fills: list[Fill]
) -> None:
    book = book_all(start, fills)

    # Recomputed independently: the gross to the cent half to even, signed by side, less fees.
    deltas = [
        (-exact_cents(f.qty * f.price) if f.side is BUY else exact_cents(f.qty * f.price)) - f.fees
        for f in fills
    ]
    assert book.cash == start + sum(deltas, ZERO)
    assert book.cash == start + sum(reversed(deltas), ZERO)  # no rounding anywhere
    assert book.cash == cents(book.cash)  # stays on the cent grid
    for f, effect, _before in book.effects:
        assert abs(effect.gross - f.qty * f.price) <= HALF_CENT
    # Quantities are plain sums: nothing rounds a position.
    for symbol in SYMBOLS:
        held = book.holdings.get(symbol, Holding()).qty
        assert held == sum((signed_qty(f) for f in fills if f.symbol == symbol), ZERO)


@settings(max_examples=300, deadline=None)
@given(start=start_cash, fills=st.lists(fills_st, max_size=30), data=st.data())
def test_property_replay_reproduces_the_book_exactly(
    start: Decimal, fills: list[Fill], data: st.DataObject
) -> None:
    book = book_all(start, fills)

    state = replay(book.lines)

    assert state.cash == book.cash
    assert state.holdings == book.open_holdings()
    assert state.realized_pl == book.realized

    # And a journal with one fill line off by a cent is caught, not re-derived.
    fill_lines = [i for i, line in enumerate(book.lines) if line.symbol is not None]
    if fill_lines:
        index = data.draw(st.sampled_from(fill_lines))
        field = data.draw(st.sampled_from(["cash_delta", "realized_pl"]))
        lines = list(book.lines)
        lines[index] = replace(lines[index], **{field: getattr(lines[index], field) + CENT})
        with pytest.raises(InvalidInput):
            replay(lines)


@st.composite
def round_trips(draw: st.DrawFn) -> list[Fill]:
    """Fills of one symbol (longs, shorts, flips) and a last fill that closes the position."""
    fills = draw(
        st.lists(
            st.builds(Fill, st.just("AAA"), st.sampled_from(Side), qtys, prices, fees_st),
            min_size=1,
            max_size=29,
        )
    )
    position = sum((signed_qty(f) for f in fills), ZERO)
    if position != 0:
        side = SELL if position > 0 else BUY
        fills.append(Fill("AAA", side, abs(position), draw(prices), draw(fees_st)))
    return fills


@settings(max_examples=500, deadline=None)
@given(fills=round_trips())
def test_property_a_closed_position_realises_its_sell_gross_less_its_buy_gross(
    fills: list[Fill],
) -> None:
    """For a fully closed position, realised P&L = sum(sell gross) - sum(buy gross), within:

    - ``0.005 * n`` for the n grosses, each ``qty * price`` rounded to the cent half to even;
    - ``0.5e-10`` for each fill that closes shares (its P&L is rounded to 1e-10);
    - ``|position after| * (0.5e-10 + 1e-24)`` for each fill that opens or adds without
      closing: the new average is rounded to 1e-10, which moves the position's cost by
      ``|qty| * rounding``; a flip re-opens at the fill price exactly, so it adds nothing.

    Fees are not part of realised P&L, so they do not appear. The first two terms against the
    exact ``sum(sell qty*price) - sum(buy qty*price)`` are checked separately too.
    """
    book = book_all(ZERO, fills)
    assert book.holdings["AAA"] == Holding(ZERO, ZERO)

    exact = sum((f.qty * f.price * (1 if f.side is SELL else -1) for f in fills), ZERO)
    gross = sum((e.gross * (1 if f.side is SELL else -1) for f, e, _b in book.effects), ZERO)
    closing = adding = 0
    add_bound = ZERO
    for f, effect, before in book.effects:
        if before.qty != 0 and (before.qty > 0) != (f.side is BUY):
            closing += 1
        else:
            adding += 1
            add_bound += abs(effect.holding.qty) * AVG_ROUNDING
    model_bound = closing * SCALE_ROUNDING + add_bound
    gross_bound = len(fills) * HALF_CENT

    assert abs(book.realized - exact) <= model_bound
    assert abs(gross - exact) <= gross_bound
    assert abs(book.realized - gross) <= gross_bound + model_bound
    assert closing + adding == len(fills)


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 10**7).map(lambda n: D(n).scaleb(-2)),
    orders=st.lists(fills_st, max_size=40),
)
def test_property_a_cash_account_that_refuses_what_it_cannot_pay_never_goes_below_zero(
    start: Decimal, orders: list[Fill]
) -> None:
    """A cash account refuses a buy whose gross + fees exceed the cash, a sell of more than it
    holds, and a sell whose fees exceed its proceeds plus the cash (a fill's fees can exceed a
    tiny fill's gross, see ``test_a_sell_whose_fees_exceed_its_proceeds_takes_cash_down``).
    """
    book = Book.funded(start)
    accepted = 0
    for order in orders:
        held = book.holdings.get(order.symbol, Holding()).qty
        gross = exact_cents(order.qty * order.price)
        if order.side is BUY and gross + order.fees > book.cash:
            continue
        if order.side is SELL and (order.qty > held or order.fees > gross + book.cash):
            continue
        book.book(order)
        accepted += 1
        assert book.cash >= 0
        assert all(h.qty >= 0 for h in book.holdings.values())
        figures = account_figures(
            book.cash, [(h.qty, order.price) for h in book.holdings.values()], multiplier=1
        )
        assert figures.buying_power == book.cash  # a cash account's BP is its cash
    assert book.cash >= 0
    assert accepted <= len(orders)


@settings(max_examples=300, deadline=None)
@given(
    start=start_cash,
    fills=st.lists(fills_st, max_size=30),
    moves=st.lists(price_vectors, min_size=1, max_size=5),
    multiplier=st.sampled_from([1, 2, 4]),
)
def test_property_equity_is_cash_plus_the_positions_at_any_prices(
    start: Decimal, fills: list[Fill], moves: list[dict[str, Decimal]], multiplier: int
) -> None:
    """``equity = cash + sum(qty * price)``, the market values being rounded to the cent: long
    and short sums are rounded separately, so the exact sum is within 0.005 per side.

    Also the P&L decomposition: equity - start + fees = realised + unrealised, within the
    rounding of the grosses, the averages and the realised amounts (as in the closed case).
    """
    book = book_all(start, fills)
    positions = book.open_holdings()
    fees = sum((f.fees for f in fills), ZERO)
    closing_bound = ZERO
    for f, effect, before in book.effects:
        if before.qty != 0 and (before.qty > 0) != (f.side is BUY):
            closing_bound += SCALE_ROUNDING
        else:
            closing_bound += abs(effect.holding.qty) * AVG_ROUNDING
    for move in moves:
        figures = account_figures(
            book.cash, [(h.qty, move[s]) for s, h in positions.items()], multiplier=multiplier
        )
        exact = book.cash + sum((h.qty * move[s] for s, h in positions.items()), ZERO)
        longs = sum((h.qty * move[s] for s, h in positions.items() if h.qty > 0), ZERO)
        shorts = sum((h.qty * move[s] for s, h in positions.items() if h.qty < 0), ZERO)

        assert figures.equity == book.cash + figures.long_market_value + figures.short_market_value
        assert figures.long_market_value == exact_cents(longs)
        assert figures.short_market_value == exact_cents(shorts)
        assert abs(figures.equity - exact) <= 2 * HALF_CENT
        assert figures.buying_power >= 0

        unrealized = sum(
            (h.qty * (move[s] - h.avg_entry_price) for s, h in positions.items()), ZERO
        )
        total_pl = exact - start + fees
        assert abs(total_pl - (book.realized + unrealized)) <= (
            len(fills) * HALF_CENT + closing_bound
        )


@settings(max_examples=300, deadline=None)
@given(
    cash=st.integers(-(10**8), 10**8).map(lambda n: D(n).scaleb(-2)),
    positions=st.lists(
        st.tuples(st.integers(-(10**11), 10**11).map(lambda n: D(n).scaleb(-9)), prices),
        max_size=5,
    ),
    reserved=st.integers(0, 10**7).map(lambda n: D(n).scaleb(-2)),
    multiplier=st.sampled_from([1, 2, 4]),
)
def test_property_buying_power_follows_the_one_formula(
    cash: Decimal,
    positions: list[tuple[Decimal, Decimal]],
    reserved: Decimal,
    multiplier: int,
) -> None:
    figures = account_figures(cash, positions, multiplier=multiplier, reserved=reserved)

    gross = figures.long_market_value - figures.short_market_value
    power = max(multiplier * figures.equity - gross - reserved, ZERO)
    if multiplier == 1:
        power = max(min(power, cash - reserved), ZERO)
    assert figures.buying_power == exact_cents(power)
    assert figures.buying_power >= 0
    if multiplier == 1 and all(q >= 0 for q, _p in positions):
        assert figures.buying_power == exact_cents(max(cash - reserved, ZERO))
