"""Market events from the engine, and the live stream that releases them as the clock passes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from quantumtrade.domain.clock import Clock
from quantumtrade.domain.market import Bar, Channel, MarketEvent, Quote, Timeframe, Trade
from quantumtrade.marketdata.simulator.calendar import END_NS, MINUTE_NS, ORIGIN_NS, from_ns, to_ns
from quantumtrade.marketdata.simulator.engine import Engine

Sleep = Callable[[float], Awaitable[None]]


def tick_events(
    engine: Engine, i: int, minute_ns: int, channels: Sequence[Channel]
) -> list[tuple[int, MarketEvent]]:
    """Return the quotes and trades of one minute as (time in ns, event), quote first."""
    ticks = engine.ticks(i, minute_ns)
    if ticks is None:
        return []
    spec = engine.universe.specs[i]
    events: list[tuple[int, MarketEvent]] = []
    for j, t in enumerate(ticks.time_ns.tolist()):
        moment = from_ns(t)
        if "quotes" in channels:
            bid, bid_size = float(ticks.bid[j]), float(ticks.bid_size[j])
            ask, ask_size = float(ticks.ask[j]), float(ticks.ask_size[j])
            events.append((t, Quote(spec.symbol, moment, bid, bid_size, ask, ask_size)))
        if "trades" in channels:
            price, size = float(ticks.price[j]), float(ticks.size[j])
            trade_id = f"{minute_ns // MINUTE_NS}-{j}"
            events.append((t, Trade(spec.symbol, moment, price, size, spec.exchange, trade_id)))
    return events


def minute_bar(engine: Engine, i: int, minute_ns: int) -> Bar | None:
    """Return the 1Min bar starting at ``minute_ns``, or None outside a session."""
    if not ORIGIN_NS <= minute_ns < END_NS:
        return None
    spec = engine.universe.specs[i]
    session = engine.calendar.session_at(spec.asset_class, minute_ns)
    day = engine.minute_day(i, session[0]) if session else None
    if session is None or day is None:
        return None
    k = (minute_ns - session[1]) // MINUTE_NS
    return Bar(
        symbol=spec.symbol,
        timeframe=Timeframe.MIN_1,
        time=from_ns(minute_ns),
        open=float(day.open[k]),
        high=float(day.high[k]),
        low=float(day.low[k]),
        close=float(day.close[k]),
        volume=float(day.lots[k] * spec.lot_size),
        vwap=float(day.vwap[k]),
        trade_count=int(day.trade_count[k]),
    )


class MarketStream:
    """The events after ``started``, each released once the clock reaches its time.

    Work goes minute by minute ("slots"): a slot holds the 1Min bars that end at its start and
    the ticks inside it. State lives on the object, so cancelling a pending ``__anext__`` (for
    example by ``asyncio.wait_for``) loses nothing: the next call resumes where it stopped.
    """

    def __init__(
        self,
        engine: Engine,
        indices: list[int],
        channels: tuple[Channel, ...],
        *,
        clock: Clock,
        sleep: Sleep,
        max_wait: float,
    ) -> None:
        self._engine = engine
        self._indices = indices
        self._channels = channels
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._started = to_ns(clock.now())
        self._slot = self._started // MINUTE_NS * MINUTE_NS
        self._pending: list[tuple[int, MarketEvent]] = []
        self._position = 0
        self._closed = False

    def __aiter__(self) -> MarketStream:
        return self

    async def __anext__(self) -> MarketEvent:
        if self._closed:
            raise StopAsyncIteration
        while self._position >= len(self._pending):
            self._pending = [e for e in self._slot_events(self._slot) if e[0] > self._started]
            self._position = 0
            self._slot = self._next_slot(self._slot)
        due, event = self._pending[self._position]
        while (now := to_ns(self._clock.now())) < due:
            await self._sleep(min((due - now) / 1e9, self._max_wait))
        self._position += 1
        return event

    async def aclose(self) -> None:
        """Stop the stream; further pulls end the iteration."""
        self._closed = True

    def _slot_events(self, slot: int) -> list[tuple[int, MarketEvent]]:
        keyed: list[tuple[int, int, int, int, MarketEvent]] = []
        tick_channels = tuple(c for c in self._channels if c != "bars")
        for order, i in enumerate(self._indices):
            if "bars" in self._channels:
                bar = minute_bar(self._engine, i, slot - MINUTE_NS)
                if bar is not None:
                    keyed.append((slot, 0, order, 0, bar))
            if tick_channels:
                ticks = tick_events(self._engine, i, slot, tick_channels)
                keyed.extend((t, 1, order, j, e) for j, (t, e) in enumerate(ticks))
        keyed.sort(key=lambda item: item[:4])
        return [(item[0], item[4]) for item in keyed]

    def _next_slot(self, slot: int) -> int:
        calendar, specs = self._engine.calendar, self._engine.universe.specs
        classes = {specs[i].asset_class for i in self._indices}
        # While anything trades, every minute counts; otherwise jump to the next open.
        if any(calendar.session_at(c, slot) for c in classes):
            return slot + MINUTE_NS
        return min(calendar.next_open_ns(c, slot) for c in classes)
