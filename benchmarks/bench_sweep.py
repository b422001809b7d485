"""Time a 1,000-combination SMA crossover sweep over 1,000,000 one-minute bars.

Run with ``python benchmarks/bench_sweep.py [bars] [workers] [--no-share]``. The figure covers
the whole sweep as a caller sees it: starting the worker processes, sending them the bars once,
and backtesting and scoring every combination. The machine's load average is printed beside it,
since other work on the machine slows a pool that wants every core. ``--no-share`` recomputes
each SMA for every combination (``share_indicators=False``), the path before indicators were
shared; the best parameters must come out the same.
"""

from __future__ import annotations

import os
import platform
import sys
import time

from bench_backtest import make_bars
from bench_regime import cpu_reference

from quantumtrade.backtest.compute import LocalBackend
from quantumtrade.backtest.engine import BacktestConfig, run_strategy
from quantumtrade.backtest.optimize import grid_search

GRID = {"fast": list(range(2, 42)), "slow": list(range(50, 300, 10))}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    share = "--no-share" not in sys.argv
    n = int(args[0]) if args else 1_000_000
    workers = int(args[1]) if len(args) > 1 else 2
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()}")
    print(f"python {platform.python_version()} | CPUs: {os.cpu_count()} | workers: {workers}")
    print(f"CPU reference loop: {cpu_reference():.3f} s (lower is faster)")
    config = BacktestConfig(
        slippage_bps=1.0, per_share=0.005, per_share_min=1.0, periods_per_year=252 * 390
    )
    bars = make_bars(n)
    run_strategy(bars.iloc[:200], "sma_crossover", {"fast": 2, "slow": 50}, config)
    combinations = len(GRID["fast"]) * len(GRID["slow"])
    print(f"{combinations:,} combinations over {n:,} one-minute bars")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    started = time.perf_counter()
    with LocalBackend(max_workers=workers) as backend:
        report = grid_search(
            bars, "sma_crossover", GRID, config=config, backend=backend, share_indicators=share
        )
    seconds = time.perf_counter() - started
    print(f"load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    kind = "shared" if share else "unshared"
    rate = report.combinations / seconds
    print(f"sweep ({kind} indicators): {seconds:.1f} s, {rate:,.1f} combinations/s")
    best = report.best
    print(f"best by sharpe: {best.params} sharpe {best.score:.3f}")


if __name__ == "__main__":
    main()
