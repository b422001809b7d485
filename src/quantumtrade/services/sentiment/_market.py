"""The market's sentiment: a fear-and-greed index from 0 to 100, with every component shown.

Each component is a daily series over the last :data:`HISTORY_DAYS` days, ranked against
itself (see :func:`quantumtrade.ml.sentiment.aggregate.fear_greed`):

- ``breadth``: the share of stocks and ETFs closing above their 50-day average;
- ``put_call``: the put/call volume ratio of the index's options (:data:`INDEX_SYMBOL`);
- ``implied_volatility``: the index's 30-day at-the-money implied volatility;
- ``news_tone`` and ``social_tone``: the day's mean scored tone of every story and post;
- ``insider_ratio``: open-market purchases over purchases plus discretionary sales, over the
  :data:`INSIDER_WINDOW_DAYS` days to each day, across the universe.

A component the configured source lacks is left out and listed under ``unavailable``. The
whole view is cached for :data:`MARKET_CACHE_SECONDS`: it reads a month of everything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.information import InformationUnavailable
from quantumtrade.marketdata.sec.trades import insider_trades
from quantumtrade.ml.sentiment import score_texts
from quantumtrade.ml.sentiment.aggregate import fear_greed
from quantumtrade.ml.sentiment.signals import parse_occ
from quantumtrade.services.container import Container
from quantumtrade.services.sentiment._views import company_names, news_text, post_text

MARKET_CACHE_SECONDS = 300.0
HISTORY_DAYS = 30
SOCIAL_HISTORY_DAYS = 21  # posts are many: enough days to rank against (MIN_HISTORY is 20)
BREADTH_AVERAGE_DAYS = 50
INSIDER_WINDOW_DAYS = 30
INDEX_SYMBOL = "SPY"


async def market_view(container: Container) -> dict[str, Any]:
    """Return the fear-and-greed index now, its label and components."""
    view: dict[str, Any] = await container.cache.get_or_load(
        "sentiment:market", MARKET_CACHE_SECONDS, lambda: _compute(container)
    )
    return view


def _days(now: datetime, count: int) -> pd.DatetimeIndex:
    end = pd.Timestamp(now.date())
    return pd.date_range(end - pd.Timedelta(days=count - 1), end, freq="D")


def _daily_mean(times: list[datetime], values: list[float], days: pd.DatetimeIndex) -> np.ndarray:
    if not times:
        return np.full(len(days), np.nan)
    series = pd.Series(values, index=pd.DatetimeIndex(times).tz_convert(None).normalize())
    return series.groupby(level=0).mean().reindex(days).to_numpy(dtype=float)


async def _compute(container: Container) -> dict[str, Any]:
    now = container.clock.now()
    days = _days(now, HISTORY_DAYS)
    histories: dict[str, np.ndarray] = {}
    unavailable: list[str] = []
    loaders: dict[str, Callable[[], Awaitable[np.ndarray]]] = {
        "breadth": lambda: _breadth(container, now, days),
        "put_call": lambda: _put_call(container, now, days),
        "implied_volatility": lambda: _implied_vol(container, now, days),
        "news_tone": lambda: _news_tone(container, now, days),
        "social_tone": lambda: _social_tone(container, now),
        "insider_ratio": lambda: _insider_ratio(container, now, days),
    }
    for name, load in loaders.items():
        try:
            histories[name] = await load()
        except InformationUnavailable:
            unavailable.append(name)
    index = fear_greed(histories)
    return {
        "index": index.index,
        "label": index.label,
        "as_of": now.isoformat(),
        "components": [
            {"name": c.name, "value": c.value, "score": c.score, "history": c.history}
            for c in index.components
        ],
        "unavailable": unavailable,
        "history_days": HISTORY_DAYS,
    }


async def _breadth(container: Container, now: datetime, days: pd.DatetimeIndex) -> np.ndarray:
    start = now - timedelta(days=HISTORY_DAYS + BREADTH_AVERAGE_DAYS * 7 // 5 + 10)
    above: list[pd.Series] = []
    for info in container.market.symbols():
        if info.asset_class != "us_equity":
            continue
        bars = await container.market.get_bars(info.symbol, Timeframe.DAY_1, start, now)
        if len(bars) < BREADTH_AVERAGE_DAYS:
            continue
        close = bars["close"]
        flag = (close > close.rolling(BREADTH_AVERAGE_DAYS).mean()).astype(float)
        flag.index = pd.DatetimeIndex(flag.index).tz_convert(None).normalize()
        above.append(flag.iloc[BREADTH_AVERAGE_DAYS - 1 :])
    if not above:
        return np.full(len(days), np.nan)
    share = pd.concat(above, axis=1).mean(axis=1)
    return share.reindex(days).ffill().to_numpy(dtype=float)


def _information(container: Container) -> Any:
    if container.information is None:
        raise InformationUnavailable("market information", "none")
    return container.information


async def _put_call(container: Container, now: datetime, days: pd.DatetimeIndex) -> np.ndarray:
    start = days[0].to_pydatetime().replace(tzinfo=now.tzinfo)
    trades = await _information(container).get_option_trades(INDEX_SYMBOL, start, now)
    if not trades:
        return np.full(len(days), np.nan)
    frame = pd.DataFrame(
        {
            "day": pd.DatetimeIndex([t.time for t in trades]).tz_convert(None).normalize(),
            "put": [parse_occ(t.symbol)[2] == "put" for t in trades],
            "size": [int(t.size) for t in trades],
        }
    )
    puts = frame[frame["put"]].groupby("day")["size"].sum()
    calls = frame[~frame["put"]].groupby("day")["size"].sum()
    ratio = (puts / calls.replace(0, np.nan)).reindex(days)
    return ratio.to_numpy(dtype=float)


async def _implied_vol(container: Container, now: datetime, days: pd.DatetimeIndex) -> np.ndarray:
    start: date = days[0].date()
    history = await _information(container).get_atm_iv_history(INDEX_SYMBOL, start, now.date())
    series = pd.Series(history, dtype=float)
    series.index = pd.DatetimeIndex(pd.to_datetime(series.index)).normalize()
    return series.reindex(days).ffill().to_numpy(dtype=float)


async def _news_tone(container: Container, now: datetime, days: pd.DatetimeIndex) -> np.ndarray:
    start = days[0].to_pydatetime().replace(tzinfo=now.tzinfo)
    items = await _information(container).get_news(None, start, now)
    names = company_names(container.market.symbols())
    results = await asyncio.to_thread(score_texts, [news_text(i, names) for i in items])
    return _daily_mean([i.created_at for i in items], [r.score for r in results], days)


async def _social_tone(container: Container, now: datetime) -> np.ndarray:
    days = _days(now, SOCIAL_HISTORY_DAYS)
    start = days[0].to_pydatetime().replace(tzinfo=now.tzinfo)
    posts = await _information(container).get_social(None, start, now)
    names = company_names(container.market.symbols())
    results = await asyncio.to_thread(score_texts, [post_text(p, names) for p in posts])
    return _daily_mean([p.created_at for p in posts], [r.score for r in results], days)


async def _insider_ratio(container: Container, now: datetime, days: pd.DatetimeIndex) -> np.ndarray:
    start = days[0].to_pydatetime().replace(tzinfo=now.tzinfo) - timedelta(INSIDER_WINDOW_DAYS)
    source = _information(container)
    pairs: list[tuple[datetime, Any]] = []
    for info in container.market.symbols():
        if info.asset_class != "us_equity":
            continue
        filings = await source.get_insider_filings(info.symbol, start, now)
        pairs.extend((f.filed, f.form) for f in filings)
    trades = [t for t in insider_trades(pairs) if t.code == "P" or not t.planned]
    out = np.full(len(days), np.nan)
    for j, day in enumerate(days):
        hi = day + pd.Timedelta(days=1)
        lo = hi - pd.Timedelta(days=INSIDER_WINDOW_DAYS)
        window = [t for t in trades if lo <= pd.Timestamp(t.filed_at).tz_convert(None) < hi]
        buys = sum(1 for t in window if t.code == "P")
        if window:
            out[j] = buys / len(window)
    return out
