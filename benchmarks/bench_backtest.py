"""Time signals + engine + metrics for every built-in strategy on 1,000,000 bars.

Run with ``python benchmarks/bench_backtest.py [bars] [repeats]``. The first call compiles the
numba kernels (unless they are cached on disk); that time is reported on its own and kept out
of the per-strategy figures, which are the best of ``repeats`` runs (5 by default). Three
figures per strategy: ``run_strategy`` from the DataFrame (checks, signals, engine, metrics,
trades DataFrame, equity and position Series), ``evaluate_strategy`` on ``BarArrays`` checked
once (signals, engine, metrics dict), and a last ``sma_crossover (plain)`` row with no stops,
fees or slippage, the rules ``bench_vectorbt.py`` runs in vectorbt.

``make_bars`` imports nothing from quantumtrade so that ``bench_vectorbt.py`` can reuse it
from another environment.
"""

from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np
import pandas as pd

DEFAULT_REPEATS = 5


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


def quoted_bars(n: int, seed: int = 42, tz: str | None = "UTC") -> pd.DataFrame:
    """A seeded random walk of minute bars, every price quoted to $0.0001, as minute files are."""
    rng = np.random.default_rng(seed)
    close = np.round(50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n))), 4)
    open_ = np.round(np.r_[close[0], close[:-1]] * (1 + rng.normal(0.0, 0.0005, n)), 4)
    spread = np.abs(rng.normal(0.0, 0.001, n)) * close
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.round(np.maximum(open_, close) + spread, 4),
            "low": np.round(np.minimum(open_, close) - spread, 4),
            "close": close,
            "volume": 1_000.0,
        },
        index=pd.date_range("2024-01-02 14:30", periods=n, freq="min", tz=tz),
    )


def best_of(repeats: int, run: object) -> float:
    assert callable(run)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    from quantumtrade.backtest.engine import (
        BacktestConfig,
        BarArrays,
        evaluate_strategy,
        run_backtest,
        run_strategy,
    )
    from quantumtrade.backtest.strategies import STRATEGIES

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_REPEATS
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()}")
    print(f"python {platform.python_version()} | CPUs: {os.cpu_count()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    config = BacktestConfig(
        slippage_bps=1.0,
        per_share=0.005,
        per_share_min=1.0,
        stop_loss=0.02,
        take_profit=0.04,
        periods_per_year=252 * 390,
    )
    plain = BacktestConfig(periods_per_year=252 * 390)
    started = time.perf_counter()
    small = make_bars(100)
    run_backtest(small, np.zeros(100, dtype=np.int8), config)
    for name in STRATEGIES:
        run_strategy(small, name, {"allow_short": True}, config)
        evaluate_strategy(BarArrays.from_frame(small), name, {"allow_short": True}, config)
    first = time.perf_counter() - started
    print(f"first call (JIT compile or on-disk cache load, all strategies): {first:.2f} s")

    bars = make_bars(n)
    arrays = BarArrays.from_frame(bars)
    print(f"{n:,} one-minute bars, best of {repeats}")
    header = f"{'strategy':<24}{'run_strategy s':>16}{'bars/s':>14}"
    print(f"{header}{'evaluate s':>12}{'bars/s':>14}{'trades':>9}")
    cases = [(name, config) for name in STRATEGIES] + [("sma_crossover (plain)", plain)]
    for label, cfg in cases:
        name = label.split()[0]
        params = {"allow_short": True}
        full = best_of(repeats, lambda: run_strategy(bars, name, params, cfg))  # noqa: B023
        lean = best_of(repeats, lambda: evaluate_strategy(arrays, name, params, cfg))  # noqa: B023
        trades = len(run_strategy(bars, name, params, cfg).trades)
        print(
            f"{label:<24}{full:>16.4f}{n / full:>14,.0f}{lean:>12.4f}{n / lean:>14,.0f}{trades:>9,}"
        )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
