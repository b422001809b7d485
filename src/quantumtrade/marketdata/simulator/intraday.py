"""Daily bars from the master path, and the minute path that bridges each of them exactly.

A day's high and low are drawn from the distribution of a Brownian bridge's extremes, so long
daily ranges need no minute path at all. The minute path for a day then bridges the day's open
to its close and is stretched (monotonically, above the larger and below the smaller of open and
close) so that its extremes are exactly the day's high and low. Minute volumes and trade counts
are integer allocations of the day's totals. Aggregating a day's minutes therefore gives that
day's open, high, low, close, volume and trade count exactly; only VWAP is approximate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantumtrade.marketdata.simulator.calendar import DAY_NS, MINUTE_NS
from quantumtrade.marketdata.simulator.model import VOLUME_MULT, Block
from quantumtrade.marketdata.simulator.universe import SymbolSpec

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Quoting increments as in Reg NMS: a cent, or a hundredth of a cent below one dollar.
MIN_TICK = 1e-4
# Volumes are floored so that every minute of even a 24-hour day gets at least a lot and a trade.
MIN_DAY_LOTS = 2 * 1440
MIN_DAY_TRADES = 1440


def round_price(values: FloatArray) -> FloatArray:
    """Round to the quoting increment; monotone, so rounding never reorders prices."""
    rounded: FloatArray = np.maximum(
        np.where(values < 1.0, np.round(values, 4), np.round(values, 2)), MIN_TICK
    )
    return rounded


def price_tick(prices: FloatArray) -> FloatArray:
    ticks: FloatArray = np.where(prices < 1.0, MIN_TICK, 0.01)
    return ticks


@dataclass(frozen=True, slots=True)
class DayBook:
    """Daily bars of one symbol for every day of one model block, in one calendar mode."""

    log_open: FloatArray
    log_high: FloatArray
    log_low: FloatArray
    log_close: FloatArray
    var: FloatArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    vwap: FloatArray
    lots: IntArray
    trade_count: IntArray


def build_day_book(
    block: Block,
    i: int,
    *,
    offset: float,
    previous_close: tuple[float, float],
    spec: SymbolSpec,
    session: bool,
) -> DayBook:
    """Build the daily bars of symbol ``i`` for a block.

    ``session`` days open after an overnight gap and bridge only the intraday return; 24-hour
    days open at the previous close. ``previous_close`` is the (log, rounded) close of the day
    before the block.
    """
    c = block.log_close[:, i] + offset
    if session:
        o = c - block.intra[:, i]
        var = block.sd_intra[:, i] ** 2
    else:
        o = np.concatenate([[previous_close[0]], c[:-1]])
        var = block.sd_gap[:, i] ** 2 + block.sd_intra[:, i] ** 2
    top, bottom = np.maximum(o, c), np.minimum(o, c)
    move = top - bottom
    # Inverse of P(max excursion > y) = exp(-2 y (y + |c - o|) / var) for a Brownian bridge.
    up = (np.sqrt(move**2 - 2.0 * var * np.log1p(-block.u_high[:, i])) - move) / 2.0
    down = (np.sqrt(move**2 - 2.0 * var * np.log1p(-block.u_low[:, i])) - move) / 2.0
    h, lo = top + up, bottom - down
    close = round_price(np.exp(c))
    # A 24-hour market opens exactly where it closed.
    open_ = round_price(np.exp(o)) if session else np.concatenate([[previous_close[1]], close[:-1]])
    high = np.maximum(round_price(np.exp(h)), np.maximum(open_, close))
    low = np.minimum(round_price(np.exp(lo)), np.minimum(open_, close))

    regime = block.regime
    sd = np.sqrt(block.sd_gap[:, i] ** 2 + block.sd_intra[:, i] ** 2)
    activity = 0.7 + 0.3 * np.abs(block.ret[:, i]) / np.maximum(sd, 1e-12)
    lots_mean = spec.avg_volume / spec.lot_size
    noise = np.exp(0.3 * block.z_volume[:, i] - 0.045)
    lots_f = lots_mean * noise * VOLUME_MULT[regime] * block.weight[:, i] * activity
    lots = np.maximum(np.rint(lots_f), MIN_DAY_LOTS).astype(np.int64)
    trades_f = lots * spec.lot_size / spec.avg_trade_size * np.exp(0.1 * block.z_count[:, i])
    trade_count = np.maximum(np.rint(trades_f), MIN_DAY_TRADES).astype(np.int64)
    # The minute VWAPs average a path that mostly wanders between open and close.
    vwap = np.clip(0.3 * (open_ + close) + 0.2 * (high + low), low, high)
    return DayBook(o, h, lo, c, var, open_, high, low, close, vwap, lots, trade_count)


@dataclass(frozen=True, slots=True)
class MinuteDay:
    """The minute bars of one symbol's session."""

    time_ns: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    lots: IntArray
    vwap: FloatArray
    trade_count: IntArray


@functools.lru_cache(maxsize=64)
def _shapes(n: int, first_minute: int, session: bool) -> tuple[FloatArray, FloatArray]:
    """Return (variance share, volume weight) per minute; each sums to one."""
    k = np.arange(n, dtype=np.float64)
    if session:
        # U-shape in minutes from the open and to the close, so early closes keep it.
        variance = 1.0 + 2.5 * np.exp(-k / 12.0) + 0.6 * np.exp(-(n - 1 - k) / 20.0)
        volume = 1.0 + 3.0 * np.exp(-k / 15.0) + 2.5 * np.exp(-(n - 1 - k) / 15.0)
    else:
        hours = (first_minute + k) / 60.0
        variance = 1.0 + 0.35 * np.cos(2 * np.pi * (hours - 15.5) / 24.0)
        volume = variance.copy()
    variance /= variance.sum()
    volume /= volume.sum()
    variance.setflags(write=False)
    volume.setflags(write=False)
    return variance, volume


def allocate(total: int, weights: FloatArray) -> IntArray:
    """Split ``total`` into integers, at least one each, summing exactly to ``total``."""
    n = len(weights)
    share = weights / weights.sum()
    parts: IntArray = 1 + np.floor((total - n) * share).astype(np.int64)
    parts[int(np.argmax(share))] += total - int(parts.sum())
    return parts


def build_minute_day(
    book: DayBook,
    j: int,
    *,
    start_ns: int,
    n: int,
    session: bool,
    rng: np.random.Generator,
) -> MinuteDay:
    """Bridge day ``j`` of ``book`` with ``n`` minute bars starting at ``start_ns``."""
    o, h, lo, c, var = (
        float(book.log_open[j]),
        float(book.log_high[j]),
        float(book.log_low[j]),
        float(book.log_close[j]),
        float(book.var[j]),
    )
    variance, volume_shape = _shapes(n, (start_ns % DAY_NS) // MINUTE_NS, session)
    z = rng.standard_normal(n)
    wicks = np.abs(rng.standard_normal((2, n)))
    z_volume = rng.standard_normal(n)

    sd = np.sqrt(var * variance) + 1e-12
    walk = o + np.cumsum(z * sd)
    # Spread the miss over the day in proportion to variance, not clock time.
    walk -= np.cumsum(variance) * (walk[-1] - c)
    points = np.concatenate([[o], walk])
    points[-1] = c
    firsts, lasts = points[:-1], points[1:]
    highs = np.maximum(firsts, lasts) + 0.5 * sd * wicks[0] + 1e-12
    lows = np.minimum(firsts, lasts) - 0.5 * sd * wicks[1] - 1e-12
    top, bottom = max(o, c), min(o, c)
    up = (h - top) / (float(highs.max()) - top)
    down = (bottom - lo) / (bottom - float(lows.min()))

    def stretch(x: FloatArray) -> FloatArray:
        stretched: FloatArray = np.where(
            x > top, top + (x - top) * up, np.where(x < bottom, bottom - (bottom - x) * down, x)
        )
        return stretched

    day_open, day_close = float(book.open[j]), float(book.close[j])
    day_high, day_low = float(book.high[j]), float(book.low[j])
    prices = np.clip(round_price(np.exp(stretch(points))), day_low, day_high)
    prices[0], prices[-1] = day_open, day_close
    opens, closes = prices[:-1], prices[1:]
    high = np.clip(round_price(np.exp(stretch(highs))), day_low, day_high)
    low = np.clip(round_price(np.exp(stretch(lows))), day_low, day_high)
    high = np.maximum(high, np.maximum(opens, closes))
    low = np.minimum(low, np.minimum(opens, closes))
    high[int(np.argmax(high))] = day_high
    low[int(np.argmin(low))] = day_low

    moves = np.abs(np.diff(points)) / sd
    lots = allocate(int(book.lots[j]), volume_shape * np.exp(0.4 * z_volume) * (1 + 0.5 * moves))
    trade_count = allocate(int(book.trade_count[j]), lots.astype(np.float64))
    vwap = (opens + high + low + closes) / 4.0
    times = start_ns + np.arange(n, dtype=np.int64) * MINUTE_NS
    return MinuteDay(times, opens.copy(), high, low, closes.copy(), lots, vwap, trade_count)


@dataclass(frozen=True, slots=True)
class MinuteTicks:
    """The sampled tape of one minute: each tick is a quote update and a trade."""

    time_ns: IntArray
    price: FloatArray
    size: FloatArray
    bid: FloatArray
    ask: FloatArray
    bid_size: FloatArray
    ask_size: FloatArray


def build_ticks(
    bar: tuple[float, float, float, float],
    *,
    lots: int,
    minute_ns: int,
    rate: float,
    spread: float,
    spec: SymbolSpec,
    rng: np.random.Generator,
) -> MinuteTicks:
    """Sample ``rate`` ticks a second inside one minute bar.

    The first tick trades at the bar's open, the last at its close, and two in between at its
    high and low, so the tape agrees with the bar. A buy lifts the ask and a sell hits the bid,
    so every trade prints at the quote it met; ``spread`` is a fraction of the price.
    """
    bar_open, bar_high, bar_low, bar_close = bar
    count = int(min(max(rng.poisson(rate * 60.0), 4), lots))
    offsets = np.sort(rng.integers(1, MINUTE_NS // 1000, count - 1)) * 1000
    times = minute_ns + np.concatenate([[0], offsets]).astype(np.int64)
    # Too few lots for four ticks (never in the default universe): open and close only.
    inner = rng.choice(count - 2, 2, replace=False) + 1 if count >= 4 else np.empty(0, np.int64)
    anchors = np.array([0, *inner.tolist(), count - 1], dtype=np.int64)
    values = np.array([bar_open, bar_high, bar_low, bar_close])[[0, *range(1, len(inner) + 1), 3]]
    order = np.argsort(anchors)
    path = np.interp(np.arange(count), anchors[order], values[order])
    path += rng.standard_normal(count) * (bar_high - bar_low) * 0.15
    price = np.clip(round_price(path), bar_low, bar_high)
    price[anchors] = values

    tick = price_tick(price)
    raw = price * spread * np.exp(0.25 * rng.standard_normal(count))
    widths = np.maximum(np.rint(raw / tick), 1.0) * tick
    coin = rng.random(count) < 0.5
    change = np.diff(price, prepend=price[0])
    buy = np.where(change > 0, True, np.where(change < 0, False, coin))
    buy &= price - widths >= MIN_TICK  # no bid below the smallest price
    bid = np.where(buy, round_price(price - widths), price)
    ask = np.where(buy, price, round_price(price + widths))
    quote_lots = spec.quote_size / spec.lot_size
    sizes = np.maximum(np.rint(quote_lots * np.exp(0.6 * rng.standard_normal((2, count)))), 1)
    trade_lots = allocate(lots, np.exp(0.8 * rng.standard_normal(count)))
    return MinuteTicks(
        time_ns=times,
        price=price,
        size=(trade_lots * spec.lot_size).astype(np.float64),
        bid=bid,
        ask=ask,
        bid_size=sizes[0] * spec.lot_size,
        ask_size=sizes[1] * spec.lot_size,
    )
