"""Insider and options signals: what Form 4 filings and option flow say about a stock.

Pure code, no I/O. Each summary carries the figures traders read and a ``score`` in [-1, 1]
(positive: the evidence leans bullish) that the composite sentiment combines.

**Insider** (:func:`insider_summary`), over the filings of the last ``window_days``:

- only open-market purchases (code P) and sales (code S) count as opinions; awards (A),
  exercises (M), tax withholding (F) and gifts (G) are compensation or housekeeping;
- a sale footnoted as made under a Rule 10b5-1 plan (or on a form with the 10b5-1 box ticked)
  was scheduled months ahead, so it is reported but not counted as an opinion;
- *net buying* is purchases minus discretionary sales, in shares and in dollars;
- a *cluster buy* is :data:`CLUSTER_MIN_BUYERS` or more distinct insiders buying within
  :data:`CLUSTER_DAYS` days of each other, the pattern the literature finds most informative;
- officers and directors are shown apart (officers know the business day to day);
- ``score`` = (buyers - sellers) / (buyers + sellers) over distinct insiders, pushed to +1 by a
  cluster buy; 0 when nobody traded on an opinion.

**Options** (:func:`options_summary`):

- put/call ratios by volume (the trades given) and by open interest (the chain);
- IV rank ((now - low) / (high - low)) and IV percentile (share of days below now) of the
  30-day at-the-money implied volatility over its last :data:`IV_LOOKBACK_DAYS` sessions;
- the 25-delta skew: the implied volatility of the 25-delta put minus that of the 25-delta
  call at the expiry nearest :data:`SKEW_TARGET_DAYS` days (positive: protection is dear);
- unusual activity: a contract whose volume today exceeds its open interest, and sweeps (orders
  routed across exchanges at once, a sign of urgency); their premium by side;
- ``score`` leans on the unusual buying: (call premium - put premium) / (call + put premium)
  of buy-side sweeps and volume-over-open-interest trades, averaged with the put/call volume
  ratio's lean (:data:`NEUTRAL_PUT_CALL`, a typical equity ratio, is neutral).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from quantumtrade.domain.insider import ROLES, InsiderTrade, Role
from quantumtrade.domain.options import parse_occ_symbol

INSIDER_WINDOW_DAYS = 90
CLUSTER_DAYS = 10
CLUSTER_MIN_BUYERS = 3
IV_LOOKBACK_DAYS = 252
SKEW_TARGET_DAYS = 30
NEUTRAL_PUT_CALL = 0.7


# -- insider ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleFlow:
    buys: int
    sells: int
    net_shares: float
    net_value: float


def _flow(trades: Sequence[InsiderTrade]) -> RoleFlow:
    buys = [t for t in trades if t.code == "P"]
    sells = [t for t in trades if t.code == "S" and not t.planned]
    return RoleFlow(
        buys=len(buys),
        sells=len(sells),
        net_shares=sum(t.shares for t in buys) - sum(t.shares for t in sells),
        net_value=sum(t.value for t in buys) - sum(t.value for t in sells),
    )


@dataclass(frozen=True, slots=True)
class InsiderSummary:
    window_days: int
    trades: int
    purchases: int
    discretionary_sales: int
    planned_sales: int
    buyers: int
    sellers: int
    net_shares: float
    net_value: float
    cluster_buy: bool
    cluster_buyers: tuple[str, ...]
    by_role: dict[Role, RoleFlow]
    score: float


def insider_summary(
    trades: Sequence[InsiderTrade],
    now: datetime,
    *,
    window_days: int = INSIDER_WINDOW_DAYS,
    cluster_days: int = CLUSTER_DAYS,
    cluster_min: int = CLUSTER_MIN_BUYERS,
) -> InsiderSummary:
    """Summarise the trades filed in the ``window_days`` before ``now``."""
    start = now - timedelta(days=window_days)
    trades = [t for t in trades if start <= t.filed_at <= now]
    opinion = [t for t in trades if t.code == "P" or not t.planned]
    buyers = {t.insider for t in opinion if t.code == "P"}
    sellers = {t.insider for t in opinion if t.code == "S"}
    cluster = _cluster([t for t in opinion if t.code == "P"], cluster_days, cluster_min)
    flow = _flow(trades)
    by_role = {role: _flow([t for t in trades if t.role == role]) for role in ROLES}
    if cluster:
        score = 1.0
    elif buyers or sellers:
        score = (len(buyers) - len(sellers)) / (len(buyers) + len(sellers))
    else:
        score = 0.0
    return InsiderSummary(
        window_days=window_days,
        trades=len(trades),
        purchases=flow.buys,
        discretionary_sales=flow.sells,
        planned_sales=sum(1 for t in trades if t.planned),
        buyers=len(buyers),
        sellers=len(sellers),
        net_shares=flow.net_shares,
        net_value=flow.net_value,
        cluster_buy=bool(cluster),
        cluster_buyers=cluster,
        by_role=by_role,
        score=score,
    )


def _cluster(buys: Sequence[InsiderTrade], days: int, minimum: int) -> tuple[str, ...]:
    """Return the buyers of the largest group of distinct insiders buying within ``days``."""
    best: tuple[str, ...] = ()
    ordered = sorted(buys, key=lambda t: t.traded_on)
    for i, first in enumerate(ordered):
        names: list[str] = []
        for t in ordered[i:]:
            if (t.traded_on - first.traded_on).days > days:
                break
            if t.insider not in names:
                names.append(t.insider)
        if len(names) >= minimum and len(names) > len(best):
            best = tuple(names)
    return best


# -- options ----------------------------------------------------------------------------------


def parse_occ(symbol: str) -> tuple[str, date, str, float]:
    """Return (root, expiry, "call"/"put", strike) of an OCC option symbol."""
    contract = parse_occ_symbol(symbol)
    return contract.underlying, contract.expiry, contract.kind, contract.strike


@dataclass(frozen=True, slots=True)
class UnusualTrade:
    symbol: str
    kind: str
    expiry: date
    strike: float
    time: datetime
    size: int
    price: float
    premium: float
    side: str
    sweep: bool
    volume: int
    open_interest: int


@dataclass(frozen=True, slots=True)
class OptionsSummary:
    put_call_volume: float | None
    put_call_open_interest: float | None
    call_volume: int
    put_volume: int
    iv_now: float | None
    iv_rank: float | None
    iv_percentile: float | None
    skew_25d: float | None
    skew_expiry: date | None
    unusual: tuple[UnusualTrade, ...]
    unusual_call_premium: float
    unusual_put_premium: float
    score: float


def _ratio(puts: float, calls: float) -> float | None:
    return None if calls <= 0 else puts / calls


def iv_rank_percentile(history: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """Return (now, rank, percentile) of the last value against the whole ``history``."""
    values = np.asarray([v for v in history if v is not None and math.isfinite(v)], dtype=float)
    if len(values) < 2:
        return (float(values[-1]) if len(values) else None), None, None
    now, low, high = float(values[-1]), float(values.min()), float(values.max())
    rank = None if high <= low else (now - low) / (high - low)
    percentile = float(np.mean(values[:-1] < now))
    return now, rank, percentile


def skew_25d(contracts: Sequence[Any], today: date) -> tuple[float | None, date | None]:
    """Return the 25-delta put IV minus the 25-delta call IV at the expiry nearest 30 days."""
    expiries = sorted({c.expiry for c in contracts if c.expiry > today})
    if not expiries:
        return None, None
    target = today + timedelta(days=SKEW_TARGET_DAYS)
    expiry = min(expiries, key=lambda e: abs((e - target).days))
    calls = [c for c in contracts if c.expiry == expiry and c.kind == "call"]
    puts = [c for c in contracts if c.expiry == expiry and c.kind == "put"]
    if not calls or not puts:
        return None, expiry
    call = min(calls, key=lambda c: abs(c.delta - 0.25))
    put = min(puts, key=lambda c: abs(c.delta + 0.25))
    return float(put.iv - call.iv), expiry


def options_summary(
    contracts: Sequence[Any], trades: Sequence[Any], iv_history: Sequence[float], today: date
) -> OptionsSummary:
    """Summarise a chain (``contracts``: OptionQuote-like), the day's ``trades`` and the ATM IV.

    A trade is unusual when it is a buy-side sweep, or when its contract's volume in
    ``trades`` exceeds the contract's open interest.
    """
    oi = {c.symbol: int(c.open_interest) for c in contracts}
    call_oi = sum(int(c.open_interest) for c in contracts if c.kind == "call")
    put_oi = sum(int(c.open_interest) for c in contracts if c.kind == "put")
    volume: dict[str, int] = {}
    kinds: dict[str, tuple[str, date, str, float]] = {}
    for t in trades:
        volume[t.symbol] = volume.get(t.symbol, 0) + int(t.size)
        if t.symbol not in kinds:
            kinds[t.symbol] = parse_occ(t.symbol)
    call_volume = sum(v for s, v in volume.items() if kinds[s][2] == "call")
    put_volume = sum(v for s, v in volume.items() if kinds[s][2] == "put")
    unusual: list[UnusualTrade] = []
    for t in trades:
        _, expiry, kind, strike = kinds[t.symbol]
        over = volume[t.symbol] > oi.get(t.symbol, 0)
        if not ((t.sweep and t.side == "buy") or over):
            continue
        unusual.append(
            UnusualTrade(
                symbol=t.symbol,
                kind=kind,
                expiry=expiry,
                strike=strike,
                time=t.time,
                size=int(t.size),
                price=float(t.price),
                premium=float(t.price) * int(t.size) * 100.0,
                side=t.side,
                sweep=bool(t.sweep),
                volume=volume[t.symbol],
                open_interest=oi.get(t.symbol, 0),
            )
        )
    bought = [u for u in unusual if u.side == "buy"]
    call_premium = sum(u.premium for u in bought if u.kind == "call")
    put_premium = sum(u.premium for u in bought if u.kind == "put")
    iv_now, rank, percentile = iv_rank_percentile(iv_history)
    skew, skew_expiry = skew_25d(contracts, today)
    pcr = _ratio(put_volume, call_volume)
    leans = []
    if call_premium + put_premium > 0:
        leans.append((call_premium - put_premium) / (call_premium + put_premium))
    if pcr is not None:
        leans.append((NEUTRAL_PUT_CALL - pcr) / (NEUTRAL_PUT_CALL + pcr))
    return OptionsSummary(
        put_call_volume=pcr,
        put_call_open_interest=_ratio(put_oi, call_oi),
        call_volume=call_volume,
        put_volume=put_volume,
        iv_now=iv_now,
        iv_rank=rank,
        iv_percentile=percentile,
        skew_25d=skew,
        skew_expiry=skew_expiry,
        unusual=tuple(sorted(unusual, key=lambda u: -u.premium)),
        unusual_call_premium=call_premium,
        unusual_put_premium=put_premium,
        score=float(np.mean(leans)) if leans else 0.0,
    )
