"""Bars from a known three-regime Markov chain (``ml.regime.synthetic``), models fitted on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.regime import RegimeModel, fit
from quantumtrade.ml.regime.synthetic import simulate


@pytest.fixture(scope="session")
def train_bars() -> pd.DataFrame:
    return simulate(2520, seed=1)[0]  # ten years of daily bars: what the service fits on


@pytest.fixture(scope="session")
def test_series() -> tuple[pd.DataFrame, np.ndarray]:
    return simulate(1500, seed=2)


@pytest.fixture(scope="session")
def model(train_bars: pd.DataFrame) -> RegimeModel:
    return fit(train_bars, seed=0, n_restarts=2)
