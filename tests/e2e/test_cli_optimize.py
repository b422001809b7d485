"""``quantumtrade optimize`` as a user runs it: a bar file, a grid, JSON or a table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from quantumtrade.backtest.compute import LocalBackend
from quantumtrade.backtest.optimize import grid_search
from quantumtrade.marketdata.csv import read_bar_file
from support import run_cli


def write_bars(path: Path, n: int = 400) -> Path:
    rng = np.random.default_rng(3)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2022-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 1000,
        }
    )
    frame.to_csv(path, index=False)
    return path


def optimize_args(path: Path, *extra: str) -> list[str]:
    return [
        "optimize",
        "--strategy",
        "sma_crossover",
        "--symbol",
        "ACME",
        "--start",
        "2022-01-01",
        "--end",
        "2024-01-01",
        "--data",
        str(path),
        "--grid",
        "fast=3,5,10",
        "--grid",
        "slow=5:25:10",
        *extra,
    ]


def test_grid_sweep_json_matches_the_library_on_a_process_pool(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write_bars(tmp_path / "bars.csv")
    result = run_cli(*optimize_args(path, "--workers", "2", "--format", "json"), env=env)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["kind"] == "grid_search" and body["symbol"] == "ACME"
    assert body["combinations"] == 7 and body["skipped"] == 2  # fast >= slow=5 is invalid
    assert len(body["ranking"]) == 7
    expected = grid_search(
        read_bar_file(path).loc["2022-01-01":"2023-12-31"],
        "sma_crossover",
        {"fast": [3, 5, 10], "slow": [5, 15, 25]},
        backend=LocalBackend(1),
    )
    assert body["best"]["params"] == expected.best.params
    assert body["best"]["score"] == expected.best.score
    assert [r["params"] for r in body["ranking"]] == [r.params for r in expected.ranking]


def test_walk_forward_json_scores_each_fold_after_its_in_sample_window(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write_bars(tmp_path / "bars.csv")
    args = ["--walk-forward", "--in-sample", "150", "--out-of-sample", "50", "--folds", "3"]
    result = run_cli(
        *optimize_args(
            path, *args, "--workers", "1", "--objective", "total_return", "--format", "json"
        ),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["kind"] == "walk_forward" and body["objective"] == "total_return"
    folds = body["folds"]
    assert [(f["oos_start"], f["oos_end"]) for f in folds] == [(250, 300), (300, 350), (350, 400)]
    for fold in folds:
        assert fold["is_end"] == fold["oos_start"] and fold["is_end"] - fold["is_start"] == 150
        assert fold["oos_first_time"] > fold["is_last_time"]
        assert fold["oos_score"] == fold["oos_metrics"]["total_return"]
    returns = [1.0 + f["oos_metrics"]["total_return"] for f in folds]
    assert abs(body["oos_total_return"] - (float(np.prod(returns)) - 1.0)) < 1e-9


def test_table_output_and_a_clear_error_for_an_unknown_grid_name(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write_bars(tmp_path / "bars.csv")
    result = run_cli(*optimize_args(path, "--workers", "1"), env=env)
    assert result.returncode == 0, result.stderr
    assert "7 combinations scored, 2 invalid skipped" in result.stdout
    bad = run_cli(*optimize_args(path, "--grid", "window=3,4", "--workers", "1"), env=env)
    assert bad.returncode == 2
    assert "unknown parameter(s) for sma_crossover: window" in bad.stderr
