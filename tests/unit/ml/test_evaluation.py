"""Walk-forward evaluation: purged splits, calibration, metrics, baselines and honesty checks.

Statistical tolerances, for the series used here (8 000 bars, first 1 000+ for training, so
6 747 out-of-fold points at horizon 1):

- the standard error of an accuracy near 50 % is 0.5 / sqrt(6747) = 0.0061, so the
  "50 +- 2 %" band on a random walk is about 3.3 standard errors wide;
- on an AR(1) series of lag-1 correlation rho, no forecaster beats
  1/2 + arcsin(rho)/pi (Sheppard's formula for the sign agreement of two correlated
  Gaussians), and the best rank IC is (6/pi) arcsin(rho/2).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from quantumtrade.ml.evaluation import (
    BASELINES,
    ISOTONIC_MIN_SAMPLES,
    AlwaysFlat,
    Drift,
    IdentityCalibrator,
    IsotonicCalibrator,
    LogisticModel,
    PlattCalibrator,
    PreviousDirection,
    brier,
    calibrate,
    climatology_brier,
    directional_accuracy,
    ece,
    fold_seed,
    log_loss,
    purged_walk_forward,
    reliability,
    scorecard,
    walk_forward_evaluate,
)

N_BARS = 8_000
MIN_TRAIN = 1_000
N_SPLITS = 10
LAGS = 5
NOISE_TOLERANCE = 0.02  # accuracy band around 50 % on a random walk: ~3.3 standard errors
BRIER_MARGIN = 0.005  # 2 % of a coin's Brier score of 0.25
ACCURACY_GAP = 0.025  # planted signal: ~0.005 estimation loss + 3 standard errors
IC_GAP = 0.05  # ~4 standard errors of a rank correlation on 6 747 points
ECE_BOUND = 0.04  # sampling noise alone gives ~0.01-0.015 here (see ece's docstring)
MODELS = {**BASELINES, "logit": LogisticModel}


def ar1_returns(n: int, rho: float, seed: int) -> np.ndarray:
    """Unit-variance AR(1) returns: r_t = rho r_{t-1} + sqrt(1 - rho^2) e_t (rho 0: a walk)."""
    noise = np.random.default_rng(seed).standard_normal(n)
    returns: np.ndarray = signal.lfilter([math.sqrt(1 - rho * rho)], [1.0, -rho], noise)
    return returns


def lagged(
    returns: np.ndarray, lags: int = LAGS, horizon: int = 1
) -> tuple[pd.DataFrame, pd.Series]:
    """Features: the last ``lags`` returns known at each bar; label: the next horizon's sum."""
    r = pd.Series(returns, index=pd.RangeIndex(len(returns)))
    features = pd.DataFrame({f"lag{k}": r.shift(k) for k in range(lags)})
    forward = r[::-1].rolling(horizon).sum()[::-1].shift(-1)
    return features, forward


def evaluate(rho: float, seed: int, **kwargs: object) -> tuple:
    X, y = lagged(ar1_returns(N_BARS, rho, seed))
    options = {"horizon": 1, "n_splits": N_SPLITS, "min_train": MIN_TRAIN, "seed": seed}
    options.update(kwargs)
    return X, y, walk_forward_evaluate(X, y, MODELS, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def random_walk_report():
    return evaluate(0.0, seed=11)[2]


@pytest.fixture(scope="module")
def planted_report():
    return evaluate(0.3, seed=12)[2]


# -- splits -----------------------------------------------------------------------------------


def check_split_invariants(
    splits: list,
    n: int,
    *,
    n_splits: int,
    horizon: int,
    embargo: int,
    min_train: int,
    expanding: bool,
    fraction: float,
) -> None:
    assert len(splits) == n_splits
    tests = np.concatenate([s.test for s in splits])
    # Contiguous, ordered test blocks running to the last bar.
    assert np.array_equal(tests, np.arange(tests[0], n))
    banned: set[int] = set()
    for s in splits:
        t0 = int(s.test[0])
        assert len(s.train) >= min_train
        if not expanding:
            assert len(s.train) == min_train
        # No training or calibration label reaches the test block...
        assert s.train.max() + horizon < t0
        if fraction and len(s.calibrate):
            assert s.calibrate.max() + horizon < t0
            # ...and no training label reaches the calibration slice, which ends the window.
            assert s.train.max() + horizon < s.calibrate.min()
        elif fraction:
            # Only an embargo covering the whole slice, up to its last bar, can empty it.
            assert t0 - horizon - 1 in banned
        else:
            assert len(s.calibrate) == 0
        parts = [set(s.train.tolist()), set(s.calibrate.tolist()), set(s.test.tolist())]
        assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
        # Nothing right after an earlier test block is fitted on.
        assert not (parts[0] | parts[1]) & banned
        for part in (s.train, s.calibrate, s.test):
            assert np.all(np.diff(part) > 0)
        end = int(s.test[-1]) + 1
        banned |= set(range(end, end + embargo))


@pytest.mark.parametrize("expanding", [True, False])
@pytest.mark.parametrize(("horizon", "embargo", "fraction"), [(1, 0, 0.2), (5, 7, 0.25), (3, 2, 0)])
def test_splits_are_purged_ordered_and_disjoint(
    expanding: bool, horizon: int, embargo: int, fraction: float
) -> None:
    options = {
        "n_splits": 4,
        "horizon": horizon,
        "embargo": embargo,
        "min_train": 120,
        "expanding": expanding,
    }
    splits = purged_walk_forward(600, calibration_fraction=fraction, **options)  # type: ignore[arg-type]
    check_split_invariants(splits, 600, fraction=fraction, **options)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(20, 1_500),
    n_splits=st.integers(1, 8),
    horizon=st.integers(1, 12),
    embargo=st.integers(0, 40),
    min_train=st.integers(1, 300),
    expanding=st.booleans(),
    fraction=st.sampled_from([0.0, 0.01, 0.2, 0.5, 0.9]),
)
def test_split_invariants_hold_for_any_arguments(
    n: int,
    n_splits: int,
    horizon: int,
    embargo: int,
    min_train: int,
    expanding: bool,
    fraction: float,
) -> None:
    options = {
        "n_splits": n_splits,
        "horizon": horizon,
        "embargo": embargo,
        "min_train": min_train,
        "expanding": expanding,
    }
    try:
        splits = purged_walk_forward(n, calibration_fraction=fraction, **options)  # type: ignore[arg-type]
    except ValueError as error:
        assert "too few" in str(error)
        return
    check_split_invariants(splits, n, fraction=fraction, **options)  # type: ignore[arg-type]


def test_the_embargo_keeps_the_bars_after_each_test_block_out_of_later_folds() -> None:
    options = {"n_splits": 5, "horizon": 2, "min_train": 100}
    with_embargo = purged_walk_forward(700, embargo=10, **options)
    without = purged_walk_forward(700, embargo=0, **options)
    for k, (s, plain) in enumerate(zip(with_embargo, without, strict=True)):
        banned = set()
        for earlier in with_embargo[:k]:
            end = int(earlier.test[-1]) + 1
            banned |= set(range(end, end + 10))
        used = set(s.train.tolist()) | set(s.calibrate.tolist())
        assert not used & banned
        # The embargo removes exactly those bars and nothing else.
        plain_used = set(plain.train.tolist()) | set(plain.calibrate.tolist())
        assert plain_used - used == plain_used & banned
        assert np.array_equal(s.test, plain.test)
    # From the third fold on there are embargoed bars inside the training window.
    assert len(with_embargo[2].train) < len(without[2].train)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_splits": 0},
        {"horizon": 0},
        {"embargo": -1},
        {"min_train": 0},
        {"calibration_fraction": 1.0},
        {"calibration_fraction": -0.1},
        {"horizon": True},
        {"n_splits": 450},  # too many blocks for the bars left
    ],
)
def test_bad_split_arguments_are_refused(kwargs: dict[str, object]) -> None:
    options: dict[str, object] = {"n_splits": 3, "horizon": 1, "min_train": 50}
    options.update(kwargs)
    with pytest.raises(ValueError):
        purged_walk_forward(500, **options)  # type: ignore[arg-type]


# -- metrics ----------------------------------------------------------------------------------


def test_metrics_on_known_cases() -> None:
    y = np.array([1, 0, 1, 1])
    assert brier(y.astype(float), y) == 0.0
    assert brier(1.0 - y, y) == 1.0
    assert log_loss(np.full(4, 0.5), y) == pytest.approx(math.log(2))
    assert directional_accuracy([0.9, 0.9, 0.1, 0.5], y) == pytest.approx((1 + 0 + 0 + 0.5) / 4)
    # Forecasting the observed base rate scores its variance.
    assert climatology_brier(y, 0.75) == pytest.approx(0.75 * 0.25)
    with pytest.raises(ValueError):
        brier([1.2, 0.5, 0.5, 0.5], y)
    with pytest.raises(ValueError):
        brier([0.5, 0.5, 0.5, 0.5], [2, 0, 1, 1])


def test_ece_is_small_for_calibrated_forecasts_and_large_for_overconfident_ones() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0.2, 0.8, 20_000)
    y = (rng.uniform(size=p.size) < p).astype(float)
    table = reliability(p, y)
    assert int(table["count"].sum()) == p.size
    assert ece(p, y) < 0.015
    assert ece(p, y, strategy="quantile") < 0.015
    overconfident = np.where(p > 0.5, 0.95, 0.05)
    assert ece(overconfident, y) > 0.2


def test_scorecard_counts_calls_and_abstentions() -> None:
    y = np.array([1, 0, 1, 0] * 10)
    card = scorecard(np.full(40, 0.5), y, np.where(y == 1, 0.01, -0.01), 0.5)
    assert card.coverage == 0.0 and math.isnan(card.hit_rate)
    assert card.accuracy == 0.5 and card.brier == pytest.approx(card.climatology_brier)
    assert card.brier_skill == pytest.approx(0.0)


# -- calibration ------------------------------------------------------------------------------


def test_platt_undoes_an_overconfident_logit_scale() -> None:
    rng = np.random.default_rng(8)
    z = rng.normal(0.0, 1.0, 5_000)
    truth = 1.0 / (1.0 + np.exp(-z))
    y = (rng.uniform(size=z.size) < truth).astype(float)
    raw = 1.0 / (1.0 + np.exp(-(3.0 * z + 0.6)))
    platt = PlattCalibrator().fit(raw, y)
    assert platt.a == pytest.approx(1 / 3, abs=0.05)
    assert platt.b == pytest.approx(-0.2, abs=0.08)
    assert ece(platt.transform(raw), y) < ece(raw, y) / 3


def test_isotonic_is_monotone_and_bounded() -> None:
    rng = np.random.default_rng(9)
    raw = rng.uniform(size=3_000)
    y = (rng.uniform(size=raw.size) < raw**2).astype(float)
    iso = IsotonicCalibrator().fit(raw, y)
    grid = np.linspace(-0.5, 1.5, 200)
    out = iso.transform(grid)
    assert np.all(np.diff(out) >= 0)
    assert out.min() > 0 and out.max() < 1
    assert ece(iso.transform(raw), y) < ece(raw, y)


def test_the_calibration_rule() -> None:
    rng = np.random.default_rng(10)
    few, many = ISOTONIC_MIN_SAMPLES - 1, ISOTONIC_MIN_SAMPLES
    y_many = (rng.uniform(size=many) < 0.5).astype(float)
    assert isinstance(calibrate(rng.uniform(size=few), y_many[:few]), PlattCalibrator)
    assert isinstance(calibrate(rng.uniform(size=many), y_many), IsotonicCalibrator)
    # Nothing to map for a constant forecaster, nothing to learn from an empty slice.
    assert isinstance(calibrate(np.full(many, 0.5), y_many), IdentityCalibrator)
    assert isinstance(calibrate([], []), IdentityCalibrator)
    assert isinstance(calibrate(rng.uniform(size=10), y_many[:10], "identity"), IdentityCalibrator)


# -- baselines --------------------------------------------------------------------------------


def test_previous_direction_learns_persistence_and_reversal() -> None:
    last = np.tile([1.0, -1.0], 100)
    X = pd.DataFrame({"ret": last})
    reversal = last < 0  # every move reverses: up follows down
    model = PreviousDirection()
    model.fit(X, reversal, np.where(reversal, 1.0, -1.0))
    assert model.persistence == 0.0
    np.testing.assert_allclose(model.predict_proba(X), np.where(last > 0, 0.0, 1.0))
    np.testing.assert_allclose(model.predict_return(X), np.where(last > 0, -1.0, 1.0))


def test_drift_and_always_flat() -> None:
    X = pd.DataFrame({"x": np.zeros(10)})
    up = np.array([True] * 7 + [False] * 3)
    drift = Drift()
    drift.fit(X, up, np.where(up, 2.0, -1.0))
    assert np.all(drift.predict_proba(X) == 0.7)
    assert np.all(drift.predict_return(X) == pytest.approx(1.1))
    flat = AlwaysFlat()
    flat.fit(X, up, np.ones(10))
    assert np.all(flat.predict_proba(X) == 0.5) and np.all(flat.predict_return(X) == 0.0)


# -- honesty on noise and on a planted signal -------------------------------------------------


def test_no_edge_on_a_random_walk(random_walk_report) -> None:
    report = random_walk_report
    assert set(report.scorecards) == set(MODELS)
    tested = report.probabilities.dropna()
    assert len(tested) == 6_747 and tested.columns.tolist() == list(MODELS)
    for name, card in report.scorecards.items():
        assert card.n == len(tested)
        assert abs(card.accuracy - 0.5) <= NOISE_TOLERANCE, name
        assert card.brier <= card.climatology_brier + BRIER_MARGIN, name
        assert not card.ic.significant or abs(card.ic.ic) < 0.05, name
        # Calibrated confidence stays near a coin.
        assert float((tested[name] - 0.5).abs().mean()) < 0.05, name


def test_a_planted_signal_is_found_up_to_its_theoretical_limit(planted_report) -> None:
    rho = 0.3
    best_accuracy = 0.5 + math.asin(rho) / math.pi
    best_ic = 6 / math.pi * math.asin(rho / 2)
    logit = planted_report.scorecards["logit"]
    # Found, and not beaten: beating the Bayes rate would mean a look into the future.
    assert best_accuracy - ACCURACY_GAP <= logit.accuracy <= best_accuracy + NOISE_TOLERANCE
    assert logit.ic.significant and logit.ic.ic > 0
    assert abs(logit.ic.ic - best_ic) <= IC_GAP
    assert logit.brier < logit.climatology_brier
    # The baselines that cannot see the signal stay at a coin's accuracy.
    for name in ("always_flat", "drift"):
        assert abs(planted_report.scorecards[name].accuracy - 0.5) <= NOISE_TOLERANCE


def test_held_out_forecasts_are_calibrated(planted_report, random_walk_report) -> None:
    for report in (planted_report, random_walk_report):
        assert report.scorecards["logit"].ece < ECE_BOUND
    # The rule in practice: Platt while the calibration slice is small, then isotonic.
    methods = planted_report.calibration["logit"]
    assert methods[0] == "platt" and methods[-1] == "isotonic"
    assert set(planted_report.calibration["always_flat"]) == {"identity"}


class _Overconfident(LogisticModel):
    """A logistic model that shouts: its logit is tripled."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.clip(super().predict_proba(X), 1e-9, 1 - 1e-9)
        return 1.0 / (1.0 + ((1 - p) / p) ** 3)


def test_walk_forward_calibration_repairs_an_overconfident_model() -> None:
    X, y = lagged(ar1_returns(N_BARS, 0.3, seed=13))
    options = {"horizon": 1, "n_splits": N_SPLITS, "min_train": MIN_TRAIN, "seed": 13}
    models = {"shouty": _Overconfident}
    raw = walk_forward_evaluate(X, y, models, calibration="identity", **options)
    fixed = walk_forward_evaluate(X, y, models, **options)
    assert raw.scorecards["shouty"].ece > 2 * ECE_BOUND
    assert fixed.scorecards["shouty"].ece < ECE_BOUND
    assert fixed.scorecards["shouty"].brier < raw.scorecards["shouty"].brier


# -- no look-ahead, determinism ---------------------------------------------------------------


def test_what_follows_a_fold_cannot_change_its_forecasts() -> None:
    horizon = 5
    X, y = lagged(ar1_returns(3_000, 0.3, seed=14), horizon=horizon)
    options = {"horizon": horizon, "n_splits": 6, "min_train": 500, "embargo": 5, "seed": 3}
    base = walk_forward_evaluate(X, y, MODELS, **options)
    fold = 3
    split = base.splits[fold]
    t0, t1 = int(split.test[0]), int(split.test[-1]) + 1
    rng = np.random.default_rng(0)
    # Shuffle every row after the fold's test block...
    order = np.concatenate([np.arange(t1), t1 + rng.permutation(len(X) - t1)])
    X2 = pd.DataFrame(X.to_numpy()[order], index=X.index, columns=X.columns)
    y2 = pd.Series(y.to_numpy()[order], index=y.index)
    # ...and scramble the labels that reach into the test block (the purged gap and the block).
    y2.iloc[t0 - horizon : t1] = rng.standard_normal(t1 - t0 + horizon)
    changed = walk_forward_evaluate(X2, y2, MODELS, **options)
    upto = base.fold.to_numpy() <= fold
    upto &= base.fold.to_numpy() >= 0
    assert upto.sum() > 0
    np.testing.assert_array_equal(
        base.probabilities.to_numpy()[upto], changed.probabilities.to_numpy()[upto]
    )
    np.testing.assert_array_equal(
        base.expected_returns.to_numpy()[upto], changed.expected_returns.to_numpy()[upto]
    )
    # The later folds did see the change.
    later = base.fold.to_numpy() > fold
    assert not np.array_equal(
        base.probabilities["logit"].to_numpy()[later],
        changed.probabilities["logit"].to_numpy()[later],
    )


def test_runs_are_deterministic_by_seed_and_score_a_consensus() -> None:
    X, y = lagged(ar1_returns(2_500, 0.2, seed=15))
    options = {"horizon": 1, "n_splits": 4, "min_train": 400}
    first = walk_forward_evaluate(X, y, MODELS, seed=4, **options)
    again = walk_forward_evaluate(X, y, MODELS, seed=4, **options)
    pd.testing.assert_frame_equal(first.probabilities, again.probabilities)
    pd.testing.assert_frame_equal(first.expected_returns, again.expected_returns)
    assert fold_seed(4, 0, "logit") == fold_seed(4, 0, "logit")
    assert len({fold_seed(4, 0, "logit"), fold_seed(4, 1, "logit"), fold_seed(5, 0, "logit")}) == 3
    # Untested bars are NaN, tested bars are probabilities.
    untested = first.fold.to_numpy() < 0
    assert first.probabilities.to_numpy()[untested].size and np.all(
        np.isnan(first.probabilities.to_numpy()[untested])
    )
    # A consensus column is scored like the models; a model's own column scores as reported.
    card = first.score(first.probabilities["logit"])
    assert card == first.scorecards["logit"]
    consensus = first.probabilities[["logit", "previous_direction"]].mean(axis=1)
    assert first.score(consensus).n == first.scorecards["logit"].n
    assert len(first.fold_scorecards["logit"]) == 4
    assert sum(c.n for c in first.fold_scorecards["logit"]) == first.scorecards["logit"].n


def test_a_model_returning_the_wrong_shape_is_reported() -> None:
    class Broken(AlwaysFlat):
        def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
            return np.full(len(X) + 1, 0.5)

    X, y = lagged(ar1_returns(800, 0.0, seed=16))
    with pytest.raises(ValueError, match="broken"):
        walk_forward_evaluate(X, y, {"broken": Broken}, horizon=1, n_splits=2, min_train=200)


def test_bars_without_a_label_are_skipped_but_keep_their_place_in_time() -> None:
    X, y = lagged(ar1_returns(1_200, 0.2, seed=17))
    options = {"horizon": 1, "n_splits": 3, "min_train": 300}
    plain = walk_forward_evaluate(X, y, MODELS, **options)
    first = plain.splits[0].test
    y_gap = y.copy()
    y_gap.iloc[first] = np.nan  # no label anywhere in the first test block
    gapped = walk_forward_evaluate(X, y_gap, MODELS, **options)
    assert gapped.probabilities.iloc[first].isna().all().all()
    assert gapped.fold_scorecards["logit"][0].n == 0
    # The folds stay where they were; only the unlabelled bars drop out of the scores.
    assert [len(s.test) for s in gapped.splits] == [len(s.test) for s in plain.splits]
    assert gapped.scorecards["logit"].n == plain.scorecards["logit"].n - len(first)
