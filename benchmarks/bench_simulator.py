"""Time the simulator's history: years of daily bars and months of minute bars.

Run with ``python benchmarks/bench_simulator.py``. "cold" includes building the NYSE calendar
and generating the master path; "warm" repeats the call on the same market.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime

from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.simulator import DEFAULT_UNIVERSE, SimulatedMarket

NOW = datetime(2025, 7, 1, tzinfo=UTC)


def timed(action: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    rows = action()
    return (time.perf_counter() - started) * 1000, rows


def main() -> None:
    market = SimulatedMarket(seed=42, clock=FixedClock(NOW))
    symbols = [s for s in DEFAULT_UNIVERSE.symbols if s != "BTC/USD"][:20]

    def daily() -> int:
        start, end = datetime(2015, 7, 1, tzinfo=UTC), NOW
        return sum(len(market.bars(s, Timeframe.DAY_1, start, end)) for s in symbols)

    def minutes() -> int:
        start, end = datetime(2025, 4, 1, tzinfo=UTC), NOW
        return len(market.bars("AAPL", Timeframe.MIN_1, start, end))

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(f"cpus: {os.cpu_count()}, python {platform.python_version()}")
    for label, action in [
        (f"10 years of daily bars, {len(symbols)} symbols", daily),
        ("3 months of minute bars, AAPL", minutes),
    ]:
        cold, rows = timed(action)
        warm, _ = timed(action)
        print(f"{label}: {rows} bars, cold {cold:.1f} ms, warm {warm:.1f} ms")


if __name__ == "__main__":
    main()
