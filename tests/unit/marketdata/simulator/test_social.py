"""Simulated social media: reproducible, noisy, with bots, pumps and a few posts that lead."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from quantumtrade.domain.clock import FixedClock
from quantumtrade.marketdata.simulator import SimulatedMarket, phrases
from quantumtrade.marketdata.simulator.calendar import DAY_NS, ORIGIN_NS
from quantumtrade.marketdata.simulator.events import is_control, planted_events
from quantumtrade.marketdata.simulator.news import stories
from quantumtrade.marketdata.simulator.social import (
    BOT_MAX_FOLLOWERS,
    ECHO_HOURS,
    LEAD_HOURS,
    LEAD_PROBABILITY,
    PUMP_HOURS,
    PUMP_MAX_FOLLOWERS,
    Post,
    posts,
    social_posts,
    social_truth,
)

NOW = datetime(2025, 1, 6, 23, 0, tzinfo=UTC)
A, B = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 11, tzinfo=UTC)
HOUR_NS = 3600 * 10**9
# Twelve years of the informed and pump activity of a few symbols.
H0, H1 = datetime(2010, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def year(market: SimulatedMarket) -> list[Post]:
    """A year of Coca-Cola's posts (a small, pump-prone name with a sector peer)."""
    return posts(market, ["KO"], datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))


def test_same_seed_same_posts_other_seed_others(market: SimulatedMarket) -> None:
    first = social_posts(market, ["AAPL", "BTC/USD"], A, B)
    again = social_posts(SimulatedMarket(seed=42, clock=FixedClock(NOW)), ["AAPL", "BTC/USD"], A, B)
    assert len(first) > 300 and first == again
    other = social_posts(SimulatedMarket(seed=43, clock=FixedClock(NOW)), ["AAPL", "BTC/USD"], A, B)
    assert {p.id for p in other}.isdisjoint({p.id for p in first})


def test_any_sub_range_is_the_filter_of_the_whole(market: SimulatedMarket) -> None:
    whole = social_posts(market, None, A, B)
    cut = datetime(2024, 3, 5, 14, 7, 3, tzinfo=UTC)
    assert social_posts(market, None, A, cut) + social_posts(market, None, cut, B) == whole
    assert all(A <= p.created_at < B for p in whole)
    assert [p.created_at for p in whole] == sorted(p.created_at for p in whole)
    assert all(p.created_at < cut for p in social_posts(market, ["TSLA"], A, cut))
    for asked in (["KO"], ["SPY"], ["AAPL", "BTC/USD"]):
        assert social_posts(market, asked, A, B) == [
            p for p in whole if set(asked) & set(p.symbols)
        ]
    truth = social_truth(market, A, B)
    assert set(truth) == {p.id for p in whole}
    assert len({p.id for p in whole}) == len(whole)


def test_posts_name_their_tickers_with_cashtags_and_slang(year: list[Post]) -> None:
    for p in (x.post for x in year):
        for symbol in p.symbols:
            pattern = rf"(?<![A-Z])\$?{re.escape(phrases.ticker(symbol))}\b"
            assert re.search(pattern, p.text, re.IGNORECASE)
    organic = [x for x in year if x.truth.kind == "organic"]
    assert len(organic) > 2000
    assert 0.6 < np.mean(["$KO" in x.post.text.upper() for x in organic]) < 0.8
    texts = " ".join(x.post.text.lower() for x in organic)
    for slang in ("to the moon", "bagholders", "btfd", "diamond hands", "rekt", "calls printing"):
        assert slang in texts
    for emoji in "🚀📉💎🙌🐻🔥":
        assert emoji in texts
    assert any(x.post.text.isupper() for x in organic)  # shouting
    # Sarcasm reads positive but means the opposite.
    sarcastic = [x for x in organic if "🙃" in x.post.text or "/s" in x.post.text]
    assert sarcastic and all(x.truth.tone < 0 for x in sarcastic)


def test_organic_volume_scales_with_the_symbol(market: SimulatedMarket) -> None:
    def organic(symbol: str) -> int:
        mine = posts(market, [symbol], A, B)
        return sum(x.truth.kind == "organic" and symbol in x.post.symbols for x in mine)

    assert organic("NVDA") > 2 * organic("KO") > 0
    assert organic("NVDA") / 10 > 20  # tens of posts a day for a big name
    month = social_posts(market, ["AAPL"], A, A + timedelta(days=30))
    assert len(month) > 1000


def test_bots_have_few_followers_and_repeat_themselves(year: list[Post]) -> None:
    bots = [x.post for x in year if x.truth.kind == "bot"]
    assert len(bots) > 300
    assert all(p.followers <= BOT_MAX_FOLLOWERS for p in bots)
    assert all(p.text.count("$") >= 3 for p in bots)
    texts = Counter(p.text for p in bots)
    assert len(texts) < len(bots) / 1.5  # the same promo again and again
    per_author = Counter(p.author for p in bots)
    assert max(per_author.values()) > 50
    organic = [x.post.followers for x in year if x.truth.kind == "organic"]
    assert np.median(organic) > 10 * BOT_MAX_FOLLOWERS / 2


def test_pump_campaigns_are_bursts_from_new_small_accounts(market: SimulatedMarket) -> None:
    pumps = posts(market, ["KO"], H0, H1, kinds=["pump"])
    assert pumps and all(x.truth.event is None and x.truth.tone > 0.5 for x in pumps)
    assert all(x.post.followers <= PUMP_MAX_FOLLOWERS for x in pumps)
    # Group the posts into campaigns: a gap of more than half a day starts a new one.
    campaigns: list[list[Post]] = [[pumps[0]]]
    for x in pumps[1:]:
        if x.created_ns - campaigns[-1][-1].created_ns > DAY_NS // 2:
            campaigns.append([])
        campaigns[-1].append(x)
    years = (H1 - H0).days / 365.25
    assert 0.3 * years < len(campaigns) < 6 * years  # a few a year
    for c in campaigns:
        assert len(c) >= 20
        assert c[-1].created_ns - c[0].created_ns <= PUMP_HOURS[1] * HOUR_NS
        assert len({x.post.author for x in c}) > len(c) / 2  # fresh accounts
        assert sum("🚀" in x.post.text for x in c) > len(c) / 3


def test_informed_posts_lead_planted_events_within_the_window(
    other_seed_market: SimulatedMarket,
) -> None:
    m = other_seed_market
    symbols = ["AAPL", "JPM", "XOM", "MSFT", "TSLA"]  # MSFT and TSLA are controls under seed 7
    assert [is_control(m.seed, s) for s in symbols] == [False, False, False, True, True]
    informed = posts(m, symbols, H0, H1, kinds=["informed"])
    assert {x.truth.kind for x in informed} == {"informed"}
    led: dict[str, set[int]] = defaultdict(set)
    for x in informed:
        symbol = x.post.symbols[0]
        e = x.truth.event
        if is_control(m.seed, symbol):
            assert e is None
            continue
        assert e is not None and e.symbol == symbol
        assert e.announced_ns - LEAD_HOURS * HOUR_NS <= x.created_ns < e.announced_ns
        assert np.sign(x.truth.tone) == np.sign(e.impact)
        led[symbol].add(e.session)
    # The share of events that leak is LEAD_PROBABILITY, within a 99.9 % binomial interval.
    events = [e for s in symbols[:3] for e in planted_events(m.model, m.calendar, s, H0, H1)]
    assert set(led) == set(symbols[:3])
    n, k = len(events), sum(len(v) for v in led.values())
    low, high = stats.binom.interval(0.999, n, LEAD_PROBABILITY)
    assert n > 30 and low <= k <= high
    # Controls get informed-looking bursts at about the same rate, with either sign.
    decoys = [x for x in informed if x.post.symbols[0] in symbols[3:]]
    assert decoys and {np.sign(x.truth.tone) for x in decoys} == {-1.0, 1.0}


def test_echo_posts_follow_their_story(market: SimulatedMarket, year: list[Post]) -> None:
    start, end = datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
    mine = stories(market, ["KO"], start - timedelta(hours=ECHO_HOURS), end)
    news = [s for s in mine if s.item.symbols == ("KO",)]
    times = np.array([s.created_ns for s in news])
    echoes = [x for x in year if x.truth.kind == "echo"]
    assert len(echoes) > len(news)
    for x in echoes:
        at = int(np.searchsorted(times, x.created_ns)) - 1
        assert at >= 0 and x.created_ns - times[at] <= ECHO_HOURS * HOUR_NS
    strong = [s for s in news if abs(s.truth.tone) > 0.5]
    assert strong
    for s in strong:
        window = ECHO_HOURS * HOUR_NS
        after = [x for x in echoes if 0 < x.created_ns - s.created_ns <= window]
        assert sum(np.sign(x.truth.tone) == np.sign(s.truth.tone) for x in after) >= len(after) / 2


def test_organic_tone_says_nothing_about_the_next_session(
    market: SimulatedMarket, year: list[Post]
) -> None:
    start, end = datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    bars = market.bars("KO", "1Day", start, end)
    ordinals = (pd.DatetimeIndex(bars.index).as_unit("ns").asi8 - ORIGIN_NS) // DAY_NS
    returns = np.diff(np.log(bars["close"].to_numpy()))
    daily: dict[int, list[float]] = defaultdict(list)
    for x in year:
        if x.truth.kind == "organic" and x.post.symbols == ("KO",):
            daily[(x.created_ns - ORIGIN_NS) // DAY_NS].append(x.truth.tone)
    tones, moves = [], []
    for day, values in daily.items():
        nxt = int(np.searchsorted(ordinals, day, side="right"))  # the next session after the day
        if 1 <= nxt < len(ordinals):
            tones.append(np.mean(values))
            moves.append(returns[nxt - 1])
    r = np.corrcoef(tones, moves)[0, 1]
    assert len(tones) > 300 and abs(r) < 3.0 / math.sqrt(len(tones))
