"""The LSTM forecaster: protocol, determinism, serialisation, no look-ahead and honest skill.

Statistical tolerances (tiny models on short series, fixed seeds):

- random walk: 2 walk-forward folds test ``N_TESTED`` ~ 880 bars; the standard error of an
  accuracy near 50 % is 0.5 / sqrt(880) = 0.017, so ``NOISE_TOLERANCE`` = 0.06 is about
  3.5 standard errors. A calibrated forecaster without an edge scores about the climatology
  Brier score (0.25); ``BRIER_MARGIN`` allows 0.01 (4 %) for calibration on a short slice.
- planted signal: ``y_t = K * s_t + e_t`` with ``s_t = (x_t + x_{t-1} + x_{t-2}) / sqrt(3)``
  and ``x, e`` independent standard normals, so the best possible accuracy is
  ``1/2 + arctan(K)/pi`` (0.75 for K = 1). A forecaster that sees only the current row's
  ``x_t`` can reach at most ``1/2 + arctan(a)/pi`` with
  ``a = (K/sqrt 3) / sqrt(1 + 2 K^2 / 3)`` (0.634): beating that shows the LSTM reads the
  sequence. ``SIGNAL_GAP`` = 0.06 is ~0.02 estimation loss plus ~2.5 standard errors on the
  800 test bars (0.5 / sqrt(800) = 0.018).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from quantumtrade.ml.evaluation import ProbabilisticModel, walk_forward_evaluate
from quantumtrade.ml.models.lstm import MIN_TRAIN_WINDOWS, LstmModel

TINY = {"window": 6, "hidden": 8, "epochs": 4, "batch_size": 32}
SMALL = {"window": 8, "hidden": 12, "epochs": 15, "batch_size": 64, "patience": 3}
NOISE_TOLERANCE = 0.06
BRIER_MARGIN = 0.01
SIGNAL_STRENGTH = 1.0  # K above
SIGNAL_GAP = 0.06
N_NOISE_FEATURES = 3


def random_frame(n: int, columns: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Return ``n`` rows of standard normal features and a noisy linear return per row."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, columns))
    y = 0.5 * x[:, 0] + rng.standard_normal(n)
    return pd.DataFrame(x, columns=[f"f{i}" for i in range(columns)]), y


def fitted(n: int = 240, columns: int = 3, seed: int = 0, **options: int) -> LstmModel:
    X, y = random_frame(n, columns, seed)
    model = LstmModel(seed, **{**TINY, **options})
    model.fit(X, y > 0, y)
    return model


def planted(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Return features and a forward return whose sign depends on the last 3 values of ``x``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    s = (x + np.r_[0.0, x[:-1]] + np.r_[0.0, 0.0, x[:-2]]) / math.sqrt(3.0)
    y = SIGNAL_STRENGTH * s + rng.standard_normal(n)
    noise = rng.standard_normal((n, N_NOISE_FEATURES))
    X = pd.DataFrame({"x": x, **{f"noise{i}": noise[:, i] for i in range(N_NOISE_FEATURES)}})
    return X, pd.Series(y, index=X.index)


# -- protocol ---------------------------------------------------------------------------------


def test_lstm_fit_then_predict_returns_one_probability_and_return_per_row() -> None:
    X, y = random_frame(200, 3, 1)
    model: ProbabilisticModel = LstmModel(0, **TINY)
    model.fit(X, y > 0, y)
    probs = model.predict_proba(X)
    expected = model.predict_return(X)
    assert probs.shape == expected.shape == (200,)
    assert probs.dtype == expected.dtype == np.float64
    assert np.all((probs >= 0) & (probs <= 1))
    assert np.isfinite(expected).all()


def test_lstm_rows_before_a_full_window_abstain() -> None:
    model = fitted(window=6)
    X, _ = random_frame(30, 3, 9)
    probs, expected = model.predict_proba(X), model.predict_return(X)
    assert np.all(probs[:5] == 0.5)
    assert np.all(expected[:5] == 0.0)
    assert np.all(probs[5:] != 0.5)
    assert np.all(model.predict_proba(X.iloc[:4]) == 0.5)


def test_lstm_missing_feature_values_give_finite_forecasts() -> None:
    model = fitted()
    X, _ = random_frame(40, 3, 2)
    X.iloc[10:14, 1] = np.nan
    X.iloc[20, 0] = np.inf
    assert np.isfinite(model.predict_proba(X)).all()
    assert np.isfinite(model.predict_return(X)).all()


def test_lstm_reordered_columns_give_the_same_forecast_and_missing_ones_raise() -> None:
    model = fitted()
    X, _ = random_frame(40, 3, 3)
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X[X.columns[::-1]]))
    with pytest.raises(ValueError, match="lacks"):
        model.predict_proba(X.drop(columns="f1"))


def test_lstm_unfitted_model_raises() -> None:
    X, _ = random_frame(20, 3, 0)
    with pytest.raises(ValueError, match="not fitted"):
        LstmModel(0).predict_proba(X)
    with pytest.raises(ValueError, match="not fitted"):
        LstmModel(0).to_bytes()


def test_lstm_one_class_or_too_few_windows_forecast_the_base_rate() -> None:
    X, y = random_frame(100, 2, 4)
    all_up = LstmModel(0, **TINY)
    all_up.fit(X, np.ones(100, dtype=bool), np.abs(y))
    np.testing.assert_allclose(all_up.predict_proba(X), 101 / 102)
    np.testing.assert_allclose(all_up.predict_return(X), np.abs(y).mean())
    short = LstmModel(0, **TINY)
    n = TINY["window"] + MIN_TRAIN_WINDOWS - 2
    short.fit(X.iloc[:n], y[:n] > 0, y[:n])
    np.testing.assert_allclose(short.predict_proba(X), (np.sum(y[:n] > 0) + 1) / (n + 2))


def test_lstm_fit_rejects_unnamed_columns_and_mismatched_labels() -> None:
    X, y = random_frame(60, 2, 0)
    with pytest.raises(ValueError, match="strings"):
        LstmModel(0, **TINY).fit(pd.DataFrame(X.to_numpy()), y > 0, y)
    with pytest.raises(ValueError, match="one value per row"):
        LstmModel(0, **TINY).fit(X, y[:-1] > 0, y[:-1])


@pytest.mark.parametrize(
    "options",
    [{"window": 0}, {"hidden": 0}, {"epochs": -1}, {"lr": -1.0}, {"validation_fraction": 1.0}],
)
def test_lstm_invalid_hyperparameters_raise(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        LstmModel(0, **options)  # type: ignore[arg-type]


# -- determinism and serialisation ------------------------------------------------------------


def test_lstm_same_seed_and_data_give_the_same_model() -> None:
    a, b = fitted(seed=5), fitted(seed=5)
    X, _ = random_frame(60, 3, 8)
    assert a.state_hash() == b.state_hash()
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict_return(X), b.predict_return(X))


def test_lstm_different_seed_or_hyperparameters_give_a_different_hash() -> None:
    X, y = random_frame(240, 3, 0)
    hashes = set()
    for seed, options in ((0, {}), (1, {}), (0, {"lr": 1e-3})):
        model = LstmModel(seed, **{**TINY, **options})  # type: ignore[arg-type]
        model.fit(X, y > 0, y)
        hashes.add(model.state_hash())
    assert len(hashes) == 3


def test_lstm_fit_and_predict_leave_torch_global_settings_as_they_were() -> None:
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    rng_state = torch.get_rng_state()
    model = fitted()
    model.predict_proba(random_frame(30, 3, 1)[0])
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    assert torch.equal(torch.get_rng_state(), rng_state)


def test_lstm_round_trip_through_bytes_keeps_every_forecast() -> None:
    model = fitted(seed=3)
    data = model.to_bytes()
    loaded = LstmModel.from_bytes(data)
    X, _ = random_frame(60, 3, 7)
    assert loaded.state_hash() == model.state_hash()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict_return(X), model.predict_return(X))
    assert LstmModel.from_bytes(loaded.to_bytes()).state_hash() == model.state_hash()


def test_lstm_round_trip_of_a_base_rate_model_keeps_its_forecast() -> None:
    X, y = random_frame(20, 2, 0)
    model = LstmModel(0, **TINY)
    model.fit(X, y > 0, y)
    loaded = LstmModel.from_bytes(model.to_bytes())
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_lstm_from_bytes_rejects_other_payloads() -> None:
    import io

    buffer = io.BytesIO()
    torch.save({"format": -1}, buffer)
    with pytest.raises(ValueError, match="format"):
        LstmModel.from_bytes(buffer.getvalue())


# -- no look-ahead ----------------------------------------------------------------------------


def test_lstm_forecast_at_t_ignores_rows_after_t() -> None:
    model = fitted(seed=2)
    X, _ = random_frame(80, 3, 6)
    t = 47
    changed = X.copy()
    changed.iloc[t + 1 :] = np.random.default_rng(99).standard_normal((80 - t - 1, 3)) * 5.0
    for predict in (model.predict_proba, model.predict_return):
        before, after = predict(X), predict(changed)
        np.testing.assert_array_equal(before[: t + 1], after[: t + 1])
        assert not np.array_equal(before[t + 1 :], after[t + 1 :])
    # a prefix of the rows gets the same forecasts (up to float32 rounding across batch sizes)
    np.testing.assert_allclose(
        model.predict_proba(X.iloc[: t + 1]), model.predict_proba(X)[: t + 1], rtol=0, atol=1e-6
    )


def test_lstm_forecast_at_t_ignores_rows_older_than_the_window() -> None:
    model = fitted(seed=2, window=6)
    X, _ = random_frame(80, 3, 6)
    changed = X.copy()
    changed.iloc[:30] = 0.0
    np.testing.assert_array_equal(model.predict_proba(X)[35:], model.predict_proba(changed)[35:])


# -- honest skill -----------------------------------------------------------------------------


def test_lstm_on_a_random_walk_has_no_edge_out_of_sample() -> None:
    n = 1_800
    rng = np.random.default_rng(11)
    r = pd.Series(rng.standard_normal(n))
    X = pd.DataFrame({f"lag{k}": r.shift(k) for k in range(4)})
    forward = r.shift(-1)
    report = walk_forward_evaluate(
        X,
        forward,
        {"lstm": lambda seed: LstmModel(seed, **SMALL)},  # type: ignore[dict-item]
        horizon=1,
        n_splits=2,
        min_train=700,
        seed=11,
    )
    card = report.scorecards["lstm"]
    assert card.n > 800
    assert abs(card.accuracy - 0.5) <= NOISE_TOLERANCE
    assert card.brier <= card.climatology_brier + BRIER_MARGIN


def test_lstm_on_a_planted_sequential_signal_comes_near_the_best_possible_accuracy() -> None:
    X, y = planted(2_000, 21)
    train, test = slice(0, 1_200), slice(1_200, 1_999)  # the last label is the one unknown
    model = LstmModel(21, **SMALL)
    model.fit(X.iloc[train], (y.iloc[train] > 0).to_numpy(), y.iloc[train].to_numpy())
    probs = model.predict_proba(X.iloc[test])[SMALL["window"] - 1 :]
    expected = model.predict_return(X.iloc[test])[SMALL["window"] - 1 :]
    realised = y.iloc[test].to_numpy()[SMALL["window"] - 1 :]
    accuracy = float(np.mean((probs > 0.5) == (realised > 0)))
    k = SIGNAL_STRENGTH
    best = 0.5 + math.atan(k) / math.pi
    a = (k / math.sqrt(3.0)) / math.sqrt(1.0 + 2.0 * k * k / 3.0)
    best_from_current_row = 0.5 + math.atan(a) / math.pi
    assert accuracy > best_from_current_row
    assert accuracy >= best - SIGNAL_GAP
    # the return head tracks the size: E[y | s] = K s correlates k / sqrt(1 + k^2) with y
    correlation = float(np.corrcoef(expected, realised)[0, 1])
    assert correlation > 0.5 * k / math.sqrt(1.0 + k * k)
