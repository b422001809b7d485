"""Sessions: NYSE for equities (holidays, early closes), UTC days for crypto, always-open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import exchange_calendars as xcals
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrade.marketdata.simulator import (
    CRYPTO,
    EQUITY,
    OutOfSimulationRange,
    SimulatedMarket,
    TradingCalendar,
)
from quantumtrade.marketdata.simulator.calendar import to_ns

CALENDAR = TradingCalendar()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.filterwarnings("ignore:Series.values returning")
def test_sessions_match_exchange_calendars_for_2024() -> None:
    ours = CALENDAR.sessions(EQUITY, date(2024, 1, 1), date(2024, 12, 31))
    theirs = xcals.get_calendar("XNYS").schedule.loc["2024-01-01":"2024-12-31"]
    assert list(ours.index) == list(theirs.index)
    assert (ours["open"].to_numpy() == theirs["open"].to_numpy()).all()
    assert (ours["close"].to_numpy() == theirs["close"].to_numpy()).all()


def test_holiday_and_early_close() -> None:
    assert not CALENDAR.is_open(EQUITY, utc(2024, 7, 4, 15))
    assert CALENDAR.is_open(EQUITY, utc(2024, 11, 29, 17, 59))  # 12:59 ET
    assert not CALENDAR.is_open(EQUITY, utc(2024, 11, 29, 18, 0))  # 13:00 ET
    assert CALENDAR.next_close(EQUITY, utc(2024, 11, 29, 15)) == utc(2024, 11, 29, 18)
    assert CALENDAR.next_open(EQUITY, utc(2024, 7, 3, 18)) == utc(2024, 7, 5, 13, 30)


def test_regular_session_in_both_daylight_regimes() -> None:
    assert CALENDAR.is_open(EQUITY, utc(2024, 7, 8, 13, 30))  # 9:30 EDT
    assert not CALENDAR.is_open(EQUITY, utc(2024, 1, 8, 14, 29))  # 9:29 EST
    assert CALENDAR.is_open(EQUITY, utc(2024, 1, 8, 20, 59))
    assert not CALENDAR.is_open(EQUITY, utc(2024, 1, 8, 21, 0))
    assert not CALENDAR.is_open(EQUITY, utc(2024, 1, 6, 15))  # Saturday


def test_crypto_trades_around_the_clock() -> None:
    saturday = utc(2024, 1, 6, 3, 17)
    assert CALENDAR.is_open(CRYPTO, saturday)
    assert CALENDAR.next_close(CRYPTO, saturday) == utc(2024, 1, 7)
    assert len(CALENDAR.sessions(CRYPTO, date(2024, 1, 1), date(2024, 1, 31))) == 31


def test_always_open_gives_equities_weekends() -> None:
    calendar = TradingCalendar(always_open=True)
    assert calendar.is_open(EQUITY, utc(2024, 1, 6, 3, 17))
    assert len(calendar.sessions(EQUITY, date(2024, 1, 1), date(2024, 1, 7))) == 7


def test_market_answers_for_a_symbol_or_an_asset_class(market: SimulatedMarket) -> None:
    assert market.is_open("AAPL", utc(2024, 7, 8, 15))
    assert not market.is_open("us_equity", utc(2024, 7, 4, 15))
    assert market.is_open("BTC/USD", utc(2024, 7, 4, 15))
    assert market.next_open("SPY", utc(2024, 7, 3, 18)) == utc(2024, 7, 5, 13, 30)
    sessions = market.sessions("AAPL", date(2024, 11, 25), date(2024, 11, 29))
    assert sessions["close"].iloc[-1] == pd.Timestamp("2024-11-29 18:00", tz="UTC")
    assert len(sessions) == 4  # Thanksgiving


def test_dates_outside_the_simulated_range_raise_clearly() -> None:
    with pytest.raises(OutOfSimulationRange, match="outside the simulated days"):
        CALENDAR.is_open(EQUITY, utc(1999, 6, 1, 15))
    with pytest.raises(OutOfSimulationRange):
        CALENDAR.next_open(EQUITY, utc(2099, 6, 1, 15))
    with pytest.raises(OutOfSimulationRange):
        CALENDAR.sessions(EQUITY, date(1990, 1, 1), date(2000, 2, 1))


def test_naive_moments_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CALENDAR.is_open(EQUITY, datetime(2024, 7, 8, 15))


@given(
    micros=st.integers(min_value=-(10**15), max_value=4 * 10**15),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_to_ns_reads_a_datetime_as_pandas_does(micros: int, offset_minutes: int) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    moment = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).astimezone(zone)
    assert to_ns(moment) == pd.Timestamp(moment).as_unit("ns").value
    assert to_ns(pd.Timestamp(moment)) == to_ns(moment)


def test_to_ns_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_ns(datetime(2026, 1, 2, 15, 30))
