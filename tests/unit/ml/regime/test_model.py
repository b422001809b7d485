"""Fitting: deterministic by seed, state names independent of the random start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.regime import RegimeModel, classify, fit, name_states

ARRAYS = ("transition", "means", "variances", "start_probability", "state_drift")


def test_fit_same_seed_and_bars_gives_identical_model(train_bars: pd.DataFrame) -> None:
    bars = train_bars.iloc[:800]
    a, b = (
        fit(bars, seed=5, n_restarts=2, max_iter=30),
        fit(bars, seed=5, n_restarts=2, max_iter=30),
    )
    assert a.state_names == b.state_names and a.log_likelihood == b.log_likelihood
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_fit_different_seeds_gives_same_state_names_and_labels(
    train_bars: pd.DataFrame, test_series: tuple[pd.DataFrame, np.ndarray]
) -> None:
    # One random start can stop in a poor local optimum; the restarts of a fit are what make
    # the result independent of where EM started. On ten years of bars the likelihood has
    # near-equal optima (0.3 apart in log-likelihood here) that label the odd bar at a
    # regime change differently: the names are the same, and the labels of 99 % of the bars.
    models = [fit(train_bars, seed=seed, n_restarts=2, max_iter=50) for seed in (11, 12, 13)]
    assert len({m.state_names for m in models}) == 1
    labels = [classify(test_series[0], m).trend_regime for m in models]
    for other in labels[1:]:
        assert np.mean(other == labels[0]) >= 0.99


def test_name_states_permuted_states_permute_names() -> None:
    drift = np.array([-0.6, 0.02, 0.45, 0.35])
    vol = np.array([0.35, 0.13, 0.12, 0.15])
    names = name_states(drift, vol)
    assert names == ("bear", "sideways", "bull", "bull")
    for order in ([3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]):
        assert name_states(drift[order], vol[order]) == tuple(names[k] for k in order)


def test_name_states_calm_negative_drift_is_bear() -> None:
    assert name_states(np.array([-0.1, 0.3]), np.array([0.12, 0.12])) == ("bear", "bull")


def test_name_states_calm_state_drifting_a_little_down_beside_a_sell_off_is_sideways() -> None:
    # Fitted on ten years of the three-regime series: the sideways state's drift came out
    # slightly negative (Sharpe -0.22); against the sell-off's -1.6 it is no second bear.
    drift = np.array([-0.557, -0.029, 0.482])
    vol = np.array([0.348, 0.132, 0.121])
    assert name_states(drift, vol) == ("bear", "sideways", "bull")


def test_model_to_dict_round_trip_classifies_identically(
    model: RegimeModel, test_series: tuple[pd.DataFrame, np.ndarray]
) -> None:
    again = RegimeModel.from_dict(model.to_dict())
    bars = test_series[0].iloc[:300]
    np.testing.assert_array_equal(
        classify(bars, again).trend_probability, classify(bars, model).trend_probability
    )


def test_a_scaled_forward_pass_that_underflows_falls_back_to_log_space(
    train_bars: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hmmlearn's scaled forward pass raises when every state gives a bar zero density (seen on
    # a live crypto series); the fit must then take the log-space pass, not fail the request.
    from hmmlearn.hmm import GaussianHMM

    bars = train_bars.iloc[:600]
    expected = fit(bars, seed=5, n_restarts=2, max_iter=30)
    real_fit = GaussianHMM.fit
    used: list[str] = []

    def fit_or_underflow(self: GaussianHMM, X: np.ndarray, lengths: object = None) -> GaussianHMM:
        used.append(self.implementation)
        if self.implementation == "scaling":
            raise ValueError(
                "forward pass failed with underflow; consider using implementation='log' instead"
            )
        return real_fit(self, X, lengths)

    monkeypatch.setattr(GaussianHMM, "fit", fit_or_underflow)
    model = fit(bars, seed=5, n_restarts=2, max_iter=30)
    assert used == ["scaling", "log", "scaling", "log"]
    assert model.state_names == expected.state_names
    np.testing.assert_allclose(model.means, expected.means, rtol=1e-6, atol=1e-9)
    assert model.log_likelihood == pytest.approx(expected.log_likelihood, rel=1e-9)


def test_other_errors_of_the_fit_are_not_swallowed(
    train_bars: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hmmlearn.hmm import GaussianHMM

    def broken(self: GaussianHMM, X: np.ndarray, lengths: object = None) -> GaussianHMM:
        raise ValueError("something else")

    monkeypatch.setattr(GaussianHMM, "fit", broken)
    with pytest.raises(ValueError, match="something else"):
        fit(train_bars.iloc[:600], seed=5, n_restarts=1, max_iter=10)
