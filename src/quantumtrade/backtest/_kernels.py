"""Numba kernels of the backtest engine: fill prices, fees and the bar loop.

The price and fee arithmetic mirrors ``domain.execution`` in float64: fixed-bps slippage
(``FixedBps``), the US tick grid rounded against the trader (``quantize_price``), and commissions
rounded up to the cent then clamped (``PerShare`` and ``Percentage``).

Tick rounding is an option of the bar loop (``TICK_*``): off, fills happen at the modelled price
exactly and cash moves by the exact value of each fill; on (the US rule or a fixed tick), prices
go on the grid against the trader and cash moves by the value rounded to the cent, as the paper
ledger books it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from quantumtrade.domain.metrics import SUMMARY_BLOCK, summary_feed

FloatArray = npt.NDArray[np.float64]
Int8Array = npt.NDArray[np.int8]

# Prices and fees within this many ticks of a grid point count as on it, so float noise
# (1.1 * 100 = 110.00000000000001) never rounds a whole cent up by another cent.
_GRID_TOLERANCE = 1e-6

EXIT_SIGNAL = 0
EXIT_STOP = 1
EXIT_TAKE_PROFIT = 2

SIZE_FIXED_QTY = 0
SIZE_FIXED_FRACTION = 1
SIZE_VOL_TARGET = 2

TICK_OFF = 0  # the modelled price exactly, cash to full precision
TICK_US = 1  # $0.01 at or above $1, $0.0001 below; cash to the cent
TICK_FIXED = 2  # a given tick size; cash to the cent

# The smallest quantity step of fractional sizing, the paper ledger's (``QTY_STEP``).
QTY_UNITS = 1e9


@njit(cache=True)
def _to_grid(value: float, step: float, up: bool) -> float:  # pragma: no cover
    units = value / step
    nearest = np.round(units)
    if abs(units - nearest) < _GRID_TOLERANCE:
        units = nearest
    return (math.ceil(units) if up else math.floor(units)) * step


@njit(cache=True)
def quantize_price(price: float, is_buy: bool) -> float:  # pragma: no cover
    """Round ``price`` onto the tick grid against the trader (a buy up, a sell down)."""
    step = 0.01 if price >= 1.0 else 0.0001
    out = _to_grid(price, step, is_buy)
    return max(out, 0.0001)


@njit(cache=True)
def cents(value: float) -> float:  # pragma: no cover
    """Round an amount of money to the cent, half to even, as the paper ledger books it.

    A value within float noise of half a cent counts as the tie it stands for.
    """
    units = value * 100.0
    low = math.floor(units)
    fraction = units - low
    if abs(fraction - 0.5) < _GRID_TOLERANCE:
        rounded = low if low % 2.0 == 0.0 else low + 1.0
    elif fraction > 0.5:
        rounded = low + 1.0
    else:
        rounded = low
    return rounded / 100.0


@njit(cache=True)
def fill_price(reference: float, is_buy: bool, slippage_bps: float) -> float:  # pragma: no cover
    """Return the market fill price: ``reference`` moved adversely by bps, on the US tick grid."""
    return modelled_fill_price(reference, is_buy, slippage_bps, TICK_US, 0.0)


@njit(cache=True)
def grid_price(
    price: float, is_buy: bool, tick_mode: int, tick: float
) -> float:  # pragma: no cover
    """Put ``price`` on the configured tick grid against the trader, or leave it (``TICK_OFF``)."""
    if tick_mode == TICK_US:
        return quantize_price(price, is_buy)
    if tick_mode == TICK_FIXED:
        return max(_to_grid(price, tick, is_buy), tick)
    return price


@njit(cache=True)
def modelled_fill_price(
    reference: float, is_buy: bool, slippage_bps: float, tick_mode: int, tick: float
) -> float:  # pragma: no cover
    """Return the market fill price: ``reference`` moved adversely by bps, then the tick rule."""
    adjustment = reference * slippage_bps * 1e-4
    slipped = reference + adjustment if is_buy else reference - adjustment
    return grid_price(max(slipped, 0.0001), is_buy, tick_mode, tick)


@njit(cache=True)
def _book(value: float, tick_mode: int) -> float:  # pragma: no cover
    # The cash a fill of this value moves: to the cent as the ledger books it, or exact.
    return value if tick_mode == TICK_OFF else cents(value)


@njit(cache=True)
def _whole(size: float, fractional: bool) -> float:  # pragma: no cover
    # Round a size down: to whole shares, or to the ledger's quantity step.
    if fractional:
        return math.floor(size * QTY_UNITS) / QTY_UNITS
    return math.floor(size)


@njit(cache=True)
def _clamp_fee(amount: float, minimum: float, maximum: float) -> float:  # pragma: no cover
    # No fee part (a zero rate) skips the grid arithmetic: zero is on every grid.
    fee = _to_grid(amount, 0.01, True) if amount != 0.0 else 0.0
    return min(max(fee, minimum), maximum)


@njit(cache=True)
def commission(
    qty: float,
    price: float,
    per_share: float,
    per_share_min: float,
    per_share_max: float,
    percentage: float,
    percentage_min: float,
    percentage_max: float,
) -> float:  # pragma: no cover
    """Return the commission on one fill: a per-share part plus a percentage part."""
    if qty == 0.0:
        return 0.0
    size = abs(qty)
    return _clamp_fee(size * per_share, per_share_min, per_share_max) + _clamp_fee(
        size * price * percentage, percentage_min, percentage_max
    )


@njit(cache=True)
def _trailing_vol(close: FloatArray, end: int, lookback: int) -> float:  # pragma: no cover
    # Standard deviation (ddof=1) of the close-to-close returns ending at bar ``end``.
    if end < lookback or lookback < 2:
        return np.nan
    total = 0.0
    total_sq = 0.0
    for k in range(end - lookback + 1, end + 1):
        r = close[k] / close[k - 1] - 1.0
        total += r
        total_sq += r * r
    mean = total / lookback
    var = (total_sq - lookback * mean * mean) / (lookback - 1)
    return math.sqrt(var) if var > 0.0 else 0.0


@njit(cache=True, inline="always")
def _fee(qty: float, price: float, fees: FloatArray) -> float:  # pragma: no cover
    return commission(qty, price, fees[0], fees[1], fees[2], fees[3], fees[4], fees[5])


@njit(cache=True, inline="always")
def _record_exit(
    trades: FloatArray,
    reasons: Int8Array,
    row: int,
    entry_idx: int,
    exit_idx: int,
    side: int,
    qty: float,
    entry_price: float,
    entry_fee: float,
    price: float,
    reason: int,
    fees: FloatArray,
    tick_mode: int,
) -> float:  # pragma: no cover
    # Record the closed trade in ``row``; return the cash the exit fill brings in.
    fee = _fee(qty, price, fees)
    trades[0, row] = entry_idx
    trades[1, row] = exit_idx
    trades[2, row] = side
    trades[3, row] = qty
    trades[4, row] = entry_price
    trades[5, row] = price
    trades[6, row] = entry_fee + fee
    trades[7, row] = side * qty * (price - entry_price) - entry_fee - fee
    reasons[row] = reason
    return side * _book(qty * price, tick_mode) - fee


@njit(cache=True, inline="always")
def _protective_exit(
    side: int,
    entry_price: float,
    stop_loss: float,
    take_profit: float,
    open_: float,
    high: float,
    low: float,
    slippage_bps: float,
    tick_mode: int,
    tick: float,
) -> tuple[int, float]:  # pragma: no cover
    # The stop or take-profit exit an open position meets during the bar: (reason, price),
    # or (-1, 0.0) when neither is touched. A gap through the level fills at the open.
    if side == 1:
        stop = entry_price * (1.0 - stop_loss)
        limit = entry_price * (1.0 + take_profit)
        if low <= stop:
            return EXIT_STOP, modelled_fill_price(
                min(open_, stop), False, slippage_bps, tick_mode, tick
            )
        if high >= limit:
            return EXIT_TAKE_PROFIT, grid_price(max(open_, limit), False, tick_mode, tick)
    else:
        stop = entry_price * (1.0 + stop_loss)
        limit = entry_price * (1.0 - take_profit)
        if high >= stop:
            return EXIT_STOP, modelled_fill_price(
                max(open_, stop), True, slippage_bps, tick_mode, tick
            )
        if low <= limit:
            return EXIT_TAKE_PROFIT, grid_price(min(open_, limit), True, tick_mode, tick)
    return -1, 0.0


@njit(cache=True, inline="always")
def _protect(
    trades: FloatArray,
    reasons: Int8Array,
    count: int,
    i: int,
    cash: float,
    side: int,
    qty: float,
    entry: tuple[int, float, float],
    stop_loss: float,
    take_profit: float,
    bar: tuple[float, float, float],
    slippage_bps: float,
    fees: FloatArray,
    tick_mode: int,
    tick: float,
) -> tuple[float, int, int, float]:  # pragma: no cover
    # Close the position (side, qty; ``entry`` is its bar, price and fee) at its stop or
    # take-profit if bar ``i`` (open, high, low) meets one. Returns the cash, the trade count,
    # the side and the quantity after the bar's protective exit, if any.
    entry_idx, entry_price, entry_fee = entry
    reason, price = _protective_exit(
        side, entry_price, stop_loss, take_profit, bar[0], bar[1], bar[2], slippage_bps,
        tick_mode, tick,
    )  # fmt: skip
    if reason < 0:
        return cash, count, side, qty
    cash += _record_exit(
        trades, reasons, count, entry_idx, i, side, qty, entry_price, entry_fee, price, reason,
        fees, tick_mode,
    )  # fmt: skip
    return cash, count + 1, 0, 0.0


@njit(cache=True, inline="always")
def _run(
    bars: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    target: Int8Array,
    rules: tuple[bool, float, int, float, float, float, int, float, float, float, float, float],
    fees: FloatArray,
    ticks: tuple[int, float, bool],
    out: tuple[FloatArray, FloatArray, FloatArray],
    has_exits: bool,
) -> tuple[FloatArray, Int8Array, FloatArray]:  # pragma: no cover
    # run_kernel's loop. ``has_exits`` (a stop-loss or take-profit is set) is a constant at
    # each of run_kernel's two call sites, so each gets a loop without the other's checks.
    open_, high, low, close = bars
    (
        fill_at_close, initial_cash, sizing, quantity, fraction, vol_target, vol_lookback,
        max_leverage, periods_per_year, stop_loss, take_profit, slippage_bps,
    ) = rules  # fmt: skip
    tick_mode, tick, fractional = ticks
    equity, position, summary = out
    n = close.shape[0]
    # Every trade opens where the target changes, so the changes bound the trade count.
    changes = 0
    last = 0
    for i in range(n):
        changes += target[i] != last
        last = target[i]
    trades = np.empty((8, changes), dtype=np.float64)
    reasons = np.empty(changes, dtype=np.int8)
    count = 0
    cash = initial_cash
    side = 0
    qty = 0.0
    entry_idx = 0
    entry_price = 0.0
    entry_fee = 0.0
    acted = 0  # the target last acted on; a stopped-out trade waits for the signal to change
    # The equity has one slot per bar, or one block's slots reused block after block; the
    # positions always one block's, which the metrics summary reads before the next block.
    equity_kept = equity.shape[0] == n
    for lo in range(0, n, SUMMARY_BLOCK):
        hi = min(lo + SUMMARY_BLOCK, n)
        base = 0 if equity_kept else lo  # bar lo's equity slot is lo - base
        for i in range(lo, hi):
            # The bar's events in order: an order decided at the last close fills at the open;
            # protective exits happen during the bar; an order decided at this close fills at it.
            signal_bar = i if fill_at_close else i - 1
            new_target = signal_bar >= 0 and target[signal_bar] != acted
            if has_exits and fill_at_close and side != 0:
                cash, count, side, qty = _protect(
                    trades, reasons, count, i, cash, side, qty, (entry_idx, entry_price, entry_fee),
                    stop_loss, take_profit, (open_[i], high[i], low[i]), slippage_bps, fees,
                    tick_mode, tick,
                )  # fmt: skip
            if new_target:
                desired = int(target[signal_bar])
                acted = desired
                reference = close[i] if fill_at_close else open_[i]
                if side != 0:
                    price = modelled_fill_price(
                        reference, side == -1, slippage_bps, tick_mode, tick
                    )
                    cash_in = _record_exit(
                        trades, reasons, count, entry_idx, i, side, qty, entry_price, entry_fee,
                        price, EXIT_SIGNAL, fees, tick_mode,
                    )  # fmt: skip
                    cash += cash_in
                    count += 1
                    side = 0
                    qty = 0.0
                size = 0.0
                price = modelled_fill_price(reference, desired == 1, slippage_bps, tick_mode, tick)
                if desired == 0:
                    pass
                elif sizing == SIZE_FIXED_QTY:
                    size = quantity
                elif sizing == SIZE_FIXED_FRACTION:
                    size = _whole(cash * fraction / price, fractional)
                else:
                    vol = _trailing_vol(close, signal_bar, vol_lookback) * math.sqrt(
                        periods_per_year
                    )
                    if vol > 0.0:
                        size = _whole(
                            min(vol_target / vol, max_leverage) * cash / price, fractional
                        )
                if size > 0.0:
                    fee = _fee(size, price, fees)
                    cash -= desired * _book(size * price, tick_mode) + fee
                    side = desired
                    qty = size
                    entry_idx = i
                    entry_price = price
                    entry_fee = fee
            if has_exits and not fill_at_close and side != 0:
                cash, count, side, qty = _protect(
                    trades, reasons, count, i, cash, side, qty, (entry_idx, entry_price, entry_fee),
                    stop_loss, take_profit, (open_[i], high[i], low[i]), slippage_bps, fees,
                    tick_mode, tick,
                )  # fmt: skip
            if side == 0:
                equity[i - base] = cash
                position[i - lo] = 0.0
            else:
                equity[i - base] = cash + side * _book(qty * close[i], tick_mode)
                position[i - lo] = side * qty
        summary_feed(summary, equity[lo - base : hi - base], position[: hi - lo])
    still_open = np.array([side, qty if side else 0.0, entry_idx if side else 0], dtype=np.float64)
    return trades[:, :count], reasons[:count], still_open


@njit(cache=True)
def run_kernel(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    target: Int8Array,
    fill_at_close: bool,
    initial_cash: float,
    sizing: int,
    quantity: float,
    fraction: float,
    vol_target: float,
    vol_lookback: int,
    max_leverage: float,
    periods_per_year: float,
    stop_loss: float,
    take_profit: float,
    slippage_bps: float,
    fees: FloatArray,
    tick_mode: int,
    tick: float,
    fractional: bool,
    equity: FloatArray,
    position: FloatArray,
    summary: FloatArray,
) -> tuple[FloatArray, Int8Array, FloatArray]:  # pragma: no cover
    """Trade ``target`` over the bars into ``equity`` and ``position``; return the trades.

    ``equity`` (any contents) gets the equity at each close: one slot per bar, or
    ``SUMMARY_BLOCK`` slots reused block after block where only the metrics need it.
    ``position`` (``SUMMARY_BLOCK`` slots) gets the signed position at each close of the
    block in hand, for the metrics. The caller allocates them, so a kept equity curve can be
    backed by huge pages (``backtest._memory.large_empty``). Each block of equity and
    positions is fed to the running metrics summary ``summary``
    (``domain.metrics.summary_start``) as soon as it is written, while it is still in cache.
    The return is (trades, exit reasons, still open): the last is the side, quantity and
    entry bar of the position held at the end (zeros when flat), which with the trades gives
    the position at every close (``fill_positions``).

    ``trades`` has one column per closed trade and one row per field, each row contiguous:
    entry index, exit index, side (+1/-1), qty, entry price, exit price, fees, P&L.
    ``fees`` holds the six commission parameters.
    ``stop_loss`` / ``take_profit`` are fractions of the entry price, NaN when off.
    ``tick_mode`` / ``tick`` pick the tick rule; ``fractional`` sizes to the ledger's quantity
    step instead of whole shares.
    """
    bars = (open_, high, low, close)
    rules = (
        fill_at_close, initial_cash, sizing, quantity, fraction, vol_target, vol_lookback,
        max_leverage, periods_per_year, stop_loss, take_profit, slippage_bps,
    )  # fmt: skip
    ticks = (tick_mode, tick, fractional)
    out = (equity, position, summary)
    if math.isnan(stop_loss) and math.isnan(take_profit):  # no protective exits
        return _run(bars, target, rules, fees, ticks, out, False)
    return _run(bars, target, rules, fees, ticks, out, True)


@njit(cache=True)
def fill_positions(
    out: FloatArray,
    entry: npt.NDArray[np.int64],
    exit_: npt.NDArray[np.int64],
    signed: FloatArray,
    still_open: FloatArray,
) -> None:  # pragma: no cover
    """Write into ``out`` the signed position at each close, as ``run_kernel`` holds it.

    A trade holds ``signed`` (side x quantity) from the close of its entry bar up to, not at,
    the close of its exit bar; ``still_open`` (side, quantity, entry bar) holds to the end.
    """
    out[:] = 0.0
    for k in range(entry.shape[0]):
        out[entry[k] : exit_[k]] = signed[k]
    if still_open[0] != 0.0:
        out[int(still_open[2]) :] = still_open[0] * still_open[1]


@njit(cache=True, error_model="numpy")
def prices_valid(
    open_: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray
) -> bool:  # pragma: no cover
    """Return whether every price is finite and above zero (NaN fails both comparisons).

    One pass over the four columns of one length, without a branch, so it runs in SIMD.
    """
    ok = True
    for i in range(close.shape[0]):
        o, h, lo, c = open_[i], high[i], low[i], close[i]
        ok &= (o > 0.0) & (o < math.inf) & (h > 0.0) & (h < math.inf)
        ok &= (lo > 0.0) & (lo < math.inf) & (c > 0.0) & (c < math.inf)
    return ok


@njit(cache=True)
def all_unit(signals: Int8Array) -> bool:  # pragma: no cover
    """Return whether every signal is -1, 0 or +1."""
    bad = False
    for i in range(signals.shape[0]):
        s = signals[i]
        bad |= s < -1 or s > 1
    return not bad
