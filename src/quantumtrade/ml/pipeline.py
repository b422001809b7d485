"""One symbol's decision models, end to end: inputs, training, the live forecast, the decision.

**Inputs** (:func:`inputs`): the feature table (:mod:`quantumtrade.ml.features`), the
candlestick patterns' hit-rate vote (``pattern_p_up``, ``pattern_n``), the sentiment series
the caller joins as ``sent_*`` columns (missing values count as neutral, 0) and the market
regime as ``regime_*`` columns: the filtered probabilities of a Gaussian HMM
(:mod:`quantumtrade.ml.regime`) fitted on the bars *before the first walk-forward test bar*
only, so no test fold's regime features were computed with a model that saw its future.

**Training** (:func:`train_model`), one model at a time so each can be ready on its own:
the walk-forward evaluation of that model (purged, embargoed folds, calibrated on held-out
slices) gives its out-of-fold forecasts and track record; the live model is then fitted on
every labelled bar but a final calibration slice (purged by the horizon) and calibrated on
that slice. Same seed and data, same model and the same content hash.

**Consensus** (:func:`consensus_of`): stacked on the models' out-of-fold forecasts
(:class:`~quantumtrade.ml.consensus.Consensus`); its own out-of-sample record comes from
:func:`~quantumtrade.ml.consensus.walk_forward_consensus`, where each fold's stacker saw only
earlier folds.

**Decision** (:func:`decide`): every ready model's calibrated P(up) at the last bar, combined
and turned into buy, sell or hold with size, stop and target, plus the features that pushed
the gradient-boosted model's forecast most (its SHAP contributions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from quantumtrade.domain import indicators as ind
from quantumtrade.ml.consensus import Consensus, Decision, walk_forward_consensus
from quantumtrade.ml.evaluation import (
    BASELINES,
    Calibrator,
    EvaluationReport,
    ModelFactory,
    calibrate,
    fold_seed,
    purged_walk_forward,
    reliability,
    walk_forward_evaluate,
)
from quantumtrade.ml.features import FEATURE_VERSION, feature_table, labels, warmup_bars
from quantumtrade.ml.models import GbmModel, PatternModel, RulesModel, SentimentModel, model_hash
from quantumtrade.ml.patterns import candle_patterns, pattern_votes
from quantumtrade.ml.regime import RegimeModel, classify, fit

FORECASTERS = ("lstm", "gbm", "rules", "pattern", "sentiment")
"""The models the consensus combines (the baselines are scored beside them, never combined)."""
BASELINE_NAMES = tuple(BASELINES)
MODEL_NAMES = FORECASTERS + BASELINE_NAMES
REGIME_COLUMNS = ("regime_p_bull", "regime_p_bear", "regime_vol_pct")
REGIME_MIN_BARS = 250  # bars the regime HMM needs before the first test bar
LSTM_TAIL = 64  # last bars whose news tone a live decision reads (more than any model window)
TOP_FEATURES = 5
REGIME_UNKNOWN = {"regime_p_bull": 1 / 3, "regime_p_bear": 1 / 3, "regime_vol_pct": 0.5}


@dataclass(frozen=True)
class PipelineConfig:
    """How a symbol's models are trained: horizon, folds, sizes and the seed."""

    horizon: int = 1
    n_splits: int = 5
    min_train: int = 500
    calibration_fraction: float = 0.2
    seed: int = 0
    gbm_trees: int = 200
    lstm_epochs: int = 30
    lstm_hidden: int = 16

    @property
    def embargo(self) -> int:
        return self.horizon

    def factories(self) -> dict[str, ModelFactory]:
        """Return a factory per model name (seeded by the walk-forward run)."""
        from quantumtrade.ml.models.lstm import LstmModel  # torch loads only where needed

        return {
            "lstm": partial(LstmModel, epochs=self.lstm_epochs, hidden=self.lstm_hidden),
            "gbm": partial(GbmModel, horizon=self.horizon, n_estimators=self.gbm_trees),
            "rules": RulesModel,
            "pattern": PatternModel,
            "sentiment": SentimentModel,
            **BASELINES,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "n_splits": self.n_splits,
            "min_train": self.min_train,
            "calibration_fraction": self.calibration_fraction,
            "embargo": self.embargo,
            "seed": self.seed,
            "gbm_trees": self.gbm_trees,
            "lstm_epochs": self.lstm_epochs,
            "lstm_hidden": self.lstm_hidden,
        }


# -- inputs -----------------------------------------------------------------------------------


def first_test_bar(n_rows: int, config: PipelineConfig) -> int:
    """Return the position of the first walk-forward test bar of ``n_rows`` labelled rows."""
    splits = purged_walk_forward(
        n_rows,
        n_splits=config.n_splits,
        horizon=config.horizon,
        embargo=config.embargo,
        min_train=config.min_train,
        calibration_fraction=config.calibration_fraction,
    )
    return int(splits[0].test[0])


def fit_regime(bars: pd.DataFrame, seed: int = 0) -> RegimeModel | None:
    """Fit the regime HMM on ``bars`` (None when there are too few or it fails to fit)."""
    if len(bars) < REGIME_MIN_BARS:
        return None
    try:
        return fit(bars, seed=seed)
    except (ValueError, np.linalg.LinAlgError):
        return None


def regime_features(bars: pd.DataFrame, model: RegimeModel | None) -> pd.DataFrame:
    """Return the filtered regime probabilities per bar (NaN without a model)."""
    frame = pd.DataFrame(np.nan, index=bars.index, columns=list(REGIME_COLUMNS))
    if model is None:
        return frame
    result = classify(bars, model, mode="filtered")
    names = list(model.state_names)
    states = np.asarray(result.state_probability, dtype=np.float64)
    for column, regime in (("regime_p_bull", "bull"), ("regime_p_bear", "bear")):
        held = [j for j, name in enumerate(names) if name == regime]
        frame[column] = states[:, held].sum(axis=1) if held else 0.0
    frame["regime_vol_pct"] = np.asarray(result.volatility_percentile, dtype=np.float64)
    return frame


def inputs(
    bars: pd.DataFrame,
    *,
    horizon: int,
    sentiment: Mapping[str, pd.Series] | None = None,
    regime: RegimeModel | None = None,
) -> pd.DataFrame:
    """Return every model's input columns per bar, each known at that bar's close."""
    X = feature_table(bars, extra=sentiment)
    votes = pattern_votes(bars, candle_patterns(bars), horizon)
    X["pattern_p_up"] = votes["p_up"]
    X["pattern_n"] = votes["n_patterns"].astype(np.float64)
    # Before the HMM's first bar, or without one, the regime is unknown: even odds.
    regime_frame = regime_features(bars, regime).fillna(REGIME_UNKNOWN)
    for column in REGIME_COLUMNS:
        X[column] = regime_frame[column].to_numpy()
    sentiment_columns = [c for c in X.columns if c.startswith("sent_")]
    X[sentiment_columns] = X[sentiment_columns].fillna(0.0)
    return X


def align(X: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return ``X`` with exactly the training ``columns``: a sentiment series the source no
    longer serves counts as neutral (0), an unknown regime as even odds."""
    out = X.reindex(columns=list(columns))
    for column in out.columns:
        if column.startswith("sent_"):
            out[column] = out[column].fillna(0.0)
        elif column in REGIME_UNKNOWN:
            out[column] = out[column].fillna(REGIME_UNKNOWN[column])
    return out


@dataclass(frozen=True, eq=False)
class TrainingData:
    """The rows models train on (warm-up cut), their forward returns, and the regime model."""

    X: pd.DataFrame
    forward: pd.Series
    regime: RegimeModel | None
    feature_version: str = FEATURE_VERSION

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return pd.Timestamp(self.X.index[0]), pd.Timestamp(self.X.index[-1])


def training_data(
    bars: pd.DataFrame,
    config: PipelineConfig,
    *,
    sentiment: Mapping[str, pd.Series] | None = None,
) -> TrainingData:
    """Return the inputs and labels of ``bars`` for ``config`` (raises ValueError if too short)."""
    start = warmup_bars()
    usable = len(bars) - start
    if len(bars) < min_bars(config):
        raise ValueError(f"{min_bars(config)} bars are needed to train; got {len(bars)}")
    regime_cut = start + first_test_bar(usable, config)
    regime = fit_regime(bars.iloc[:regime_cut], seed=config.seed)
    X = inputs(bars, horizon=config.horizon, sentiment=sentiment, regime=regime)
    forward = labels(bars, config.horizon)["forward_return"]
    return TrainingData(X=X.iloc[start:], forward=forward.iloc[start:], regime=regime)


# -- training ---------------------------------------------------------------------------------


@dataclass(eq=False)
class TrainedModel:
    """A fitted, calibrated model with its walk-forward track record."""

    name: str
    model: Any
    calibrator: Calibrator
    config: dict[str, Any]
    columns: tuple[str, ...]
    window: tuple[str, str]
    feature_version: str
    scorecard: dict[str, float]
    folds: list[dict[str, float]]
    calibration_methods: tuple[str, ...]
    reliability: list[dict[str, float]]
    oof: pd.Series  # the out-of-fold calibrated P(up), NaN where untested
    forward: pd.Series  # the forward return of each training row (NaN where unknown)
    regime: RegimeModel | None  # the HMM behind the regime columns
    content_hash: str = ""

    def forecast(self, X: pd.DataFrame) -> tuple[float, float]:
        """Return the calibrated P(up) and the expected return at the last row of ``X``."""
        rows = int(getattr(self.model, "window", 1))  # the LSTM reads a window of bars
        tail = align(X.iloc[-rows:], self.columns)
        raw = np.asarray(self.model.predict_proba(tail), dtype=np.float64)[-1:]
        p = float(np.clip(self.calibrator.transform(raw)[0], 0.0, 1.0))
        r = float(np.asarray(self.model.predict_return(tail), dtype=np.float64)[-1])
        return p, r

    def metrics(self) -> dict[str, Any]:
        """Return the figures the registry shows: pooled, per fold, calibration."""
        return {
            "walk_forward": self.scorecard,
            "folds": self.folds,
            "calibration_methods": list(self.calibration_methods),
            "reliability": self.reliability,
        }


@dataclass(frozen=True, eq=False)
class WalkForwardShared:
    """What every model's training job of one symbol shares (sent once to each worker)."""

    data: TrainingData
    config: PipelineConfig


def _finite(values: Mapping[str, float]) -> dict[str, float]:
    return {k: (float(v) if math.isfinite(v) else math.nan) for k, v in values.items()}


def _walk_forward(
    data: TrainingData, config: PipelineConfig, factories: Mapping[str, ModelFactory]
) -> EvaluationReport:
    return walk_forward_evaluate(
        data.X,
        data.forward,
        factories,
        horizon=config.horizon,
        n_splits=config.n_splits,
        embargo=config.embargo,
        seed=config.seed,
        min_train=config.min_train,
        calibration_fraction=config.calibration_fraction,
    )


def train_model(shared: WalkForwardShared, name: str) -> TrainedModel:
    """Evaluate ``name`` walk-forward on the shared data, then fit and calibrate its live model.

    A module-level function of (shared, task), as the compute backends call it.
    """
    data, config = shared.data, shared.config
    factory = config.factories()[name]
    report = _walk_forward(data, config, {name: factory})
    model, calibrator = _final_fit(data, config, factory, name)
    card = report.scorecards[name]
    held = report.tested.to_numpy()
    table = reliability(
        report.probabilities[name].to_numpy()[held], report.outcomes.to_numpy()[held]
    )
    start, end = data.window
    trained = TrainedModel(
        name=name,
        model=model,
        calibrator=calibrator,
        config=config.as_dict(),
        columns=tuple(str(c) for c in data.X.columns),
        window=(start.isoformat(), end.isoformat()),
        feature_version=data.feature_version,
        scorecard=_finite(card.as_dict()),
        folds=[_finite(c.as_dict()) for c in report.fold_scorecards[name]],
        calibration_methods=report.calibration[name],
        reliability=[
            _finite({str(k): v for k, v in row.items()}) for row in table.to_dict("records")
        ],
        oof=report.probabilities[name],
        forward=data.forward,
        regime=data.regime,
    )
    trained.content_hash = model_hash(
        {"model": model, "calibrator": calibrator, "config": trained.config, "name": name}
    )
    return trained


def _final_fit(
    data: TrainingData, config: PipelineConfig, factory: ModelFactory, name: str
) -> tuple[Any, Calibrator]:
    """Fit on all labelled rows but the last calibration slice; calibrate on that slice."""
    X, forward = data.X, data.forward.to_numpy(dtype=np.float64)
    valid = np.flatnonzero(np.isfinite(forward) & np.isfinite(X.to_numpy(np.float64)).all(axis=1))
    n_cal = max(int(len(valid) * config.calibration_fraction), 1)
    cal = valid[-n_cal:]
    train = valid[valid + config.horizon < cal[0]]
    up = forward > 0
    model = factory(fold_seed(config.seed, config.n_splits, name))
    model.fit(X.iloc[train], up[train], forward[train])
    raw = np.asarray(model.predict_proba(X.iloc[cal]), dtype=np.float64)
    return model, calibrate(raw, up[cal])


# -- consensus and decisions ------------------------------------------------------------------


def merged_report(models: Mapping[str, TrainedModel]) -> EvaluationReport:
    """Rebuild a walk-forward report from models trained on one window (their stored forecasts)."""
    first = next(iter(models.values()))
    config = first.config
    index = first.oof.index
    forward = first.forward.to_numpy(dtype=np.float64)
    probs = pd.DataFrame({name: m.oof for name, m in models.items()}, index=index)
    tested = probs.notna().all(axis=1).to_numpy()
    splits = purged_walk_forward(
        len(index),
        n_splits=config["n_splits"],
        horizon=config["horizon"],
        embargo=config["embargo"],
        min_train=config["min_train"],
        calibration_fraction=config["calibration_fraction"],
    )
    fold = np.full(len(index), -1, dtype=np.int64)
    climate = np.full(len(index), np.nan)
    up = forward > 0
    for k, split in enumerate(splits):
        rows = split.test[tested[split.test]]
        fold[rows] = k
        known = split.train[np.isfinite(forward[split.train])]
        climate[rows] = float(up[known].mean()) if known.size else 0.5
    held = fold >= 0
    outcomes = np.where(np.isfinite(forward), up.astype(np.float64), np.nan)
    return EvaluationReport(
        probabilities=probs.where(pd.Series(held, index=index), axis=0),
        expected_returns=probs * np.nan,
        outcomes=pd.Series(outcomes, index=index),
        forward_returns=pd.Series(np.where(held, forward, np.nan), index=index),
        fold=pd.Series(fold, index=index),
        climatology=pd.Series(climate, index=index),
        splits=tuple(splits),
        scorecards={},
        fold_scorecards={},
        calibration={},
    )


def same_window(models: Mapping[str, TrainedModel]) -> dict[str, TrainedModel]:
    """Return the forecasters trained on the newest window (the consensus stacks only those)."""
    members = {n: m for n, m in models.items() if n in FORECASTERS}
    if not members:
        return {}
    newest = max(m.window for m in members.values())
    return {n: m for n, m in members.items() if m.window == newest}


@dataclass(eq=False)
class ConsensusModel:
    """The stacked consensus of the ready forecasters, with its out-of-sample record."""

    consensus: Consensus
    members: tuple[str, ...]
    scorecard: dict[str, float]
    content_hash: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def consensus_of(models: Mapping[str, TrainedModel]) -> ConsensusModel:
    """Fit the consensus on the out-of-fold forecasts of the ready forecasters (newest window)."""
    members = same_window(models)
    if not members:
        raise ValueError("no forecaster is ready")
    horizon = int(next(iter(members.values())).config["horizon"])
    report = merged_report(members)
    forecast = walk_forward_consensus(report, horizon=horizon)
    card = report.score(forecast.probabilities.fillna(0.5))
    consensus = Consensus(horizon=horizon).fit_report(report)
    result = ConsensusModel(
        consensus=consensus, members=tuple(members), scorecard=_finite(card.as_dict())
    )
    result.content_hash = model_hash(
        {
            "weights": consensus.weights,
            "intercept": consensus.intercept,
            "win": consensus.win,
            "loss": consensus.loss,
            "members": sorted(m.content_hash for m in members.values()),
        }
    )
    return result


def last_atr(bars: pd.DataFrame, period: int = 14) -> float:
    """Return the average true range at the last bar (0 when it cannot be computed)."""
    values = ind.atr(
        bars["high"].to_numpy(np.float64),
        bars["low"].to_numpy(np.float64),
        bars["close"].to_numpy(np.float64),
        period,
    )
    last = float(values[-1]) if len(values) else math.nan
    return last if math.isfinite(last) else 0.0


def top_features(
    gbm: TrainedModel | None, X: pd.DataFrame, k: int = TOP_FEATURES
) -> list[dict[str, Any]]:
    """Return the ``k`` inputs that moved the boosted model's forecast most at the last row."""
    model = None if gbm is None else gbm.model
    booster = getattr(model, "classifier", None)
    if model is None or booster is None:
        return []
    row = align(X.iloc[-1:], model.features).to_numpy(np.float64)
    contributions = np.asarray(booster.predict(row, pred_contrib=True), dtype=np.float64)[0, :-1]
    order = np.argsort(-np.abs(contributions))[:k]
    return [
        {
            "feature": model.features[j],
            "value": float(row[0, j]),
            "contribution": float(contributions[j]),
        }
        for j in order
    ]


@dataclass(frozen=True)
class Forecasts:
    """Every ready model's calibrated P(up) and expected return at the last bar."""

    probabilities: dict[str, float]
    expected_returns: dict[str, float]


def forecasts(models: Mapping[str, TrainedModel], X: pd.DataFrame) -> Forecasts:
    probs: dict[str, float] = {}
    expected: dict[str, float] = {}
    for name, model in models.items():
        probs[name], expected[name] = model.forecast(X)
    return Forecasts(probs, expected)


def decide(
    consensus: ConsensusModel,
    models: Mapping[str, TrainedModel],
    X: pd.DataFrame,
    bars: pd.DataFrame,
    *,
    cost: float,
    threshold: float,
    kelly_fraction: float,
    max_position_fraction: float,
) -> tuple[Decision, Forecasts]:
    """Decide at the last bar of ``bars`` (``X``: its inputs) with the ready models.

    Every ready model votes; only the consensus's members carry weight.
    """
    seen = forecasts(models, X)
    records = {n: m.scorecard for n, m in models.items()}
    decision = consensus.consensus.decide(
        seen.probabilities,
        seen.expected_returns,
        atr=last_atr(bars),
        price=float(bars["close"].iloc[-1]),
        cost=cost,
        threshold=threshold,
        kelly_fraction=kelly_fraction,
        max_position_fraction=max_position_fraction,
        track_records=records,
    )
    return decision, seen


def model_names(requested: Sequence[str] | None) -> tuple[str, ...]:
    """Return the models to train: ``requested`` (checked) or all of them."""
    if not requested:
        return MODEL_NAMES
    unknown = sorted(set(requested) - set(MODEL_NAMES))
    if unknown:
        raise ValueError(f"unknown model(s): {', '.join(unknown)}")
    return tuple(n for n in MODEL_NAMES if n in requested)


def evaluate(bars: pd.DataFrame, config: PipelineConfig) -> dict[str, Any]:
    """Evaluate every model and the consensus walk-forward on ``bars`` (no sentiment).

    Returns the pooled out-of-sample scorecards: the forecasters and the consensus, and the
    naive baselines beside them. Raises ValueError when the bars are too few.
    """
    data = training_data(bars, config)
    report = _walk_forward(data, config, config.factories())
    members = EvaluationReport(
        probabilities=report.probabilities[list(FORECASTERS)],
        expected_returns=report.expected_returns[list(FORECASTERS)],
        outcomes=report.outcomes,
        forward_returns=report.forward_returns,
        fold=report.fold,
        climatology=report.climatology,
        splits=report.splits,
        scorecards=report.scorecards,
        fold_scorecards=report.fold_scorecards,
        calibration=report.calibration,
    )
    forecast = walk_forward_consensus(members, horizon=config.horizon)
    consensus = report.score(forecast.probabilities.fillna(0.5))
    held = report.tested.to_numpy()
    abstained = float((forecast.probabilities[held] == 0.5).mean()) if held.any() else math.nan
    return {
        "bars": len(bars),
        "tested_bars": int(held.sum()),
        "horizon": config.horizon,
        "folds": config.n_splits,
        "models": {n: _finite(report.scorecards[n].as_dict()) for n in FORECASTERS},
        "baselines": {n: _finite(report.scorecards[n].as_dict()) for n in BASELINE_NAMES},
        "consensus": {**_finite(consensus.as_dict()), "abstained": abstained},
        "config": config.as_dict(),
    }


def min_bars(config: PipelineConfig) -> int:
    """Return the fewest bars :func:`training_data` accepts for ``config``."""
    return warmup_bars() + config.min_train + config.n_splits * 20 + config.horizon
