"""Simulated insider filings: rosters, reproducibility, EDGAR timing, prices, and the leak."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from scipy.stats import binom

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.sec import parse_form4
from quantumtrade.marketdata.simulator import ORIGIN, SimulatedMarket
from quantumtrade.marketdata.simulator.calendar import ordinal_of
from quantumtrade.marketdata.simulator.events import is_control, planted_events
from quantumtrade.marketdata.simulator.insider import (
    CLUSTER_PROBABILITY,
    LARGE_EVENT,
    LEAD_SESSIONS,
    LEAK_PROBABILITY,
    InsiderFiling,
    insider_filings,
    insider_roster,
)

NOW = datetime(2025, 1, 6, 23, 0, tzinfo=UTC)
# The first session can carry no announced event (it has no previous close), so history
# starts just after it.
START, END = datetime(2000, 1, 5, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def stocks(market: SimulatedMarket) -> list[str]:
    return [s.symbol for s in market.universe.specs if not (s.is_etf or s.is_crypto)]


@pytest.fixture(scope="module")
def history(other_seed_market: SimulatedMarket) -> dict[str, list[InsiderFiling]]:
    """Every stock's filings over 25 years, under a seed with several control stocks."""
    return {s: insider_filings(other_seed_market, s, START, END) for s in stocks(other_seed_market)}


def sessions(market: SimulatedMarket) -> np.ndarray:
    return market.calendar.session_ordinals("us_equity", 0, (END.date() - ORIGIN).days + 30)


def test_roster_is_deterministic_and_complete(market: SimulatedMarket) -> None:
    roster = insider_roster(market, "AAPL")
    assert roster == insider_roster(market, "AAPL")
    assert roster.issuer.trading_symbol == "AAPL" and roster.issuer.name == "Apple Inc."
    titles = [x.owner.officer_title for x in roster.insiders]
    assert titles[:2] == ["Chief Executive Officer", "Chief Financial Officer"]
    directors = [x for x in roster.insiders if x.owner.is_director and not x.owner.is_officer]
    assert 5 <= len(directors) <= 8
    ciks = [x.owner.cik for x in roster.insiders]
    assert len(set(ciks)) == len(ciks) and all(re.fullmatch(r"\d{10}", c) for c in ciks)
    assert all(x.shares > 0 for x in roster.insiders)
    other = SimulatedMarket(seed=43, clock=FixedClock(NOW))
    assert insider_roster(other, "AAPL").insiders != roster.insiders


def test_etfs_and_crypto_have_no_insiders(market: SimulatedMarket) -> None:
    for symbol in ("SPY", "BTC/USD"):
        assert insider_filings(market, symbol, START, END) == []
        with pytest.raises(ValueError, match="no insiders"):
            insider_roster(market, symbol)


def test_same_seed_same_filings_other_seed_others(market: SimulatedMarket) -> None:
    start, end = utc(2023, 1, 1), utc(2024, 1, 1)
    first = insider_filings(market, "MSFT", start, end)
    again = insider_filings(SimulatedMarket(seed=42, clock=FixedClock(NOW)), "MSFT", start, end)
    assert len(first) > 20 and first == again
    assert [f.xml for f in first] == [f.xml for f in again]  # byte for byte
    other = insider_filings(SimulatedMarket(seed=43, clock=FixedClock(NOW)), "MSFT", start, end)
    assert [f.accession_number for f in other] != [f.accession_number for f in first]
    assert {f.xml for f in other}.isdisjoint(f.xml for f in first)


def test_the_engine_serves_like_the_market(market: SimulatedMarket) -> None:
    start, end = utc(2024, 3, 1), utc(2024, 6, 1)
    assert insider_filings(market.engine, "NVDA", start, end) == insider_filings(
        market, "NVDA", start, end
    )


def test_ranges_add_up_across_a_block_boundary(market: SimulatedMarket) -> None:
    # Day 8760 (2023-12-25) starts a model block; the middle cut falls inside a filing evening.
    a, b, c = utc(2023, 10, 1), utc(2023, 12, 27, 22, 30), utc(2024, 3, 1)
    for symbol in ("AAPL", "CVX", "JPM"):
        whole = insider_filings(market, symbol, a, c)
        parts = insider_filings(market, symbol, a, b) + insider_filings(market, symbol, b, c)
        assert whole == parts
        assert all(a <= f.filed < c for f in whole)
        assert [f.filed_ns for f in whole] == sorted(f.filed_ns for f in whole)


def test_a_late_range_carries_the_holdings_of_the_whole_history(
    other_seed_market: SimulatedMarket, history: dict[str, list[InsiderFiling]]
) -> None:
    # Asked alone, the last months give the filings (and the holdings) of the long history.
    late = utc(2024, 8, 1)
    for symbol in ("AAPL", "JPM"):
        tail = [f for f in history[symbol] if f.filed >= late]
        assert len(tail) > 5
        assert insider_filings(other_seed_market, symbol, late, END) == tail


def test_filed_within_two_business_days_after_the_close(
    other_seed_market: SimulatedMarket, history: dict[str, list[InsiderFiling]]
) -> None:
    days = sessions(other_seed_market)
    _, closes = other_seed_market.calendar.windows("us_equity", days)
    lags = []
    for filings in history.values():
        for f in filings:
            filed_day = ordinal_of(f.filed_ns)
            traded = (f.form.period_of_report - ORIGIN).days
            i, j = np.searchsorted(days, [traded, filed_day])
            assert days[i] == traded and days[j] == filed_day  # both are sessions
            assert f.filed_ns > closes[i]
            lags.append(int(j - i))
    assert set(lags) == {0, 1, 2}


def test_prices_lie_within_the_days_bars(
    other_seed_market: SimulatedMarket, history: dict[str, list[InsiderFiling]]
) -> None:
    for symbol in ("AAPL", "XOM", "NFLX"):
        bars = other_seed_market.bars(symbol, "1Day", START, END)
        low = dict(zip(bars.index.date, bars["low"], strict=True))
        high = dict(zip(bars.index.date, bars["high"], strict=True))
        checked = 0
        for f in history[symbol]:
            for tx in f.form.non_derivative_transactions:
                if tx.code in ("P", "S", "F"):
                    day, price = tx.transaction_date.value, tx.amounts.price.value
                    assert day is not None and price is not None
                    assert Decimal(str(low[day])) <= price <= Decimal(str(high[day]))
                    checked += 1
        assert checked > 500


def test_holdings_carry_from_filing_to_filing(history: dict[str, list[InsiderFiling]]) -> None:
    for symbol in ("AMZN", "TSLA"):
        rows: dict[str, list[tuple[date, Decimal, Decimal]]] = defaultdict(list)
        for f in history[symbol]:
            for tx in f.form.non_derivative_transactions:
                shares, after = tx.amounts.shares.value, tx.shares_after.value
                assert shares is not None and after is not None and after >= 0
                signed = shares if tx.acquired else -shares
                day = tx.transaction_date.value
                assert day is not None
                rows[f.form.reporting_owners[0].cik].append((day, signed, after))
        for owned in rows.values():
            owned.sort(key=lambda r: r[0])
            holding = owned[0][2] - owned[0][1]
            for day in sorted({r[0] for r in owned}):
                # Same-day filings may come in any order; their trades must chain in one.
                todo = [(signed, after) for d, signed, after in owned if d == day]
                while todo:
                    step = next((r for r in todo if r[1] - r[0] == holding), None)
                    assert step is not None, (symbol, day, holding, todo)
                    todo.remove(step)
                    holding = step[1]


def test_generated_xml_parses_back_to_the_model(history: dict[str, list[InsiderFiling]]) -> None:
    sample = [f for filings in history.values() for f in filings[-25:]]
    codes = set()
    for f in sample:
        parsed = parse_form4(f.xml)
        assert parsed == f.form
        assert parsed.issuer.trading_symbol == f.symbol
        codes |= {t.code for t in parsed.non_derivative_transactions}
        codes |= {t.code for t in parsed.derivative_transactions}
    assert {"S", "M", "F", "A"} <= codes


def test_accession_numbers_follow_edgar_and_are_unique(
    history: dict[str, list[InsiderFiling]],
) -> None:
    for symbol, filings in history.items():
        numbers = [f.accession_number for f in filings]
        assert len(set(numbers)) == len(numbers)
        cik = filings[0].form.issuer.cik
        for f in filings:
            assert re.fullmatch(rf"{cik}-(\d\d)-\d{{6}}", f.accession_number), symbol
            assert f.accession_number[11:13] == f"{f.filed.year % 100:02d}"


def test_only_planted_stocks_trade_on_what_they_know(
    other_seed_market: SimulatedMarket, history: dict[str, list[InsiderFiling]]
) -> None:
    seed = other_seed_market.seed
    for symbol, filings in history.items():
        motives = {f.motive for f in filings}
        if is_control(seed, symbol):
            assert "informed" not in motives and "decoy" in motives
        else:
            assert "decoy" not in motives and "informed" in motives
        for f in filings:
            assert (f.event_impact is None) == (f.motive != "informed")
            if f.motive == "informed":
                assert f.event_announced_ns is not None and f.filed_ns > 0
                codes = {t.code for t in f.form.non_derivative_transactions}
                assert codes == ({"P"} if f.event_impact > 0 else {"S"})


def rates(
    market: SimulatedMarket,
    history: dict[str, list[InsiderFiling]],
    chosen: Callable[[InsiderFiling], bool],
) -> dict[tuple[bool, bool], tuple[int, int]]:
    """Count, per (control, positive) events, those with a chosen trade in the lead window."""
    days = sessions(market)
    first, last = LEAD_SESSIONS
    counts: dict[tuple[bool, bool], list[int]] = defaultdict(lambda: [0, 0])
    for symbol, filings in history.items():
        traded = np.searchsorted(
            days, sorted({(f.form.period_of_report - ORIGIN).days for f in filings if chosen(f)})
        )
        control = is_control(market.seed, symbol)
        for event in planted_events(market.model, market.calendar, symbol, START, END):
            # The session in which the world learns: a gap event's is the one before it.
            announce = int(np.searchsorted(days, event.session)) - int(event.in_gap)
            hit = bool(np.any((traded >= announce - last) & (traded <= announce - first)))
            counts[(control, event.positive)][0] += hit
            counts[(control, event.positive)][1] += 1
    return {key: (hits, n) for key, (hits, n) in counts.items()}


def z_score(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Return the two-proportion z statistic of a's rate over b's."""
    pooled = (a[0] + b[0]) / (a[1] + b[1])
    se = math.sqrt(pooled * (1 - pooled) * (1 / a[1] + 1 / b[1]))
    return (a[0] / a[1] - b[0] / b[1]) / se


def is_buy(f: InsiderFiling) -> bool:
    return any(t.code == "P" for t in f.form.non_derivative_transactions)


def is_discretionary_sale(f: InsiderFiling) -> bool:
    """An S with no 10b5-1 plan, no option exercise and no fund behind it: a choice."""
    form = f.form
    notes = " ".join(n.text for n in form.footnotes)
    return (
        any(t.code == "S" for t in form.non_derivative_transactions)
        and not form.derivative_transactions
        and "10b5-1" not in notes
        and not form.reporting_owners[0].is_ten_percent_owner
    )


def test_insider_buys_precede_positive_events_of_planted_stocks_only(
    other_seed_market: SimulatedMarket, history: dict[str, list[InsiderFiling]]
) -> None:
    counts = rates(other_seed_market, history, is_buy)
    planted_pos, planted_neg = counts[(False, True)], counts[(False, False)]
    control_pos, control_neg = counts[(True, True)], counts[(True, False)]
    assert min(n for _, n in counts.values()) > 150  # enough events in every cell
    # Far beyond chance (z > 8 has odds below 1e-15) and a large gap in plain rates...
    assert z_score(planted_pos, planted_neg) > 8
    assert planted_pos[0] / planted_pos[1] > 3 * planted_neg[0] / planted_neg[1]
    # ...while on control stocks buys are as likely before good news as before bad.
    assert abs(z_score(control_pos, control_neg)) < 3.5


def test_discretionary_sales_lean_towards_negative_events(
    other_seed_market: SimulatedMarket, history: dict[str, list[InsiderFiling]]
) -> None:
    counts = rates(other_seed_market, history, is_discretionary_sale)
    assert z_score(counts[(False, False)], counts[(False, True)]) > 4
    assert abs(z_score(counts[(True, False)], counts[(True, True)])) < 3.5


def test_lookahead_is_limited_to_the_documented_lead(
    history: dict[str, list[InsiderFiling]],
) -> None:
    first, last = LEAD_SESSIONS
    for filings in history.values():
        for f in filings:
            if f.event_announced_ns is not None:
                traded = datetime.combine(f.form.period_of_report, datetime.min.time(), UTC)
                ahead = f.event_announced_ns / 1e9 - traded.timestamp()
                # 2-15 sessions: at least a day and at most about three calendar weeks.
                assert timedelta(days=first - 1) < timedelta(seconds=ahead)
                assert timedelta(seconds=ahead) < timedelta(days=last * 7 / 5 + 6)


def test_leak_and_base_rates_match_the_documented_probabilities(
    other_seed_market: SimulatedMarket, history: dict[str, list[InsiderFiling]]
) -> None:
    """The planted effect rate by rate, not only "more than chance".

    A routine buy (or another event's leak) falls in an event's lead window as often as in any
    window of the stock: the base rate ``b``, counted over the lead windows that end at every
    session. On top of it a positive event below LARGE_EVENT daily deviations leaks with
    LEAK_PROBABILITY, so its share of windows holding a P is ``L + (1 - L) b``; a large one
    leaks as a cluster first, so ``1 - (1 - C)(1 - L)(1 - b)``. On control stocks buys are
    routine or decoys at random sessions, so the share before their positive events is ``b``.
    """
    market, days = other_seed_market, sessions(other_seed_market)
    first, last = LEAD_SESSIONS
    lo, hi = np.searchsorted(days, [(d.date() - ORIGIN).days for d in (START, END)]).tolist()
    base = {True: [0, 0], False: [0, 0]}
    hits: dict[tuple[bool, str], list[int]] = defaultdict(lambda: [0, 0])
    for symbol, filings in history.items():
        control = is_control(market.seed, symbol)
        bought = np.zeros(len(days), dtype=np.int64)
        for f in filings:
            if is_buy(f):
                bought[np.searchsorted(days, (f.form.period_of_report - ORIGIN).days)] = 1
        # Buys in the window [s - last, s - first] of every session s, by running sums.
        total = np.concatenate([[0], np.cumsum(bought)])
        anchors = np.arange(lo + last, hi)
        in_window = total[anchors - first + 1] - total[anchors - last] > 0
        base[control][0] += int(in_window.sum())
        base[control][1] += len(anchors)
        daily = market.universe.spec(symbol).volatility / math.sqrt(252.0)
        for event in planted_events(market.model, market.calendar, symbol, START, END):
            announce = int(np.searchsorted(days, event.session)) - int(event.in_gap)
            if not lo + last <= announce < hi:  # the whole window lies inside the history
                continue
            kind = "negative"
            if event.positive:
                kind = "large" if event.impact >= LARGE_EVENT * daily else "positive"
            counted = hits[(control, kind)]
            counted[0] += int(total[announce - first + 1] - total[announce - last] > 0)
            counted[1] += 1
    b = {control: k / n for control, (k, n) in base.items()}
    leak, cluster = LEAK_PROBABILITY, CLUSTER_PROBABILITY
    expected = {
        (False, "positive"): leak + (1 - leak) * b[False],
        (False, "large"): 1 - (1 - cluster) * (1 - leak) * (1 - b[False]),
        (False, "negative"): b[False],
        (True, "positive"): b[True],
        (True, "large"): b[True],
        (True, "negative"): b[True],
    }
    assert 0.02 < b[False] < 0.15 and 0.02 < b[True] < 0.15  # buys are rare in any window
    for cell, p in expected.items():
        k, n = hits[cell]
        assert n > 50, cell
        low, high = binom.interval(0.999, n, p)
        assert low <= k <= high, (cell, k, n, p)
    # The leak is what separates the cells: its interval leaves out the base rate.
    k, n = hits[(False, "positive")]
    assert k > binom.interval(0.999, n, b[False])[1]
