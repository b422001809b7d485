"""SimulatedMarket: the simulator behind the MarketDataSource interface.

History and the live stream come from the same deterministic engine, and the injected clock
decides what exists: no method returns a bar, trade, quote or regime later than ``clock.now()``.
The stream paces itself by that clock too; see :meth:`SimulatedMarket.stream`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from quantumtrade.domain.clock import Clock
from quantumtrade.domain.market import (
    CHANNELS,
    Channel,
    MarketEvent,
    Quote,
    Timeframe,
    Trade,
    resample_bars,
)
from quantumtrade.marketdata.simulator.calendar import (
    DAY_NS,
    END_NS,
    MINUTE_NS,
    ORIGIN_NS,
    OutOfSimulationRange,
    TradingCalendar,
    from_ns,
    to_ns,
)
from quantumtrade.marketdata.simulator.engine import BarArrays, Engine
from quantumtrade.marketdata.simulator.model import REGIMES, MarketModel
from quantumtrade.marketdata.simulator.stream import MarketStream, Sleep, tick_events
from quantumtrade.marketdata.simulator.universe import ASSET_CLASSES, SymbolSpec, Universe
from quantumtrade.marketdata.source import SymbolInfo


class SimulatedMarket:
    """A deterministic simulated market: same seed and universe, same history, always.

    ``always_open`` gives equities a 24/7 session (UTC days, every minute) for demos.
    ``ticks_per_second`` is the rate of the sampled tape (quote updates and trades) per symbol.
    ``sleep`` is awaited by the stream while it waits for the clock; ``max_wait`` caps one
    such wait, so that a clock moved by someone else is noticed within that many seconds.
    """

    name = "simulator"

    def __init__(
        self,
        *,
        seed: int = 42,
        universe: Universe | Iterable[SymbolSpec] | None = None,
        clock: Clock,
        always_open: bool = False,
        ticks_per_second: float = 2.0,
        sleep: Sleep | None = None,
        max_wait: float = 1.0,
    ) -> None:
        if ticks_per_second <= 0:
            raise ValueError("ticks_per_second must be positive")
        self.universe = Universe.of(universe)
        self.engine = Engine(
            self.universe, seed, always_open=always_open, tick_rate=ticks_per_second
        )
        self._clock = clock
        self._sleep: Sleep = sleep or asyncio.sleep
        self._max_wait = max_wait

    @property
    def seed(self) -> int:
        return self.engine.seed

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def sleep(self) -> Sleep:
        """What the live streams await while they wait for the clock."""
        return self._sleep

    @property
    def calendar(self) -> TradingCalendar:
        return self.engine.calendar

    @property
    def model(self) -> MarketModel:
        return self.engine.model

    def symbols(self) -> Sequence[SymbolInfo]:
        return self.universe.infos()

    def _asset_class(self, symbol_or_asset_class: str) -> str:
        if symbol_or_asset_class in ASSET_CLASSES:
            return symbol_or_asset_class
        return self.universe.spec(symbol_or_asset_class).asset_class

    def _now(self) -> int:
        return to_ns(self._clock.now())

    # -- calendar -----------------------------------------------------------------------------

    def is_open(self, symbol_or_asset_class: str, moment: datetime | None = None) -> bool:
        """Say whether the symbol (or asset class) trades at ``moment`` (default: now)."""
        at = moment or self._clock.now()
        return self.calendar.is_open(self._asset_class(symbol_or_asset_class), at)

    def next_open(self, symbol_or_asset_class: str, moment: datetime | None = None) -> datetime:
        at = moment or self._clock.now()
        return self.calendar.next_open(self._asset_class(symbol_or_asset_class), at)

    def next_close(self, symbol_or_asset_class: str, moment: datetime | None = None) -> datetime:
        at = moment or self._clock.now()
        return self.calendar.next_close(self._asset_class(symbol_or_asset_class), at)

    def sessions(self, symbol_or_asset_class: str, start: date, end: date) -> pd.DataFrame:
        """Return the sessions dated ``start`` to ``end`` inclusive (UTC open and close)."""
        return self.calendar.sessions(self._asset_class(symbol_or_asset_class), start, end)

    # -- history ------------------------------------------------------------------------------

    async def get_bars(
        self, symbol: str, timeframe: Timeframe | str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        """Return the bars with ``start <= time < end`` that are complete at the clock's now."""
        return self.bars(symbol, timeframe, start, end)

    def bars(
        self, symbol: str, timeframe: Timeframe | str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        """Return the complete bars with ``start <= time < end``; see :meth:`get_bars`.

        Daily bars are stamped at UTC midnight of their session and exist once the session has
        closed; intraday bars once their last minute has ended.
        """
        i = self.universe.index(symbol)
        frame = timeframe if isinstance(timeframe, Timeframe) else Timeframe.parse(timeframe)
        lo, hi, now = to_ns(start), to_ns(end), self._now()
        if frame is Timeframe.DAY_1:
            first = -(-(lo - ORIGIN_NS) // DAY_NS)
            bars, closes = self.engine.daily(i, first, -(-(hi - ORIGIN_NS) // DAY_NS))
            return _frame(bars.select(closes <= now))
        lo, ready = max(lo, ORIGIN_NS), now - MINUTE_NS + 1
        if frame is Timeframe.MIN_1:
            return _frame(self.engine.minutes(i, lo, min(hi, ready, END_NS)))
        step = int(frame.delta.total_seconds()) * 10**9
        cut = min(-(-hi // step) * step, ready, END_NS)
        minutes = self.engine.minutes(i, lo, cut)
        if not len(minutes):
            return _frame(minutes)
        out = resample_bars(_frame(minutes), frame)
        stamps = pd.DatetimeIndex(out.index).as_unit("ns").asi8
        kept: pd.DataFrame = out[(stamps >= lo) & (stamps < hi) & (stamps + step <= now)]
        return kept

    def trades_in_minute(self, symbol: str, minute: datetime) -> list[Trade]:
        """Return the sampled trades of the minute holding ``minute``, up to now."""
        i = self.universe.index(symbol)
        start = to_ns(minute) // MINUTE_NS * MINUTE_NS
        now = self._clock.now()
        events = (e for _, e in tick_events(self.engine, i, start, ("trades",)))
        return [e for e in events if isinstance(e, Trade) and e.time <= now]

    def quotes_in_minute(self, symbol: str, minute: datetime) -> list[Quote]:
        """Return the quote updates of the minute holding ``minute``, up to now."""
        i = self.universe.index(symbol)
        start = to_ns(minute) // MINUTE_NS * MINUTE_NS
        now = self._clock.now()
        events = (e for _, e in tick_events(self.engine, i, start, ("quotes",)))
        return [e for e in events if isinstance(e, Quote) and e.time <= now]

    def trade_at(self, symbol: str, moment: datetime) -> Trade:
        """Return the last trade at or before ``moment`` (the previous session's when closed)."""
        event = self._last_tick(symbol, moment, "trades")
        assert isinstance(event, Trade)
        return event

    def quote_at(self, symbol: str, moment: datetime) -> Quote:
        """Return the quote standing at ``moment`` (the previous session's last when closed)."""
        event = self._last_tick(symbol, moment, "quotes")
        assert isinstance(event, Quote)
        return event

    async def latest_trade(self, symbol: str) -> Trade:
        return self.trade_at(symbol, self._clock.now())

    async def latest_quote(self, symbol: str) -> Quote:
        return self.quote_at(symbol, self._clock.now())

    def _last_tick(self, symbol: str, moment: datetime, channel: Channel) -> MarketEvent:
        i = self.universe.index(symbol)
        at = to_ns(moment)
        if at > self._now():
            raise ValueError(f"{moment.isoformat()} is in the future of the clock")
        asset_class = self.universe.specs[i].asset_class
        if self.calendar.session_at(asset_class, at) is None:
            at = self.calendar.previous_close_ns(asset_class, at) - 1
        events = tick_events(self.engine, i, at // MINUTE_NS * MINUTE_NS, (channel,))
        return [e for t, e in events if t <= at][-1]

    # -- regimes ------------------------------------------------------------------------------

    def regimes(self, start: date | datetime, end: date | datetime) -> pd.Series:
        """Return the true regime of each UTC day from ``start`` to ``end`` (exclusive), to now."""
        if not isinstance(end, datetime):
            end = datetime.combine(end, time(), tzinfo=self._clock.now().tzinfo)
        return self.model.regimes(start, min(end, from_ns(self._now() + 1000)))

    def bar_regimes(self, times: pd.DatetimeIndex | pd.DataFrame) -> pd.Series:
        """Return the true regime of the day of each bar time (any symbol, any timeframe)."""
        index = times.index if isinstance(times, pd.DataFrame) else times
        index = pd.DatetimeIndex(index)
        if index.tz is None:
            raise ValueError("bar times must be timezone-aware")
        stamps = index.as_unit("ns").asi8
        names = np.array([r.value for r in REGIMES], dtype=object)
        if not len(stamps):
            return pd.Series(names[:0], index=index, name="regime")
        if int(stamps.max()) > self._now():
            raise ValueError("bar times must not lie in the future of the clock")
        ordinals = (stamps - ORIGIN_NS) // DAY_NS
        if ordinals.min() < 0:
            raise OutOfSimulationRange("bar times before the simulated days")
        lo = int(ordinals.min())
        codes = self.model.regime_codes(lo, int(ordinals.max()) + 1)[ordinals - lo]
        return pd.Series(names[codes], index=index, name="regime")

    # -- live ---------------------------------------------------------------------------------

    def stream(self, symbols: Sequence[str], channels: Sequence[Channel]) -> MarketStream:
        """Yield the events after the moment of this call, each once the clock reaches it.

        Events are exactly what history says: the 1Min bar of minute m comes at m + 1 min and
        equals ``get_bars`` for m; trades and quotes equal ``trades_in_minute`` and
        ``quotes_in_minute``. With a real clock the events arrive in real time. With a
        ``FixedClock``, advance it and pull, or pass ``sleep`` that advances the clock by the
        seconds asked so the stream runs through simulated time as fast as it can.
        """
        indices = [self.universe.index(symbol) for symbol in symbols]
        wanted = tuple(channels)
        unknown = set(wanted) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {sorted(unknown)}; use {CHANNELS}")
        return MarketStream(
            self.engine,
            indices,
            wanted,
            clock=self._clock,
            sleep=self._sleep,
            max_wait=self._max_wait,
        )

    async def close(self) -> None:
        """Release nothing: the simulator holds no connections."""


def _frame(bars: BarArrays) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(bars.time_ns, unit="ns", utc=True), name="time")
    return pd.DataFrame(
        {
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
            "vwap": bars.vwap,
            "trade_count": bars.trade_count,
        },
        index=index,
    )
