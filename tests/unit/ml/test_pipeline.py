"""The decision pipeline: causal inputs, reproducible models, honest decisions."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml import pipeline

sys.path.insert(0, str(Path(__file__).parent / "models"))
from simulated import simulate_bars

CONFIG = pipeline.PipelineConfig(n_splits=3, min_train=300, gbm_trees=20, lstm_epochs=2)
N = 700
CUT = 600


def _bars(seed: int, n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return simulate_bars(0.01 * rng.standard_normal(n), rng)


def _shuffled_future(bars: pd.DataFrame, cut: int, seed: int) -> pd.DataFrame:
    """The same bars up to ``cut``, then the later bars' rows in a random order."""
    rng = np.random.default_rng(seed)
    later = bars.iloc[cut:].to_numpy()[rng.permutation(len(bars) - cut)]
    out = bars.copy()
    out.iloc[cut:] = later
    return out


def _tones(bars: pd.DataFrame, seed: int) -> dict[str, pd.Series]:
    rng = np.random.default_rng(seed)
    stamps = bars.index + pd.Timedelta(hours=5)  # published during each session
    return {"sent_news": pd.Series(rng.uniform(-1, 1, len(bars)), index=stamps)}


@pytest.fixture(scope="module")
def trained() -> tuple[pd.DataFrame, pipeline.TrainingData, dict[str, pipeline.TrainedModel]]:
    bars = _bars(5)
    data = pipeline.training_data(bars.iloc[:CUT], CONFIG, sentiment=_tones(bars.iloc[:CUT], 1))
    shared = pipeline.WalkForwardShared(data, CONFIG)
    return bars, data, {n: pipeline.train_model(shared, n) for n in pipeline.MODEL_NAMES}


def test_inputs_never_look_ahead(
    trained: tuple[pd.DataFrame, pipeline.TrainingData, dict[str, pipeline.TrainedModel]],
) -> None:
    bars, data, _ = trained
    other = _shuffled_future(bars, CUT, 9)
    tones = _tones(bars, 1)
    shuffled_tones = {k: v.copy() for k, v in tones.items()}
    shuffled_tones["sent_news"].iloc[CUT:] = np.random.default_rng(2).uniform(-1, 1, N - CUT)
    a = pipeline.inputs(bars, horizon=1, sentiment=tones, regime=data.regime)
    b = pipeline.inputs(other, horizon=1, sentiment=shuffled_tones, regime=data.regime)
    assert not a.iloc[CUT:].equals(b.iloc[CUT:])  # the future did change
    pd.testing.assert_frame_equal(a.iloc[:CUT], b.iloc[:CUT])
    assert {"pattern_p_up", "sent_news", *pipeline.REGIME_COLUMNS} <= set(a.columns)


def test_predictions_and_decisions_ignore_a_shuffled_future(
    trained: tuple[pd.DataFrame, pipeline.TrainingData, dict[str, pipeline.TrainedModel]],
) -> None:
    bars, data, models = trained
    consensus = pipeline.consensus_of(models)
    decisions = []
    for variant in (bars, _shuffled_future(bars, CUT, 4)):
        X = pipeline.inputs(variant, horizon=1, regime=data.regime)
        decision, seen = pipeline.decide(
            consensus,
            models,
            X.iloc[:CUT],
            variant.iloc[:CUT],
            cost=0.001,
            threshold=0.0,
            kelly_fraction=0.25,
            max_position_fraction=0.1,
        )
        decisions.append((decision, seen.probabilities))
    assert decisions[0] == decisions[1]


def test_same_seed_and_data_give_the_same_models_and_hashes(
    trained: tuple[pd.DataFrame, pipeline.TrainingData, dict[str, pipeline.TrainedModel]],
) -> None:
    bars, _data, models = trained
    again = pipeline.training_data(bars.iloc[:CUT], CONFIG, sentiment=_tones(bars.iloc[:CUT], 1))
    shared = pipeline.WalkForwardShared(again, CONFIG)
    for name in ("lstm", "gbm", "rules"):
        assert pipeline.train_model(shared, name).content_hash == models[name].content_hash
    reseeded = pipeline.WalkForwardShared(
        again, pipeline.PipelineConfig(**{**CONFIG.__dict__, "seed": 1})
    )
    assert pipeline.train_model(reseeded, "gbm").content_hash != models["gbm"].content_hash
    assert (
        pipeline.consensus_of(models).content_hash
        == pipeline.consensus_of(dict(models)).content_hash
    )


def test_models_are_scored_out_of_sample_and_calibrated(
    trained: tuple[pd.DataFrame, pipeline.TrainedModel, dict[str, pipeline.TrainedModel]],
) -> None:
    _, _, models = trained
    for name, model in models.items():
        assert len(model.folds) == CONFIG.n_splits
        assert model.scorecard["n"] == sum(f["n"] for f in model.folds)
        tested = model.oof.notna()
        assert tested.sum() == model.scorecard["n"]
        assert not tested.iloc[: CONFIG.min_train].any()  # nothing scored in-sample
        assert model.calibration_methods, name


def test_on_noise_the_consensus_has_no_members_and_holds(
    trained: tuple[pd.DataFrame, pipeline.TrainingData, dict[str, pipeline.TrainedModel]],
) -> None:
    bars, data, models = trained
    consensus = pipeline.consensus_of(models)
    assert all(w == 0 for w in consensus.consensus.weights.values())
    X = pipeline.inputs(bars.iloc[:CUT], horizon=1, regime=data.regime)
    decision, _ = pipeline.decide(
        consensus,
        models,
        X,
        bars.iloc[:CUT],
        cost=0.001,
        threshold=0.0,
        kelly_fraction=0.25,
        max_position_fraction=0.1,
    )
    assert decision.action == "hold" and decision.probability_up == 0.5
    assert decision.size_fraction == 0 and decision.stop is None
    assert {v.model for v in decision.votes} == set(pipeline.MODEL_NAMES)


def test_too_short_a_history_is_refused() -> None:
    with pytest.raises(ValueError, match="bars are needed"):
        pipeline.training_data(_bars(1, 200), CONFIG)
    assert pipeline.min_bars(CONFIG) > 200
