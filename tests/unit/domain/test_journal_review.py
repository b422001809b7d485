"""Journal review: mistake rules, group statistics, emotional and streak patterns, advice.

Every journal is built here from :class:`ReviewTrip` factories; random journals use a seeded
numpy Generator. Expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.journal_review import (
    DIMENSIONS,
    MistakeRules,
    ReviewTrip,
    analyse,
    analyse_all,
    emotion_patterns,
    find_mistakes,
    overall,
    recommend,
    streaks,
    t_interval,
    wilson_interval,
)

D = Decimal
T0 = datetime(2024, 6, 3, 14, 30, tzinfo=UTC)  # a Monday, 10:30 in New York
_ids = itertools.count()


def trip(
    *,
    r: float = 1.0,
    at: datetime = T0,
    hold_min: float = 30.0,
    direction: str = "long",
    status: str = "closed",
    qty: str = "100",
    price: str = "50",
    risk: str = "100",
    stop: bool = True,
    **extra: Any,
) -> ReviewTrip:
    """A trip risking ``risk`` dollars (stop at ``risk / qty`` from the entry) that makes ``r``R."""
    entry, size = D(price), D(qty)
    net = D(f"{r * float(risk):.2f}")
    per_share = D(risk) / size
    stop_price = (entry - per_share if direction == "long" else entry + per_share) if stop else None
    closed = status == "closed"
    return ReviewTrip(
        id=extra.pop("id", f"t{next(_ids)}"),
        symbol=extra.pop("symbol", "AAPL"),
        direction=direction,
        status=status,
        opened_at=at,
        closed_at=at + timedelta(minutes=hold_min) if closed else None,
        entry_price=entry,
        max_qty=size,
        net_pl=net if closed else D(0),
        return_pct=float(net / (entry * size)),
        holding_seconds=hold_min * 60 if closed else None,
        r_multiple=r if stop and closed else None,
        stop_price=stop_price,
        stop_source="order" if stop else None,
        **extra,
    )


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def codes(trips: list[ReviewTrip], rules: MistakeRules | None = None) -> dict[str, Any]:
    return {m.code: m for m in find_mistakes(trips, rules or MistakeRules())}


SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA")
EMOTIONS = ("calm", "anxious", "excited")


def noise(rng: np.random.Generator, n: int = 200, *, prefix: str = "n") -> list[ReviewTrip]:
    """Clean trips (stop, usual size) that make +1R or -1R with equal chance, random labels."""
    return [
        trip(
            id=f"{prefix}{i}",
            r=float(rng.choice([-1.0, 1.0])),
            at=T0 + timedelta(hours=7 * i),
            hold_min=float(rng.uniform(1, 600)),
            direction=str(rng.choice(["long", "short"])),
            symbol=str(rng.choice(SYMBOLS)),
            tags=(str(rng.choice(["a", "b", "c", "d"])),),
            regime=str(rng.choice(["bull", "bear", "sideways"])),
            emotion_before=str(rng.choice(EMOTIONS)),
        )
        for i in range(n)
    ]


def with_fomo(rng: np.random.Generator) -> list[ReviewTrip]:
    """Noise plus 30 trips tagged fomo whose R averages exactly -0.6 (spread 0.6)."""
    spread = rng.normal(0.0, 0.6, 30)
    rs = spread - spread.mean() - 0.6
    fomo = [
        trip(
            id=f"fomo{i}",
            r=float(rs[i]),
            at=T0 + timedelta(hours=7 * (i * 200 / 30) + 3.5),
            hold_min=float(rng.uniform(1, 600)),
            direction=str(rng.choice(["long", "short"])),
            symbol=str(rng.choice(SYMBOLS)),
            tags=("fomo",),
            regime=str(rng.choice(["bull", "bear", "sideways"])),
            emotion_before=str(rng.choice(EMOTIONS)),
        )
        for i in range(30)
    ]
    return noise(rng) + fomo


# --- mistakes -------------------------------------------------------------------------------


def test_no_stop_lists_every_trip_without_stop_with_its_cost() -> None:
    trips = [
        trip(id="a", r=-5.0, stop=False, at=at(0)),  # -500.00
        trip(id="b", r=-7.0, stop=False, at=at(60)),  # -700.00
        trip(id="c", r=-0.305, stop=False, at=at(120)),  # -30.50
        trip(id="d", stop=False, status="open", at=at(180)),
        trip(id="ok", r=1.0, at=at(240)),
    ]
    found = codes(trips)["no_stop"]
    assert found.trip_ids == ("a", "b", "c", "d")
    assert found.figures["count"] == 4
    assert found.figures["closed"] == 3
    assert found.figures["net_pl"] == "-1230.50"
    assert found.message == "4 trades without a stop lost $1,230.50 net (3 closed, 1 still open)"
    # the whole gross loss of the journal is theirs: critical
    assert found.severity == "critical"
    assert "no_stop" not in codes([trip(r=-1.0), trip(r=1.0, status="open")])


def test_severity_follows_the_share_of_gross_losses() -> None:
    small = [trip(id="x", r=-0.5, stop=False), trip(r=-5.0, at=at(60))]
    # 50 of 550 gross losses (9%) is under the 25% share: warning
    assert codes(small)["no_stop"].severity == "warning"
    assert codes([trip(r=2.0, stop=False)])["no_stop"].severity == "info"
    assert codes([trip(status="open", stop=False)])["no_stop"].severity == "warning"


def test_stop_moved_away_fires_for_a_lower_long_stop_and_a_higher_short_stop() -> None:
    trips = [
        # tightest earlier stop 49.5, then 48.8: 0.70 away, 1.4% of the entry price
        trip(id="long", stop_moves=(D("49"), D("49.5"), D("48.8"))),
        trip(id="short", direction="short", stop_moves=(D("51"), D("51.5")), at=at(60)),
        trip(id="trailed", stop_moves=(D("49"), D("49.5"), D("49.8")), at=at(120)),
        trip(id="short_trailed", direction="short", stop_moves=(D("51"), D("50.5")), at=at(180)),
    ]
    found = codes(trips)["stop_moved_away"]
    assert found.trip_ids == ("long", "short")
    assert found.details[0] == {"trip_id": "long", "moved_by": "0.7", "moved_by_pct": 0.014}
    assert found.figures["max_moved_pct"] == pytest.approx(0.014)
    assert "stop_moved_away" not in codes(trips, MistakeRules(stop_move_tolerance=0.02))


def test_oversized_uses_the_portfolio_limit_when_set_and_the_default_otherwise() -> None:
    equity = D("10000")
    trips = [
        trip(id="default", equity_at_entry=equity),  # 5,000 = 50% > 25% default
        trip(id="allowed", equity_at_entry=equity, max_position_pct=0.6, at=at(60)),
        trip(id="limit", qty="40", equity_at_entry=equity, max_position_pct=0.1, at=at(120)),
        trip(id="small", qty="40", equity_at_entry=equity, at=at(180)),  # 20% < 25%
        trip(id="unknown", at=at(240)),  # no equity: not judged
    ]
    found = codes(trips)["oversized"]
    assert found.trip_ids == ("default", "limit")
    assert [d["limit_source"] for d in found.details] == ["default", "portfolio"]
    assert [d["fraction"] for d in found.details] == [0.5, 0.2]
    assert found.figures["limit_source"] == "mixed"
    assert found.figures["max_fraction"] == 0.5
    assert found.threshold == {"oversize_fraction": 0.25}


def test_revenge_trade_is_a_bigger_trade_soon_after_a_loss() -> None:
    loss = trip(id="loss", r=-1.0, at=at(0), hold_min=30)  # closes at minute 30
    planted = trip(id="revenge", qty="200", risk="200", at=at(40))
    found = codes([loss, planted])["revenge_trade"]
    assert found.trip_ids == ("revenge",)
    assert found.details == (
        {
            "trip_id": "revenge",
            "after_loss_id": "loss",
            "loss": "-100.00",
            "minutes_after": 10.0,
            "size_ratio": 2.0,
        },
    )
    assert found.threshold == {"revenge_window_minutes": 30.0, "revenge_size_ratio": 1.5}
    # exactly 30 minutes after still counts
    assert "revenge_trade" in codes([loss, trip(id="edge", qty="200", at=at(60))])


@pytest.mark.parametrize(
    ("qty", "minute"),
    [("100", 40), ("140", 40), ("200", 61)],
    ids=["same_size", "below_ratio", "31_minutes_after"],
)
def test_revenge_trade_not_found_for_usual_size_or_later(qty: str, minute: float) -> None:
    loss = trip(id="loss", r=-1.0, at=at(0), hold_min=30)
    assert "revenge_trade" not in codes([loss, trip(qty=qty, at=at(minute))])


def test_revenge_trade_not_found_after_a_win() -> None:
    win = trip(r=1.0, at=at(0), hold_min=30)
    assert "revenge_trade" not in codes([win, trip(qty="300", at=at(35))])


def test_overtrading_flags_a_busy_new_york_day() -> None:
    trips = [trip(at=T0 + timedelta(days=d, minutes=m)) for d in range(6) for m in (0, 60)]
    # day 6 (Sunday June 9 in New York): 4 trades in the afternoon and 2 after 20:00 there,
    # which are June 10 in UTC but still June 9 on the exchange's calendar
    busy_day = datetime(2024, 6, 9, 14, 30, tzinfo=UTC)
    busy = [trip(id=f"busy{i}", at=busy_day + timedelta(hours=i * 2)) for i in range(6)]
    found = codes(trips + busy)["overtrading"]
    assert found.trip_ids == tuple(f"busy{i}" for i in range(6))
    assert found.figures["days"] == 1
    assert found.figures["max_trades_per_day"] == 6
    assert found.figures["median_trades_per_day"] == 2.0
    assert found.details == ({"day": "2024-06-09", "trades": 6},)


def test_overtrading_needs_enough_days_of_history() -> None:
    trips = [trip(at=T0 + timedelta(days=d)) for d in range(3)]
    busy = [trip(at=T0 + timedelta(days=3, minutes=10 * i)) for i in range(6)]
    assert "overtrading" not in codes(trips + busy)  # 4 days < 5


def test_chasing_fires_at_the_threshold() -> None:
    trips = [
        trip(id="far", run_up_atr=2.5),
        trip(id="edge", run_up_atr=2.0, at=at(60)),
        trip(id="calm", run_up_atr=1.9, at=at(120)),
        trip(id="unknown", at=at(180)),
    ]
    found = codes(trips)["chasing"]
    assert found.trip_ids == ("far", "edge")
    assert found.figures["avg_run_up_atr"] == 2.25


def test_winners_cut_losers_run_needs_both_payoff_and_holding_asymmetry() -> None:
    wins = [trip(r=0.5, hold_min=10, at=at(100 * i)) for i in range(10)]
    losses = [trip(id=f"l{i}", r=-1.0, hold_min=60, at=at(100 * i + 50)) for i in range(10)]
    found = codes(wins + losses)["winners_cut_losers_run"]
    assert found.trip_ids == tuple(f"l{i}" for i in range(10))
    assert found.figures["avg_win"] == "50.00"
    assert found.figures["avg_loss"] == "-100.00"
    assert found.figures["payoff_ratio"] == 0.5
    assert found.figures["median_hold_winners_s"] == 600.0
    assert found.figures["median_hold_losers_s"] == 3600.0
    same_hold = [trip(r=-1.0, hold_min=10, at=at(100 * i + 50)) for i in range(10)]
    assert "winners_cut_losers_run" not in codes(wins + same_hold)
    assert "winners_cut_losers_run" not in codes(wins[:9] + losses)  # 9 wins < 10


def test_against_regime_is_long_in_bear_or_short_in_bull() -> None:
    trips = [
        trip(id="lb", regime="bear"),
        trip(id="sb", direction="short", regime="bull", at=at(1)),
        trip(direction="long", regime="bull", at=at(2)),
        trip(direction="short", regime="sideways", at=at(3)),
        trip(direction="short", regime="bear", at=at(4)),
    ]
    assert codes(trips)["against_regime"].trip_ids == ("lb", "sb")


def test_ignored_ai_is_long_on_sell_or_short_on_buy() -> None:
    trips = [
        trip(id="ls", ai_action="sell", ai_decision_id="d1"),
        trip(id="sb", direction="short", ai_action="buy", at=at(1)),
        trip(ai_action="buy", at=at(2)),
        trip(direction="short", ai_action="sell", at=at(3)),
        trip(ai_action="hold", at=at(4)),
    ]
    found = codes(trips)["ignored_ai"]
    assert found.trip_ids == ("ls", "sb")
    assert found.details[0]["ai_decision_id"] == "d1"


def test_findings_are_ordered_by_code_and_json_ready() -> None:
    trips = [
        trip(stop=False, run_up_atr=3.0, regime="bear", ai_action="sell", r=-1.0),
        trip(at=at(10), stop_moves=(D("49"), D("48"))),
    ]
    found = find_mistakes(trips)
    assert [m.code for m in found] == [
        "against_regime",
        "chasing",
        "ignored_ai",
        "no_stop",
        "stop_moved_away",
    ]
    for mistake in found:
        json.dumps(asdict(mistake))
        assert mistake.severity in {"info", "warning", "critical"}


def test_reset_trips_are_ignored() -> None:
    assert find_mistakes([trip(stop=False, status="reset")]) == []


# --- statistics -----------------------------------------------------------------------------


def test_wilson_interval_matches_the_closed_form() -> None:
    # 8 of 10 at 95% (z = 1.959964): centre (0.8 + 0.192073) / 1.384146 = 0.716740,
    # half 1.959964 * sqrt(0.016 + 0.009604) / 1.384146 = 0.226568
    low, high = wilson_interval(8, 10, 0.95) or (0.0, 0.0)
    assert low == pytest.approx(0.490162, abs=1e-6)
    assert high == pytest.approx(0.943318, abs=1e-6)
    assert wilson_interval(0, 0) is None
    assert wilson_interval(0, 5, 0.95) == (0.0, pytest.approx(0.434482, abs=1e-6))


def test_t_interval_matches_the_closed_form() -> None:
    # mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445: half = 2.776445 * 1.581139 / sqrt(5)
    low, high = t_interval([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) or (0.0, 0.0)
    assert low == pytest.approx(3 - 1.963243, abs=1e-6)
    assert high == pytest.approx(3 + 1.963243, abs=1e-6)
    assert t_interval([1.0]) is None


def test_overall_figures_on_a_small_journal() -> None:
    trips = [trip(r=2.0), trip(r=-1.0, at=at(1)), trip(r=0.5, at=at(2)), trip(r=-0.5, at=at(3))]
    stats = overall(trips)
    assert (stats.n, stats.wins, stats.losses) == (4, 2, 2)
    assert stats.win_rate == 0.5
    assert stats.expectancy == 25.0  # (200 - 100 + 50 - 50) / 4
    assert stats.profit_factor == pytest.approx(250 / 150)
    assert stats.avg_r == 0.25
    assert stats.total_net_pl == D("100.00")
    assert stats.measure == "expectancy"  # 4 trips with R < min_sample 10
    assert not stats.conclusive
    assert overall([trip(r=1.0)]).profit_factor is None


def test_hour_and_weekday_are_new_york_time() -> None:
    november = [
        trip(id="h", at=datetime(2024, 11, 5, 14, 30, tzinfo=UTC)),  # 09:30 EST
        trip(id="w", at=datetime(2024, 11, 4, 3, 0, tzinfo=UTC)),  # Sunday 22:00 EST
    ]
    hours = {g.key: g.trip_ids for g in analyse(november, dimension="hour")}
    assert hours["09"] == ("h",)
    days = {g.key: g.trip_ids for g in analyse(november, dimension="weekday")}
    assert days == {"Sun": ("w",), "Tue": ("h",)}
    assert [g.key for g in analyse(november, dimension="hour", tz="UTC")] == ["03", "14"]


def test_holding_buckets_and_missing_values() -> None:
    trips = [
        trip(hold_min=4.9),
        trip(hold_min=5, setup="breakout"),
        trip(hold_min=60),
        trip(hold_min=60 * 24 * 2),
        trip(hold_min=60 * 24 * 6),
        trip(status="open", setup="breakout"),
    ]
    held = {g.key: g.n for g in analyse(trips, dimension="holding")}
    assert held == {"<5m": 1, "5m-1h": 1, "1h-6h": 1, "1d-5d": 1, ">5d": 1}
    # trips without a setup are in no group; open trips are not analysed
    assert [(g.key, g.n) for g in analyse(trips, dimension="setup")] == [("breakout", 1)]


def test_a_trip_counts_once_in_each_of_its_tags() -> None:
    trips = [trip(tags=("a", "a", "b")), trip(tags=("b",), at=at(1)), trip(at=at(2))]
    assert [(g.key, g.n) for g in analyse(trips, dimension="tag")] == [("a", 1), ("b", 2)]


def test_bad_input_raises_invalid_input_with_a_code() -> None:
    with pytest.raises(InvalidInput) as unknown:
        analyse([trip()], dimension="moon_phase")
    assert unknown.value.code == "unknown_dimension"
    with pytest.raises(InvalidInput) as bad:
        analyse([trip()], dimension="tag", confidence=1.5)
    assert bad.value.code == "invalid_confidence"
    naive = trip(at=datetime(2024, 6, 3, 14, 30))
    with pytest.raises(InvalidInput) as time:
        find_mistakes([naive])
    assert time.value.code == "invalid_trip"


# --- noise and signal -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_pure_noise_gives_no_conclusive_group_and_no_recommendation(seed: int) -> None:
    trips = noise(np.random.default_rng(seed))
    tags = analyse(trips, dimension="tag")
    assert [g.key for g in tags] == ["a", "b", "c", "d"]
    assert all(g.n >= 10 for g in tags)
    assert not any(g.conclusive for g in tags)
    groups = analyse_all(trips)
    assert set(groups) == set(DIMENSIONS)
    assert not [(d, g.key) for d in DIMENSIONS for g in groups[d] if g.conclusive]
    assert recommend(trips) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_planted_fomo_loss_is_found_and_ranked_first(seed: int) -> None:
    trips = with_fomo(np.random.default_rng(100 + seed))
    fomo = next(g for g in analyse(trips, dimension="tag") if g.key == "fomo")
    assert fomo.conclusive
    assert fomo.n == 30
    assert fomo.avg_r == pytest.approx(-0.6)
    top = recommend(trips)[0]
    assert top.kind == "avoid"
    assert (top.evidence.dimension, top.evidence.key) == ("tag", "fomo")
    assert top.evidence.n == 30
    assert top.evidence.value == pytest.approx(-0.6)
    assert top.evidence.trip_ids == tuple(f"fomo{i}" for i in range(30))
    assert "tagged fomo lose 0.60R on average over 30 trades (95% interval" in top.message
    low, high = top.evidence.interval or (0.0, 0.0)
    assert low < -0.6 < high < 0


def test_the_advice_changes_with_the_trades() -> None:
    # The same journal with the fomo trades turned into winners: the advice to avoid them goes,
    # and no advice about fomo takes its place unless the figures support it.
    trips = with_fomo(np.random.default_rng(100))
    losing = recommend(trips)
    assert (losing[0].evidence.dimension, losing[0].evidence.key) == ("tag", "fomo")
    turned = [
        replace(t, r_multiple=-(t.r_multiple or 0.0), net_pl=-t.net_pl, return_pct=-t.return_pct)
        if t.id.startswith("fomo")
        else t
        for t in trips
    ]
    winning = recommend(turned)
    assert not [a for a in winning if a.kind == "avoid" and a.evidence.key == "fomo"]
    (focus,) = [a for a in winning if a.evidence.key == "fomo"]
    assert focus.kind == "focus"
    assert focus.evidence.value == pytest.approx(0.6)


def test_a_group_explained_by_a_stronger_finding_is_not_advice() -> None:
    rng = np.random.default_rng(11)
    fomo = [
        trip(
            id=f"fomo{i}",
            r=-1.0,
            at=T0 + timedelta(hours=7 * (i * 200 / 60) + 3.5),
            symbol=str(rng.choice(SYMBOLS)),
            tags=("fomo",),
        )
        for i in range(60)
    ]
    trips = noise(rng) + fomo
    groups = analyse_all(trips)
    # every fomo trade is long, so long trades as a whole lose conclusively too ...
    assert next(g for g in groups["direction"] if g.key == "long").conclusive
    # ... but without the fomo trades they do not: the advice names fomo alone
    assert [(r.evidence.dimension, r.evidence.key) for r in recommend(trips)] == [("tag", "fomo")]


# --- emotions and streaks -------------------------------------------------------------------


def test_emotion_patterns_find_an_emotion_that_loses_more_often() -> None:
    # 32 of 40 anxious trades lose, 40 of 100 calm ones; the times are shuffled so that no
    # hour, weekday or streak stands for the emotion
    slots = np.random.default_rng(3).permutation(140)
    trips = [
        trip(
            r=-1.0 if i < 32 else 1.0,
            at=at(60 * int(slots[i])),
            emotion_before="anxious",
            emotion_after="frustrated" if i < 32 else "relieved",
        )
        for i in range(40)
    ] + [
        trip(r=-1.0 if i < 40 else 1.0, at=at(60 * int(slots[40 + i])), emotion_before="calm")
        for i in range(100)
    ]
    report = emotion_patterns(trips, 10)
    assert report.base_loss_rate == pytest.approx(72 / 140)
    anxious = next(e for e in report.before if e.emotion == "anxious")
    assert (anxious.n, anxious.losses, anxious.loss_rate) == (40, 32, 0.8)
    assert anxious.conclusive
    assert anxious.excess_net_pl == pytest.approx(-2400 - 40 * (-400 / 140))
    after = {e.emotion: (e.after_wins, e.after_losses) for e in report.after}
    assert after == {"frustrated": (0, 32), "relieved": (8, 0)}
    advice = recommend(trips)
    assert [(r.kind, r.evidence.dimension, r.evidence.key) for r in advice] == [
        ("avoid", "emotion", "anxious")
    ]
    assert "feeling anxious you lose 80% of your trades over 40 trades" in advice[0].message


def test_streaks_count_runs_and_the_trips_after_losses() -> None:
    # W W L L L W, one after another
    rs = [1.0, 1.0, -1.0, -1.0, -1.0, 1.0]
    trips = [trip(r=r, at=at(60 * i), hold_min=30) for i, r in enumerate(rs)]
    report = streaks(trips, 10)
    assert (report.longest_win_streak, report.longest_loss_streak) == (2, 3)
    assert (report.after_win.n, report.after_loss.n, report.after_losses.n) == (2, 3, 2)
    assert report.after_loss.wins == 1
    assert report.after_losses.win_rate == 0.5  # L (after L L), W (after L L L)


def test_size_doubling_after_a_loss_shows_in_the_size_ratio() -> None:
    rng = np.random.default_rng(7)
    trips, qty, previous_lost = [], 100, False
    for i in range(80):
        qty = qty * 2 if previous_lost else 100
        # after a loss the trader wins less often
        won = bool(rng.random() < (0.3 if previous_lost else 0.6))
        q = str(qty)
        trips.append(trip(r=1.0 if won else -1.0, qty=q, risk=q, at=at(60 * i), hold_min=30))
        previous_lost = not won
    report = streaks(trips, 10)
    assert report.after_loss.avg_size_ratio == 2.0
    assert report.after_loss.size_ratio_gmean == pytest.approx(2.0)
    assert report.sizes_up_after_loss
    assert report.after_win.size_ratio_gmean is not None
    assert report.after_win.size_ratio_gmean < 1.0


def test_sizing_up_after_losses_that_lose_becomes_a_fix() -> None:
    # cycle W W L L W: size 100, doubling after each loss (200, 400); the win after two losses
    # makes only 0.25R. After a loss: 1 win of 2; after a win: 2 wins of 3. Extra size per
    # cycle: -200 * (1 - 1/2) + 100 * (1 - 1/2) = -50
    trips = []
    for cycle in range(12):
        for step, (r, qty) in enumerate(
            [(1.0, 100), (1.0, 100), (-1.0, 100), (-1.0, 200), (0.25, 400)]
        ):
            i = 5 * cycle + step
            trips.append(trip(r=r, qty=str(qty), risk=str(qty), at=at(60 * i), hold_min=30))
    report = streaks(trips, 10)
    assert report.after_loss.n == 24
    assert report.after_loss.extra_size_net_pl == pytest.approx(-50 * 12)
    assert report.after_loss.win_rate == 0.5
    assert report.after_win.win_rate == pytest.approx(23 / 35)  # the first trip follows nothing
    fix = [r for r in recommend(trips) if r.code == "size_up_after_loss"]
    assert len(fix) == 1
    assert fix[0].evidence.value == pytest.approx(2.0)
    assert fix[0].score == pytest.approx(600)
    assert "size up 2.00x on average over 24 trades" in fix[0].message
    assert "the extra size cost $600.00" in fix[0].message


# --- recommendations from mistakes ----------------------------------------------------------


def test_a_costly_mistake_becomes_a_fix_quoting_its_cost() -> None:
    trips = [
        trip(id="a", r=-5.0, stop=False, at=at(0)),
        trip(id="b", r=-7.3055, stop=False, at=at(60)),  # -730.55
        trip(r=1.0, at=at(120)),
    ]
    advice = recommend(trips)
    assert [r.code for r in advice] == ["no_stop"]
    assert advice[0].kind == "fix"
    assert advice[0].evidence.value == pytest.approx(-1230.55)
    assert advice[0].score == pytest.approx(1230.55)
    assert "lost $1,230.55 net" in advice[0].message
    # the same habit that happened to make money is not advice
    assert recommend([trip(r=2.0, stop=False)]) == []


def test_an_edge_mistake_needs_a_conclusive_loss() -> None:
    # 3 trades against the regime that lost: too few to blame the regime
    trips = [trip(r=-1.0, regime="bear", at=at(60 * i)) for i in range(3)]
    assert "against_regime" in codes(trips)
    assert [r.code for r in recommend(trips)] == []


def test_recommend_respects_the_limit() -> None:
    trips = [trip(r=-1.0, stop=False, regime="bear", run_up_atr=3.0)]
    trips += [trip(id="big", r=-2.0, at=at(31), qty="300", risk="300")]
    assert len(recommend(trips)) == 2  # no_stop and revenge_trade
    assert len(recommend(trips, limit=1)) == 1
    assert math.isfinite(recommend(trips)[0].score)
