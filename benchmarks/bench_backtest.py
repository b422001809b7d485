"""Time signals + engine + metrics for every built-in strategy on 1,000,000 bars.

Run with ``python benchmarks/bench_backtest.py [bars]``. The first call compiles the numba
kernels (unless they are cached on disk); that time is reported on its own and kept out of
the per-strategy figures, which are the best of three runs.
"""

from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np
import pandas as pd

from quantumtrade.backtest.engine import BacktestConfig, run_backtest, run_strategy
from quantumtrade.backtest.strategies import STRATEGIES

REPEATS = 3


def make_bars(n: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.0002, n))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.0005, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.0005, n))
    volume = rng.integers(100, 10_000, n).astype(np.float64)
    index = pd.date_range("2020-01-02 14:30", periods=n, freq="min", tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()}")
    print(f"python {platform.python_version()} | CPUs: {os.cpu_count()}")
    config = BacktestConfig(
        slippage_bps=1.0,
        per_share=0.005,
        per_share_min=1.0,
        stop_loss=0.02,
        take_profit=0.04,
        periods_per_year=252 * 390,
    )
    started = time.perf_counter()
    small = make_bars(100)
    run_backtest(small, np.zeros(100, dtype=np.int8), config)
    for name in STRATEGIES:
        run_strategy(small, name, {"allow_short": True}, config)
    first = time.perf_counter() - started
    print(f"first call (JIT compile or on-disk cache load, all strategies): {first:.2f} s")

    bars = make_bars(n)
    print(f"{n:,} one-minute bars")
    print(f"{'strategy':<16}{'seconds':>10}{'bars/s':>14}{'trades':>10}")
    for name in STRATEGIES:
        best = float("inf")
        trades = 0
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            result = run_strategy(bars, name, {"allow_short": True}, config)
            best = min(best, time.perf_counter() - t0)
            trades = len(result.trades)
        print(f"{name:<16}{best:>10.3f}{n / best:>14,.0f}{trades:>10,}")


if __name__ == "__main__":
    main()
