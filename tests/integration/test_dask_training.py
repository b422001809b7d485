"""Model training gives the same models, hash for hash, in-process and on a Dask cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from distributed import Client, LocalCluster

from quantumtrade.backtest.compute import DaskBackend
from quantumtrade.ml import pipeline
from quantumtrade.services.ai._registry import timed_train

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "ml" / "models"))
from simulated import simulate_bars

CONFIG = pipeline.PipelineConfig(n_splits=3, min_train=300, gbm_trees=20, lstm_epochs=2)
NAMES = ["gbm", "lstm", "rules"]


def test_dask_trains_the_same_models_as_this_process() -> None:
    rng = np.random.default_rng(3)
    bars = simulate_bars(0.01 * rng.standard_normal(700), rng)
    shared = pipeline.WalkForwardShared(pipeline.training_data(bars, CONFIG), CONFIG)
    here = {n: timed_train(shared, n)[0].content_hash for n in NAMES}
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        backend = DaskBackend(client=client)
        there = backend.map(timed_train, NAMES, shared=shared)
        backend.close()
    assert {t.name: t.content_hash for t, _ in there} == here
