"""What a symbol's decision models read: daily bars and its news tone over time.

The tone series are the sentiment service's decayed scores (``ml.sentiment.aggregate``)
evaluated at each bar's timestamp, so each bar sees only what was published before it. A
symbol without an information source (or whose source serves no news) trains without them.

Social posts are left out: a simulated stock has about 89,000 of them over six years, and
generating and scoring them took about 14 s per symbol and training (news: 1,300 stories,
0.3 s), on the API's own interpreter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import TypeVar

import numpy as np
import pandas as pd

from quantumtrade.domain.errors import NotFound
from quantumtrade.marketdata.information import InformationUnavailable
from quantumtrade.ml.sentiment import score_texts
from quantumtrade.ml.sentiment.aggregate import decayed_sentiment
from quantumtrade.services import market, sentiment
from quantumtrade.services.container import Container
from quantumtrade.services.sentiment import _views

TIMEFRAME = "1Day"
T = TypeVar("T")
_log = logging.getLogger(__name__)


async def bars(container: Container, symbol: str, *, end: datetime | None = None) -> pd.DataFrame:
    """Return ``symbol``'s daily bars over the training history, ending at ``end`` (now)."""
    end = end or container.clock.now()
    page = await market.history(
        container,
        symbol=symbol,
        timeframe=TIMEFRAME,
        start=end - timedelta(days=container.settings.ai_history_days),
        end=end,
        limit=market.MAX_LIMIT,
    )
    return page.bars


def _tone(
    times: list[datetime], texts: list[str], index: pd.DatetimeIndex, name: str
) -> dict[str, pd.Series]:
    if not texts:
        return {}
    results = score_texts(texts)
    ns = np.array([int(t.timestamp() * 1e9) for t in times], dtype=np.int64)
    signal = decayed_sentiment(
        ns,
        np.array([r.score for r in results], dtype=np.float64),
        index.as_unit("ns").asi8,
        weights=np.array([max(r.confidence, 0.05) for r in results], dtype=np.float64),
    )
    return {
        f"sent_{name}": pd.Series(signal.score, index=index),
        f"sent_{name}_change": pd.Series(signal.change, index=index),
    }


async def _items(call: Awaitable[list[T]], symbol: str, kind: str) -> list[T]:
    """Return what the source answers, or nothing (the models then train without it)."""
    try:
        return await call
    except (InformationUnavailable, NotFound):
        return []
    except Exception:  # a failing source must not stop the decisions
        _log.warning("could not read the %s of %s", kind, symbol, exc_info=True)
        return []


async def tone_series(
    container: Container,
    symbol: str,
    index: pd.DatetimeIndex,
    *,
    lookback: timedelta = timedelta(0),
) -> dict[str, pd.Series]:
    """Return the news tone of ``symbol`` at each timestamp of ``index``.

    Items published from ``lookback`` before the first timestamp count.
    """
    if container.information is None or not len(index):
        return {}
    source = sentiment.information(container)
    start, end = index[0].to_pydatetime() - lookback, container.clock.now()
    names = sentiment.company_names(container)
    out: dict[str, pd.Series] = {}
    news = await _items(source.get_news([symbol], start, end), symbol, "news")
    out |= await asyncio.to_thread(
        _tone,
        [i.created_at for i in news],
        [_views.news_text(i, names) for i in news],
        index,
        "news",
    )
    return out
