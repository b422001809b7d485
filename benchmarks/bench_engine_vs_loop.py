"""Our SMA crossover backtest beside a single-loop numba implementation of the same rules.

    .venv/bin/python benchmarks/bench_engine_vs_loop.py [bars] [repeats]

``--parts`` also times pieces on their own: the price checks, the exact SMA window sums alone
(``domain.indicators.window_sums`` for both windows, what the signals cannot do without), the
metrics summary of a finished curve, filling a fresh 1,000,000-float array, and the trades
frame; the README weighs them against the 0.4x budget.

The loop is what a quant would write to get the answer as fast as possible: one numba pass
over the bars that keeps the two window sums, crosses them, trades all cash in at the next
open and tracks the equity, returning only the final equity and the trade count. Ours is
``run_strategy`` (checks, signals, the engine, every metric, the trades DataFrame and the
equity Series; the positions Series is built only when read), then its parts: signals, the
bar loop with metrics (``evaluate_signals``, which keeps no equity curve), and the rest (the
equity curve kept, the frames). Both run in this process, best of ``repeats`` after a
warm-up, on the same 1,000,000 quoted minute bars with every cost zero; the final equities are
printed side by side (the loop's running sums round differently, so a near-tie may cross apart).
"""

from __future__ import annotations

import math
import os
import platform
import sys

import numpy as np
from bench_backtest import best_of, quoted_bars
from bench_regime import cpu_reference
from numba import njit

from quantumtrade.backtest import _kernels
from quantumtrade.backtest._memory import large_empty
from quantumtrade.backtest.engine import (
    BacktestConfig,
    BarArrays,
    _simulate,
    _trade_frame,
    evaluate_signals,
    run_strategy,
    strategy_signals,
)
from quantumtrade.domain.indicators import window_sums
from quantumtrade.domain.metrics import performance_summary_values


@njit(cache=True)
def single_loop(
    open_: np.ndarray, close: np.ndarray, fast: int, slow: int, cash: float
) -> tuple[float, int]:  # pragma: no cover
    fast_sum = 0.0
    slow_sum = 0.0
    prev = np.nan
    state = 0
    held = 0
    qty = 0.0
    trades = 0
    pending = 0
    for i in range(close.shape[0]):
        if pending != held:  # the order decided at the last close fills at this open
            price = open_[i]
            if held != 0:
                cash += held * qty * price
                trades += 1
                qty = 0.0
            held = pending
            if held != 0:
                qty = math.floor(cash / price)
                cash -= held * qty * price
        fast_sum += close[i]
        slow_sum += close[i]
        if i >= fast:
            fast_sum -= close[i - fast]
        if i >= slow:
            slow_sum -= close[i - slow]
        if i >= slow - 1:
            diff = fast_sum / fast - slow_sum / slow
            if prev <= 0.0 and diff > 0.0:
                state = 1
            elif prev >= 0.0 and diff < 0.0:
                state = -1
            prev = diff
        pending = state
    return cash + held * qty * close[-1], trades


@njit(cache=True)
def both_window_sums(close: np.ndarray, fast: int, slow: int) -> float:  # pragma: no cover
    # The exact window sums of the two SMAs, block by block as the signal kernel takes them.
    f = np.empty(1024)
    s = np.empty(1024)
    check = 0.0
    for first in range(slow - 1, close.shape[0], 1024):
        m = min(1024, close.shape[0] - first)
        window_sums(close, fast, first, f[:m])
        window_sums(close, slow, first, s[:m])
        check += f[0] - s[0]
    return check


def parts(arrays: BarArrays, signals: np.ndarray, config: BacktestConfig, repeats: int) -> None:
    raw, reasons, _open, equity, _metrics = _simulate(arrays, signals, config)
    held = np.zeros(len(arrays))
    both_window_sums(arrays.close, 10, 30)
    timings = {
        "price checks (4 columns)": lambda: _kernels.prices_valid(
            arrays.open, arrays.high, arrays.low, arrays.close
        ),
        "exact window sums alone": lambda: both_window_sums(arrays.close, 10, 30),
        "metrics of a finished curve": lambda: performance_summary_values(
            equity, trades_pl=raw[7], positions=held
        ),
        "a fresh 1M-float array filled": lambda: large_empty(len(arrays)).fill(1.0),
        "trades frame": lambda: _trade_frame(arrays.index, raw, reasons),
    }
    for name, run in timings.items():
        run()
        print(f"  part: {name:31s} {best_of(repeats, run) * 1e3:6.1f} ms")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1_000_000
    repeats = int(args[1]) if len(args) > 1 else 7
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()}")
    print(f"python {platform.python_version()} | CPUs: {os.cpu_count()}")
    print(f"CPU reference loop: {cpu_reference():.3f} s (lower is faster)")
    bars = quoted_bars(n)
    params = {"fast": 10, "slow": 30, "allow_short": True}
    config = BacktestConfig(initial_cash=27_000.0, sizing="all_in")
    open_, close = bars["open"].to_numpy(), bars["close"].to_numpy()
    arrays = BarArrays.from_frame(bars)
    signals = strategy_signals(arrays, "sma_crossover", params)
    loop_equity, loop_trades = single_loop(open_, close, 10, 30, 27_000.0)  # compile or load
    ours = run_strategy(bars, "sma_crossover", params, config)
    evaluate_signals(arrays, signals, config)

    loop = best_of(repeats, lambda: single_loop(open_, close, 10, 30, 27_000.0))
    whole = best_of(repeats, lambda: run_strategy(bars, "sma_crossover", params, config))
    signal_time = best_of(repeats, lambda: strategy_signals(arrays, "sma_crossover", params))
    engine_time = best_of(repeats, lambda: evaluate_signals(arrays, signals, config))
    checks = best_of(repeats, lambda: BarArrays.from_frame(bars))
    print(f"{n:,} bars; best of {repeats}")
    print(f"single numba loop:   {loop * 1e3:7.1f} ms  ({n / loop / 1e6:5.1f} M bars/s)")
    print(f"run_strategy:        {whole * 1e3:7.1f} ms  ({n / whole / 1e6:5.1f} M bars/s)")
    print(f"  ratio (loop time / ours): {loop / whole:.2f}x of the loop's speed")
    print(f"  checks (BarArrays):       {checks * 1e3:7.1f} ms")
    print(f"  signals:                  {signal_time * 1e3:7.1f} ms")
    print(f"  bar loop + metrics:       {engine_time * 1e3:7.1f} ms")
    rest = whole - checks - signal_time - engine_time
    print(f"  the rest (equity kept, frames): {rest * 1e3:5.1f} ms")
    print(
        f"final equity: ours {ours.equity.iloc[-1]:.4f} ({len(ours.trades)} closed trades), "
        f"loop {loop_equity:.4f} ({loop_trades})"
    )
    if "--parts" in sys.argv:
        parts(arrays, signals, config, repeats)


if __name__ == "__main__":
    main()
