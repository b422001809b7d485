"""Label every bar with its trend regime, volatility regime and trend, given a fitted model.

Two modes:

- ``filtered`` (default): each bar's labels and probabilities use only the bars up to it.
  The model is an input, fitted beforehand (on a training period, or on history up to some
  date), never on the bars being filtered, because a model fitted on the whole series would
  let later bars change earlier labels. With a fixed model, the forward recursion, the
  trailing-window features and the expanding volatility percentile are all causal: cutting
  the series at any bar leaves every earlier label and probability exactly unchanged.
- ``smoothed``: forward-backward probabilities and whole-history percentiles, for looking
  back at history; a bar's labels then depend on later bars too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.ml.regime import features
from quantumtrade.ml.regime._bars import check_bars
from quantumtrade.ml.regime._hmm import emission_log_likelihood, posteriors
from quantumtrade.ml.regime.model import TREND_REGIMES, RegimeModel

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
Mode = Literal["filtered", "smoothed"]
MODES = ("filtered", "smoothed")
MIN_CLASSIFY_BARS = 2


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of consecutive bars with one label: first and last bar time, and bar count."""

    start: pd.Timestamp
    end: pd.Timestamp
    label: str
    bars: int


@dataclass(frozen=True, eq=False)
class RegimeResult:
    """Per-bar regime labels; every array has one row per bar of ``index``.

    ``trend_probability`` has one column per :data:`TREND_REGIMES` entry (bull, bear,
    sideways), rows summing to one. ``volatility`` is annualised; ``volatility_percentile``
    (0-100) ranks it against the symbol's own history. ``trend_strength`` is ADX(14);
    ``trend_tstat`` is the t-statistic of the trailing log-price slope.
    """

    mode: str
    index: pd.DatetimeIndex
    trend_regime: ObjectArray
    trend_probability: FloatArray
    volatility_regime: ObjectArray
    volatility: FloatArray
    volatility_percentile: FloatArray
    trend_direction: ObjectArray
    trend_strength: FloatArray
    trend_tstat: FloatArray
    state_probability: FloatArray

    def __len__(self) -> int:
        return len(self.index)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per bar: labels, probabilities and figures as columns."""
        columns: dict[str, npt.ArrayLike] = {"trend_regime": self.trend_regime}
        for j, name in enumerate(TREND_REGIMES):
            columns[f"p_{name}"] = self.trend_probability[:, j]
        columns |= {
            "volatility_regime": self.volatility_regime,
            "volatility": self.volatility,
            "volatility_percentile": self.volatility_percentile,
            "trend_direction": self.trend_direction,
            "trend_strength": self.trend_strength,
            "trend_tstat": self.trend_tstat,
        }
        return pd.DataFrame(columns, index=self.index)

    def segments(self, column: str = "trend_regime") -> list[Segment]:
        """Return the runs of one label column (``trend_regime``, ``volatility_regime``...)."""
        if column not in ("trend_regime", "volatility_regime", "trend_direction"):
            raise InvalidInput(f"no label column {column!r}.", code="invalid_column")
        return segments(self.index, getattr(self, column))


def segments(index: pd.DatetimeIndex, labels: npt.ArrayLike) -> list[Segment]:
    """Split labelled bars into runs of equal consecutive labels."""
    values = np.asarray(labels, dtype=object)
    if values.shape[0] == 0:
        return []
    changes = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], changes])
    ends = np.concatenate([changes, [values.shape[0]]])
    return [
        Segment(index[s], index[e - 1], str(values[s]), int(e - s))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def _trend_probability(model: RegimeModel, states: FloatArray) -> FloatArray:
    # Sum the states that share a name; a name no state has keeps probability zero.
    mapping = np.zeros((model.n_states, len(TREND_REGIMES)))
    for k, name in enumerate(model.state_names):
        mapping[k, TREND_REGIMES.index(name)] = 1.0
    out: FloatArray = states @ mapping
    return out


def classify(bars: pd.DataFrame, model: RegimeModel, *, mode: Mode = "filtered") -> RegimeResult:
    """Label each bar of ``bars`` with the fitted ``model`` (see the module docstring)."""
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {MODES}, got {mode!r}.", code="invalid_mode")
    checked = check_bars(bars, min_bars=MIN_CLASSIFY_BARS)
    if model.use_volume and "volume" not in checked.columns:
        raise InvalidInput(
            "this model reads volume; the bars have no 'volume' column.",
            code="missing_column",
            details={"column": "volume"},
        )
    smoothed = mode == "smoothed"
    z = (features.hmm_features(checked, model.use_volume) - model.feature_mean) / (
        model.feature_scale
    )
    log_b = emission_log_likelihood(np.ascontiguousarray(z), model.means, model.variances)
    # The first bar has no return: it carries the start distribution (stationary) alone.
    log_b = np.vstack([np.zeros((1, model.n_states)), log_b])
    states = posteriors(log_b, model.start_probability, model.transition, smoothed=smoothed)
    probability = _trend_probability(model, states)
    # argmax over the fixed (bull, bear, sideways) order breaks exact ties the same way always.
    trend = np.asarray(TREND_REGIMES, dtype=object)[probability.argmax(axis=1)]

    close = checked["close"].to_numpy()
    vol = features.realised_volatility(features.log_returns(close), model.periods_per_year)
    pct = features.volatility_percentile(vol, expanding=not smoothed)
    tstat = features.slope_tstat(close)
    return RegimeResult(
        mode=mode,
        index=pd.DatetimeIndex(checked.index),
        trend_regime=trend,
        trend_probability=probability,
        volatility_regime=features.volatility_labels(pct),
        volatility=vol,
        volatility_percentile=pct,
        trend_direction=features.directions(tstat),
        trend_strength=features.adx(checked),
        trend_tstat=tstat,
        state_probability=states,
    )
