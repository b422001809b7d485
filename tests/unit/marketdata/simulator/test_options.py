"""Simulated options: listing, the surface, quotes, open interest, the tape and planted sweeps."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.options import bs_price, greeks, parse_occ_symbol
from quantumtrade.marketdata.simulator import SimulatedMarket, SymbolSpec
from quantumtrade.marketdata.simulator.calendar import to_ns
from quantumtrade.marketdata.simulator.events import is_control, planted_events
from quantumtrade.marketdata.simulator.model import SPREAD_MULT
from quantumtrade.marketdata.simulator.options import (
    CLOSE_RATE,
    EVENT_NOTICE_DAYS,
    LEAD_SESSIONS,
    OPEN_SHARE,
    RATE,
    SPREAD_BASE,
    SPREAD_SHARE,
    SWEEP_PROBABILITY,
    VARIANCE_RISK_PREMIUM,
    ExpiryNotListed,
    NotOptionable,
    OptionChain,
    OptionQuote,
    OptionTrade,
    atm_iv_history,
    option_chain,
    option_sweeps,
    option_trades,
)
from quantumtrade.marketdata.source import UnknownSymbol

NOW = datetime(2025, 1, 6, 23, 0, tzinfo=UTC)
MIDDAY = datetime(2024, 6, 12, 17, 0, tzinfo=UTC)  # a Wednesday, 1 pm in New York
SEED = 3


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def fresh(seed: int = 42) -> SimulatedMarket:
    return SimulatedMarket(seed=seed, clock=FixedClock(NOW))


def by_expiry(chain: OptionChain, expiry: date) -> dict[tuple[str, float], OptionQuote]:
    return {(q.kind, q.strike): q for q in chain.contracts if q.expiry == expiry}


def atm_iv(chain: OptionChain, expiry: date) -> float:
    """Return the call volatility at the forward, interpolated between listed strikes."""
    quotes = sorted(
        (q for q in chain.contracts if q.expiry == expiry and q.kind == "call"),
        key=lambda q: q.strike,
    )
    t = quotes[0].t_years
    forward = chain.spot * math.exp((chain.rate - chain.dividend_yield) * t)
    strikes = np.log([q.strike for q in quotes])
    return float(np.interp(math.log(forward), strikes, [q.iv for q in quotes]))


@pytest.fixture(scope="module")
def small() -> tuple[SimulatedMarket, list[str], list[str]]:
    """A market of thinly traded stocks, six of them control symbols, six not."""
    names = [f"T{n}" for n in range(80)]
    control = [s for s in names if is_control(SEED, s)][:6]
    linked = [s for s in names if not is_control(SEED, s)][:6]
    specs = [
        SymbolSpec(
            symbol=s,
            name=s,
            price=50.0,
            volatility=0.3,
            beta=1.0,
            sector="Tech",
            avg_volume=200_000.0,
        )
        for s in control + linked
    ]
    market = SimulatedMarket(seed=SEED, universe=specs, clock=FixedClock(NOW))
    return market, control, linked


# -- reproducibility --------------------------------------------------------------------------


def test_same_seed_same_chain_and_trades(market: SimulatedMarket) -> None:
    chain = option_chain(market, "AAPL", MIDDAY)
    assert len(chain.contracts) > 100 and chain == option_chain(fresh(), "AAPL", MIDDAY)
    day = (utc(2024, 6, 12), utc(2024, 6, 13))
    trades = option_trades(market, "AAPL", *day)
    assert len(trades) > 1000 and trades == option_trades(fresh(), "AAPL", *day)
    assert [t.time for t in trades] == sorted(t.time for t in trades)
    assert len({t.id for t in trades}) == len(trades)
    other = fresh(7)
    assert [q.iv for q in option_chain(other, "AAPL", MIDDAY).contracts] != [
        q.iv for q in chain.contracts
    ]
    assert [t.size for t in option_trades(other, "AAPL", *day)] != [t.size for t in trades]


def test_answers_do_not_depend_on_the_range_or_what_was_asked_first() -> None:
    warm, cold = fresh(), fresh()
    # Warm one market up with later and wider questions first.
    option_trades(warm, "MSFT", utc(2024, 6, 17), utc(2024, 6, 22))
    option_chain(warm, "MSFT", utc(2024, 9, 3, 15))
    wide = option_trades(warm, "MSFT", utc(2024, 6, 10), utc(2024, 6, 15))
    start, end = utc(2024, 6, 11, 15, 7), utc(2024, 6, 13, 18, 30)
    narrow = option_trades(cold, "MSFT", start, end)
    assert narrow and narrow == [t for t in wide if start <= t.time < end]
    days = [utc(2024, 6, 10) + timedelta(days=n) for n in range(6)]
    pieces = [t for a, b in itertools.pairwise(days) for t in option_trades(cold, "MSFT", a, b)]
    assert pieces == wide
    assert option_chain(cold, "MSFT", MIDDAY) == option_chain(warm, "MSFT", MIDDAY)


# -- listing ----------------------------------------------------------------------------------


def test_expiries_are_weekly_fridays_and_monthly_third_fridays(market: SimulatedMarket) -> None:
    chain = option_chain(market, "SPY", utc(2024, 3, 20, 15))  # a Wednesday
    # Good Friday 2024-03-29 is a holiday: that week's options expire on Thursday.
    weeklies = [date(2024, 3, 22), date(2024, 3, 28), date(2024, 4, 5), date(2024, 4, 12)]
    monthlies = [
        date(2024, m, d) for m, d in ((4, 19), (5, 17), (6, 21), (7, 19), (8, 16), (9, 20))
    ]
    assert list(chain.expiries) == sorted(set(weeklies + monthlies))
    assert sorted({q.expiry for q in chain.contracts}) == list(chain.expiries)
    # After Friday's close that Friday's options are gone; before it they still trade.
    assert date(2024, 3, 22) not in option_chain(market, "SPY", utc(2024, 3, 22, 21)).expiries
    assert date(2024, 3, 22) in option_chain(market, "SPY", utc(2024, 3, 22, 19)).expiries


def test_strikes_come_from_the_ladder_around_spot(market: SimulatedMarket) -> None:
    for symbol, step in (("AAPL", 2.5), ("PFE", 1.0), ("SPY", 5.0)):
        chain = option_chain(market, symbol, MIDDAY)
        widths = []
        for expiry in chain.expiries:
            strikes = sorted({q.strike for q in chain.contracts if q.expiry == expiry})
            gaps = np.diff(strikes)
            assert np.all(gaps > 0) and min(strikes) < chain.spot < max(strikes)
            near = [
                g for k, g in zip(strikes, gaps, strict=False) if abs(k / chain.spot - 1) < 0.05
            ]
            assert near and set(near) == {step}
            widths.append(max(strikes) - min(strikes))
            calls = {q.strike for q in chain.contracts if q.expiry == expiry and q.kind == "call"}
            assert calls == set(strikes)  # a put for every call
        assert widths[-1] > 2 * widths[0]  # longer expiries list a wider range


# -- quotes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["AAPL", "SPY", "PFE"])
def test_quotes_reprice_to_their_iv_and_hold_parity(market: SimulatedMarket, symbol: str) -> None:
    chain = option_chain(market, symbol, MIDDAY)
    s, r, q = chain.spot, chain.rate, chain.dividend_yield
    for c in chain.contracts:
        assert c.mark == pytest.approx(bs_price(c.kind, s, c.strike, c.t_years, r, c.iv, q))
        assert 0 <= c.bid <= c.mark <= c.ask and c.ask > c.bid
        assert round(c.bid * 100) == pytest.approx(c.bid * 100) and c.ask >= 0.01
        g = greeks(c.kind, s, c.strike, c.t_years, r, c.iv, q)
        assert (c.delta, c.gamma, c.vega, c.theta) == pytest.approx(
            (g.delta, g.gamma, g.vega, g.theta)
        )
        assert c.volume >= 0 and c.open_interest >= 0
        assert parse_occ_symbol(c.symbol).strike == c.strike
    for expiry in chain.expiries:
        quotes = by_expiry(chain, expiry)
        for (kind, strike), call in quotes.items():
            if kind != "call":
                continue
            put = quotes["put", strike]
            mids = (call.bid + call.ask) / 2 - (put.bid + put.ask) / 2
            parity = s * math.exp(-q * call.t_years) - strike * math.exp(-r * call.t_years)
            slack = (call.ask - call.bid + put.ask - put.bid) / 2
            assert abs(mids - parity) <= slack + 1e-9


def test_out_of_the_money_puts_are_richer_than_calls(market: SimulatedMarket) -> None:
    for symbol in ("AAPL", "SPY", "KO"):
        chain = option_chain(market, symbol, MIDDAY)
        for expiry in chain.expiries:
            quotes = [q for q in chain.contracts if q.expiry == expiry]
            if quotes[0].t_years < 14 / 365:
                continue
            band = 0.08 * math.sqrt(quotes[0].t_years / 0.25)
            put = min(
                quotes, key=lambda q: abs(q.strike / chain.spot - (1 - band)) + (q.kind != "put")
            )
            call = min(
                quotes, key=lambda q: abs(q.strike / chain.spot - (1 + band)) + (q.kind != "call")
            )
            assert put.strike < chain.spot < call.strike
            assert put.iv > call.iv + 0.005, (symbol, expiry)


def test_term_structure_reverts_to_the_long_run_level(market: SimulatedMarket) -> None:
    # SPY has no events, so its ATM term structure is the pure mean reversion.
    long_run = (1 + VARIANCE_RISK_PREMIUM) * market.universe.spec("SPY").volatility
    seen = set()
    for n in range(30):
        at = utc(2010, 1, 13, 17) + timedelta(days=157 * n)
        chain = option_chain(market, "SPY", at)
        # Expiries a week or more out: the last days' smiles are too steep to interpolate.
        weeks = [e for e in chain.expiries if (e - at.date()).days >= 7]
        levels = [atm_iv(chain, e) for e in weeks]
        first, last = levels[0], levels[-1]
        assert abs(last - long_run) < abs(first - long_run)
        seen.add(first > long_run)
        if abs(first - long_run) > 0.01:  # clearly away from the long run: a monotone curve
            assert (np.sign(np.diff(levels)) == np.sign(long_run - first)).mean() >= 0.8
    assert seen == {True, False}  # both shapes: inverted after turmoil, upward in calm


def test_atm_iv_tracks_realised_volatility(market: SimulatedMarket) -> None:
    for symbol in ("AAPL", "SPY"):
        iv = atm_iv_history(market, symbol, date(2020, 1, 1), date(2025, 1, 1))
        assert iv.index[0] >= np.datetime64("2020-01-01") and iv.index[-1] < np.datetime64(
            "2025-01-01"
        )
        bars = market.bars(symbol, "1Day", utc(2019, 11, 1), utc(2025, 1, 1))
        closes = bars["close"].to_numpy()
        returns = np.diff(np.log(closes))
        rv = np.sqrt(np.convolve(returns**2, np.ones(20) / 20, "valid") * 252)
        # The RV of the 20 sessions before each session (known that morning).
        dates = pd.DatetimeIndex(bars.index).tz_localize(None).normalize()[21:]
        realised = dict(zip(dates, rv[:-1], strict=True))
        pairs = np.array(
            [(v, realised[d]) for d, v in zip(iv.index, iv, strict=True) if d in realised]
        )
        assert len(pairs) > 1000
        assert np.corrcoef(pairs.T)[0, 1] > 0.7
        assert 1.0 < pairs[:, 0].mean() / pairs[:, 1].mean() < 1.35  # the risk premium


def test_iv_ramps_before_events_of_linked_stocks_only(market: SimulatedMarket) -> None:
    def ramps(symbol: str) -> np.ndarray:
        """Log change of the 30-day ATM IV from before the notice to the eve of each event."""
        start, end = utc(2003, 1, 1), utc(2025, 1, 1)
        iv = atm_iv_history(market, symbol, start.date(), end.date())
        out = []
        for event in planted_events(market.model, market.calendar, symbol, start, end):
            day = np.datetime64(event.announced.date())
            before = iv[iv.index < day]
            early = before[before.index < day - np.timedelta64(EVENT_NOTICE_DAYS + 5, "D")]
            if len(early):
                out.append(math.log(before.iloc[-1] / early.iloc[-1]))
        return np.array(out)

    for symbol in ("AAPL", "JPM", "KO"):
        assert not is_control(42, symbol)
        rising = ramps(symbol)
        assert len(rising) > 60 and (rising > 0).mean() > 0.75 and rising.mean() > 0.08
    assert is_control(42, "CVX")
    blind = ramps("CVX")  # a control stock: its IV knows nothing of its events
    assert len(blind) > 60 and (blind > 0).mean() < 0.65 and abs(blind.mean()) < 0.06


def test_iv_crushes_when_the_event_is_announced(market: SimulatedMarket) -> None:
    events = planted_events(market.model, market.calendar, "AAPL", utc(2022, 1, 1), utc(2025, 1, 1))
    crushed = []
    for event in events:
        before = option_chain(market, "AAPL", event.announced - timedelta(minutes=31))
        after = option_chain(market, "AAPL", event.announced + timedelta(days=1))
        spanning = next(e for e in before.expiries if e in after.expiries)
        crushed.append(atm_iv(after, spanning) < atm_iv(before, spanning))
    assert len(crushed) >= 8 and np.mean(crushed) > 0.9


# -- open interest and volume -----------------------------------------------------------------


def test_open_interest_carries_what_the_day_opened(market: SimulatedMarket) -> None:
    # SPY trades no sweeps, so each session opens OPEN_SHARE of its volume.
    monday = option_chain(market, "SPY", utc(2024, 6, 10, 21, 30))  # after the close
    early = option_chain(market, "SPY", utc(2024, 6, 11, 12, 0))  # before Tuesday's open
    tuesday = option_chain(market, "SPY", utc(2024, 6, 11, 15, 0))
    before = {q.symbol: q for q in monday.contracts}
    checked = 0
    for q in tuesday.contracts:
        if q.symbol in before:
            was = before[q.symbol]
            expected = (1 - CLOSE_RATE) * was.open_interest + OPEN_SHARE * was.volume
            assert abs(q.open_interest - expected) <= 1.0
            checked += 1
    assert checked > 100
    # Before the open, the chain still shows Monday's volume and open interest.
    assert [(q.symbol, q.volume, q.open_interest) for q in early.contracts] == [
        (q.symbol, q.volume, q.open_interest) for q in monday.contracts
    ]
    assert sum(q.open_interest for q in tuesday.contracts) > 2 * sum(
        q.volume for q in monday.contracts
    )


def test_volume_counts_the_trades_so_far(market: SimulatedMarket) -> None:
    chain = option_chain(market, "AAPL", MIDDAY)
    trades = option_trades(market, "AAPL", utc(2024, 6, 12), MIDDAY)
    counted: dict[str, int] = defaultdict(int)
    for t in trades:
        counted[t.symbol] += t.size
    shown = {q.symbol: q.volume for q in chain.contracts if q.volume}
    listed = {q.symbol for q in chain.contracts}
    assert shown == {k: v for k, v in counted.items() if k in listed}
    later = option_chain(market, "AAPL", MIDDAY + timedelta(hours=2))
    assert sum(q.volume for q in later.contracts) > sum(shown.values())


def test_trades_are_at_the_quote_and_within_the_session(market: SimulatedMarket) -> None:
    trades = option_trades(market, "PFE", utc(2024, 6, 12), utc(2024, 6, 13))
    opens = market.sessions("PFE", date(2024, 6, 12), date(2024, 6, 12))
    assert all(opens["open"].iloc[0] <= t.time < opens["close"].iloc[0] for t in trades)
    assert {t.side for t in trades} == {"buy", "sell"}
    assert not any(t.sweep for t in trades if t.motive == "routine")
    for t in trades[::13]:
        o = parse_occ_symbol(t.symbol)
        assert o.underlying == "PFE" and t.size >= 1 and t.price >= 0
        years = (
            (datetime.combine(o.expiry, datetime.min.time(), UTC) + timedelta(hours=20) - t.time)
            .total_seconds() / (365 * 86400)
        )  # fmt: skip
        model = bs_price(o.kind, t.underlying_price, o.strike, max(years, 1e-6), RATE, t.iv)
        # At the bid or the ask: half the widest spread (a crisis's) and a cent from the model.
        half = (SPREAD_BASE + SPREAD_SHARE * model) * float(SPREAD_MULT.max()) / 2
        assert abs(t.price - model) <= half + 0.011


def test_puts_trade_more_after_a_fall(small: tuple[SimulatedMarket, list[str], list[str]]) -> None:
    market, _, linked = small
    symbol = linked[0]
    trades = option_trades(market, symbol, utc(2016, 1, 1), utc(2017, 1, 1))
    puts: dict[date, float] = defaultdict(float)
    total: dict[date, float] = defaultdict(float)
    for t in trades:
        total[t.time.date()] += t.size
        puts[t.time.date()] += t.size * (parse_occ_symbol(t.symbol).kind == "put")
    closes = market.bars(symbol, "1Day", utc(2015, 12, 1), utc(2017, 1, 1))["close"]
    moves = np.log(closes).diff(5).shift(1)
    pairs = [
        (moves[d], puts[d.date()] / total[d.date()])
        for d in moves.index
        if d.date() in total and not np.isnan(moves[d])
    ]
    assert len(pairs) > 240
    assert np.corrcoef(np.array(pairs).T)[0, 1] < -0.3  # fear: more puts after a fall


# -- planted sweeps ---------------------------------------------------------------------------


def _bursts(trades: list[OptionTrade]) -> list[list[OptionTrade]]:
    groups: dict[tuple[date, str], list[OptionTrade]] = defaultdict(list)
    for t in trades:
        groups[t.time.date(), t.symbol].append(t)
    return sorted(groups.values(), key=lambda g: g[0].time)


def test_sweeps_precede_a_share_of_linked_events(
    small: tuple[SimulatedMarket, list[str], list[str]],
) -> None:
    market, control, linked = small
    start, end = utc(2012, 1, 1), utc(2025, 1, 1)
    preceded: list[bool] = []
    agree: dict[bool, list[bool]] = {True: [], False: []}  # by control: side matches next event
    rates = {}
    for symbol in control + linked:
        sweeps = option_sweeps(market, symbol, start, end)
        events = planted_events(market.model, market.calendar, symbol, start, end)
        sessions = market.sessions(symbol, date(2011, 12, 1), date(2025, 1, 1))
        closes = [to_ns(c) for c in sessions["close"]]
        bursts = _bursts(sweeps)
        rates[symbol] = len(bursts)
        for event in events:
            done = [c for c in closes if c < event.announced_ns]
            window_start = done[-LEAD_SESSIONS] - 8 * 3600 * 10**9
            if symbol in linked:
                preceded.append(
                    any(
                        window_start <= to_ns(b[0].time) < event.announced_ns
                        and (parse_occ_symbol(b[0].symbol).kind == "call") == event.positive
                        for b in bursts
                    )
                )
        for b in bursts:
            kind = parse_occ_symbol(b[0].symbol).kind
            following = [e for e in events if e.announced_ns > to_ns(b[0].time)]
            if following:
                agree[symbol in control].append((kind == "call") == following[0].positive)
            assert all(t.sweep and t.side == "buy" and t.exchange_count >= 3 for t in b)
            assert len(b) >= 2 and sum(t.size for t in b) >= 200
            first = b[0]  # out of the money when the sweep starts
            strike = parse_occ_symbol(first.symbol).strike
            assert (first.underlying_price < strike) == (kind == "call")
    share, n = float(np.mean(preceded)), len(preceded)
    bound = 3 * math.sqrt(SWEEP_PROBABILITY * (1 - SWEEP_PROBABILITY) / n)
    assert n > 200 and abs(share - SWEEP_PROBABILITY) < bound
    assert np.mean(agree[False]) > 0.9  # a linked sweep bets on the event that follows
    # Control stocks sweep as often, but their sweeps say nothing about their events.
    linked_rate = np.mean([rates[s] for s in linked])
    assert 0.6 < np.mean([rates[s] for s in control]) / linked_rate < 1.6
    blind = agree[True]
    assert len(blind) > 60 and abs(np.mean(blind) - 0.5) < 3 * 0.5 / math.sqrt(len(blind))


def test_control_sweeps_do_not_line_up_with_events(
    small: tuple[SimulatedMarket, list[str], list[str]],
) -> None:
    market, control, _ = small
    start, end = utc(2012, 1, 1), utc(2025, 1, 1)
    preceded = []
    for symbol in control:
        sweeps = option_sweeps(market, symbol, start, end)
        for event in planted_events(market.model, market.calendar, symbol, start, end):
            lead = event.announced_ns - 7 * 86400 * 10**9
            preceded.append(any(lead <= to_ns(t.time) < event.announced_ns for t in sweeps))
    assert len(preceded) > 200 and np.mean(preceded) < 0.1


def test_a_sweep_trades_more_than_the_open_interest(
    small: tuple[SimulatedMarket, list[str], list[str]],
) -> None:
    market, _, linked = small
    sweeps = option_sweeps(market, linked[1], utc(2018, 1, 1), utc(2025, 1, 1))
    bursts = _bursts(sweeps)
    assert len(bursts) >= 5
    # The sweeps are the tape's own prints.
    day = datetime.combine(bursts[0][0].time.date(), datetime.min.time(), UTC)
    tape = option_trades(market, linked[1], day, day + timedelta(days=1))
    assert [t for t in tape if t.sweep] == [
        t for t in sweeps if day <= t.time < day + timedelta(days=1)
    ]
    for burst in bursts[:5]:
        first = burst[0]
        o = parse_occ_symbol(first.symbol)
        on = first.time.date()
        session = market.sessions(first.underlying, on, on)
        close = session["close"].iloc[0].to_pydatetime()
        chain = option_chain(market, first.underlying, close - timedelta(minutes=1), o.expiry)
        quote = next(q for q in chain.contracts if q.symbol == first.symbol)
        swept = sum(t.size for t in burst)
        assert quote.volume >= swept and quote.volume > quote.open_interest
        morning = market.calendar.next_open("us_equity", close) + timedelta(minutes=1)
        nxt = option_chain(market, first.underlying, morning, o.expiry)
        after = next(q for q in nxt.contracts if q.symbol == first.symbol)
        assert after.open_interest >= (1 - CLOSE_RATE) * quote.open_interest + swept - 1


# -- errors and speed -------------------------------------------------------------------------


def test_crypto_and_unknown_symbols_and_unlisted_expiries(market: SimulatedMarket) -> None:
    for call in (
        lambda: option_chain(market, "BTC/USD", MIDDAY),
        lambda: option_trades(market, "BTC/USD", utc(2024, 1, 1), utc(2024, 1, 2)),
        lambda: atm_iv_history(market, "BTC/USD", date(2024, 1, 1), date(2024, 2, 1)),
    ):
        with pytest.raises(NotOptionable, match="not optionable") as info:
            call()
        assert isinstance(info.value, InvalidInput)
    with pytest.raises(UnknownSymbol):
        option_chain(market, "NOPE", MIDDAY)
    with pytest.raises(ExpiryNotListed, match="listed") as missing:
        option_chain(market, "AAPL", MIDDAY, date(2024, 6, 13))  # a Thursday
    assert isinstance(missing.value, InvalidInput) and isinstance(missing.value, ValueError)
    with pytest.raises(ExpiryNotListed):
        option_chain(market, "AAPL", MIDDAY, date(2026, 6, 19))  # beyond the listed months


def test_one_expiry_is_that_expiry_of_the_full_chain(market: SimulatedMarket) -> None:
    at = utc(2023, 10, 11, 17)
    chain = option_chain(market, "MSFT", at, date(2023, 11, 17))
    full = option_chain(market, "MSFT", at)
    assert len(full.contracts) > 5 * len(chain.contracts) > 0
    assert chain.contracts == [c for c in full.contracts if c.expiry == date(2023, 11, 17)]
