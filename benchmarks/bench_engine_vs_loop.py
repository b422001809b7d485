"""Our SMA crossover backtest beside a single-loop numba implementation of the same rules.

    .venv/bin/python benchmarks/bench_engine_vs_loop.py [bars] [repeats]

The loop is what a quant would write to get the answer as fast as possible: one numba pass
over the bars that keeps the two window sums, crosses them, trades all cash in at the next
open and tracks the equity, returning only the final equity and the trade count. Ours is
``run_strategy`` (checks, signals, the engine, every metric, the trades DataFrame and the
equity and position Series), then its parts: signals, the bar loop with metrics
(``evaluate_signals``), and the frames. Both run in this process, best of ``repeats`` after a
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

from quantumtrade.backtest.engine import (
    BacktestConfig,
    BarArrays,
    evaluate_signals,
    run_strategy,
    strategy_signals,
)


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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
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
    print(f"  the rest (frames, Series): {rest * 1e3:6.1f} ms")
    print(
        f"final equity: ours {ours.equity.iloc[-1]:.4f} ({len(ours.trades)} closed trades), "
        f"loop {loop_equity:.4f} ({loop_trades})"
    )


if __name__ == "__main__":
    main()
