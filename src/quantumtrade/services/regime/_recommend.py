"""Strategy recommendations per regime, measured across the universe and refreshed daily.

Each symbol's history is classified (filtered: what a trader knew each day) and every
candidate strategy backtested over it on the compute backend (local pool or Dask); the
rankings pool all symbols. The result is cached for a day under the measurement date, so
replicas share one computation.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from quantumtrade.backtest import compute
from quantumtrade.backtest.engine import BacktestConfig, BarArrays
from quantumtrade.backtest.regimes import (
    Candidate,
    Recommendation,
    candidate_returns,
    default_candidates,
    rank_by_regime,
)
from quantumtrade.domain.market import Timeframe
from quantumtrade.services.container import Container
from quantumtrade.services.regime import _bars, _classify

CACHE_TTL_SECONDS = 26 * 3600
OUT_OF_SAMPLE_SHARE = 0.3  # the last 30 % of the history ranks; the rest chooses parameters
TIMEFRAME = Timeframe.DAY_1


@dataclass(frozen=True)
class _Task:
    symbol: str
    bars: pd.DataFrame
    labels: np.ndarray


def _returns(candidates: list[Candidate], task: _Task) -> np.ndarray:
    """Run every candidate over one symbol (on a worker)."""
    arrays = BarArrays.from_frame(task.bars[["open", "high", "low", "close", "volume"]])
    return candidate_returns(arrays, candidates, BacktestConfig())


def cache_key(day: str) -> str:
    """Return the cache key of the recommendations measured on ``day`` (ISO date)."""
    return f"regime:recommendations:{day}"


async def latest(container: Container) -> dict[str, Any] | None:
    """Return today's measurement, else yesterday's, else None (not measured yet)."""
    today = container.clock.now().date()
    for day in (today, today - timedelta(days=1)):
        cached = await container.cache.get_json(cache_key(day.isoformat()))
        if isinstance(cached, dict):
            return cached
    return None


async def refresh(
    container: Container,
    *,
    candidates: list[Candidate] | None = None,
    symbols: list[str] | None = None,
) -> dict[str, Any]:
    """Measure now and cache the result under today's date (the daily job calls this)."""
    now = container.clock.now()
    result = await measure(container, now=now, candidates=candidates, symbols=symbols)
    await container.cache.set_json(cache_key(now.date().isoformat()), result, CACHE_TTL_SECONDS)
    return result


async def measure(
    container: Container,
    *,
    now: datetime,
    candidates: list[Candidate] | None = None,
    symbols: list[str] | None = None,
) -> dict[str, Any]:
    """Classify each symbol (the universe by default) and rank strategies per regime."""
    candidates = candidates or default_candidates()
    tasks = []
    for symbol in symbols or [info.symbol for info in container.market.symbols()]:
        bars = await _bars.history(container, symbol, TIMEFRAME, end=now)
        if len(bars) < _classify.MIN_BARS:
            continue
        model = await _classify.model_for(container, symbol, TIMEFRAME, bars)
        result = await asyncio.to_thread(_classify.label, bars, model, "filtered")
        labels = np.asarray(result.trend_regime, dtype=np.str_)
        tasks.append(_Task(symbol, bars, labels))
    if not tasks:
        return {"measured_at": now.isoformat(), "symbols": [], "regimes": {}}
    backend = compute.backend_from_address(container.settings.dask_scheduler_address)
    try:
        returns = await asyncio.to_thread(backend.map, _returns, tasks, shared=candidates)
    finally:
        await asyncio.to_thread(backend.close)
    index = [pd.DatetimeIndex(task.bars.index) for task in tasks]
    first = min(ix[0] for ix in index)
    last = max(ix[-1] for ix in index)
    cut = first + (last - first) * (1 - OUT_OF_SAMPLE_SHARE)
    ranked = rank_by_regime(
        [task.labels for task in tasks], index, returns, candidates, out_of_sample_start=cut
    )
    return {
        "measured_at": now.isoformat(),
        "timeframe": TIMEFRAME.value,
        "symbols": [task.symbol for task in tasks],
        "in_sample": {"start": first.isoformat(), "end": cut.isoformat()},
        "out_of_sample": {"start": cut.isoformat(), "end": last.isoformat()},
        "regimes": {
            regime: [recommendation_view(r) for r in recs] for regime, recs in ranked.items()
        },
    }


def recommendation_view(rec: Recommendation) -> dict[str, Any]:
    """Return a recommendation as the API shows it."""
    return {
        "rank": rec.rank,
        "strategy": rec.strategy,
        "params": dict(rec.params),
        "out_of_sample": rec.out_of_sample.to_dict(),
        "in_sample": rec.in_sample.to_dict(),
    }
