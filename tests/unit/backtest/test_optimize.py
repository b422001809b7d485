"""Grid expansion, ranking, windows, and walk-forward that never scores on in-sample bars."""

from __future__ import annotations

import json
import math
import operator

import numpy as np
import pandas as pd
import pytest

from quantumtrade.backtest.compute import LocalBackend, backend_from_address
from quantumtrade.backtest.engine import BacktestConfig, run_strategy
from quantumtrade.backtest.optimize import (
    Fold,
    Objective,
    backtest_window,
    expand_grid,
    grid_search,
    walk_forward,
    walk_forward_windows,
)

SERIAL = LocalBackend(max_workers=1)


def random_bars(n: int = 600, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    index = pd.date_range("2021-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": 1e4,
        },
        index=index,
    )


def altered(bars: pd.DataFrame, start: int, end: int, factor: float) -> pd.DataFrame:
    """Return a copy whose bars ``[start, end)`` are scaled by a zig-zag of ``factor``."""
    out = bars.copy()
    wiggle = np.where(np.arange(end - start) % 6 < 3, factor, 1.0 / factor)
    for column in ("open", "high", "low", "close"):
        out.iloc[start:end, out.columns.get_loc(column)] *= wiggle
    return out


# --- grid expansion -----------------------------------------------------------------------


def test_expand_grid_product_in_grid_order_skips_invalid_and_counts_them() -> None:
    grid = expand_grid("sma_crossover", {"fast": [5, 20, 40], "slow": [10, 30]})
    assert grid.combinations == (
        {"fast": 5, "slow": 10},
        {"fast": 5, "slow": 30},
        {"fast": 20, "slow": 30},
    )
    assert grid.skipped == 3
    assert grid.names == ("fast", "slow")


def test_expand_grid_merges_fixed_params_into_every_combination() -> None:
    grid = expand_grid("sma_crossover", {"fast": [3, 4]}, fixed={"slow": 10, "allow_short": True})
    assert [c["fast"] for c in grid.combinations] == [3, 4]
    assert all(c["slow"] == 10 and c["allow_short"] is True for c in grid.combinations)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({}, "empty"),
        ({"fast": [5], "window": [3]}, "unknown parameter"),
        ({"fast": []}, "no values"),
        ({"fast": [30, 40], "slow": [10, 20]}, "none of the 4 combinations"),
    ],
)
def test_expand_grid_rejects_bad_grids_with_a_clear_error(
    grid: dict[str, list[int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        expand_grid("sma_crossover", grid)


def test_expand_grid_caps_the_number_of_combinations() -> None:
    with pytest.raises(ValueError, match="exceed the limit of 100"):
        expand_grid(
            "sma_crossover",
            {"fast": list(range(1, 12)), "slow": list(range(2, 12))},
            max_combinations=100,
        )


def test_expand_grid_rejects_an_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        expand_grid("no_such", {"fast": [1]})


# --- objective ----------------------------------------------------------------------------


def test_objective_ranks_nan_last_and_ties_in_grid_order() -> None:
    goal = Objective.named("sharpe")
    assert goal.rank([0.5, math.nan, 1.0, 0.5, -1.0]) == [2, 0, 3, 4, 1]


def test_objective_minimises_drawdown_and_volatility() -> None:
    assert not Objective.named("max_drawdown").maximize
    assert Objective.named("max_drawdown").rank([0.3, 0.1, math.nan, 0.2]) == [1, 3, 0, 2]
    assert Objective.named("calmar").maximize


def test_objective_rejects_unknown_metrics() -> None:
    with pytest.raises(ValueError, match="unknown objective 'profit'"):
        Objective.named("profit")


# --- windows ------------------------------------------------------------------------------


def test_rolling_windows_slide_by_the_out_of_sample_length() -> None:
    assert walk_forward_windows(100, 40, 20) == [
        Fold(0, 0, 40, 60),
        Fold(1, 20, 60, 80),
        Fold(2, 40, 80, 100),
    ]


def test_anchored_windows_start_at_zero_and_given_folds_end_at_the_last_bar() -> None:
    folds = walk_forward_windows(105, 40, 20, folds=2, anchored=True)
    assert folds == [Fold(0, 0, 65, 85), Fold(1, 0, 85, 105)]
    rolling = walk_forward_windows(105, 40, 20, folds=2)
    assert [(f.is_start, f.oos_start, f.oos_end) for f in rolling] == [(25, 65, 85), (45, 85, 105)]


@pytest.mark.parametrize(
    ("n", "in_sample", "out", "folds"), [(50, 40, 20, None), (100, 40, 20, 4), (100, 1, 20, None)]
)
def test_windows_that_do_not_fit_raise(n: int, in_sample: int, out: int, folds: int | None) -> None:
    with pytest.raises(ValueError):
        walk_forward_windows(n, in_sample, out, folds=folds)


# --- grid search --------------------------------------------------------------------------


def test_grid_search_ranks_every_combination_with_the_engine_metrics() -> None:
    bars = random_bars()
    grid = {"fast": [3, 5, 10, 25], "slow": [20, 40]}
    report = grid_search(bars, "sma_crossover", grid, objective="total_return", backend=SERIAL)
    assert report.combinations == 7 and report.skipped == 1
    scores = [r.score for r in report.ranking]
    assert scores == sorted(scores, reverse=True)
    assert [r.rank for r in report.ranking] == list(range(1, 8))
    best = report.best
    expected = run_strategy(bars, "sma_crossover", best.params, BacktestConfig()).metrics
    assert best.metrics == pytest.approx(expected, nan_ok=True)
    assert best.score == expected["total_return"]


def test_grid_search_report_is_json_safe_with_nan_as_none() -> None:
    flat = random_bars(120)
    report = grid_search(flat, "sma_crossover", {"fast": [100], "slow": [110]}, backend=SERIAL)
    body = report.to_dict()
    text = json.dumps(body, allow_nan=False)
    assert json.loads(text)["best"]["metrics"]["profit_factor"] is None
    assert body["kind"] == "grid_search"
    assert body["first_time"] == "2021-01-01T00:00:00+00:00"
    assert set(body) >= {"strategy", "objective", "combinations", "skipped", "ranking", "best"}


def test_grid_search_reports_progress_up_to_the_total() -> None:
    seen: list[tuple[int, int]] = []
    grid_search(
        random_bars(200),
        "sma_crossover",
        {"fast": [2, 3, 4], "slow": [10, 20]},
        backend=SERIAL,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# --- walk-forward: never scores on in-sample data -----------------------------------------

GRID = {"fast": [3, 5, 10], "slow": [15, 30]}


def test_walk_forward_trades_out_of_sample_only_from_the_oos_start() -> None:
    report = walk_forward(
        random_bars(), "sma_crossover", GRID, in_sample=200, out_of_sample=100, backend=SERIAL
    )
    assert len(report.folds) == 4
    assert sum(len(f.oos_entries) for f in report.folds) > 0
    for fold in report.folds:
        assert fold.oos_start == fold.is_end
        assert all(fold.oos_start <= entry < fold.oos_end for entry in fold.oos_entries)


def test_walk_forward_choice_ignores_the_bars_after_the_in_sample_window() -> None:
    bars = random_bars()
    base = walk_forward(
        bars, "sma_crossover", GRID, in_sample=200, out_of_sample=100, backend=SERIAL
    )
    first = base.folds[0]
    changed = altered(bars, first.oos_start, len(bars), 1.03)
    other = walk_forward(
        changed, "sma_crossover", GRID, in_sample=200, out_of_sample=100, backend=SERIAL
    )
    assert other.folds[0].params == first.params
    assert other.folds[0].is_score == first.is_score
    assert other.folds[0].oos_metrics != first.oos_metrics  # the OOS bars are what it scores


def test_walk_forward_oos_score_ignores_in_sample_bars_beyond_the_warmup() -> None:
    bars = random_bars()
    one = {"fast": [5], "slow": [20]}
    options = {"in_sample": 300, "out_of_sample": 150, "folds": 1, "warmup": 40}
    base = walk_forward(bars, "sma_crossover", one, backend=SERIAL, **options)
    fold = base.folds[0]
    changed = altered(bars, fold.is_start, fold.oos_start - 40, 1.05)
    other = walk_forward(changed, "sma_crossover", one, backend=SERIAL, **options)
    assert other.folds[0].is_score != fold.is_score
    assert other.folds[0].oos_metrics == fold.oos_metrics
    direct = backtest_window(
        bars,
        "sma_crossover",
        {"fast": 5, "slow": 20},
        start=fold.oos_start,
        end=fold.oos_end,
        warm_start=fold.oos_start - 40,
    )
    assert fold.oos_metrics == pytest.approx(direct.metrics, nan_ok=True)


def test_walk_forward_stitches_the_folds_and_reports_the_gap() -> None:
    report = walk_forward(
        random_bars(),
        "sma_crossover",
        GRID,
        in_sample=200,
        out_of_sample=100,
        anchored=True,
        backend=SERIAL,
    )
    assert all(f.is_start == 0 for f in report.folds)
    product = math.prod(1.0 + f.oos_metrics["total_return"] for f in report.folds) - 1.0
    assert report.oos_total_return == pytest.approx(product, rel=1e-9)
    assert report.oos_summary["total_return"] == pytest.approx(product, rel=1e-9)
    scores = [f.is_score for f in report.folds]
    assert report.mean_is_score == pytest.approx(sum(scores) / len(scores))
    assert report.overfitting_gap == pytest.approx(report.mean_is_score - report.mean_oos_score)
    body = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert body["kind"] == "walk_forward" and len(body["folds"]) == 4
    assert set(body["folds"][0]) >= {
        "is_start",
        "oos_end",
        "oos_first_time",
        "params",
        "is_score",
        "oos_score",
        "oos_metrics",
        "oos_trades",
    }


def test_walk_forward_is_choice_is_the_in_sample_grid_search_winner() -> None:
    bars = random_bars()
    report = walk_forward(
        bars,
        "sma_crossover",
        GRID,
        in_sample=200,
        out_of_sample=100,
        folds=1,
        warmup=0,
        backend=SERIAL,
    )
    fold = report.folds[0]
    window = bars.iloc[fold.is_start : fold.is_end]  # warmup=0: the search sees only these
    best = grid_search(window, "sma_crossover", GRID, backend=SERIAL).best
    assert (best.params, best.score) == (fold.params, fold.is_score)


# --- compute backend ----------------------------------------------------------------------


def test_serial_backend_maps_in_task_order_with_the_shared_value() -> None:
    assert SERIAL.map(operator.getitem, [2, 0, 1], shared="abc") == ["c", "a", "b"]


def test_backend_from_address_defaults_to_a_local_pool() -> None:
    backend = backend_from_address(None, max_workers=3)
    assert isinstance(backend, LocalBackend) and backend.workers == 3
    with pytest.raises(ValueError):
        LocalBackend(0)


SHARED_GRID = {"fast": [2, 3, 5, 8], "slow": [20, 25, 30, 40]}


def test_a_sweep_computes_each_sma_once_per_window_and_gets_the_same_signals() -> None:
    from quantumtrade.backtest.engine import BarArrays
    from quantumtrade.backtest.optimize import indicator_cache, window_signals

    arrays = BarArrays.from_frame(random_bars(3_000, seed=11))
    combos = expand_grid("sma_crossover", SHARED_GRID).combinations
    for warm_start, start in ((0, 0), (500, 1_000)):
        for params in combos:
            mine = window_signals(
                arrays, "sma_crossover", params, start, 3_000, warm_start, share_indicators=True
            )
            theirs = window_signals(arrays, "sma_crossover", params, start, 3_000, warm_start)
            np.testing.assert_array_equal(mine, theirs)
    cache = indicator_cache(arrays)
    # 4 fast and 4 slow windows, on two windows of bars: 16 SMAs, for 32 runs needing 64.
    assert (cache.computed, cache.reused) == (16, 48)


@pytest.mark.parametrize("allow_short", [False, True])
def test_sharing_indicators_leaves_a_sweep_and_a_walk_forward_unchanged(allow_short: bool) -> None:
    bars = random_bars(2_000, seed=5)
    config = BacktestConfig(slippage_bps=1.0, per_share=0.005, per_share_min=1.0)
    fixed = {"allow_short": allow_short}
    runs = [
        grid_search(
            bars,
            "sma_crossover",
            SHARED_GRID,
            config=config,
            fixed=fixed,
            backend=SERIAL,
            share_indicators=share,
        )
        for share in (True, False)
    ]
    assert runs[0] == runs[1]
    folds = [
        walk_forward(
            bars,
            "sma_crossover",
            SHARED_GRID,
            in_sample=600,
            out_of_sample=200,
            warmup=100,
            config=config,
            fixed=fixed,
            backend=SERIAL,
            share_indicators=share,
        )
        for share in (True, False)
    ]
    assert folds[0].folds == folds[1].folds


def test_the_indicator_cache_keeps_to_its_budget_and_evicts_the_least_recently_used() -> None:
    from quantumtrade.backtest.strategies.shared import IndicatorCache

    cache = IndicatorCache(budget_bytes=3 * 800)
    made: list[str] = []

    def array(name: str) -> np.ndarray:
        made.append(name)
        return np.zeros(100)  # 800 bytes

    for name in ("a", "b", "c", "a", "d", "b", "a"):
        cache.get(name, lambda name=name: array(name))
    # a, b, c fill it; a is reused; d evicts b (least recently used); b comes back, evicting c.
    assert made == ["a", "b", "c", "d", "b"]
    assert cache.computed == 5 and cache.reused == 2
    with pytest.raises(ValueError, match="read-only"):
        cache.get("a", lambda: array("a"))[0] = 1.0
