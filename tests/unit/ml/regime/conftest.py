"""Bars simulated from a known three-regime Markov chain, and models fitted on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.regime import RegimeModel, fit

# name: (annual drift, annual volatility, volume multiplier)
REGIMES = {
    "bull": (0.50, 0.12, 1.0),
    "sideways": (0.00, 0.13, 0.85),
    "bear": (-0.60, 0.35, 1.6),
}
STAY_BARS = 150.0


def simulate(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Return ``n`` daily bars (close, high, low, open, volume) and the true regime of each."""
    rng = np.random.default_rng(seed)
    names = list(REGIMES)
    state = int(rng.integers(3))
    truth = np.empty(n, dtype=object)
    for t in range(n):
        if rng.random() < 1.0 / STAY_BARS:
            state = int(rng.choice([k for k in range(3) if k != state]))
        truth[t] = names[state]
    drift, vol, volume = (np.array([REGIMES[r][i] for r in truth]) for i in range(3))
    returns = drift / 252 + vol / np.sqrt(252) * rng.standard_normal(n)
    close = 100.0 * np.exp(np.cumsum(returns))
    spread = vol / np.sqrt(252) * np.abs(rng.standard_normal(n))
    index = pd.bdate_range("2005-01-03", periods=n, tz="UTC", name="time")
    bars = pd.DataFrame(
        {
            "open": close * np.exp(-returns / 2),
            "high": close * np.exp(spread),
            "low": close * np.exp(-spread),
            "close": close,
            "volume": 1e6 * volume * np.exp(0.3 * rng.standard_normal(n)),
        },
        index=index,
    )
    return bars, truth


@pytest.fixture(scope="session")
def train_bars() -> pd.DataFrame:
    return simulate(1500, seed=1)[0]


@pytest.fixture(scope="session")
def test_series() -> tuple[pd.DataFrame, np.ndarray]:
    return simulate(1500, seed=2)


@pytest.fixture(scope="session")
def model(train_bars: pd.DataFrame) -> RegimeModel:
    return fit(train_bars, seed=0, n_restarts=2)
