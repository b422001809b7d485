"""Time historical, parametric and Monte Carlo VaR for a 500-position book.

Run with ``python benchmarks/bench_var.py``. Returns come from a seeded three-factor model
(504 days, about two years); Monte Carlo uses 10,000 paths; every figure is at 99 % over 10
days. The risk issue's target is the three methods *together* under 200 ms, so besides each
method alone the script times:

- ``together``: the three domain calls back to back in one timed block;
- ``service``: ``services.risk.analytics.var_figures``, what ``GET /api/risk/var/{id}`` runs
  once the positions and closes are loaded: the same three calls on a labelled book plus the
  JSON-ready views with 500 component figures each (fetching 500 symbols' bars is not timed).

Each row gives the best and the median wall time of ``REPEATS`` runs (after a warm-up) and the
least process CPU time, all threads together. The load average is printed before and after: on
a shared machine the wall time follows the other load, while the CPU time stays near what an
idle machine needs (above it when numpy's BLAS runs on several threads).
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from quantumtrade.domain.risk import historical_var, monte_carlo_var, parametric_var
from quantumtrade.services.risk.analytics import var_figures

POSITIONS, DAYS, FACTORS, PATHS, REPEATS = 500, 504, 3, 10_000, 9
CONFIDENCE, HORIZON = 0.99, 10


def factor_model(seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Return market values and a DAYS x POSITIONS matrix of daily simple returns."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(0.0, [0.010, 0.006, 0.004], size=(DAYS, FACTORS))
    loadings = rng.normal([1.0, 0.0, 0.0], [0.3, 0.5, 0.5], size=(POSITIONS, FACTORS))
    idiosyncratic = rng.normal(0.0, 0.015, size=(DAYS, POSITIONS))
    values = rng.uniform(10_000.0, 200_000.0, POSITIONS) * rng.choice(
        [1.0, -1.0], POSITIONS, p=[0.7, 0.3]
    )
    return values, factors @ loadings.T + idiosyncratic


def timings_ms(action: Callable[[], Any]) -> tuple[list[float], float, Any]:
    """Run ``action`` REPEATS times after a warm-up; return wall times, least CPU time, result."""
    result = action()
    walls, cpu = [], math.inf
    for _ in range(REPEATS):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = action()
        walls.append((time.perf_counter() - started) * 1000)
        cpu = min(cpu, (time.process_time() - started_cpu) * 1000)
    return walls, cpu, result


def row(name: str, walls: list[float], cpu: float) -> str:
    return f"{name:>12}: {min(walls):8.1f} {statistics.median(walls):8.1f} {cpu:8.1f} ms"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    values, returns = factor_model()
    labels = [f"S{i:03d}" for i in range(POSITIONS)]
    book = pd.Series(values, index=labels)
    history = pd.DataFrame(returns, columns=labels)
    methods: dict[str, Callable[[], Any]] = {
        "historical": lambda: historical_var(values, returns, CONFIDENCE, HORIZON),
        "parametric": lambda: parametric_var(values, returns, CONFIDENCE, HORIZON),
        "monte_carlo": lambda: monte_carlo_var(values, returns, CONFIDENCE, HORIZON, PATHS, seed=7),
    }

    def together() -> list[Any]:
        return [action() for action in methods.values()]

    def service() -> dict[str, dict[str, Any]]:
        equity = float(np.abs(values).sum())
        return var_figures(
            book, history, equity=equity, confidence=CONFIDENCE, horizon_days=HORIZON,
            paths=PATHS, seed=7,
        )  # fmt: skip

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(f"cpus: {os.cpu_count()}, python {platform.python_version()}, numpy {np.__version__}")
    print(f"book: {POSITIONS} positions x {DAYS} days, Monte Carlo {PATHS:,} paths, 99 % 10-day")
    print(f"load average before: {load()}")
    print(f"{'':>12}  {'best':>8} {'median':>8} {'cpu':>8}")
    total = total_cpu = 0.0
    for name, action in methods.items():
        walls, cpu, result = timings_ms(action)
        total, total_cpu = total + min(walls), total_cpu + cpu
        print(f"{row(name, walls, cpu)}   VaR {result.var:12,.0f}   CVaR {result.cvar:12,.0f}")
    print(f"{'sum':>12}: {total:8.1f} {'':>8} {total_cpu:8.1f} ms")
    for name, action in (("together", together), ("service", service)):
        walls, cpu, _ = timings_ms(action)
        print(f"{row(name, walls, cpu)}   (target < 200 ms)")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
