"""Time ``quantumtrade backtest --data FILE.csv`` on a 1,000,000-bar minute file, and its parts.

    .venv/bin/python benchmarks/bench_cli_backtest.py [bars] [repeats]

Writes a seeded file of minute bars quoted to $0.0001 (ISO timestamps with ``Z``) to a temp
dir, then reports, best of ``repeats``:

- the whole command as a user runs it (SMA 10/30, every cost zero, ``--format json``), wall
  time of the process;
- the start-up imports alone: ``quantumtrade.cli`` imported in a new process as the
  ``backtest`` command imports it (its own module, not the other commands');
- the file read (``read_bar_file``: pyarrow's reader and the checks) and the compute
  (``runs.compute``: signals, engine, metrics, trade and equity frames), in this process
  after a warm-up, as the command runs them;
- the line-by-line reader the file used to go through, once.

A CPU reference loop is printed beside the figures, since this VM's speed drifts.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_regime import cpu_reference

from quantumtrade.backtest import runs
from quantumtrade.marketdata.csv import read_bar_file
from quantumtrade.marketdata.csv.reader import _read_csv_lines

BIN = Path(sys.executable).parent


def write_bars(path: Path, n: int) -> None:
    rng = np.random.default_rng(1)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.0005, n))), 4)
    open_ = np.round(np.r_[close[0], close[:-1]], 4)
    times = pd.date_range("2020-01-01", periods=n, freq="min", tz="UTC")
    pd.DataFrame(
        {
            "timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "open": open_,
            "high": np.round(np.maximum(open_, close) * 1.0003, 4),
            "low": np.round(np.minimum(open_, close) * 0.9997, 4),
            "close": close,
            "volume": rng.integers(100, 10_000, n),
        }
    ).to_csv(path, index=False)


def best_wall(command: list[str], repeats: int, cwd: Path) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()}")
    print(f"python {platform.python_version()} | CPUs: {os.cpu_count()}")
    print(f"CPU reference loop: {cpu_reference():.3f} s (lower is faster)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        path = work / "bars.csv"
        write_bars(path, n)
        days = n // 1440 + 2
        end = (pd.Timestamp("2020-01-01") + pd.Timedelta(days=days)).strftime("%Y-%m-%d")
        command = [
            str(BIN / "quantumtrade"), "backtest", "--strategy", "sma_crossover",
            "--symbol", "ACME", "--timeframe", "1Min", "--start", "2020-01-01", "--end", end,
            "--data", str(path), "--param", "fast=10", "--param", "slow=30",
            "--per-share", "0", "--percentage", "0", "--slippage-bps", "0", "--format", "json",
        ]  # fmt: skip
        env_dir = work / "data"
        env_dir.mkdir()
        whole = best_wall(command, repeats, env_dir)
        as_backtest = "import sys; sys.argv = ['quantumtrade', 'backtest']; import quantumtrade.cli"
        imports = best_wall([sys.executable, "-c", as_backtest], repeats, env_dir)

        spec = runs.prepare_backtest(
            strategy="sma_crossover",
            params={"fast": 10, "slow": 30},
            symbol="ACME",
            known_symbols={"ACME": "us_equity"},
            timeframe="1Min",
            start=pd.Timestamp("2020-01-01", tz="UTC").to_pydatetime(),
            end=pd.Timestamp(end, tz="UTC").to_pydatetime(),
            config={},
            bars_given=True,
        )
        bars = read_bar_file(path)
        runs.compute(bars, spec)  # warm-up: numba's cached kernels load
        read = compute = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            bars = read_bar_file(path)
            read = min(read, time.perf_counter() - started)
            started = time.perf_counter()
            metrics, _result = runs.compute(bars, spec)
            compute = min(compute, time.perf_counter() - started)
        started = time.perf_counter()
        _read_csv_lines(path)
        lines = time.perf_counter() - started
    print(f"{n:,} bars, {int(metrics['n_trades']):,} trades")
    print(f"whole command: {whole:.2f} s (best of {repeats})")
    print(f"imports (python starting, quantumtrade.cli for backtest): {imports:.2f} s")
    print(f"read (pyarrow + checks): {read:.2f} s; the line reader: {lines:.2f} s")
    print(f"compute (signals, engine, metrics, frames): {compute:.2f} s")


if __name__ == "__main__":
    main()
