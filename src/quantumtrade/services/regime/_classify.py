"""The regime classifier as the service uses it: fitted models cached, labels as JSON views.

A symbol's model is fitted on its history up to today (past bars only) and cached for a day,
so replicas and requests share the fit; bars a client sends are fitted and labelled at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantumtrade.domain.errors import AppError, Unprocessable
from quantumtrade.domain.market import Timeframe
from quantumtrade.ml.regime import TREND_REGIMES, RegimeModel, RegimeResult, classify, fit
from quantumtrade.ml.regime.model import MIN_FIT_BARS
from quantumtrade.services.container import Container

MIN_BARS = MIN_FIT_BARS
SEED = 0
MODEL_CACHE_SECONDS = 26 * 3600.0
PERIODS_PER_YEAR = {
    Timeframe.DAY_1: 252.0,
    Timeframe.HOUR_1: 252.0 * 6.5,
    Timeframe.MIN_15: 252.0 * 26,
    Timeframe.MIN_5: 252.0 * 78,
    Timeframe.MIN_1: 252.0 * 390,
}


def _model_key(container: Container, symbol: str, timeframe: Timeframe) -> str:
    day = container.clock.now().date().isoformat()
    return f"regime:model:{symbol}:{timeframe.value}:{day}"


async def has_model(container: Container, symbol: str, timeframe: Timeframe) -> bool:
    """Return whether today's model of ``symbol`` is fitted already (no fit needed)."""
    return await container.cache.get(_model_key(container, symbol, timeframe)) is not None


async def model_for(
    container: Container, symbol: str, timeframe: Timeframe, bars: pd.DataFrame
) -> RegimeModel:
    """Return ``symbol``'s model fitted on its bars to date: once a day, shared by replicas."""
    model: RegimeModel = await container.cache.get_or_load(
        _model_key(container, symbol, timeframe),
        MODEL_CACHE_SECONDS,
        lambda: asyncio.to_thread(fit_model, bars, timeframe),
        parse=_parse_model,
        dump=RegimeModel.to_dict,
    )
    return model


def _parse_model(value: Any) -> RegimeModel | None:
    try:
        return RegimeModel.from_dict(value)
    except (KeyError, TypeError, ValueError):
        return None


def require_enough(bars: pd.DataFrame) -> None:
    """Raise 422 when there are too few bars to fit a model."""
    if len(bars) < MIN_BARS:
        raise Unprocessable(
            f"At least {MIN_BARS} bars are needed to classify regimes; got {len(bars)}.",
            code="not_enough_bars",
            details={"min_bars": MIN_BARS, "bars": len(bars)},
        )


def infer_timeframe(index: pd.DatetimeIndex) -> Timeframe | None:
    """Return the timeframe the bars' spacing matches, or None (periods are inferred then)."""
    if len(index) < 2:
        return None
    step = pd.Series(index).diff().median()
    for frame in Timeframe:
        if step == frame.delta:
            return frame
    return Timeframe.DAY_1 if step >= pd.Timedelta(days=1) else None


def fit_model(bars: pd.DataFrame, timeframe: Timeframe | None) -> RegimeModel:
    """Fit a model to ``bars`` (deterministic: the same bars give the same model)."""
    ppy = PERIODS_PER_YEAR.get(timeframe) if timeframe is not None else None
    try:
        return fit(bars, seed=SEED, periods_per_year=ppy)
    except AppError as exc:
        raise Unprocessable(exc.message, code=exc.code, details=exc.details) from exc


def label(bars: pd.DataFrame, model: RegimeModel, mode: str) -> RegimeResult:
    """Return the labels of ``bars`` under ``model``."""
    try:
        return classify(bars, model, mode="smoothed" if mode == "smoothed" else "filtered")
    except AppError as exc:
        raise Unprocessable(exc.message, code=exc.code, details=exc.details) from exc


def classify_bars(bars: pd.DataFrame, timeframe: Timeframe | None, mode: str) -> RegimeResult:
    """Fit a model to ``bars`` and label them."""
    return label(bars, fit_model(bars, timeframe), mode)


def _number(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def _iso(stamp: Any) -> str:
    return pd.Timestamp(stamp).isoformat()


def _probabilities(row: npt.NDArray[np.float64]) -> dict[str, float]:
    return {name: round(float(row[j]), 6) for j, name in enumerate(TREND_REGIMES)}


def current_view(result: RegimeResult) -> dict[str, Any]:
    """Return the regime at the last bar: label, probabilities, since when, volatility, trend."""
    last = len(result) - 1
    held = result.segments()[-1]
    percentile = _number(result.volatility_percentile[last])
    return {
        "time": _iso(result.index[last]),
        "trend_regime": str(result.trend_regime[last]),
        "probabilities": _probabilities(result.trend_probability[last]),
        "bars_held": held.bars,
        "since": _iso(held.start),
        "volatility": {
            "regime": str(result.volatility_regime[last]),
            "annualized": _number(result.volatility[last]),
            "percentile": None if percentile is None else percentile / 100.0,
        },
        "trend": {
            "direction": str(result.trend_direction[last]),
            "strength": _number(result.trend_strength[last]),
            "t_stat": _number(result.trend_tstat[last]),
        },
    }


def segment_views(result: RegimeResult, start: pd.Timestamp | None = None) -> list[dict[str, Any]]:
    """Return the trend segments, those ending before ``start`` left out."""
    return [
        {
            "start": _iso(s.start),
            "end": _iso(s.end),
            "trend_regime": s.label,
            "bars": s.bars,
        }
        for s in result.segments()
        if start is None or s.end >= start
    ]


def bar_views(result: RegimeResult) -> list[dict[str, Any]]:
    """Return one label, with its probabilities, per bar."""
    return [
        {
            "time": _iso(result.index[i]),
            "trend_regime": str(result.trend_regime[i]),
            "probabilities": _probabilities(result.trend_probability[i]),
            "volatility_regime": str(result.volatility_regime[i]),
        }
        for i in range(len(result))
    ]
