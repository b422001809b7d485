"""A sweep gives the same results on the local process pool and on a Dask cluster."""

from __future__ import annotations

import operator
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from quantumtrade.backtest.compute import DaskBackend, LocalBackend
from quantumtrade.backtest.engine import BacktestConfig
from quantumtrade.backtest.optimize import grid_search, walk_forward

GRID = {"fast": [3, 5, 8, 13], "slow": [10, 21, 34]}
CONFIG = BacktestConfig(slippage_bps=2.0, per_share=0.005, per_share_min=1.0)


def random_bars(n: int = 800, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.012, n)))
    open_ = np.concatenate([[50.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.002, n))
    index = pd.date_range("2020-01-01", periods=n, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.003,
            "low": np.minimum(open_, close) * 0.997,
            "close": close,
            "volume": rng.integers(100, 1000, n).astype(np.float64),
        },
        index=index,
    )


@pytest.fixture(scope="module")
def dask() -> Iterator[DaskBackend]:
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        backend = DaskBackend(client=client)
        yield backend
        backend.close()


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBackend]:
    with LocalBackend(max_workers=2) as backend:
        yield backend


def test_dask_backend_counts_the_cluster_threads_and_keeps_task_order(dask: DaskBackend) -> None:
    assert dask.workers == 2
    seen: list[tuple[int, int]] = []
    result = dask.map(
        operator.getitem, [3, 1, 2, 0], shared="wxyz", progress=lambda d, t: seen.append((d, t))
    )
    assert result == ["z", "x", "y", "w"]
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)


def test_local_pool_keeps_task_order(local: LocalBackend) -> None:
    tasks = list(range(40))
    assert local.map(operator.getitem, tasks, shared=tuple(range(100, 140))) == [
        100 + i for i in tasks
    ]


def test_grid_search_is_identical_on_local_pool_and_dask(
    local: LocalBackend, dask: DaskBackend
) -> None:
    bars = random_bars()
    serial = grid_search(bars, "sma_crossover", GRID, config=CONFIG, backend=LocalBackend(1))
    on_pool = grid_search(bars, "sma_crossover", GRID, config=CONFIG, backend=local)
    on_dask = grid_search(bars, "sma_crossover", GRID, config=CONFIG, backend=dask)
    assert on_pool.combinations == 12 - 1
    assert on_pool.to_dict() == on_dask.to_dict() == serial.to_dict()


def test_walk_forward_is_identical_on_local_pool_and_dask(
    local: LocalBackend, dask: DaskBackend
) -> None:
    bars = random_bars()
    options = {"in_sample": 300, "out_of_sample": 100, "warmup": 50, "objective": "sortino"}
    on_pool = walk_forward(bars, "sma_crossover", GRID, config=CONFIG, backend=local, **options)
    on_dask = walk_forward(bars, "sma_crossover", GRID, config=CONFIG, backend=dask, **options)
    assert len(on_pool.folds) == 5
    assert on_pool.to_dict() == on_dask.to_dict()
    assert [f.oos_entries for f in on_pool.folds] == [f.oos_entries for f in on_dask.folds]
