"""Sentiment use cases: a symbol's sentiment and its parts, the market's, filings, options, texts.

Items come from the container's information source (the simulated world, or Alpaca's news) cut
at the clock; text is scored by :mod:`quantumtrade.ml.sentiment`, and the signals combined here:

- **news** and **social**: the time-decayed tone (a 12-hour half-life, each item weighted by
  the scorer's confidence), the items of the last 24 hours, and the change against the
  symbol's own baseline (a month-long half-life);
- **insider** and **options**: see :mod:`quantumtrade.ml.sentiment.signals`;
- the **aggregate** is the weighted mean (:data:`WEIGHTS`) of the components available, and
  lists the sources behind it.

Views are cached for :data:`CACHE_SECONDS`, so replicas and repeated requests share the work.
A kind of information the configured source lacks (Alpaca has no social feed) is reported as
``unavailable`` in a view and answers 404 ``information_unavailable`` on its own endpoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import numpy as np

from quantumtrade.domain.errors import InvalidInput, NotFound, Unavailable, Unprocessable
from quantumtrade.domain.news import NewsItem, SocialPost
from quantumtrade.marketdata.information import (
    InformationRouter,
    InformationSource,
    InformationUnavailable,
)
from quantumtrade.marketdata.sec.trades import insider_trades
from quantumtrade.ml.sentiment import MAX_TEXT_CHARS, SentimentResult, label_for, score_texts
from quantumtrade.ml.sentiment.aggregate import decayed_sentiment
from quantumtrade.ml.sentiment.signals import (
    IV_LOOKBACK_DAYS,
    InsiderSummary,
    OptionsSummary,
    insider_summary,
    options_summary,
)
from quantumtrade.services import market
from quantumtrade.services.container import Container
from quantumtrade.services.sentiment import _views
from quantumtrade.services.sentiment._market import market_view as market_view

T = TypeVar("T")

CACHE_SECONDS = 60.0
NEWS_LOOKBACK = timedelta(days=45)
SOCIAL_LOOKBACK = timedelta(days=10)
INSIDER_LOOKBACK = timedelta(days=365)
FLOW_LOOKBACK = timedelta(days=1)
MAX_ANALYZE_TEXTS = 1_000
MAX_LIMIT = 200
WEIGHTS = {"news": 0.35, "social": 0.15, "insider": 0.25, "options": 0.25}


def information(container: Container) -> InformationSource:
    if container.information is None:
        raise Unavailable("No information source is configured.", code="information_unavailable")
    return container.information


def company_names(container: Container) -> dict[str, str]:
    """Each symbol's company name, left out of the texts scored (a name is not a tone)."""
    return _views.company_names(container.market.symbols())


def source_name(container: Container, symbol: str | None) -> str:
    """Return the name of the source answering for ``symbol`` (the market's when None)."""
    source = information(container)
    if isinstance(source, InformationRouter):
        try:
            return source.for_symbol_or_default(symbol).name
        except InformationUnavailable as exc:
            return exc.source
    return source.name


def resolve(container: Container, symbol: str) -> str:
    """Return the canonical symbol, or raise 404 for one the market does not serve."""
    return market.known_symbol(container, symbol)


async def _ask(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except InformationUnavailable as exc:
        raise NotFound(
            f"The configured source does not provide {exc.kind}.",
            code="information_unavailable",
        ) from exc


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", code="invalid_limit")


async def _score(texts: Sequence[str]) -> list[SentimentResult]:
    return await asyncio.to_thread(score_texts, [t[:MAX_TEXT_CHARS] for t in texts])


# -- news and social --------------------------------------------------------------------------


async def _news(container: Container, symbol: str) -> list[NewsItem]:
    now = container.clock.now()
    source = information(container)
    return await _ask(lambda: source.get_news([symbol], now - NEWS_LOOKBACK, now))


async def _social(container: Container, symbol: str) -> list[SocialPost]:
    now = container.clock.now()
    source = information(container)
    return await _ask(lambda: source.get_social([symbol], now - SOCIAL_LOOKBACK, now))


async def news(container: Container, symbol: str, limit: int = 50) -> dict[str, Any]:
    """Return ``symbol``'s latest stories, newest first, each with its score and cues."""
    _check_limit(limit)
    canonical = resolve(container, symbol)
    items = (await _news(container, canonical))[::-1][:limit]
    scored = await _score([_views.news_text(item, company_names(container)) for item in items])
    return {
        "symbol": canonical,
        "source": source_name(container, canonical),
        "items": [_views.news_item(i, s) for i, s in zip(items, scored, strict=True)],
    }


async def social(container: Container, symbol: str, limit: int = 50) -> dict[str, Any]:
    """Return ``symbol``'s latest posts, newest first, each with its score and cues."""
    _check_limit(limit)
    canonical = resolve(container, symbol)
    posts = (await _social(container, canonical))[::-1][:limit]
    scored = await _score([_views.post_text(post, company_names(container)) for post in posts])
    return {
        "symbol": canonical,
        "source": source_name(container, canonical),
        "items": [_views.social_item(p, s) for p, s in zip(posts, scored, strict=True)],
    }


def tone(times: Sequence[datetime], results: Sequence[SentimentResult], now: datetime) -> Any:
    """Return the decayed tone at ``now`` of items published at ``times``."""
    ns = np.array([int(t.timestamp() * 1e9) for t in times], dtype=np.int64)
    scores = np.array([r.score for r in results], dtype=np.float64)
    weights = np.array([max(r.confidence, 0.05) for r in results], dtype=np.float64)
    at = np.array([int(now.timestamp() * 1e9)], dtype=np.int64)
    return decayed_sentiment(ns, scores, at, weights=weights)


async def _tone_component(
    container: Container, kind: str, load: Callable[[], Awaitable[list[Any]]]
) -> dict[str, Any]:
    try:
        items = await load()
    except NotFound:
        return {"status": "unavailable", "score": None}
    names = company_names(container)
    texts = [
        _views.news_text(i, names) if kind == "news" else _views.post_text(i, names) for i in items
    ]
    results = await _score(texts)
    now = container.clock.now()
    if not items:
        return _views.tone_component(None, 0, now)
    signal = await asyncio.to_thread(tone, [i.created_at for i in items], results, now)
    return _views.tone_component(signal, len(items), now)


# -- insider ----------------------------------------------------------------------------------


async def _filings(container: Container, symbol: str) -> list[Any]:
    now = container.clock.now()
    source = information(container)
    return await _ask(lambda: source.get_insider_filings(symbol, now - INSIDER_LOOKBACK, now))


def _summary(filings: Sequence[Any], now: datetime) -> InsiderSummary:
    return insider_summary(insider_trades([(f.filed, f.form) for f in filings]), now)


async def insider(container: Container, symbol: str, limit: int = 50) -> dict[str, Any]:
    """Return ``symbol``'s Form 4 filings of the last year, newest first, and their summary."""
    _check_limit(limit)
    canonical = resolve(container, symbol)
    filings = await _filings(container, canonical)
    summary = _summary(filings, container.clock.now())
    return {
        "symbol": canonical,
        "source": source_name(container, canonical),
        "summary": _views.insider_summary(summary),
        "filings": [_views.filing(f) for f in filings[::-1][:limit]],
    }


# -- options ----------------------------------------------------------------------------------


async def option_chain(container: Container, symbol: str, expiry: date | None) -> dict[str, Any]:
    """Return ``symbol``'s option chain now, for one expiry or all."""
    canonical = resolve(container, symbol)
    source = information(container)

    async def load() -> dict[str, Any]:
        try:
            chain = await _ask(lambda: source.get_option_chain(canonical, expiry))
        except ValueError as exc:  # an expiry that is not listed
            raise Unprocessable(str(exc), code="invalid_expiry") from exc
        return _views.chain(chain, source_name(container, canonical))

    key = f"sentiment:chain:{canonical}:{expiry.isoformat() if expiry else 'all'}"
    view: dict[str, Any] = await container.cache.get_or_load(key, CACHE_SECONDS, load)
    return view


async def _options(container: Container, symbol: str) -> tuple[OptionsSummary, Any]:
    now = container.clock.now()
    source = information(container)
    chain = await _ask(lambda: source.get_option_chain(symbol, None))
    trades = await _ask(lambda: source.get_option_trades(symbol, now - FLOW_LOOKBACK, now))
    start = now.date() - timedelta(days=IV_LOOKBACK_DAYS * 7 // 5)
    history = await _ask(lambda: source.get_atm_iv_history(symbol, start, now.date()))
    values = [float(v) for v in history.tail(IV_LOOKBACK_DAYS)]
    summary = await asyncio.to_thread(options_summary, chain.contracts, trades, values, now.date())
    return summary, chain


async def option_flow(container: Container, symbol: str, limit: int = 50) -> dict[str, Any]:
    """Return the last day's option flow of ``symbol``: ratios, IV, skew and unusual trades."""
    _check_limit(limit)
    canonical = resolve(container, symbol)

    async def load() -> dict[str, Any]:
        summary, chain = await _options(container, canonical)
        view = _views.options_summary(summary, MAX_LIMIT)
        view.update(
            symbol=canonical, source=source_name(container, canonical), spot=float(chain.spot)
        )
        return view

    view: dict[str, Any] = await container.cache.get_or_load(
        f"sentiment:flow:{canonical}", CACHE_SECONDS, load
    )
    return {**view, "unusual": view["unusual"][:limit]}


# -- the aggregate ----------------------------------------------------------------------------


async def symbol_view(container: Container, symbol: str) -> dict[str, Any]:
    """Return ``symbol``'s sentiment: each component, the aggregate, and the sources."""
    canonical = resolve(container, symbol)
    view: dict[str, Any] = await container.cache.get_or_load(
        f"sentiment:symbol:{canonical}", CACHE_SECONDS, lambda: _symbol(container, canonical)
    )
    return view


_NOT_FLOW = ("symbol", "source", "spot")


async def _optional(load: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    try:
        return await load()
    except NotFound:
        return {"status": "unavailable", "score": None}


async def _symbol(container: Container, symbol: str) -> dict[str, Any]:
    now = container.clock.now()

    async def insider_part() -> dict[str, Any]:
        summary = _summary(await _filings(container, symbol), now)
        return {"status": "ok", **_views.insider_summary(summary)}

    async def options_part() -> dict[str, Any]:
        flow = await option_flow(container, symbol, 5)
        return {"status": "ok", **{k: v for k, v in flow.items() if k not in _NOT_FLOW}}

    components = {
        "news": await _tone_component(container, "news", lambda: _news(container, symbol)),
        "social": await _tone_component(container, "social", lambda: _social(container, symbol)),
        "insider": await _optional(insider_part),
        "options": await _optional(options_part),
    }
    used = {
        name: part["score"] for name, part in components.items() if part.get("score") is not None
    }
    total = sum(WEIGHTS[name] for name in used)
    score = sum(WEIGHTS[name] * value for name, value in used.items()) / total if total else 0.0
    return {
        "symbol": symbol,
        "as_of": now.isoformat(),
        "score": score,
        "label": label_for(score),
        "components": components,
        "weights": {name: WEIGHTS[name] / total for name in used} if total else {},
        "sources": [source_name(container, symbol)],
    }


async def analyze(texts: Sequence[str]) -> dict[str, Any]:
    """Score up to 1,000 texts; results in input order."""
    if len(texts) > MAX_ANALYZE_TEXTS:
        raise Unprocessable(
            f"At most {MAX_ANALYZE_TEXTS} texts per request.", code="too_many_texts"
        )
    results = await asyncio.to_thread(score_texts, texts)
    return {"results": [r.to_dict() for r in results]}
