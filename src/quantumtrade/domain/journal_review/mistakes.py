"""The mistake rules: every trip that broke one, with figures as evidence."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median

import numpy as np

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.journal_review._trips import (
    LONG,
    NEW_YORK,
    SHORT,
    ZERO,
    ReviewTrip,
    _active,
    _check_trips,
    _closed,
    _duration,
    _end,
    _money,
    _net,
    _trades,
    _usd,
    _value,
    _zone,
)

Figure = float | int | str


@dataclass(frozen=True)
class MistakeRules:
    """The thresholds of the mistake rules; every one has a default."""

    stop_move_tolerance: float = 0.0
    """``stop_moved_away``: how far (a fraction of the entry price) a later stop may sit farther
    from the entry than an earlier one before the move counts."""
    oversize_fraction: float = 0.25
    """``oversized``: largest entry value as a fraction of equity at entry, used when the trip
    carries no ``max_position_pct`` of its own (the portfolio's limit applies when it does)."""
    revenge_window: timedelta = timedelta(minutes=30)
    """``revenge_trade``: a trip opened at most this long after a losing trip closed."""
    revenge_size_ratio: float = 1.5
    """``revenge_trade``: ... with an entry value at least this multiple of the loser's."""
    overtrading_factor: float = 2.0
    """``overtrading``: a day counts when its trips exceed this multiple of the median number of
    trips over the days with trades."""
    overtrading_min_days: int = 5
    """``overtrading``: the fewest days with trades needed to judge what is usual."""
    overtrading_min_trades: int = 4
    """``overtrading``: the fewest trips on a day for it to count."""
    exchange_tz: str = NEW_YORK
    """``overtrading``: the time zone of the exchange day."""
    chase_atr: float = 2.0
    """``chasing``: a run-up before entry, in ATR units in the trade's direction, at or above
    which the entry chased the move."""
    payoff_floor: float = 1.0
    """``winners_cut_losers_run``: average win / |average loss| below this ..."""
    hold_asymmetry: float = 1.5
    """``winners_cut_losers_run``: ... and losers held on average more than this multiple of the
    winners' average holding time."""
    min_sample: int = 10
    """``winners_cut_losers_run``: the fewest wins, and the fewest losses, to judge."""
    critical_loss_share: float = 0.25
    """Severity: a finding is ``critical`` when its trips' net loss is at least this share of
    the gross losses of all closed trips; ``warning`` for a smaller net loss or when none of its
    trips is closed yet; ``info`` when its closed trips made money net."""

    def thresholds(self) -> dict[str, Figure]:
        """Return the thresholds as JSON-ready figures."""
        out: dict[str, Figure] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, timedelta):
                out[f"{name}_minutes"] = value.total_seconds() / 60
            else:
                out[name] = value
        return out


def _check_rules(rules: MistakeRules) -> None:
    positive = (
        rules.oversize_fraction,
        rules.revenge_size_ratio,
        rules.overtrading_factor,
        rules.payoff_floor,
        rules.hold_asymmetry,
        rules.critical_loss_share,
    )
    if (
        any(not (x > 0 and math.isfinite(x)) for x in positive)
        or rules.stop_move_tolerance < 0
        or rules.revenge_window < timedelta(0)
        or rules.overtrading_min_days < 1
        or rules.overtrading_min_trades < 1
        or rules.min_sample < 1
    ):
        raise InvalidInput("mistake rules need positive thresholds", code="invalid_rules")
    _zone(rules.exchange_tz)


@dataclass(frozen=True)
class Mistake:
    """One mistake rule's finding: every trip that broke it, with figures as evidence."""

    code: str
    title: str
    message: str
    severity: str
    trip_ids: tuple[str, ...]
    figures: dict[str, Figure]
    threshold: dict[str, Figure]
    details: tuple[dict[str, Figure], ...] = ()
    """Per-trip (or per-day) evidence, in time order."""


TITLES = {
    "against_regime": "Trading against the market regime",
    "chasing": "Chasing a move",
    "ignored_ai": "Trading against the AI decision",
    "no_stop": "No stop",
    "overtrading": "Overtrading",
    "oversized": "Position too large",
    "revenge_trade": "Revenge trading",
    "stop_moved_away": "Stop moved away from the entry",
    "winners_cut_losers_run": "Cutting winners, letting losers run",
}


class _Findings:
    """Collects findings with the figures every finding shares."""

    def __init__(self, trips: Sequence[ReviewTrip], rules: MistakeRules) -> None:
        self.rules = rules
        losses = [t.net_pl for t in _closed(trips) if t.net_pl < 0]
        self.gross_losses = -sum(losses, ZERO)
        self.found: list[tuple[datetime, Mistake]] = []

    def severity(self, cost: Decimal | None) -> str:
        if cost is None:
            return "warning"
        if cost >= 0:
            return "info"
        if self.gross_losses > 0 and -cost >= self.gross_losses * Decimal(
            str(self.rules.critical_loss_share)
        ):
            return "critical"
        return "warning"

    def add(
        self,
        code: str,
        trips: Sequence[ReviewTrip],
        message: Callable[[str], str],
        figures: dict[str, Figure],
        threshold: dict[str, Figure],
        details: Sequence[dict[str, Figure]] = (),
    ) -> None:
        if not trips:
            return
        trips = sorted(trips, key=lambda t: (t.opened_at, t.id))
        closed = _closed(trips)
        cost = _net(closed) if closed else None
        if cost is None:
            outcome = "none of them has closed yet"
        else:
            outcome = f"{'lost' if cost < 0 else 'made'} {_usd(abs(cost))} net"
            if len(closed) < len(trips):
                outcome += f" ({len(closed)} closed, {len(trips) - len(closed)} still open)"
        shared: dict[str, Figure] = {
            "count": len(trips),
            "closed": len(closed),
            "net_pl": _money(cost if cost is not None else ZERO),
        }
        mistake = Mistake(
            code=code,
            title=TITLES[code],
            message=message(outcome),
            severity=self.severity(cost),
            trip_ids=tuple(t.id for t in trips),
            figures={**shared, **figures},
            threshold=threshold,
            details=tuple(details),
        )
        self.found.append((trips[0].opened_at, mistake))


def _no_stop(found: _Findings, trips: list[ReviewTrip]) -> None:
    hits = [t for t in trips if t.stop_price is None]
    found.add("no_stop", hits, lambda o: f"{_trades(len(hits))} without a stop {o}", {}, {})


def _stop_moved_away(found: _Findings, trips: list[ReviewTrip]) -> None:
    tol = found.rules.stop_move_tolerance
    hits: list[ReviewTrip] = []
    details: list[dict[str, Figure]] = []
    for trip in trips:
        if len(trip.stop_moves) < 2 or trip.entry_price <= 0:
            continue
        sign = 1 if trip.direction == LONG else -1
        tightest = trip.stop_moves[0]
        worst = ZERO
        for stop in trip.stop_moves[1:]:
            # how much farther from the entry this stop sits than the tightest earlier one
            worst = max(worst, (tightest - stop) * sign)
            tightest = max(tightest, stop) if sign > 0 else min(tightest, stop)
        moved = float(worst / trip.entry_price)
        if worst > 0 and moved > tol:
            hits.append(trip)
            details.append({"trip_id": trip.id, "moved_by": str(worst), "moved_by_pct": moved})
    widest = max((float(d["moved_by_pct"]) for d in details), default=0.0)
    found.add(
        "stop_moved_away",
        hits,
        lambda o: (
            f"{_trades(len(hits))} had the stop moved away from the entry (up to {widest:.2%} "
            f"of the entry price) and {o}"
        ),
        {"max_moved_pct": widest},
        {"stop_move_tolerance": tol},
        details,
    )


def _oversized(found: _Findings, trips: list[ReviewTrip]) -> None:
    default = found.rules.oversize_fraction
    hits: list[ReviewTrip] = []
    details: list[dict[str, Figure]] = []
    for trip in trips:
        if trip.equity_at_entry is None or trip.equity_at_entry <= 0:
            continue
        own = trip.max_position_pct is not None and trip.max_position_pct > 0
        limit = float(trip.max_position_pct) if own and trip.max_position_pct else default
        fraction = float(_value(trip) / trip.equity_at_entry)
        if fraction > limit:
            hits.append(trip)
            source = "portfolio" if own else "default"
            details.append(
                {"trip_id": trip.id, "fraction": fraction, "limit": limit, "limit_source": source}
            )
    if not details:
        return
    top = max(details, key=lambda d: float(d["fraction"]))
    sources = {d["limit_source"] for d in details}
    found.add(
        "oversized",
        hits,
        lambda o: (
            f"{_trades(len(hits))} exceeded the position limit (up to {float(top['fraction']):.0%}"
            f" of equity against a limit of {float(top['limit']):.0%}) and {o}"
        ),
        {
            "max_fraction": float(top["fraction"]),
            "limit": float(top["limit"]),
            "limit_source": str(sources.pop()) if len(sources) == 1 else "mixed",
        },
        {"oversize_fraction": default},
        details,
    )


def _revenge(found: _Findings, trips: list[ReviewTrip]) -> None:
    rules = found.rules
    losers = sorted(
        (t for t in _closed(trips) if t.net_pl < 0 and _value(t) > 0),
        key=lambda t: (t.closed_at, t.id),
    )
    ends = [_end(t) for t in losers]
    hits: list[ReviewTrip] = []
    details: list[dict[str, Figure]] = []
    for trip in trips:
        last = bisect_right(ends, trip.opened_at)
        # the most recent loss first: the one the trader is most likely reacting to
        for loser in reversed(losers[:last]):
            assert loser.closed_at is not None
            if trip.opened_at - loser.closed_at > rules.revenge_window:
                break
            ratio = float(_value(trip) / _value(loser))
            if loser.id != trip.id and ratio >= rules.revenge_size_ratio:
                hits.append(trip)
                minutes = (trip.opened_at - loser.closed_at).total_seconds() / 60
                details.append(
                    {
                        "trip_id": trip.id,
                        "after_loss_id": loser.id,
                        "loss": _money(loser.net_pl),
                        "minutes_after": minutes,
                        "size_ratio": ratio,
                    }
                )
                break
    window = rules.revenge_window.total_seconds() / 60
    ratios = [float(d["size_ratio"]) for d in details]
    found.add(
        "revenge_trade",
        hits,
        lambda o: (
            f"{_trades(len(hits))} opened within {window:g} minutes of a losing trade at "
            f"{min(ratios):.1f}x its size or more and {o}"
        ),
        {"avg_size_ratio": float(np.mean(ratios)) if ratios else 0.0},
        {"revenge_window_minutes": window, "revenge_size_ratio": rules.revenge_size_ratio},
        details,
    )


def _overtrading(found: _Findings, trips: list[ReviewTrip]) -> None:
    rules = found.rules
    zone = _zone(rules.exchange_tz)
    by_day: dict[str, list[ReviewTrip]] = defaultdict(list)
    for trip in trips:
        by_day[trip.opened_at.astimezone(zone).date().isoformat()].append(trip)
    if len(by_day) < rules.overtrading_min_days:
        return
    usual = float(median(len(day) for day in by_day.values()))
    days = sorted(
        day
        for day, group in by_day.items()
        if len(group) > rules.overtrading_factor * usual
        and len(group) >= rules.overtrading_min_trades
    )
    hits = [t for day in days for t in by_day[day]]
    busiest = max((len(by_day[day]) for day in days), default=0)
    found.add(
        "overtrading",
        hits,
        lambda o: (
            f"On {len(days)} day{'' if len(days) == 1 else 's'} you opened up to {busiest} "
            f"trades against your median of {usual:g} a day; the {_trades(len(hits))} of those "
            f"days {o}"
        ),
        {"days": len(days), "max_trades_per_day": busiest, "median_trades_per_day": usual},
        {
            "overtrading_factor": rules.overtrading_factor,
            "overtrading_min_days": rules.overtrading_min_days,
            "overtrading_min_trades": rules.overtrading_min_trades,
        },
        [{"day": day, "trades": len(by_day[day])} for day in days],
    )


def _chasing(found: _Findings, trips: list[ReviewTrip]) -> None:
    limit = found.rules.chase_atr
    hits = [t for t in trips if t.run_up_atr is not None and t.run_up_atr >= limit]
    runs = [float(t.run_up_atr or 0.0) for t in hits]
    average = float(np.mean(runs)) if runs else 0.0
    found.add(
        "chasing",
        hits,
        lambda o: (
            f"{_trades(len(hits))} entered after the price had already run their way by "
            f"{average:.1f} ATR on average (threshold {limit:g} ATR) and {o}"
        ),
        {"avg_run_up_atr": average},
        {"chase_atr": limit},
        [{"trip_id": t.id, "run_up_atr": float(t.run_up_atr or 0.0)} for t in hits],
    )


def _winners_cut(found: _Findings, trips: list[ReviewTrip]) -> None:
    rules = found.rules
    timed = [t for t in _closed(trips) if t.holding_seconds is not None]
    wins = [t for t in timed if t.net_pl > 0]
    losses = [t for t in timed if t.net_pl < 0]
    if len(wins) < rules.min_sample or len(losses) < rules.min_sample:
        return
    avg_win = float(np.mean([float(t.net_pl) for t in wins]))
    avg_loss = float(np.mean([float(t.net_pl) for t in losses]))
    ratio = avg_win / abs(avg_loss)
    hold_win = float(np.mean([t.holding_seconds for t in wins]))
    hold_loss = float(np.mean([t.holding_seconds for t in losses]))
    if ratio >= rules.payoff_floor or hold_loss <= rules.hold_asymmetry * hold_win:
        return
    median_win = float(np.median([t.holding_seconds for t in wins]))
    median_loss = float(np.median([t.holding_seconds for t in losses]))
    # the trips that show the habit: losers held longer than the typical winner
    held = [t for t in losses if (t.holding_seconds or 0.0) > median_win]
    hold_ratio = hold_loss / hold_win if hold_win > 0 else math.inf
    found.add(
        "winners_cut_losers_run",
        held,
        lambda o: (
            f"Your average win {_usd(avg_win)} is {ratio:.2f}x your average loss "
            f"{_usd(abs(avg_loss))} and you hold losers {hold_ratio:.1f}x as long as winners "
            f"(median {_duration(median_loss)} against {_duration(median_win)}); the "
            f"{len(held)} losers held longer than your median winner {o}"
        ),
        {
            "wins": len(wins),
            "losses": len(losses),
            "avg_win": _money(Decimal(str(avg_win))),
            "avg_loss": _money(Decimal(str(avg_loss))),
            "payoff_ratio": ratio,
            "avg_hold_winners_s": hold_win,
            "avg_hold_losers_s": hold_loss,
            "median_hold_winners_s": median_win,
            "median_hold_losers_s": median_loss,
        },
        {
            "payoff_floor": rules.payoff_floor,
            "hold_asymmetry": rules.hold_asymmetry,
            "min_sample": rules.min_sample,
        },
    )


def _against(found: _Findings, trips: list[ReviewTrip]) -> None:
    hits = [
        t
        for t in trips
        if (t.direction == LONG and t.regime == "bear")
        or (t.direction == SHORT and t.regime == "bull")
    ]
    found.add(
        "against_regime",
        hits,
        lambda o: (
            f"{_trades(len(hits))} went against the regime (long in bear, short in bull) and {o}"
        ),
        {"long_in_bear": sum(t.direction == LONG for t in hits)},
        {},
        [{"trip_id": t.id, "direction": t.direction, "regime": str(t.regime)} for t in hits],
    )


def _ignored_ai(found: _Findings, trips: list[ReviewTrip]) -> None:
    hits = [
        t
        for t in trips
        if (t.direction == LONG and t.ai_action == "sell")
        or (t.direction == SHORT and t.ai_action == "buy")
    ]
    found.add(
        "ignored_ai",
        hits,
        lambda o: f"{_trades(len(hits))} went against the AI decision in force at entry and {o}",
        {},
        {},
        [
            {
                "trip_id": t.id,
                "ai_action": str(t.ai_action),
                "ai_decision_id": t.ai_decision_id or "",
            }
            for t in hits
        ],
    )


_RULES = (
    _no_stop,
    _stop_moved_away,
    _oversized,
    _revenge,
    _overtrading,
    _chasing,
    _winners_cut,
    _against,
    _ignored_ai,
)


def find_mistakes(
    trips: Sequence[ReviewTrip], rules: MistakeRules = MistakeRules()
) -> list[Mistake]:
    """Return one finding per broken rule, ordered by code then first trip time.

    Open and closed trips count (resets do not); the money figures are over the closed ones.
    """
    _check_trips(trips)
    _check_rules(rules)
    active = _active(trips)
    found = _Findings(active, rules)
    for rule in _RULES:
        rule(found, active)
    return [m for _, m in sorted(found.found, key=lambda row: (row[1].code, row[0]))]
