"""Time the SMA crossover in vectorbt on the bars of ``bench_backtest.py``, for comparison.

vectorbt is not a dependency of the project; install it in a separate environment and run
this file with that interpreter::

    python3 -m venv /tmp/vbt-venv && /tmp/vbt-venv/bin/pip install vectorbt
    /tmp/vbt-venv/bin/python benchmarks/bench_vectorbt.py [bars] [repeats]
    /tmp/vbt-venv/bin/python benchmarks/bench_vectorbt.py --agree [bars]

Without vectorbt it prints a message and exits with status 0.

What one timed run does (best of ``repeats``, after a warm-up run that compiles vectorbt's
numba code): ``vbt.MA.run`` of the close over 10 and 30 bars, ``ma_crossed_above`` /
``ma_crossed_below`` as long and short entries, shifted one bar so each fills at the next
bar's open (``price=open``), ``Portfolio.from_signals`` with ``direction="both"``, all cash
in (``size=inf``) in whole shares, reversing on the opposite signal, then the metrics
(total and annualised return, volatility, Sharpe, Sortino, max drawdown, Calmar, trade count,
win rate, profit factor, expectancy). Two rule sets:

- ``plain``: no stops, fees or slippage (the ``sma_crossover (plain)`` row of
  ``bench_backtest.py`` runs the same rules in our engine);
- ``stops``: ``sl_stop=0.02``, ``tp_stop=0.04``, ``slippage=1 bp``, a fixed fee of $5 an
  order. Our engine's fee is $0.005 a share with a $1 minimum, which vectorbt cannot express;
  $5 is that fee on the ~1,000 shares $100,000 buys at ~$100.

**Agreement** (``--agree``): the SMA 10/30 crossover with every cost zero, all cash in, at
the next bar's open, through our engine (``tick_size`` off, ``sizing="all_in"``) and through
``Portfolio.from_signals`` fed the same target positions (our ``sma_crossover``'s, so the
comparison is of the engines, not of two rolling means that may break a near-tie differently),
on seeded 1,000,000-bar series quoted to $0.0001: seeds 1, 7 and 42, long-only and
long-short, fractional (``size=inf``) and whole shares (``size_granularity=1``). It prints the
closed trades each counts, the largest relative difference of their entry and exit prices and
of the two equity curves at every bar. The project's ``src`` is put on ``sys.path`` for the
engine (numba, NumPy and pandas come with vectorbt).

The bars get a tz-naive index (the same UTC times): with a tz-aware index under pandas 3,
vectorbt's result wrapping turns the index into Python Timestamp objects on every call, which
costs seconds per million bars and would measure that conversion rather than the backtest.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import DEFAULT_REPEATS, best_of, make_bars, quoted_bars

try:
    import numpy as np
    import pandas as pd
    import vectorbt as vbt
except ImportError:  # pragma: no cover
    vbt = None

PERIODS_PER_YEAR = 252 * 390


def run(bars: pd.DataFrame, stops: bool) -> dict[str, float]:
    close, open_ = bars["close"], bars["open"]
    ma = vbt.MA.run(close, window=[10, 30], short_name="ma", param_product=False)
    fast, slow = ma.ma.iloc[:, 0], ma.ma.iloc[:, 1]
    up = (fast > slow) & (fast.shift(1) <= slow.shift(1))
    down = (fast < slow) & (fast.shift(1) >= slow.shift(1))
    entries = up.shift(1, fill_value=False).to_numpy()
    short_entries = down.shift(1, fill_value=False).to_numpy()
    extra: dict[str, object] = {}
    if stops:
        extra = {"sl_stop": 0.02, "tp_stop": 0.04, "slippage": 0.0001, "fixed_fees": 5.0}
    pf = vbt.Portfolio.from_signals(
        close,
        entries=entries,
        short_entries=short_entries,
        price=open_,
        open=open_,
        high=bars["high"],
        low=bars["low"],
        size=np.inf,
        size_granularity=1.0,
        init_cash=100_000.0,
        freq="1min",
        **extra,
    )
    trades = pf.trades
    return {
        "total_return": float(pf.total_return()),
        "cagr": float(pf.annualized_return()),
        "volatility": float(pf.annualized_volatility()),
        "sharpe": float(pf.sharpe_ratio()),
        "sortino": float(pf.sortino_ratio()),
        "max_drawdown": float(pf.max_drawdown()),
        "calmar": float(pf.calmar_ratio()),
        "n_trades": float(trades.count()),
        "win_rate": float(trades.win_rate()),
        "profit_factor": float(trades.profit_factor()),
        "expectancy": float(trades.expectancy()),
    }


def agreement(n: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from quantumtrade.backtest.engine import BacktestConfig, run_strategy
    from quantumtrade.backtest.strategies.trend import SmaCrossoverParams, sma_crossover

    print(f"{n:,} bars a series; relative differences, largest over every trade and bar")
    print(f"{'seed':>4} {'sides':<11}{'sizing':<11}{'trades':>12}{'prices':>11}{'equity':>11}")
    for seed in (1, 7, 42):
        bars = quoted_bars(n, seed, tz=None)
        close = bars["close"]
        for short in (False, True):
            params = SmaCrossoverParams(fast=10, slow=30, allow_short=short)
            target = sma_crossover(close.to_numpy(), params=params)
            held = np.r_[0, target[:-1]]
            # Orders go out at the next bar's open: shift the changes of target by one bar.
            enter = np.r_[False, ((target == 1) & (held != 1))[:-1]]
            leave_value = -1 if short else 0
            leave = np.r_[False, ((target == leave_value) & (held != leave_value))[:-1]]
            for fractional in (True, False):
                extra: dict[str, object] = {} if fractional else {"size_granularity": 1.0}
                sides = {"short_entries": leave} if short else {"exits": leave}
                pf = vbt.Portfolio.from_signals(
                    close, entries=enter, price=bars["open"], size=np.inf,
                    init_cash=27_000.0, freq="1min", **sides, **extra,
                )  # fmt: skip
                config = BacktestConfig(
                    initial_cash=27_000.0, sizing="all_in", fractional=fractional
                )
                ours = run_strategy(
                    bars.tz_localize("UTC"), "sma_crossover", params.__dict__, config
                )
                closed = pf.trades.records
                closed = closed[closed["status"] == 1]  # ours lists closed trades only
                prices = max(
                    float(np.max(np.abs(np.asarray(closed[c]) / ours.trades[c].to_numpy() - 1)))
                    for c in ("entry_price", "exit_price")
                )
                curve = np.max(np.abs(pf.value().to_numpy() / ours.equity.to_numpy() - 1))
                sides_label = "long-short" if short else "long-only"
                sizing = "fractional" if fractional else "whole"
                trades = f"{len(closed)}/{len(ours.trades)}"
                row = f"{seed:>4} {sides_label:<11}{sizing:<11}{trades:>12}"
                print(f"{row}{prices:>11.1e}{curve:>11.1e}")


def main() -> None:
    if vbt is None:
        print("vectorbt is not installed in this environment; nothing to compare (see docstring)")
        return
    if "--agree" in sys.argv:
        sizes = [a for a in sys.argv[1:] if not a.startswith("--")]
        agreement(int(sizes[0]) if sizes else 1_000_000)
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_REPEATS
    print(f"machine: {platform.platform()} | {platform.processor() or platform.machine()}")
    print(
        f"python {platform.python_version()} | CPUs: {os.cpu_count()} | vectorbt {vbt.__version__}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    vbt.settings.returns["year_freq"] = pd.Timedelta(minutes=PERIODS_PER_YEAR)
    started = time.perf_counter()
    for stops in (False, True):
        run(make_bars(500).tz_localize(None), stops)
    print(f"first call (numba compile or cache load): {time.perf_counter() - started:.2f} s")
    bars = make_bars(n).tz_localize(None)
    print(f"{n:,} one-minute bars, best of {repeats}")
    print(f"{'rules':<10}{'seconds':>10}{'bars/s':>14}{'trades':>9}")
    for label, stops in (("plain", False), ("stops", True)):
        best = best_of(repeats, lambda: run(bars, stops))  # noqa: B023
        trades = int(run(bars, stops)["n_trades"])
        print(f"{label:<10}{best:>10.4f}{n / best:>14,.0f}{trades:>9,}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
