"""Huge-page backed output arrays behave as ordinary float64 arrays."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from quantumtrade.backtest._memory import large_empty


def test_large_array_is_an_aligned_writable_float64_array_that_outlives_its_maker() -> None:
    values = large_empty(1_000_000)
    assert values.shape == (1_000_000,) and values.dtype == np.float64
    assert values.flags.writeable and values.flags.c_contiguous
    assert values.ctypes.data % (2 << 20) == 0
    values[:] = np.arange(1_000_000, dtype=np.float64)
    series = pd.Series(values, copy=False)
    del values
    restored = pickle.loads(pickle.dumps(series))  # noqa: S301 (our own bytes)
    assert restored.iloc[-1] == 999_999.0 and restored.sum() == series.sum()


def test_small_array_is_plain_numpy() -> None:
    values = large_empty(10)
    assert values.shape == (10,) and values.dtype == np.float64 and values.base is None
