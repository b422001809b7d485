"""The simulator's synchronous core: bars and ticks for any range, cached, with no clock."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantumtrade.marketdata.simulator.calendar import (
    DAY_NS,
    MINUTE_NS,
    TradingCalendar,
    day_ns,
    ordinal_of,
)
from quantumtrade.marketdata.simulator.intraday import (
    DayBook,
    MinuteDay,
    MinuteTicks,
    build_day_book,
    build_minute_day,
    build_ticks,
    round_price,
)
from quantumtrade.marketdata.simulator.model import BLOCK_DAYS, SPREAD_MULT, MarketModel, stable_key
from quantumtrade.marketdata.simulator.universe import Universe

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TICK_TAG = 0x5EED_0003
MINUTE_CACHE = 256
TICK_CACHE = 4096


@dataclass(frozen=True, slots=True)
class BarArrays:
    """Bars as columns; ``time_ns`` is each bar's start."""

    time_ns: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    vwap: FloatArray
    trade_count: IntArray

    def __len__(self) -> int:
        return len(self.time_ns)

    def select(self, mask: npt.NDArray[np.bool_]) -> BarArrays:
        return BarArrays(
            self.time_ns[mask],
            self.open[mask],
            self.high[mask],
            self.low[mask],
            self.close[mask],
            self.volume[mask],
            self.vwap[mask],
            self.trade_count[mask],
        )


class Engine:
    """Daily bars, minute bars and ticks of a universe under one seed and calendar."""

    def __init__(
        self, universe: Universe, seed: int, *, always_open: bool, tick_rate: float
    ) -> None:
        self.universe = universe
        self.seed = seed
        self.model = MarketModel(universe, seed)
        self.calendar = TradingCalendar(always_open=always_open)
        self.tick_rate = tick_rate
        self._keys = [stable_key(spec.symbol) for spec in universe.specs]
        self._books: dict[tuple[int, int], DayBook] = {}
        self._minutes: OrderedDict[tuple[int, int], MinuteDay | None] = OrderedDict()
        self._ticks: OrderedDict[tuple[int, int], MinuteTicks | None] = OrderedDict()

    def asset_class(self, i: int) -> str:
        return self.universe.specs[i].asset_class

    def is_24h(self, i: int) -> bool:
        return self.calendar.is_24h(self.asset_class(i))

    def book(self, i: int, k: int) -> DayBook:
        """Return the daily bars of symbol ``i`` over block ``k``."""
        found = self._books.get((i, k))
        if found is not None:
            return found
        block = self.model.block(k)
        offset = float(self.model.offset[i])
        session = not self.is_24h(i)
        if session:
            previous = (0.0, 0.0)
        elif k > 0:
            before = self.book(i, k - 1)
            previous = (float(before.log_close[-1]), float(before.close[-1]))
        else:
            first = float(block.log_close[0, i] - block.ret[0, i] + offset)
            previous = (first, float(round_price(np.exp(np.array([first])))[0]))
        spec = self.universe.specs[i]
        book = build_day_book(
            block, i, offset=offset, previous_close=previous, spec=spec, session=session
        )
        self._books[(i, k)] = book
        return book

    def daily(self, i: int, lo: int, hi: int) -> tuple[BarArrays, IntArray]:
        """Return the daily bars of the sessions in ordinals ``[lo, hi)`` and their closes."""
        ordinals = self.calendar.session_ordinals(self.asset_class(i), lo, hi)
        _, closes = self.calendar.windows(self.asset_class(i), ordinals)
        if len(ordinals) == 0:
            return _empty(), closes
        first, last = int(ordinals[0]) // BLOCK_DAYS, int(ordinals[-1]) // BLOCK_DAYS
        books = [self.book(i, k) for k in range(first, last + 1)]
        at = ordinals - first * BLOCK_DAYS
        lot = self.universe.specs[i].lot_size

        def column(name: str) -> FloatArray:
            values: FloatArray = np.concatenate([getattr(b, name) for b in books])[at]
            return values

        lots = np.concatenate([b.lots for b in books])[at]
        bars = BarArrays(
            day_ns(ordinals),
            column("open"),
            column("high"),
            column("low"),
            column("close"),
            lots * lot,
            column("vwap"),
            np.concatenate([b.trade_count for b in books])[at],
        )
        return bars, closes

    def minute_day(self, i: int, ordinal: int) -> MinuteDay | None:
        """Return the minute bars of symbol ``i`` on day ``ordinal``, None if no session."""
        key = (i, ordinal)
        if key in self._minutes:
            self._minutes.move_to_end(key)
            return self._minutes[key]
        found: MinuteDay | None = None
        asset_class = self.asset_class(i)
        if len(self.calendar.session_ordinals(asset_class, ordinal, ordinal + 1)):
            opens, closes = self.calendar.windows(asset_class, np.array([ordinal]))
            book = self.book(i, ordinal // BLOCK_DAYS)
            seed = np.random.SeedSequence([self.seed, self._keys[i], ordinal])
            found = build_minute_day(
                book,
                ordinal % BLOCK_DAYS,
                start_ns=int(opens[0]),
                n=int(closes[0] - opens[0]) // MINUTE_NS,
                session=not self.is_24h(i),
                rng=np.random.Generator(np.random.PCG64(seed)),
            )
        self._minutes[key] = found
        if len(self._minutes) > MINUTE_CACHE:
            self._minutes.popitem(last=False)
        return found

    def minutes(self, i: int, lo_ns: int, hi_ns: int) -> BarArrays:
        """Return the minute bars of symbol ``i`` starting in ``[lo_ns, hi_ns)``."""
        if hi_ns <= lo_ns:
            return _empty()
        lo_day, hi_day = ordinal_of(lo_ns), ordinal_of(hi_ns - 1) + 1
        ordinals = self.calendar.session_ordinals(self.asset_class(i), lo_day, hi_day)
        days = [d for d in (self.minute_day(i, int(o)) for o in ordinals) if d is not None]
        if not days:
            return _empty()
        lot = self.universe.specs[i].lot_size
        bars = BarArrays(
            np.concatenate([d.time_ns for d in days]),
            np.concatenate([d.open for d in days]),
            np.concatenate([d.high for d in days]),
            np.concatenate([d.low for d in days]),
            np.concatenate([d.close for d in days]),
            np.concatenate([d.lots for d in days]) * lot,
            np.concatenate([d.vwap for d in days]),
            np.concatenate([d.trade_count for d in days]),
        )
        return bars.select((bars.time_ns >= lo_ns) & (bars.time_ns < hi_ns))

    def ticks(self, i: int, minute_ns: int) -> MinuteTicks | None:
        """Return the tape of symbol ``i`` for the minute starting at ``minute_ns``."""
        key = (i, minute_ns)
        if key in self._ticks:
            self._ticks.move_to_end(key)
            return self._ticks[key]
        found: MinuteTicks | None = None
        session = self.calendar.session_at(self.asset_class(i), minute_ns)
        if session is not None:
            ordinal, open_ns, _ = session
            day = self.minute_day(i, ordinal)
            if day is not None:
                k = (minute_ns - open_ns) // MINUTE_NS
                regime = self.model.regime_at(ordinal)
                # Spreads widen in turmoil and in the first minutes after the bell.
                opening = 1.0 if self.is_24h(i) else 1.0 + 2.0 * float(np.exp(-k / 5.0))
                spec = self.universe.specs[i]
                spread = spec.spread_bps * 1e-4 * float(SPREAD_MULT[regime]) * opening
                minute_of_day = (minute_ns % DAY_NS) // MINUTE_NS
                seed = np.random.SeedSequence(
                    [self.seed, self._keys[i], ordinal, minute_of_day, TICK_TAG]
                )
                found = build_ticks(
                    (
                        float(day.open[k]),
                        float(day.high[k]),
                        float(day.low[k]),
                        float(day.close[k]),
                    ),
                    lots=int(day.lots[k]),
                    minute_ns=minute_ns,
                    rate=self.tick_rate,
                    spread=spread,
                    spec=spec,
                    rng=np.random.Generator(np.random.PCG64(seed)),
                )
        self._ticks[key] = found
        if len(self._ticks) > TICK_CACHE:
            self._ticks.popitem(last=False)
        return found


def _empty() -> BarArrays:
    floats = np.empty(0, np.float64)
    ints = np.empty(0, np.int64)
    return BarArrays(ints, floats, floats, floats, floats, floats, floats, ints)
