"""The trade journal: round trips built from a portfolio's fills, their excursions and R-multiple.

Round-trip rules, per symbol, with the fills taken in ``(at, seq, fill_id)`` order (``seq``,
the ledger's numbering, orders the fills of one moment as they were booked):

* A trip opens when the position leaves zero and closes when it returns to zero. Its
  direction is that of the opening fill: a buy opens a long, a sell opens a short.
* Fills in the trip's direction are entries (scale-ins add up); fills against it are exits
  (partial exits keep the trip open).
* A fill that goes through zero is split: the part that reaches zero is the last exit of the
  trip, the rest is the first entry of a new trip in the other direction. The fill's fees
  are split pro rata to the two parts' quantities (the first part rounded to 10 decimals,
  the second takes the remainder), so the parts sum exactly to the fill's fees.
* Gross P&L is the realised P&L of the average-cost ledger (:func:`apply_fill`), so the
  trips' gross P&L summed equals the ledger's realised P&L over the same fills, to the last
  decimal. Entry and exit prices are volume-weighted averages of the entry and exit parts.
* The last trip of a symbol may stay open. A trip is known by ``symbol:first entry fill_id``,
  so rebuilding from the same fills, or from more fills later on, finds the same trips.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.domain.execution import Side, to_decimal
from quantumtrade.domain.trading.ledger import Holding, apply_fill, cents

ZERO = Decimal(0)
SCALE = Decimal("1e-10")
ENTRY = "entry"
EXIT = "exit"
LONG = "long"
SHORT = "short"
OPEN = "open"
CLOSED = "closed"


def _scaled(amount: Decimal) -> Decimal:
    return amount.quantize(SCALE, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class JournalFill:
    """One execution as the journal reads it."""

    fill_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fees: Decimal
    at: datetime
    order_id: str | None = None
    strategy: str | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class TripFill:
    """One fill's part in one trip (a fill that flips the position has two parts)."""

    fill_id: str
    role: str
    qty: Decimal
    price: Decimal
    fees: Decimal
    at: datetime


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A position from the moment it leaves zero until it returns to zero."""

    symbol: str
    direction: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    entry_qty: Decimal
    exit_qty: Decimal
    max_qty: Decimal
    entry_price: Decimal
    exit_price: Decimal | None
    gross_pl: Decimal
    fees: Decimal
    net_pl: Decimal
    return_pct: float
    holding_seconds: float | None
    fills: tuple[TripFill, ...]
    first_order_id: str | None
    strategy: str | None
    key: str


@dataclass(slots=True)
class _Building:
    """A trip being built: the ledger holding plus the running totals."""

    first: JournalFill
    direction: str
    holding: Holding = field(default_factory=Holding)
    parts: list[TripFill] = field(default_factory=list)
    entry_qty: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    max_qty: Decimal = ZERO
    gross: Decimal = ZERO

    def add(self, fill: JournalFill, role: str, qty: Decimal, fees: Decimal) -> None:
        self.parts.append(TripFill(fill.fill_id, role, qty, fill.price, fees, fill.at))
        if role == ENTRY:
            self.entry_qty += qty
            self.entry_value += qty * fill.price
        else:
            self.exit_qty += qty
            self.exit_value += qty * fill.price

    def move(self, holding: Holding, realized: Decimal) -> None:
        self.holding = holding
        self.gross += realized
        self.max_qty = max(self.max_qty, abs(holding.qty))

    def finish(self, closed_at: datetime | None) -> RoundTrip:
        fees = sum((part.fees for part in self.parts), ZERO)
        net = self.gross - fees
        entry_price = _scaled(self.entry_value / self.entry_qty)
        exit_price = _scaled(self.exit_value / self.exit_qty) if self.exit_qty else None
        invested = entry_price * self.entry_qty
        opened_at = self.first.at
        held = (closed_at - opened_at).total_seconds() if closed_at is not None else None
        return RoundTrip(
            symbol=self.first.symbol,
            direction=self.direction,
            status=CLOSED if closed_at is not None else OPEN,
            opened_at=opened_at,
            closed_at=closed_at,
            entry_qty=self.entry_qty,
            exit_qty=self.exit_qty,
            max_qty=self.max_qty,
            entry_price=entry_price,
            exit_price=exit_price,
            gross_pl=self.gross,
            fees=fees,
            net_pl=net,
            return_pct=float(net / invested) if invested else 0.0,
            holding_seconds=held,
            fills=tuple(self.parts),
            first_order_id=self.first.order_id,
            strategy=self.first.strategy,
            key=f"{self.first.symbol}:{self.first.fill_id}",
        )


def _check(fill: JournalFill) -> None:
    amounts = (fill.qty, fill.price, fill.fees)
    if not all(isinstance(a, Decimal) and a.is_finite() for a in amounts):
        raise InvalidInput(
            f"fill {fill.fill_id} needs finite Decimal qty, price and fees", code="invalid_fill"
        )
    if fill.qty <= ZERO or fill.price <= ZERO or fill.fees < ZERO:
        raise InvalidInput(
            f"fill {fill.fill_id} needs qty > 0, price > 0 and fees >= 0", code="invalid_fill"
        )
    if fill.at.tzinfo is None or fill.at.utcoffset() is None:
        raise InvalidInput(
            f"fill {fill.fill_id} needs a timezone-aware time", code="invalid_fill_time"
        )
    if not fill.symbol:
        raise InvalidInput(f"fill {fill.fill_id} needs a symbol", code="invalid_fill")
    if not isinstance(fill.side, Side):
        raise InvalidInput(f"fill {fill.fill_id} needs a side", code="invalid_fill")


def _symbol_trips(fills: list[JournalFill]) -> list[RoundTrip]:
    trips: list[RoundTrip] = []
    current: _Building | None = None
    for fill in sorted(fills, key=lambda f: (f.at, f.seq, f.fill_id)):
        if current is None:
            current = _Building(fill, LONG if fill.side is Side.BUY else SHORT)
        effect = apply_fill(current.holding, fill.side, fill.qty, fill.price, fill.fees)
        held = abs(current.holding.qty)
        adds = held == ZERO or (current.direction == LONG) == (fill.side is Side.BUY)
        if adds:
            current.add(fill, ENTRY, fill.qty, fill.fees)
            current.move(effect.holding, effect.realized_pl)
        elif fill.qty <= held:
            current.add(fill, EXIT, fill.qty, fill.fees)
            current.move(effect.holding, effect.realized_pl)
        else:  # goes through zero: close with the part that reaches it, open with the rest
            closing_fees = _scaled(fill.fees * held / fill.qty)
            current.add(fill, EXIT, held, closing_fees)
            current.move(Holding(), effect.realized_pl)
            trips.append(current.finish(fill.at))
            current = _Building(fill, LONG if fill.side is Side.BUY else SHORT)
            current.add(fill, ENTRY, fill.qty - held, fill.fees - closing_fees)
            current.move(effect.holding, ZERO)
        if current.holding.qty == ZERO:
            trips.append(current.finish(fill.at))
            current = None
    if current is not None:
        trips.append(current.finish(None))
    return trips


def round_trips(fills: Iterable[JournalFill]) -> list[RoundTrip]:
    """Build the round trips of ``fills`` (any order), sorted by ``(opened_at, symbol)``.

    Each symbol's fills are taken in ``(at, seq, fill_id)`` order; see the module docstring for
    the rules. Raise :class:`InvalidInput` for an invalid or duplicated fill.
    """
    by_symbol: dict[str, list[JournalFill]] = defaultdict(list)
    seen: set[str] = set()
    for fill in fills:
        _check(fill)
        if fill.fill_id in seen:
            raise InvalidInput(f"fill {fill.fill_id} appears twice", code="duplicate_fill")
        seen.add(fill.fill_id)
        by_symbol[fill.symbol].append(fill)
    ranked: list[tuple[datetime, str, int, RoundTrip]] = []
    for symbol, symbol_fills in by_symbol.items():
        for index, trip in enumerate(_symbol_trips(symbol_fills)):
            ranked.append((trip.opened_at, symbol, index, trip))
    ranked.sort(key=lambda row: row[:3])
    return [row[3] for row in ranked]


@dataclass(frozen=True, slots=True)
class Excursion:
    """How far the price went against (MAE) and in favour of (MFE) a trip while it was open."""

    mae_price: Decimal
    mfe_price: Decimal
    mae: Decimal
    mfe: Decimal
    mae_pct: float
    mfe_pct: float


def _bar_length(starts: pd.DatetimeIndex) -> pd.Timedelta:
    freq = starts.freq
    if isinstance(freq, pd.offsets.Tick):
        return pd.Timedelta(freq)
    distinct = starts.unique().sort_values()
    gaps = distinct[1:] - distinct[:-1]
    positive = gaps[gaps > pd.Timedelta(0)]
    return pd.Timedelta(positive.min()) if len(positive) else pd.Timedelta(0)


def _bar_extremes(
    bars: pd.DataFrame, start: datetime, end: datetime | None
) -> tuple[Decimal | None, Decimal | None]:
    """Return the highest high and the lowest low of the bars overlapping ``[start, end]``."""
    if bars.empty:
        return None, None
    if not {"high", "low"} <= set(bars.columns):
        raise InvalidInput("bars need 'high' and 'low' columns", code="invalid_bars")
    if not isinstance(bars.index, pd.DatetimeIndex) or bars.index.tz is None:
        raise InvalidInput("bars need a timezone-aware time index", code="invalid_bars")
    starts = bars.index
    ends = starts + _bar_length(starts)
    # a bar spans [start, start + length); a bar of unknown length is a point in time
    lower = pd.Timestamp(start)
    mask = (ends > lower) | (starts >= lower)
    if end is not None:
        mask &= starts <= pd.Timestamp(end)
    window = bars.loc[mask]
    highs = window["high"].to_numpy(dtype=float)
    lows = window["low"].to_numpy(dtype=float)
    highs, lows = highs[np.isfinite(highs)], lows[np.isfinite(lows)]
    high = to_decimal(float(highs.max())) if highs.size else None
    low = to_decimal(float(lows.min())) if lows.size else None
    return high, low


def excursion(
    trip: RoundTrip, bars: pd.DataFrame, *, now: datetime | None = None
) -> Excursion | None:
    """Return the trip's maximum adverse and favourable excursions at its largest size.

    ``bars`` is indexed by timezone-aware bar start times with float ``high`` and ``low``
    columns, of any timeframe; a bar's length is the index frequency or else the smallest
    gap between bar starts. The bars overlapping ``[opened_at, closed_at or now]`` count
    (every later bar for an open trip without ``now``), and so do the trip's own fill prices.
    Return None only when there is neither a bar nor a fill.
    """
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise InvalidInput("now needs a timezone-aware time", code="invalid_time")
    end = trip.closed_at if trip.closed_at is not None else now
    high, low = _bar_extremes(bars, trip.opened_at, end)
    prices = [part.price for part in trip.fills]
    highs = prices + ([high] if high is not None else [])
    lows = prices + ([low] if low is not None else [])
    if not highs or not lows:
        return None
    entry = trip.entry_price
    if trip.direction == LONG:
        worst, best = min(lows), max(highs)
        adverse, favourable = max(entry - worst, ZERO), max(best - entry, ZERO)
    else:
        worst, best = max(highs), min(lows)
        adverse, favourable = max(worst - entry, ZERO), max(entry - best, ZERO)
    return Excursion(
        mae_price=worst,
        mfe_price=best,
        mae=cents(adverse * trip.max_qty),
        mfe=cents(favourable * trip.max_qty),
        mae_pct=float(adverse / entry) if entry else 0.0,
        mfe_pct=float(favourable / entry) if entry else 0.0,
    )


def r_multiple(trip: RoundTrip, stop_price: Decimal | None) -> float | None:
    """Return the trip's net P&L in units of its initial risk, or None without a valid stop.

    The risk is ``|first entry fill price - stop_price| * entry_qty``. A long's stop must be
    below that entry price and a short's above it; otherwise, or with no risk, return None.
    """
    if stop_price is None:
        return None
    first = next((part for part in trip.fills if part.role == ENTRY), None)
    if first is None:
        return None
    entry = first.price
    if trip.direction == LONG and stop_price >= entry:
        return None
    if trip.direction == SHORT and stop_price <= entry:
        return None
    risk = abs(entry - stop_price) * trip.entry_qty
    if risk == ZERO:
        return None
    return float(trip.net_pl / risk)
