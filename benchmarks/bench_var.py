"""Time historical, parametric and Monte Carlo VaR for a 500-position book.

Run with ``python benchmarks/bench_var.py``. Returns come from a seeded three-factor model
(504 days, about two years); Monte Carlo uses 10,000 paths. Each figure is the best of
``REPEATS`` runs at 99 % over 10 days, so one-off start-up costs do not count.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable

import numpy as np

from quantumtrade.domain.risk import (
    VarResult,
    historical_var,
    monte_carlo_var,
    parametric_var,
)

POSITIONS, DAYS, FACTORS, PATHS, REPEATS = 500, 504, 3, 10_000, 5


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


def best_ms(action: Callable[[], VarResult]) -> tuple[float, VarResult]:
    timings, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = action()
        timings.append((time.perf_counter() - started) * 1000)
    assert result is not None
    return min(timings), result


def main() -> None:
    values, returns = factor_model()
    methods: dict[str, Callable[[], VarResult]] = {
        "historical": lambda: historical_var(values, returns, 0.99, 10),
        "parametric": lambda: parametric_var(values, returns, 0.99, 10),
        "monte_carlo": lambda: monte_carlo_var(values, returns, 0.99, 10, PATHS, seed=7),
    }
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(f"cpus: {os.cpu_count()}, python {platform.python_version()}, numpy {np.__version__}")
    print(f"book: {POSITIONS} positions x {DAYS} days, Monte Carlo {PATHS:,} paths, 99 % 10-day")
    total = 0.0
    for name, action in methods.items():
        ms, result = best_ms(action)
        total += ms
        print(f"{name:>12}: {ms:8.1f} ms   VaR {result.var:14,.0f}   CVaR {result.cvar:14,.0f}")
    print(f"{'total':>12}: {total:8.1f} ms   (target < 200 ms)")


if __name__ == "__main__":
    main()
