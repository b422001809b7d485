"""Planted events: every idiosyncratic jump, announced before its impact lands in the bars."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import SimulatedMarket
from quantumtrade.marketdata.simulator.calendar import ORIGIN_NS, day_ns
from quantumtrade.marketdata.simulator.events import (
    CONTROL_ONE_IN,
    is_control,
    planted_events,
)

START, END = datetime(2010, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)


def market() -> SimulatedMarket:
    return SimulatedMarket(seed=42, clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))


def test_events_are_announced_before_their_impact_and_match_the_jumps() -> None:
    m = market()
    events = planted_events(m.model, m.calendar, "AAPL", START, END)
    # About four jumps a year: far from zero, far from daily.
    assert 20 <= len(events) <= 70
    bars = m.bars("AAPL", "1Day", START, END + pd.Timedelta(days=10))
    closes = np.log(bars["close"])
    opens = np.log(bars["open"])
    gaps, moves = [], []
    for e in events:
        assert START.timestamp() * 1e9 <= e.announced_ns < END.timestamp() * 1e9
        assert e.announced_ns < (e.session_open_ns if e.in_gap else e.session_close_ns)
        at = bars.index.get_loc(pd.Timestamp(int(day_ns(np.array([e.session]))[0]), tz="UTC"))
        assert isinstance(at, int) and at > 0
        move = (opens.iloc[at] if e.in_gap else closes.iloc[at]) - closes.iloc[at - 1]
        gaps.append(e.impact)
        moves.append(move)
    # The documented window's return carries the jump: same sign nearly always, and the
    # jump explains most of the window's variance.
    impacts, observed = np.array(gaps), np.array(moves)
    assert np.mean(np.sign(impacts) == np.sign(observed)) > 0.8
    assert np.corrcoef(impacts, observed)[0, 1] > 0.8
    assert all(a.announced_ns <= b.announced_ns for a, b in itertools.pairwise(events))


def test_ranges_add_up_and_the_seed_reproduces_them() -> None:
    m = market()
    middle = datetime(2014, 7, 1, tzinfo=UTC)
    whole = planted_events(m.model, m.calendar, "MSFT", START, END)
    parts = planted_events(m.model, m.calendar, "MSFT", START, middle) + planted_events(
        m.model, m.calendar, "MSFT", middle, END
    )
    assert whole == parts
    again = market()
    assert planted_events(again.model, again.calendar, "MSFT", START, END) == whole
    other = SimulatedMarket(seed=43, clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    assert planted_events(other.model, other.calendar, "MSFT", START, END) != whole


def test_etfs_have_no_events_and_controls_are_a_stable_minority() -> None:
    m = market()
    assert planted_events(m.model, m.calendar, "SPY", START, END) == []
    symbols = [f"SYM{i}" for i in range(2000)]
    share = np.mean([is_control(42, s) for s in symbols])
    assert abs(share - 1 / CONTROL_ONE_IN) < 0.03
    assert [is_control(42, s) for s in symbols[:50]] == [is_control(42, s) for s in symbols[:50]]
    assert [is_control(42, s) for s in symbols] != [is_control(7, s) for s in symbols]


def test_crypto_events_are_announced_at_the_start_of_their_day() -> None:
    m = market()
    events = planted_events(m.model, m.calendar, "BTC/USD", START, END)
    assert len(events) > 50  # about twelve a year
    for e in events:
        assert (e.announced_ns - ORIGIN_NS) % (86_400 * 10**9) == 0
        assert not e.in_gap
