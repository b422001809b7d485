"""Simulated news: reproducible, range-independent, and planted stories move the price."""

from __future__ import annotations

import math
import re
import string
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import SimulatedMarket, phrases
from quantumtrade.marketdata.simulator.calendar import DAY_NS, ORIGIN_NS
from quantumtrade.marketdata.simulator.events import is_control, planted_events
from quantumtrade.marketdata.simulator.news import (
    LARGE_MARKET_MOVE,
    NEGATIVE_KINDS,
    POSITIVE_KINDS,
    WRAP_DELAY_MINUTES,
    Story,
    jump_sd,
    news_items,
    news_truth,
    stories,
    story_fields,
)

NOW = datetime(2025, 1, 6, 23, 0, tzinfo=UTC)
A, B = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)
# Ten years of history for the statistical checks.
H0, H1 = datetime(2012, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)


def stocks(m: SimulatedMarket) -> list[str]:
    return [s.symbol for s in m.universe.specs if not (s.is_etf or s.is_crypto)]


def session_returns(m: SimulatedMarket, symbol: str) -> tuple[np.ndarray, np.ndarray]:
    """Return each session's close (UTC ns) and its close-to-close log return, over H0-H1."""
    bars = m.bars(symbol, "1Day", H0 - timedelta(days=10), H1 + timedelta(days=10))
    ordinals = (pd.DatetimeIndex(bars.index).as_unit("ns").asi8 - ORIGIN_NS) // DAY_NS
    _, closes = m.calendar.windows(m.universe.spec(symbol).asset_class, ordinals)
    log_close = np.log(bars["close"].to_numpy())
    return closes[1:], np.diff(log_close)


def next_session_return(closes: np.ndarray, returns: np.ndarray, created_ns: int) -> float:
    """Return the return of the first session that closes after ``created_ns``."""
    return float(returns[int(np.searchsorted(closes, created_ns, side="right"))])


@pytest.fixture(scope="module")
def history(other_seed_market: SimulatedMarket) -> dict[str, list[Story]]:
    """Ten years of every stock's own stories under seed 7 (four control stocks)."""
    m = other_seed_market
    return {s: [x for x in stories(m, [s], H0, H1) if x.item.symbols == (s,)] for s in stocks(m)}


def test_same_seed_same_headlines_other_seed_others(market: SimulatedMarket) -> None:
    first = news_items(market, None, A, B)
    again = news_items(SimulatedMarket(seed=42, clock=FixedClock(NOW)), None, A, B)
    assert len(first) > 300 and first == again
    other = news_items(SimulatedMarket(seed=43, clock=FixedClock(NOW)), None, A, B)
    assert {x.id for x in other}.isdisjoint({x.id for x in first})
    assert [x.headline for x in other] != [x.headline for x in first]


def test_any_sub_range_is_the_filter_of_the_whole(market: SimulatedMarket) -> None:
    whole = news_items(market, None, A, B)
    cut = datetime(2024, 2, 7, 13, 37, 21, tzinfo=UTC)
    assert news_items(market, None, A, cut) + news_items(market, None, cut, B) == whole
    assert all(A <= x.created_at < B for x in whole)
    assert [x.created_at for x in whole] == sorted(x.created_at for x in whole)
    # Nothing created at or after the cut leaks into the earlier range.
    assert all(x.created_at < cut for x in news_items(market, ["AAPL", "JNJ"], A, cut))
    for asked in (["AAPL"], ["QQQ"], ["JNJ", "BTC/USD"]):
        named = [x for x in whole if set(asked) & set(x.symbols)]
        assert news_items(market, asked, A, B) == named
    truth = news_truth(market, A, B)
    assert set(truth) == {x.id for x in whole}
    later = {x.id for x in whole if x.created_at >= cut}
    assert news_truth(market, cut, B) == {k: v for k, v in truth.items() if k in later}


def test_items_are_well_formed(market: SimulatedMarket) -> None:
    items = news_items(market, None, A, B)
    for x in items:
        assert re.fullmatch(r"sim-n-[0-9a-f]{16}", x.id)
        assert x.url == f"https://news.sim/{x.id}"
        assert x.created_at == x.updated_at and x.created_at.tzinfo is not None
        assert x.source in phrases.NEWS_SOURCES and x.author
        assert "{" not in x.headline + x.summary and not x.headline[0].islower()
        assert 1 <= len(re.split(r"(?<=[.!?]) (?=[A-Z])", x.summary)) <= 3
    assert len({x.id for x in items}) == len(items)


def test_every_template_fills() -> None:
    u = np.linspace(0.01, 0.99, 24)
    for sign, tier in ((1, 2), (-1, 0), (0, 1)):
        values = story_fields(
            u,
            co="Acme",
            sym="ACME",
            sector="Technology",
            price=50.0,
            revenue_b=3.0,
            sign=sign,
            tier=tier,
            move=0.05,
            when="today",
            day=9000,
        )
        tables = (phrases.HEADLINES, phrases.SUMMARIES, phrases.DETAILS)
        templates = [t for table in tables for ts in table.values() for t in ts]
        templates += [t for rows in phrases.MACRO.values() for row in rows for t in row[1:]]
        for template in templates:
            text = phrases.fill(template, phrases.Slots(values, tier, u))
            assert "{" not in text and "}" not in text


def test_every_planted_event_has_its_story(
    other_seed_market: SimulatedMarket, history: dict[str, list[Story]]
) -> None:
    m = other_seed_market
    positive = {k for k, _ in POSITIVE_KINDS} | {"fda_approval"}
    negative = {k for k, _ in NEGATIVE_KINDS} | {"fda_rejection"}
    for symbol, mine in history.items():
        events = planted_events(m.model, m.calendar, symbol, H0, H1)
        planted = [x for x in mine if x.truth.event is not None]
        if is_control(m.seed, symbol):
            assert planted == []
            continue
        assert len(planted) == len(events) > 20
        for x, e in zip(planted, events, strict=True):
            assert x.truth.event == e and x.created_ns == e.announced_ns
            assert np.sign(x.truth.tone) == np.sign(e.impact) and not x.truth.noise
            assert x.truth.kind in (positive if e.impact > 0 else negative)


def test_stronger_impacts_read_stronger(history: dict[str, list[Story]]) -> None:
    strong_words = {w.lower() for tiers in phrases.TIERED.values() for w in tiers[2]}
    mild_words = {w.lower() for tiers in phrases.TIERED.values() for w in tiers[0]}
    rows = [x for mine in history.values() for x in mine if x.truth.event is not None]

    def share(words: set[str], strong: bool) -> float:
        chosen = [x for x in rows if (abs(x.truth.tone) > 0.85) == strong]
        text = [(x.item.headline + " " + x.item.summary).lower() for x in chosen]
        return float(np.mean([any(w in t for w in words) for t in text]))

    assert share(strong_words, True) > share(strong_words, False) + 0.3
    assert share(mild_words, False) > share(mild_words, True) + 0.1


def test_planted_news_moves_the_price(
    other_seed_market: SimulatedMarket, history: dict[str, list[Story]]
) -> None:
    m = other_seed_market
    tones, moves, large = [], [], []
    for symbol, mine in history.items():
        closes, returns = session_returns(m, symbol)
        for x in mine:
            e = x.truth.event
            if e is None:
                continue
            at = int(np.searchsorted(closes, e.session_close_ns))
            assert closes[at] == e.session_close_ns  # the event's own session
            tones.append(x.truth.tone)
            moves.append(returns[at])
            if abs(e.impact) >= jump_sd(m.universe.spec(symbol)):
                large.append(np.sign(returns[at]) == np.sign(e.impact))
    # A large jump is at least three daily standard deviations, so the rest of the session
    # (market, sector and own noise, about one standard deviation) flips its sign rarely:
    # about 1 % under normal noise; the bound leaves room for fat tails and crises.
    assert len(large) > 100 and np.mean(large) > 0.9
    assert np.corrcoef(tones, moves)[0, 1] > 0.5


def test_control_stories_say_nothing_about_the_price(
    other_seed_market: SimulatedMarket, history: dict[str, list[Story]]
) -> None:
    m = other_seed_market
    controls = [s for s in history if is_control(m.seed, s)]
    assert len(controls) >= 2
    tones, moves, decoys = [], [], 0
    for symbol in controls:
        closes, returns = session_returns(m, symbol)
        for x in history[symbol]:
            if x.truth.tone != 0.0:
                decoys += x.truth.kind.startswith("earnings")
                tones.append(x.truth.tone)
                moves.append(next_session_return(closes, returns, x.created_ns))
    # Decoys come at about the rate of planted events (four a year, half of them earnings).
    years = (H1 - H0).days / 365.25
    assert 0.8 * years * len(controls) < decoys < 3.5 * years * len(controls)
    # No correlation: within three standard errors of zero (a 99.7 % interval).
    r = np.corrcoef(tones, moves)[0, 1]
    assert abs(r) < 3.0 / math.sqrt(len(tones))


def test_vocabulary_is_varied(market: SimulatedMarket) -> None:
    items = news_items(market, None, datetime(2023, 1, 1, tzinfo=UTC), A)
    headlines = [x.headline for x in items]
    assert len(headlines) > 2000
    assert len(set(headlines)) > 0.75 * len(headlines)
    # Strip numbers and names: the templates themselves are many.
    names = {phrases.short_name(s.name) for s in market.universe.specs}
    names |= {s.symbol for s in market.universe.specs}
    names |= {s.sector or "" for s in market.universe.specs}

    def shape(text: str) -> str:
        for name in sorted(names, key=len, reverse=True):
            if name:
                text = text.replace(name, "X")
        return re.sub(r"[$\d.,%]+", "#", text)

    assert len({shape(h) for h in headlines}) > 150
    words = {w.strip(string.punctuation).lower() for h in headlines for w in h.split()}
    assert len(words) > 500


def test_sector_and_macro_stories(market: SimulatedMarket) -> None:
    items = news_items(market, None, A, B)
    truth = news_truth(market, A, B)
    tech = {s.symbol for s in market.universe.specs if s.sector == "Technology"}
    assert "QQQ" in tech
    sector = [x for x in items if truth[x.id].kind == "sector"]
    assert sector and all(len(x.symbols) >= 2 for x in sector)
    assert any(set(x.symbols) == tech for x in sector)
    macro = [x for x in items if truth[x.id].kind in ("fed", "cpi", "jobs", "gdp", "oil", "pmi")]
    assert len(macro) > 10
    assert {truth[x.id].kind for x in macro} >= {"fed", "cpi", "jobs"}
    # ETFs have no stories of their own: a sector fund gets its sector's, the index fund the
    # market's, which name it alone.
    assert all(len(x.symbols) > 1 for x in news_items(market, ["QQQ"], A, B))
    assert all(x.symbols == ("SPY",) for x in macro)
    assert news_items(market, ["SPY"], A, B) == [x for x in items if x.symbols == ("SPY",)]


def test_market_wraps_describe_the_move_they_follow(market: SimulatedMarket) -> None:
    start, end = datetime(2008, 1, 1, tzinfo=UTC), datetime(2011, 1, 1, tzinfo=UTC)
    wraps = [x for x in stories(market, None, start, end) if x.truth.kind == "market_wrap"]
    assert len(wraps) > 10  # the 2008 crisis and its aftermath
    equities = [s.symbol for s in market.universe.specs if s.asset_class == "us_equity"]
    frames = {s: market.bars(s, "1Day", start - timedelta(days=10), end) for s in equities}
    low, high = WRAP_DELAY_MINUTES
    for x in wraps:
        assert not x.truth.noise and x.truth.event is None
        day = (x.created_ns - ORIGIN_NS) // DAY_NS
        _, closes = market.calendar.windows("us_equity", np.array([day]))
        assert low * 60e9 <= x.created_ns - int(closes[0]) <= high * 60e9
        moves = []
        for f in frames.values():
            at = int(
                np.flatnonzero(
                    (pd.DatetimeIndex(f.index).as_unit("ns").asi8 - ORIGIN_NS) // DAY_NS == day
                )[0]
            )
            moves.append(math.log(f["close"].iloc[at] / f["close"].iloc[at - 1]))
        # The wrap follows a move of the equal-weighted market that already happened.
        assert np.sign(np.mean(moves)) == np.sign(x.truth.tone)
        assert abs(np.mean(moves)) > 0.5 * LARGE_MARKET_MOVE
