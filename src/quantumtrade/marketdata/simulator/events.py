"""Planted events: the price moves the simulated information world explains, and leaks ahead of.

The master path (:mod:`.model`) gives every stock a few idiosyncratic jumps a year (about
:data:`~.model.EARNINGS_PER_YEAR`, three daily standard deviations in size) and every crypto
asset about :data:`~.model.CRYPTO_JUMPS_PER_YEAR`. Each jump is a *planted event*: its log size
is the hidden true impact, and the news, social posts, insider filings and option trades of the
information world are generated from it, so what they say can be checked against what the
price did.

When an event is announced, and where its impact lands (the documented lag):

- a jump in the opening gap (80 % of stock jumps) is announced :data:`AFTER_CLOSE` after the
  previous session's close, and the whole impact shows in the next session's open;
- a jump during the session is announced :data:`AFTER_OPEN` after the open, and the impact
  shows between the open and the close of that session;
- crypto trades around the clock: an event is announced at the start of its UTC day and lands
  within that day.

*Control symbols* (:func:`is_control`, about one in :data:`CONTROL_ONE_IN`, by a stable hash of
the seed and symbol) still jump, but nothing in the information world knows about it: their
news and posts are drawn with no link to the price, so a sentiment signal must show no edge on
them. ETFs have no idiosyncratic jumps at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from quantumtrade.marketdata.simulator.calendar import (
    DAY_NS,
    MINUTE_NS,
    N_DAYS,
    ORIGIN_NS,
    TradingCalendar,
    from_ns,
    ordinal_of,
    to_ns,
)
from quantumtrade.marketdata.simulator.model import BLOCK_DAYS, Block, MarketModel, stable_key

AFTER_CLOSE = 30 * MINUTE_NS
AFTER_OPEN = 1 * MINUTE_NS
CONTROL_ONE_IN = 5
EVENT_TAG = 0x5EED_0E00


@dataclass(frozen=True, slots=True)
class PlantedEvent:
    """One idiosyncratic jump of a symbol and when the world learns of it."""

    symbol: str
    session: int  # the day ordinal of the session whose return carries the impact
    impact: float  # the jump's log return: the hidden true impact
    in_gap: bool  # the impact lands in the session's opening gap
    announced_ns: int  # when the event becomes public (UTC nanoseconds)
    session_open_ns: int
    session_close_ns: int

    @property
    def announced(self) -> datetime:
        return from_ns(self.announced_ns)

    @property
    def positive(self) -> bool:
        return self.impact > 0


def is_control(seed: int, symbol: str) -> bool:
    """Say whether the information world is blind to ``symbol``'s price (see module docs)."""
    return (stable_key(f"{seed}:{symbol}") % CONTROL_ONE_IN) == 0


def event_rng(seed: int, tag: int, symbol: str, ordinal: int) -> np.random.Generator:
    """Return the generator of one (source, symbol, day): independent of what else is asked."""
    entropy = [seed, EVENT_TAG, tag, stable_key(symbol), ordinal]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def planted_events(
    model: MarketModel,
    calendar: TradingCalendar,
    symbol: str,
    start: datetime,
    end: datetime,
) -> list[PlantedEvent]:
    """Return the events of ``symbol`` announced in ``[start, end)``, oldest first.

    Every jump is returned, control symbols' included (their information world just ignores
    them); callers that must not see the future cut ``end`` at their clock.
    """
    i = model.universe.index(symbol)
    spec = model.universe.specs[i]
    lo_ns, hi_ns = to_ns(start), to_ns(end)
    if hi_ns <= lo_ns:
        return []
    # An announcement precedes its jump by at most a long weekend plus the after-close lag.
    lo = max(ordinal_of(max(lo_ns, ORIGIN_NS)) - 1, 0)
    hi = ordinal_of(max(hi_ns - 1, ORIGIN_NS)) + 6
    out: list[PlantedEvent] = []
    for k in range(lo // BLOCK_DAYS, (min(hi, N_DAYS) - 1) // BLOCK_DAYS + 1):
        block = model.block(k)
        days = np.flatnonzero(block.idio_jump[:, i])
        for day in days.tolist():
            ordinal = k * BLOCK_DAYS + day
            if not lo <= ordinal < hi:
                continue
            event = _event(calendar, spec.asset_class, symbol, ordinal, block, day, i)
            if event is not None and lo_ns <= event.announced_ns < hi_ns:
                out.append(event)
    out.sort(key=lambda e: e.announced_ns)
    return out


def _event(
    calendar: TradingCalendar,
    asset_class: str,
    symbol: str,
    ordinal: int,
    block: Block,
    day: int,
    i: int,
) -> PlantedEvent | None:
    impact = float(block.idio_jump[day, i])
    in_gap = bool(block.idio_in_gap[day, i])
    sessions = calendar.session_ordinals(asset_class, ordinal, ordinal + 7)
    if len(sessions) == 0:
        return None
    session = int(sessions[0])
    opens, closes = calendar.windows(asset_class, sessions[:1])
    open_ns, close_ns = int(opens[0]), int(closes[0])
    if calendar.is_24h(asset_class):
        announced, in_gap = ORIGIN_NS + session * DAY_NS, False
    elif in_gap or session != ordinal:
        # A jump on a day with no session lands in the next session's gap, like a gap jump.
        announced, in_gap = calendar.previous_close_ns(asset_class, open_ns) + AFTER_CLOSE, True
    else:
        announced = open_ns + AFTER_OPEN
    return PlantedEvent(symbol, session, impact, in_gap, announced, open_ns, close_ns)
