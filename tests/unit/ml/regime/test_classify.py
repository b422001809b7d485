"""The classifier on bars with known regimes: accuracy, no look-ahead, result shape."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.regime import (
    DIRECTIONS,
    TREND_REGIMES,
    VOLATILITY_REGIMES,
    RegimeModel,
    classify,
    fit,
)
from quantumtrade.ml.regime.evaluation import accuracy, per_regime_accuracy
from quantumtrade.ml.regime.synthetic import simulate, true_labels

FIELDS = (
    "trend_regime",
    "trend_probability",
    "volatility_regime",
    "volatility",
    "volatility_percentile",
    "trend_direction",
    "trend_strength",
    "trend_tstat",
    "state_probability",
)


# Measured on this series with the model fitted on ten years: filtered 93.9 %, smoothed
# 99.1 %. Smoothed meets the 97 % target; filtered cannot reach 95 % here: the filter that
# knows the true parameters gets 95.3 % on this series and 94.4 % on average over eight
# (test_classify_is_close_to_the_filter_that_knows_the_truth, benchmarks/README.md).
FILTERED_FLOOR, SMOOTHED_FLOOR = 0.93, 0.97


def test_classify_filtered_out_of_sample_reaches_floor(
    model: RegimeModel, test_series: tuple[pd.DataFrame, np.ndarray]
) -> None:
    bars, truth = test_series
    labels = classify(bars, model).trend_regime
    assert accuracy(truth, labels) >= FILTERED_FLOOR
    assert min(per_regime_accuracy(truth, labels, TREND_REGIMES).values()) >= 0.85


def test_classify_smoothed_out_of_sample_reaches_floor(
    model: RegimeModel, test_series: tuple[pd.DataFrame, np.ndarray]
) -> None:
    bars, truth = test_series
    labels = classify(bars, model, mode="smoothed").trend_regime
    assert accuracy(truth, labels) >= SMOOTHED_FLOOR


def test_classify_filtered_truncated_series_leaves_every_earlier_bar_unchanged(
    model: RegimeModel, test_series: tuple[pd.DataFrame, np.ndarray]
) -> None:
    bars = test_series[0]
    full = classify(bars, model)
    # Cut points from the first bars to the last: every bar is the last bar of some cut.
    cuts = sorted({2, 3, 5, 14, 15, 21, 30, *range(37, len(bars), 37), len(bars) - 1})
    for cut in cuts:
        part = classify(bars.iloc[:cut], model)
        for name in FIELDS:
            np.testing.assert_array_equal(
                getattr(part, name), getattr(full, name)[:cut], err_msg=f"{name} at cut {cut}"
            )


def test_classify_smoothed_labels_use_later_bars(
    model: RegimeModel, test_series: tuple[pd.DataFrame, np.ndarray]
) -> None:
    bars = test_series[0]
    full = classify(bars, model, mode="smoothed").trend_probability
    part = classify(bars.iloc[:700], model, mode="smoothed").trend_probability
    assert not np.array_equal(part, full[:700])


@pytest.mark.parametrize("mode", ["filtered", "smoothed"])
def test_classify_any_bars_gives_valid_labels_and_probabilities(
    model: RegimeModel, test_series: tuple[pd.DataFrame, np.ndarray], mode: str
) -> None:
    result = classify(test_series[0], model, mode=mode)  # type: ignore[arg-type]
    np.testing.assert_allclose(result.trend_probability.sum(axis=1), 1.0, atol=1e-9)
    assert set(result.trend_regime) <= set(TREND_REGIMES)
    assert set(result.volatility_regime) == set(VOLATILITY_REGIMES)
    assert set(result.trend_direction) == set(DIRECTIONS)
    pct = result.volatility_percentile[1:]
    assert ((pct > 0) & (pct <= 100)).all()
    frame = result.to_frame()
    assert len(frame) == len(result) and frame.index.equals(test_series[0].index)
    assert {"p_bull", "p_bear", "p_sideways", "trend_strength"} <= set(frame.columns)


def test_segments_runs_cover_every_bar_in_order(
    model: RegimeModel, test_series: tuple[pd.DataFrame, np.ndarray]
) -> None:
    result = classify(test_series[0], model, mode="smoothed")
    runs = result.segments()
    assert sum(r.bars for r in runs) == len(result)
    assert runs[0].start == result.index[0] and runs[-1].end == result.index[-1]
    assert all(a.label != b.label for a, b in itertools.pairwise(runs))
    assert len(result.segments("volatility_regime")) > 1


def test_classify_close_only_bars_fall_back_to_close_adx(
    test_series: tuple[pd.DataFrame, np.ndarray],
) -> None:
    closes = test_series[0][["close"]].iloc[:600]
    model = fit(closes, seed=0, n_restarts=1)
    result = classify(closes, model)
    assert not model.use_volume
    assert np.isfinite(result.trend_strength[30:]).all()
    assert (result.trend_strength[30:] >= 0).all() and (result.trend_strength[30:] <= 100).all()


def test_classify_is_close_to_the_filter_that_knows_the_truth(model: RegimeModel) -> None:
    # No label-free model beats the generating process's own posteriors; ours, fitted on
    # other bars, must come within a point or two of them, in both modes, over five series.
    for mode, gap in (("filtered", 0.025), ("smoothed", 0.01)):
        ours, best = [], []
        for seed in (2, 3, 4, 5, 6):
            bars, truth = simulate(1500, seed)
            best.append(accuracy(truth, true_labels(bars, mode == "smoothed")))
            labels = classify(bars, model, mode=mode).trend_regime  # type: ignore[arg-type]
            ours.append(accuracy(truth, labels))
        assert np.mean(ours) >= np.mean(best) - gap, (mode, ours, best)
