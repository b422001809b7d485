"""Bars: shape, sanity, sessions, minute-to-day consistency and the clock's horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.market import BAR_COLUMNS, Timeframe, resample_bars
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.marketdata.source import UnknownSymbol

MIN, DAY = Timeframe.MIN_1, Timeframe.DAY_1


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def assert_sane(bars: pd.DataFrame) -> None:
    assert len(bars)
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["low"] > 0).all()
    assert (bars["volume"] > 0).all()
    assert (bars["trade_count"] > 0).all()
    assert ((bars["vwap"] >= bars["low"]) & (bars["vwap"] <= bars["high"])).all()


async def test_frames_have_the_standard_shape(market: SimulatedMarket) -> None:
    for timeframe in Timeframe:
        bars = await market.get_bars("AAPL", timeframe, utc(2024, 12, 2), utc(2024, 12, 4))
        assert list(bars.columns) == list(BAR_COLUMNS)
        assert bars.index.name == "time"
        assert str(bars.index.tz) == "UTC"
        assert bars.index.is_monotonic_increasing
        assert bars["trade_count"].dtype == np.int64
        assert (bars.drop(columns="trade_count").dtypes == np.float64).all()
        assert_sane(bars)


@pytest.mark.parametrize("symbol", ["AAPL", "TSLA", "SPY", "BTC/USD"])
async def test_bars_are_sane(market: SimulatedMarket, symbol: str) -> None:
    assert_sane(await market.get_bars(symbol, DAY, utc(2005, 1, 1), utc(2025, 1, 1)))
    assert_sane(await market.get_bars(symbol, MIN, utc(2008, 10, 6), utc(2008, 10, 11)))


async def test_minute_history_is_the_same_whatever_the_range(market: SimulatedMarket) -> None:
    twin = SimulatedMarket(seed=42, clock=FixedClock(utc(2025, 1, 6, 23)))
    whole = await market.get_bars("MSFT", MIN, utc(2024, 3, 7), utc(2024, 3, 12))
    late = await twin.get_bars("MSFT", MIN, utc(2024, 3, 8, 17, 3), utc(2024, 3, 12))
    early = await twin.get_bars("MSFT", MIN, utc(2024, 3, 7), utc(2024, 3, 8, 17, 3))
    pd.testing.assert_frame_equal(whole, pd.concat([early, late]))


@pytest.mark.filterwarnings("ignore:Series.values returning", "ignore:DatetimeIndex.values")
async def test_equity_bars_fall_inside_nyse_sessions(market: SimulatedMarket) -> None:
    nyse = xcals.get_calendar("XNYS")
    # A DST switch, Independence Day, Thanksgiving and its early close.
    for start, end in [(utc(2024, 3, 7), utc(2024, 3, 13)), (utc(2024, 7, 1), utc(2024, 7, 9))]:
        minutes = await market.get_bars("AAPL", MIN, start, end)
        assert all(nyse.is_trading_minute(t) for t in minutes.index)
        expected = nyse.minutes_in_range(start, end - timedelta(minutes=1))
        assert list(minutes.index) == list(expected)
    thanksgiving = await market.get_bars("AAPL", MIN, utc(2024, 11, 28), utc(2024, 11, 30))
    assert thanksgiving.index[0] == pd.Timestamp("2024-11-29 14:30", tz="UTC")
    assert thanksgiving.index[-1] == pd.Timestamp("2024-11-29 17:59", tz="UTC")  # 12:59 ET
    daily = await market.get_bars("AAPL", DAY, utc(2024, 7, 1), utc(2024, 7, 9))
    assert pd.Timestamp("2024-07-04", tz="UTC") not in daily.index
    sessions = nyse.sessions_in_range("2024-07-01", "2024-07-08")
    assert list(daily.index.tz_localize(None)) == list(sessions)


async def test_bitcoin_trades_on_weekends(market: SimulatedMarket) -> None:
    daily = await market.get_bars("BTC/USD", DAY, utc(2024, 1, 1), utc(2024, 1, 15))
    assert len(daily) == 14
    assert (daily["open"].iloc[1:].to_numpy() == daily["close"].iloc[:-1].to_numpy()).all()
    saturday = await market.get_bars("BTC/USD", MIN, utc(2024, 1, 6), utc(2024, 1, 7))
    assert len(saturday) == 1440


async def test_always_open_gives_equities_weekend_bars() -> None:
    demo = SimulatedMarket(clock=FixedClock(utc(2024, 1, 8)), always_open=True)
    saturday = await demo.get_bars("AAPL", MIN, utc(2024, 1, 6), utc(2024, 1, 7))
    assert len(saturday) == 1440
    assert_sane(saturday)
    assert len(await demo.get_bars("AAPL", DAY, utc(2024, 1, 1), utc(2024, 1, 8))) == 7


@pytest.mark.parametrize(
    ("symbol", "start"), [("AAPL", utc(2024, 11, 18)), ("BTC/USD", utc(2021, 5, 1))]
)
async def test_minutes_aggregate_to_the_daily_bars(
    market: SimulatedMarket, symbol: str, start: datetime
) -> None:
    end = start + timedelta(days=14)
    minutes = await market.get_bars(symbol, MIN, start, end)
    daily = await market.get_bars(symbol, DAY, start, end)
    rebuilt = resample_bars(minutes, DAY)
    assert list(rebuilt.index) == list(daily.index)
    for column in ("open", "high", "low", "close", "volume", "trade_count"):
        assert (rebuilt[column].to_numpy() == daily[column].to_numpy()).all(), column
    np.testing.assert_allclose(rebuilt["vwap"], daily["vwap"], rtol=0.03)


# Hand-built minutes: two days, gaps between them, a missing vwap (the close stands in for it)
# and a missing trade count (counts as none).
NAN = float("nan")
HAND_MINUTES = [
    # time (UTC)          open   high   low   close  volume  vwap   trades
    ("2025-05-06 14:30", 10.0, 11.0, 9.0, 10.5, 100, 10.25, 5),
    ("2025-05-06 14:31", 10.5, 12.0, 10.0, 11.0, 200, 11.0, 7),
    ("2025-05-06 14:34", 11.0, 11.5, 10.5, 11.25, 100, NAN, 3),
    ("2025-05-06 14:35", 11.25, 13.0, 11.0, 12.5, 100, 12.0, NAN),
    ("2025-05-06 14:59", 12.5, 12.75, 12.0, 12.0, 200, 12.5, 2),
    ("2025-05-06 15:00", 12.0, 12.5, 11.5, 11.75, 300, 12.0, 10),
    ("2025-05-07 09:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
]
# Worked out by hand: open first, high max, low min, close last, volume and trades summed,
# vwap = sum(vwap or close * volume) / sum(volume); empty buckets do not appear.
HAND_BARS = {
    Timeframe.MIN_5: [
        ("2025-05-06 14:30", 10.0, 12.0, 9.0, 11.25, 400, 4350 / 400, 15),
        ("2025-05-06 14:35", 11.25, 13.0, 11.0, 12.5, 100, 12.0, 0),
        ("2025-05-06 14:55", 12.5, 12.75, 12.0, 12.0, 200, 12.5, 2),
        ("2025-05-06 15:00", 12.0, 12.5, 11.5, 11.75, 300, 12.0, 10),
        ("2025-05-07 09:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
    ],
    Timeframe.MIN_15: [
        ("2025-05-06 14:30", 10.0, 13.0, 9.0, 12.5, 500, 5550 / 500, 15),
        ("2025-05-06 14:45", 12.5, 12.75, 12.0, 12.0, 200, 12.5, 2),
        ("2025-05-06 15:00", 12.0, 12.5, 11.5, 11.75, 300, 12.0, 10),
        ("2025-05-07 09:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
    ],
    Timeframe.HOUR_1: [
        ("2025-05-06 14:00", 10.0, 13.0, 9.0, 12.0, 700, 8050 / 700, 17),
        ("2025-05-06 15:00", 12.0, 12.5, 11.5, 11.75, 300, 12.0, 10),
        ("2025-05-07 09:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
    ],
    Timeframe.DAY_1: [
        ("2025-05-06 00:00", 10.0, 13.0, 9.0, 11.75, 1000, 11650 / 1000, 27),
        ("2025-05-07 00:00", 20.0, 21.0, 19.0, 20.0, 50, 20.0, 1),
    ],
}


def bar_frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    stamps = [pd.Timestamp(row[0], tz="UTC") for row in rows]
    index = pd.DatetimeIndex(stamps, name="time").as_unit("ns")
    return pd.DataFrame([row[1:] for row in rows], index=index, columns=list(BAR_COLUMNS))


@pytest.mark.parametrize("timeframe", list(HAND_BARS), ids=str)
def test_resample_bars_of_hand_built_minutes_gives_the_hand_computed_bars(
    timeframe: Timeframe,
) -> None:
    bars = resample_bars(bar_frame(HAND_MINUTES), timeframe)
    pd.testing.assert_frame_equal(
        bars, bar_frame(HAND_BARS[timeframe]), check_dtype=False, check_freq=False, rtol=1e-12
    )


# Two NYSE sessions (14:30-21:00 UTC in December) cut at 14:35 on the first and 16:20 on the
# second: a bar is in the range when its start is; the last one runs past the range's end.
COARSE_RANGE = utc(2024, 12, 2, 14, 35), utc(2024, 12, 3, 16, 20)
COARSE_EXPECTED = {
    # timeframe: (bar count, first bar, last bar), counted by hand
    Timeframe.MIN_5: (77 + 22, utc(2024, 12, 2, 14, 35), utc(2024, 12, 3, 16, 15)),
    Timeframe.MIN_15: (25 + 8, utc(2024, 12, 2, 14, 45), utc(2024, 12, 3, 16, 15)),
    Timeframe.HOUR_1: (6 + 3, utc(2024, 12, 2, 15), utc(2024, 12, 3, 16)),
}


@pytest.mark.parametrize("timeframe", list(COARSE_EXPECTED), ids=str)
async def test_coarser_bars_over_two_sessions_aggregate_their_own_minutes(
    market: SimulatedMarket, timeframe: Timeframe
) -> None:
    start, end = COARSE_RANGE
    count, first, last = COARSE_EXPECTED[timeframe]
    minutes = await market.get_bars(
        "JPM", MIN, start - timedelta(hours=1), end + timedelta(hours=1)
    )

    bars = await market.get_bars("JPM", timeframe, start, end)

    assert (len(bars), bars.index[0], bars.index[-1]) == (count, first, last)
    step = timeframe.delta
    assert (bars.index.to_series().diff().dropna() >= step).all()
    for stamp, bar in bars.iterrows():
        own = minutes[(minutes.index >= stamp) & (minutes.index < stamp + step)]
        assert len(own), stamp
        assert bar["open"] == own["open"].iloc[0], stamp
        assert bar["high"] == own["high"].max(), stamp
        assert bar["low"] == own["low"].min(), stamp
        assert bar["close"] == own["close"].iloc[-1], stamp
        assert bar["trade_count"] == own["trade_count"].sum(), stamp
        assert bar["volume"] == pytest.approx(own["volume"].sum(), rel=1e-12), stamp
        notional = (own["vwap"] * own["volume"]).sum()
        assert bar["vwap"] == pytest.approx(notional / own["volume"].sum(), rel=1e-12), stamp


async def test_no_bar_lies_in_the_future_of_the_clock() -> None:
    clock = FixedClock(utc(2024, 12, 3, 15, 7, 30))
    market = SimulatedMarket(clock=clock)
    far = utc(2030, 1, 1)
    minutes = await market.get_bars("AAPL", MIN, utc(2024, 12, 3), far)
    assert minutes.index[-1] == pd.Timestamp("2024-12-03 15:06", tz="UTC")
    fives = await market.get_bars("AAPL", Timeframe.MIN_5, utc(2024, 12, 3), far)
    assert fives.index[-1] == pd.Timestamp("2024-12-03 15:00", tz="UTC")
    daily = await market.get_bars("AAPL", DAY, utc(2024, 11, 1), far)
    assert daily.index[-1] == pd.Timestamp("2024-12-02", tz="UTC")
    clock.set(utc(2024, 12, 3, 21, 0))
    daily = await market.get_bars("AAPL", DAY, utc(2024, 11, 1), far)
    assert daily.index[-1] == pd.Timestamp("2024-12-03", tz="UTC")
    assert (await market.get_bars("AAPL", DAY, utc(2026, 1, 1), far)).empty


async def test_ranges_are_half_open_and_clamped_to_the_simulation(market: SimulatedMarket) -> None:
    minutes = await market.get_bars("KO", MIN, utc(2024, 12, 2, 15), utc(2024, 12, 2, 15, 10))
    assert len(minutes) == 10
    early = await market.get_bars("KO", DAY, utc(1990, 1, 1), utc(2000, 1, 10))
    assert early.index[0] == pd.Timestamp("2000-01-03", tz="UTC")
    assert (await market.get_bars("KO", DAY, utc(1990, 1, 1), utc(1995, 1, 1))).empty


async def test_unknown_symbols_and_naive_times_raise(market: SimulatedMarket) -> None:
    with pytest.raises(UnknownSymbol):
        await market.get_bars("NOPE", DAY, utc(2024, 1, 1), utc(2024, 2, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        await market.get_bars("AAPL", DAY, datetime(2024, 1, 1), utc(2024, 2, 1))


async def test_intraday_activity_is_u_shaped(market: SimulatedMarket) -> None:
    minutes = await market.get_bars("MSFT", MIN, utc(2024, 6, 3), utc(2024, 7, 1))
    position = minutes.groupby(minutes.index.date).cumcount().to_numpy()
    volume = minutes["volume"].to_numpy()
    ranges = (np.log(minutes["high"]) - np.log(minutes["low"])).to_numpy()
    edges = (position < 30) | (position >= 360)
    middle = (position >= 150) & (position < 240)
    assert volume[edges].mean() > 1.5 * volume[middle].mean()
    assert ranges[position < 30].mean() > 1.3 * ranges[middle].mean()
