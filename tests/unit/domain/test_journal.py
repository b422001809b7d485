"""The trade journal: round trips from fills, their excursions and R-multiple.

Expected figures are worked out by hand in the comments; the ledger property test checks the
trips against :func:`apply_fill` on a random sequence of fills.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution import Side
from quantumtrade.domain.journal import (
    JournalFill,
    RoundTrip,
    TripFill,
    excursion,
    r_multiple,
    round_trips,
)
from quantumtrade.domain.trading.ledger import Holding, apply_fill

D = Decimal
BUY, SELL = Side.BUY, Side.SELL
T0 = datetime(2024, 6, 3, 14, 30, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def jf(
    fill_id: str,
    side: Side,
    qty: str,
    price: str,
    fees: str = "0",
    minute: float = 0,
    symbol: str = "AAPL",
    order_id: str | None = None,
    strategy: str | None = None,
) -> JournalFill:
    return JournalFill(
        fill_id, symbol, side, D(qty), D(price), D(fees), at(minute), order_id, strategy
    )


def bars(rows: list[tuple[datetime, float, float]]) -> pd.DataFrame:
    """Bars from ``(start, high, low)`` rows."""
    index = pd.DatetimeIndex([row[0] for row in rows])
    return pd.DataFrame(
        {"high": [row[1] for row in rows], "low": [row[2] for row in rows]}, index=index
    )


NO_BARS = pd.DataFrame(
    {"high": pd.Series([], dtype=float), "low": pd.Series([], dtype=float)},
    index=pd.DatetimeIndex([], tz=UTC),
)


# --- round trips: the basic shapes --------------------------------------------------------


def test_round_trips_long_open_close_gives_one_closed_long() -> None:
    fills = [
        jf("1", BUY, "100", "50.00", "1.00", 0, order_id="o1", strategy="breakout"),
        jf("2", SELL, "100", "52.50", "1.00", 90),
    ]

    (trip,) = round_trips(fills)

    assert trip.direction == "long"
    assert trip.status == "closed"
    assert (trip.opened_at, trip.closed_at) == (at(0), at(90))
    assert trip.holding_seconds == 5400.0
    assert (trip.entry_qty, trip.exit_qty, trip.max_qty) == (D(100), D(100), D(100))
    assert (trip.entry_price, trip.exit_price) == (D("50"), D("52.5"))
    assert trip.gross_pl == D("250")  # (52.50 - 50.00) * 100
    assert trip.fees == D("2.00")
    assert trip.net_pl == D("248.00")
    assert trip.return_pct == pytest.approx(248 / 5000)
    assert (trip.first_order_id, trip.strategy) == ("o1", "breakout")
    assert trip.key == "AAPL:1"
    assert [(p.fill_id, p.role) for p in trip.fills] == [("1", "entry"), ("2", "exit")]


def test_round_trips_short_profits_when_price_falls() -> None:
    fills = [jf("1", SELL, "40", "25.00", "0.40", 0), jf("2", BUY, "40", "23.75", "0.40", 30)]

    (trip,) = round_trips(fills)

    assert trip.direction == "short"
    assert trip.status == "closed"
    assert trip.gross_pl == D("50")  # (25.00 - 23.75) * 40
    assert trip.net_pl == D("49.20")
    assert trip.return_pct == pytest.approx(49.2 / 1000)
    assert (trip.entry_price, trip.exit_price) == (D("25"), D("23.75"))


def test_round_trips_scale_in_uses_weighted_entry_price() -> None:
    fills = [
        jf("1", BUY, "100", "10.00", "0", 0),
        jf("2", BUY, "300", "12.00", "0", 1),
        jf("3", SELL, "400", "12.50", "0", 2),
    ]

    (trip,) = round_trips(fills)

    # (100 * 10 + 300 * 12) / 400 = 4600 / 400 = 11.5
    assert trip.entry_price == D("11.5")
    assert trip.entry_qty == D(400)
    assert trip.max_qty == D(400)
    assert trip.gross_pl == D("400")  # (12.50 - 11.50) * 400
    assert trip.opened_at == at(0)
    assert trip.key == "AAPL:1"


def test_round_trips_partial_exits_use_weighted_exit_price_and_stay_one_trip() -> None:
    fills = [
        jf("1", BUY, "300", "20.00", "0", 0),
        jf("2", SELL, "100", "21.00", "0", 1),
        jf("3", SELL, "100", "22.00", "0", 2),
        jf("4", SELL, "100", "24.00", "0", 3),
    ]

    (trip,) = round_trips(fills)

    assert trip.exit_price == D("22.3333333333")  # (2100 + 2200 + 2400) / 300, 10 dp
    assert trip.exit_qty == D(300)
    assert trip.gross_pl == D("700")  # 100 * (1 + 2 + 4)
    assert trip.closed_at == at(3)
    assert trip.max_qty == D(300)


def test_round_trips_partial_exit_so_far_leaves_trip_open_with_exit_price() -> None:
    fills = [jf("1", BUY, "300", "20.00", "0", 0), jf("2", SELL, "100", "21.00", "0", 1)]

    (trip,) = round_trips(fills)

    assert trip.status == "open"
    assert trip.closed_at is None
    assert trip.holding_seconds is None
    assert trip.exit_price == D("21")
    assert trip.gross_pl == D("100")


def test_round_trips_flip_through_zero_splits_fill_and_fees_pro_rata() -> None:
    fills = [
        jf("1", BUY, "100", "10.00", "1.00", 0),
        jf("2", SELL, "150", "11.00", "1.50", 5, order_id="o2", strategy="flip"),
    ]

    long_trip, short_trip = round_trips(fills)

    assert (long_trip.direction, long_trip.status) == ("long", "closed")
    assert long_trip.closed_at == at(5)
    assert long_trip.fills[-1] == TripFill("2", "exit", D(100), D("11.00"), D("1.00"), at(5))
    assert long_trip.gross_pl == D("100")
    assert long_trip.fees == D("2.00")
    assert (short_trip.direction, short_trip.status) == ("short", "open")
    assert short_trip.fills == (TripFill("2", "entry", D(50), D("11.00"), D("0.50"), at(5)),)
    assert short_trip.opened_at == at(5)
    assert (short_trip.entry_qty, short_trip.max_qty) == (D(50), D(50))
    assert short_trip.gross_pl == 0
    assert short_trip.net_pl == D("-0.50")
    assert short_trip.key == "AAPL:2"
    assert (short_trip.first_order_id, short_trip.strategy) == ("o2", "flip")


def test_round_trips_flip_fee_split_sums_exactly_to_fill_fees() -> None:
    fills = [jf("1", BUY, "1", "10", "0", 0), jf("2", SELL, "3", "10", "1.00", 1)]

    first, second = round_trips(fills)

    split = first.fills[-1].fees, second.fills[0].fees
    assert split == (D("0.3333333333"), D("0.6666666667"))
    assert sum(split) == D("1.00")


def test_round_trips_two_symbols_interleaved_are_kept_apart() -> None:
    fills = [
        jf("1", BUY, "10", "100", "0", 0, symbol="MSFT"),
        jf("2", SELL, "5", "50", "0", 1, symbol="AAPL"),
        jf("3", BUY, "10", "100", "0", 2, symbol="MSFT"),
        jf("4", BUY, "5", "48", "0", 3, symbol="AAPL"),
        jf("5", SELL, "20", "103", "0", 4, symbol="MSFT"),
    ]

    trips = round_trips(fills)

    assert [t.symbol for t in trips] == ["MSFT", "AAPL"]  # by opened_at
    msft, aapl = trips
    assert (aapl.direction, aapl.status, aapl.gross_pl) == ("short", "closed", D("10"))
    assert (msft.direction, msft.status, msft.gross_pl) == ("long", "closed", D("60"))
    assert [p.fill_id for p in msft.fills] == ["1", "3", "5"]
    assert msft.max_qty == D(20)


def test_round_trips_last_trip_of_symbol_stays_open() -> None:
    fills = [
        jf("1", BUY, "10", "100", "0.10", 0),
        jf("2", SELL, "10", "101", "0.10", 1),
        jf("3", BUY, "7", "102", "0.07", 2),
    ]

    closed, still_open = round_trips(fills)

    assert closed.status == "closed"
    assert still_open.status == "open"
    assert still_open.closed_at is None
    assert still_open.exit_price is None
    assert (still_open.entry_qty, still_open.exit_qty) == (D(7), D(0))
    assert still_open.net_pl == D("-0.07")
    assert still_open.return_pct == pytest.approx(-0.07 / 714)


def test_round_trips_same_time_sorts_by_fill_id() -> None:
    fills = [jf("b", SELL, "10", "11", "0", 0), jf("a", BUY, "10", "10", "0", 0)]

    (trip,) = round_trips(fills)

    assert (trip.direction, trip.key, trip.gross_pl) == ("long", "AAPL:a", D("10"))


# --- round trips: a complex sequence against a hand-computed table ------------------------

COMPLEX = [
    jf("f1", BUY, "100", "10.00", "1.00", 0, order_id="o1", strategy="s1"),
    jf("f2", BUY, "50", "13.00", "0.50", 1),  # avg 11.00
    jf("f3", SELL, "60", "12.00", "0.60", 2),  # realises (12 - 11) * 60 = 60
    jf("f4", BUY, "30", "14.00", "0.30", 3),  # avg (90 * 11 + 30 * 14) / 120 = 11.75
    jf("f5", SELL, "150", "12.50", "3.00", 4, order_id="o5", strategy="s2"),
    # f5 closes 120 (realises 0.75 * 120 = 90; fees 2.40) and opens a short of 30 @ 12.50
    jf("f6", SELL, "20", "12.00", "0.20", 5),  # short avg (375 + 240) / 50 = 12.30
    jf("f7", BUY, "50", "11.00", "0.50", 6),  # realises (12.30 - 11) * 50 = 65
    jf("f8", BUY, "10", "20.00", "0.10", 7, order_id="o8"),
]

EXPECTED = [
    RoundTrip(
        symbol="AAPL",
        direction="long",
        status="closed",
        opened_at=at(0),
        closed_at=at(4),
        entry_qty=D(180),
        exit_qty=D(180),
        max_qty=D(150),
        entry_price=D("11.5"),  # (1000 + 650 + 420) / 180
        exit_price=D("12.3333333333"),  # (720 + 1500) / 180
        gross_pl=D("150"),  # 60 + 90
        fees=D("4.80"),  # 1.00 + 0.50 + 0.60 + 0.30 + 2.40
        net_pl=D("145.20"),
        return_pct=145.20 / 2070,
        holding_seconds=240.0,
        fills=(
            TripFill("f1", "entry", D(100), D("10.00"), D("1.00"), at(0)),
            TripFill("f2", "entry", D(50), D("13.00"), D("0.50"), at(1)),
            TripFill("f3", "exit", D(60), D("12.00"), D("0.60"), at(2)),
            TripFill("f4", "entry", D(30), D("14.00"), D("0.30"), at(3)),
            TripFill("f5", "exit", D(120), D("12.50"), D("2.40"), at(4)),
        ),
        first_order_id="o1",
        strategy="s1",
        key="AAPL:f1",
    ),
    RoundTrip(
        symbol="AAPL",
        direction="short",
        status="closed",
        opened_at=at(4),
        closed_at=at(6),
        entry_qty=D(50),
        exit_qty=D(50),
        max_qty=D(50),
        entry_price=D("12.3"),  # (375 + 240) / 50
        exit_price=D("11"),
        gross_pl=D("65"),
        fees=D("1.30"),  # 0.60 + 0.20 + 0.50
        net_pl=D("63.70"),
        return_pct=63.70 / 615,
        holding_seconds=120.0,
        fills=(
            TripFill("f5", "entry", D(30), D("12.50"), D("0.60"), at(4)),
            TripFill("f6", "entry", D(20), D("12.00"), D("0.20"), at(5)),
            TripFill("f7", "exit", D(50), D("11.00"), D("0.50"), at(6)),
        ),
        first_order_id="o5",
        strategy="s2",
        key="AAPL:f5",
    ),
    RoundTrip(
        symbol="AAPL",
        direction="long",
        status="open",
        opened_at=at(7),
        closed_at=None,
        entry_qty=D(10),
        exit_qty=D(0),
        max_qty=D(10),
        entry_price=D("20"),
        exit_price=None,
        gross_pl=D(0),
        fees=D("0.10"),
        net_pl=D("-0.10"),
        return_pct=-0.10 / 200,
        holding_seconds=None,
        fills=(TripFill("f8", "entry", D(10), D("20.00"), D("0.10"), at(7)),),
        first_order_id="o8",
        strategy=None,
        key="AAPL:f8",
    ),
]

FIELDS = [f.name for f in fields(RoundTrip) if f.name != "return_pct"]


@pytest.mark.parametrize("index", range(len(EXPECTED)))
@pytest.mark.parametrize("name", FIELDS)
def test_round_trips_complex_sequence_matches_hand_table(index: int, name: str) -> None:
    trips = round_trips(COMPLEX)

    assert len(trips) == len(EXPECTED)
    assert getattr(trips[index], name) == getattr(EXPECTED[index], name)


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_round_trips_complex_sequence_return_pct_matches_hand_table(index: int) -> None:
    assert round_trips(COMPLEX)[index].return_pct == pytest.approx(EXPECTED[index].return_pct)


# --- round trips against the ledger, and stability ----------------------------------------


def random_fills(seed: int, count: int = 300) -> list[JournalFill]:
    """Random fills over three symbols: fractional quantities, cent prices, sub-cent fees.

    About one fill in five exactly closes the position, so trips also end without a flip.
    """
    rng = np.random.default_rng(seed)
    symbols = ["AAPL", "MSFT", "TSLA"]
    position = dict.fromkeys(symbols, D(0))
    fills = []
    for n in range(count):
        symbol = symbols[int(rng.integers(3))]
        if position[symbol] != 0 and rng.random() < 0.2:
            side = SELL if position[symbol] > 0 else BUY
            qty = abs(position[symbol])
        else:
            side = BUY if rng.random() < 0.5 else SELL
            qty = D(int(rng.integers(1, 300_000))) / 1000
        price = D(int(rng.integers(500, 50_000))) / 100
        fees = D(int(rng.integers(0, 5_000))) / 10_000
        position[symbol] += qty if side is BUY else -qty
        when = T0 + timedelta(seconds=int(rng.integers(0, 10)) + 10 * n)
        fills.append(JournalFill(f"t{n:04d}", symbol, side, qty, price, fees, when))
    return fills


def ledger_realized(fills: list[JournalFill]) -> Decimal:
    holdings: dict[str, Holding] = {}
    realized = D(0)
    for f in sorted(fills, key=lambda f: (f.at, f.fill_id)):
        effect = apply_fill(holdings.get(f.symbol, Holding()), f.side, f.qty, f.price, f.fees)
        holdings[f.symbol] = effect.holding
        realized += effect.realized_pl
    return realized


def test_round_trips_gross_pl_sums_to_ledger_realized_pl_exactly() -> None:
    fills = random_fills(seed=7)

    trips = round_trips(fills)

    assert sum((t.gross_pl for t in trips), D(0)) == ledger_realized(fills)
    assert sum((t.fees for t in trips), D(0)) == sum((f.fees for f in fills), D(0))
    qty_of = {f.fill_id: f.qty for f in fills}
    flips = [t for t in trips if t.fills[0].qty != qty_of[t.fills[0].fill_id]]
    assert flips  # the sequence does go through zero
    assert sum(1 for t in trips if t.status == "open") <= 3


def test_round_trips_parts_cover_every_fill_quantity_exactly() -> None:
    fills = random_fills(seed=11)

    trips = round_trips(fills)

    covered: dict[str, Decimal] = {}
    for part in (p for t in trips for p in t.fills):
        covered[part.fill_id] = covered.get(part.fill_id, D(0)) + part.qty
    assert covered == {f.fill_id: f.qty for f in fills}
    for trip in trips:
        if trip.status == "closed":
            assert trip.entry_qty == trip.exit_qty


def test_round_trips_shuffled_input_gives_same_trips() -> None:
    fills = random_fills(seed=3)
    shuffled = [fills[i] for i in np.random.default_rng(99).permutation(len(fills))]

    assert round_trips(shuffled) == round_trips(fills)


def test_round_trips_rebuild_from_same_fills_is_identical() -> None:
    fills = random_fills(seed=5)

    first, again = round_trips(fills), round_trips(list(fills))

    assert first == again
    assert [t.key for t in first] == [t.key for t in again]
    assert len({t.key for t in first}) == len(first)


def test_round_trips_later_fills_never_change_earlier_closed_trips() -> None:
    fills = random_fills(seed=13)
    earlier = round_trips(fills[:200])

    later = {t.key: t for t in round_trips(fills)}

    closed = [t for t in earlier if t.status == "closed"]
    assert closed
    for trip in closed:
        assert later[trip.key] == trip


# --- excursions ---------------------------------------------------------------------------


def long_trip() -> RoundTrip:
    # buy 100 @ 50.00 at 14:30, sell 100 @ 52.00 at 15:30
    (trip,) = round_trips(
        [jf("1", BUY, "100", "50.00", "0", 0), jf("2", SELL, "100", "52.00", "0", 60)]
    )
    return trip


def test_excursion_long_with_lows_below_entry_measures_mae_at_max_qty() -> None:
    quarter = [
        (at(0), 50.50, 49.50),
        (at(15), 51.00, 48.00),  # lowest low: 2.00 under the entry
        (at(30), 53.00, 49.00),  # highest high: 3.00 over the entry
        (at(45), 52.50, 50.50),
    ]

    result = excursion(long_trip(), bars(quarter))

    assert result is not None
    assert (result.mae_price, result.mfe_price) == (D("48.0"), D("53.0"))
    assert (result.mae, result.mfe) == (D("200.00"), D("300.00"))
    assert result.mae_pct == pytest.approx(0.04)  # 2.00 / 50.00
    assert result.mfe_pct == pytest.approx(0.06)  # 3.00 / 50.00


def test_excursion_short_mirrors_long() -> None:
    (trip,) = round_trips(
        [jf("1", SELL, "100", "50.00", "0", 0), jf("2", BUY, "100", "48.00", "0", 60)]
    )
    quarter = [(at(0), 50.80, 49.00), (at(15), 51.50, 48.50), (at(30), 49.00, 47.00)]

    result = excursion(trip, bars(quarter))

    assert result is not None
    assert (result.mae_price, result.mfe_price) == (D("51.5"), D("47.0"))
    assert (result.mae, result.mfe) == (D("150.00"), D("300.00"))
    assert result.mae_pct == pytest.approx(0.03)
    assert result.mfe_pct == pytest.approx(0.06)


def test_excursion_bars_outside_trip_window_are_ignored() -> None:
    quarter = [
        (at(-30), 90.0, 10.0),  # 14:00-14:15, before the entry
        (at(-15), 90.0, 10.0),  # 14:15-14:30, ends as the trip opens
        (at(0), 50.50, 49.50),
        (at(15), 51.00, 49.00),
        (at(30), 51.50, 49.25),
        (at(45), 51.75, 50.00),
        (at(60), 52.25, 51.75),  # 15:30-15:45, starts as the trip closes: overlaps
        (at(75), 90.0, 10.0),  # after the exit
    ]

    result = excursion(long_trip(), bars(quarter))

    assert result is not None
    assert (result.mae_price, result.mfe_price) == (D("49.0"), D("52.25"))
    assert (result.mae, result.mfe) == (D("100.00"), D("225.00"))


def test_excursion_open_trip_uses_bars_up_to_now() -> None:
    (trip,) = round_trips([jf("1", BUY, "10", "100.00", "0", 0)])
    minute = [(at(0), 101.0, 99.0), (at(1), 103.0, 98.0), (at(2), 120.0, 80.0)]

    result = excursion(trip, bars(minute), now=at(1.5))

    assert result is not None
    assert (result.mae_price, result.mfe_price) == (D("98.0"), D("103.0"))
    assert (result.mae, result.mfe) == (D("20.00"), D("30.00"))


def test_excursion_without_bars_comes_from_fill_prices() -> None:
    (trip,) = round_trips(
        [
            jf("1", BUY, "100", "50.00", "0", 0),
            jf("2", BUY, "100", "46.00", "0", 10),  # entry price 48.00
            jf("3", SELL, "200", "51.00", "0", 20),
        ]
    )

    result = excursion(trip, NO_BARS)

    assert result is not None
    assert (result.mae_price, result.mfe_price) == (D("46.00"), D("51.00"))
    assert result.mae == D("400.00")  # (48 - 46) * 200
    assert result.mfe == D("600.00")  # (51 - 48) * 200
    assert result.mae_pct == pytest.approx(2 / 48)
    assert result.mfe_pct == pytest.approx(3 / 48)


def test_excursion_is_never_negative() -> None:
    # a long whose every price stays above its entry has no adverse excursion
    (trip,) = round_trips([jf("1", BUY, "10", "50", "0", 0), jf("2", SELL, "10", "55", "0", 30)])

    result = excursion(trip, bars([(at(0), 56.0, 50.5), (at(15), 57.0, 51.0)]))

    assert result is not None
    assert result.mae == 0
    assert result.mae_pct == 0.0
    assert result.mfe == D("70.00")


def test_excursion_naive_bar_index_raises_invalid_input() -> None:
    naive = bars([(datetime(2024, 6, 3, 14, 30), 51.0, 49.0)])

    with pytest.raises(InvalidInput) as error:
        excursion(long_trip(), naive)
    assert error.value.code == "invalid_bars"


# --- R-multiple ---------------------------------------------------------------------------


def test_r_multiple_long_with_stop_below_entry() -> None:
    (trip,) = round_trips([jf("1", BUY, "100", "50", "0", 0), jf("2", SELL, "100", "55", "0", 1)])

    assert r_multiple(trip, D("48")) == pytest.approx(2.5)  # 500 / (2 * 100)


def test_r_multiple_uses_first_entry_price_and_total_entry_qty() -> None:
    fills = [
        jf("1", BUY, "100", "50", "0", 0),
        jf("2", BUY, "100", "52", "0", 1),
        jf("3", SELL, "200", "53", "0", 2),
    ]
    (trip,) = round_trips(fills)

    assert r_multiple(trip, D("49")) == pytest.approx(2.0)  # 400 / ((50 - 49) * 200)


def test_r_multiple_short_with_stop_above_entry() -> None:
    fills = [jf("1", SELL, "100", "50", "0", 0), jf("2", BUY, "100", "52", "0", 1)]
    (trip,) = round_trips(fills)

    assert r_multiple(trip, D("51")) == pytest.approx(-2.0)  # -200 / (1 * 100)


def test_r_multiple_counts_fees_through_net_pl() -> None:
    fills = [jf("1", BUY, "100", "50", "5", 0), jf("2", SELL, "100", "55", "5", 1)]
    (trip,) = round_trips(fills)

    assert r_multiple(trip, D("48")) == pytest.approx(2.45)  # 490 / 200


@pytest.mark.parametrize(
    ("opening", "stop"),
    [(BUY, "50"), (BUY, "51"), (SELL, "50"), (SELL, "49")],
    ids=["long-stop-at-entry", "long-stop-above", "short-stop-at-entry", "short-stop-below"],
)
def test_r_multiple_wrong_side_stop_returns_none(opening: Side, stop: str) -> None:
    closing = SELL if opening is BUY else BUY
    (trip,) = round_trips(
        [jf("1", opening, "10", "50", "0", 0), jf("2", closing, "10", "52", "0", 1)]
    )

    assert r_multiple(trip, D(stop)) is None


def test_r_multiple_without_stop_returns_none() -> None:
    assert r_multiple(long_trip(), None) is None


# --- invalid input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (jf("x", BUY, "0", "10"), "invalid_fill"),
        (jf("x", BUY, "-1", "10"), "invalid_fill"),
        (jf("x", BUY, "1", "0"), "invalid_fill"),
        (jf("x", BUY, "1", "-10"), "invalid_fill"),
        (jf("x", BUY, "1", "10", "-0.01"), "invalid_fill"),
        (jf("x", BUY, "1", "NaN"), "invalid_fill"),
        (
            JournalFill("x", "AAPL", BUY, D(1), D(10), D(0), datetime(2024, 6, 3, 14, 30)),
            "invalid_fill_time",
        ),
    ],
    ids=[
        "zero-qty",
        "negative-qty",
        "zero-price",
        "negative-price",
        "negative-fees",
        "nan-price",
        "naive-time",
    ],
)
def test_round_trips_invalid_fill_raises_invalid_input(bad: JournalFill, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        round_trips([jf("ok", BUY, "1", "10"), bad])
    assert error.value.code == code


def test_round_trips_duplicate_fill_id_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        round_trips([jf("1", BUY, "1", "10", "0", 0), jf("1", SELL, "1", "11", "0", 1)])
    assert error.value.code == "duplicate_fill"


def test_round_trips_no_fills_gives_no_trips() -> None:
    assert round_trips([]) == []


def test_fills_of_one_moment_follow_the_ledger_order_not_their_ids() -> None:
    # A buy and a sell booked in the same instant: the buy came first in the ledger, though
    # its id sorts last, so this is one long round trip, not a short.
    buy = JournalFill("z-buy", "AAPL", Side.BUY, D("10"), D("100"), D("0"), at(0), seq=1)
    sell = JournalFill("a-sell", "AAPL", Side.SELL, D("10"), D("99"), D("0"), at(0), seq=2)
    (trip,) = round_trips([sell, buy])
    assert trip.direction == "long"
    assert trip.key == "AAPL:z-buy"
    assert trip.net_pl == D("-10")
