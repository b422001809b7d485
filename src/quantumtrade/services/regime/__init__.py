"""Market regime use cases: a symbol's regime now, the market's, its history, and any bars'.

Labels come from ``ml.regime`` (a Gaussian HMM whose states are named from their fitted
drift and volatility). Trading reads the ``filtered`` labels, each from the bars up to it;
history reads ``smoothed`` labels. Answers are cached briefly (``REGIME_CACHE_SECONDS``) so
replicas share one computation; recommendations per regime come from
:mod:`quantumtrade.services.regime._recommend`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from typing import Any

import pandas as pd

from quantumtrade.domain.errors import InvalidInput, Unprocessable
from quantumtrade.domain.market import Timeframe
from quantumtrade.ml.regime import TREND_REGIMES
from quantumtrade.services import market
from quantumtrade.services.container import Container
from quantumtrade.services.regime import _bars, _classify, _recommend

REGIME_CACHE_SECONDS = 60.0
MARKET_SYMBOL = "SPY"
MODES = ("filtered", "smoothed")


def parse_timeframe(text: str) -> Timeframe:
    """Return the timeframe ``text`` names, or raise 400."""
    return market.parse_timeframe(text)


def resolve(container: Container, symbol: str) -> str:
    """Return the canonical symbol, or raise 404 for one the market does not serve."""
    return market.known_symbol(container, symbol)


async def current(container: Container, symbol: str, timeframe: Timeframe) -> dict[str, Any]:
    """Return ``symbol``'s regime at its last complete bar, with strategy recommendations."""
    canonical = resolve(container, symbol)
    view: dict[str, Any] = await container.cache.get_or_load(
        f"regime:current:{canonical}:{timeframe.value}",
        REGIME_CACHE_SECONDS,
        lambda: _current(container, canonical, timeframe),
    )
    return view


async def _current(container: Container, symbol: str, timeframe: Timeframe) -> dict[str, Any]:
    bars = await _bars.history(container, symbol, timeframe)
    _classify.require_enough(bars)
    model = await _classify.model_for(container, symbol, timeframe, bars)
    result = await asyncio.to_thread(_classify.label, bars, model, "filtered")
    view = _classify.current_view(result)
    view.update(symbol=symbol, timeframe=timeframe.value, as_of=container.clock.now().isoformat())
    view["recommendations"] = await _recommendations_for(container, view["trend_regime"])
    return view


async def _recommendations_for(container: Container, regime: str) -> dict[str, Any]:
    """Return the day's ranking for ``regime``; ``pending`` until the daily job has run."""
    measured = await _recommend.latest(container)
    if measured is None:
        return {"status": "pending", "measured_at": None, "out_of_sample": None, "strategies": []}
    return {
        "status": "ready",
        "measured_at": measured["measured_at"],
        "out_of_sample": measured.get("out_of_sample"),
        "strategies": measured["regimes"].get(regime, []),
    }


async def market_view(container: Container) -> dict[str, Any]:
    """Return the market's regime (from SPY) and its breadth: the universe's share per regime."""
    view: dict[str, Any] = await container.cache.get_or_load(
        "regime:market", REGIME_CACHE_SECONDS, lambda: _market(container)
    )
    return view


async def _market(container: Container) -> dict[str, Any]:
    """SPY's regime, and breadth over the symbols whose model is fitted today.

    Fitting every symbol's model takes a while on a small machine, so a request never waits
    for it: symbols not fitted yet are listed as ``pending`` (the regime watch fits them).
    """
    day = Timeframe.DAY_1
    index = await current(container, MARKET_SYMBOL, day)
    regimes: dict[str, str] = {}
    pending: list[str] = []
    for info in container.market.symbols():
        if info.asset_class != "us_equity":
            continue
        if info.symbol != MARKET_SYMBOL and not await _classify.has_model(
            container, info.symbol, day
        ):
            pending.append(info.symbol)
            continue
        regimes[info.symbol] = (await current(container, info.symbol, day))["trend_regime"]
    counts = Counter(regimes.values())
    total = max(len(regimes), 1)
    return {
        "symbol": MARKET_SYMBOL,
        "regime": index,
        "breadth": {name: counts.get(name, 0) / total for name in TREND_REGIMES},
        "symbols": regimes,
        "pending": pending,
        "as_of": container.clock.now().isoformat(),
    }


async def history(
    container: Container,
    symbol: str,
    timeframe: Timeframe,
    *,
    start: datetime | None,
    end: datetime | None,
    mode: str = "smoothed",
) -> dict[str, Any]:
    """Return the regime segments of ``symbol`` between ``start`` and ``end``."""
    canonical = resolve(container, symbol)
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}.", code="invalid_mode")
    if start is not None and end is not None and start >= end:
        raise InvalidInput("start must be before end.", code="invalid_range")
    bars = await _bars.history(container, canonical, timeframe, end=end)
    _classify.require_enough(bars)
    result = await asyncio.to_thread(_classify.classify_bars, bars, timeframe, mode)
    return {
        "symbol": canonical,
        "timeframe": timeframe.value,
        "mode": mode,
        "segments": _classify.segment_views(result, None if start is None else pd.Timestamp(start)),
    }


async def classify_frame(bars: pd.DataFrame, mode: str) -> dict[str, Any]:
    """Return one label, with its probabilities, per bar of ``bars``."""
    if mode not in MODES:
        raise Unprocessable(f"mode must be one of {', '.join(MODES)}.", code="invalid_mode")
    _classify.require_enough(bars)
    timeframe = _classify.infer_timeframe(pd.DatetimeIndex(bars.index))
    result = await asyncio.to_thread(_classify.classify_bars, bars, timeframe, mode)
    return {
        "mode": mode,
        "bars": len(result),
        "labels": _classify.bar_views(result),
        "segments": _classify.segment_views(result),
    }


async def classify_rows(rows: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Classify bars a client sent (422 names the offending rows)."""
    return await classify_frame(_bars.frame_from_rows(rows), mode)
