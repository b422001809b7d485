"""``/api/sentiment``, ``/api/insider``, ``/api/options``: what news, posts, insiders and option
traders say about a symbol, and the market's fear and greed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from quantumtrade.api.deps import ContainerDep, CurrentPrincipal
from quantumtrade.api.schemas.common import ERROR_RESPONSES, ErrorBody
from quantumtrade.api.schemas.sentiment import (
    AnalyzeRequest,
    AnalyzeResponse,
    InsiderActivity,
    MarketSentiment,
    NewsList,
    OptionChain,
    SocialList,
    SymbolOptionsFlow,
    SymbolSentiment,
)
from quantumtrade.ml.sentiment import MAX_TEXT_CHARS
from quantumtrade.services import sentiment

router = APIRouter(tags=["sentiment"], responses=ERROR_RESPONSES)

ANALYZE_PATH = "/api/sentiment/analyze"
# The body of a request at the limits: 1,000 texts of 5,000 characters, each character
# JSON-escaped at worst as a surrogate pair (12 bytes: an emoji sent ASCII-only), plus the
# list's punctuation.
ANALYZE_MAX_BYTES = sentiment.MAX_ANALYZE_TEXTS * (MAX_TEXT_CHARS * 12 + 8) + 1024

Limit = Annotated[
    int, Query(ge=1, le=sentiment.MAX_LIMIT, description="How many items, newest first.")
]
NOT_PROVIDED: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorBody,
        "description": "The symbol is unknown (`unknown_symbol`), or the configured source "
        "does not provide this information (`information_unavailable`: Alpaca serves news only).",
    }
}


@router.get(
    "/api/sentiment/market",
    response_model=MarketSentiment,
    summary="The market's fear-and-greed index, 0 to 100, with its components",
)
async def get_market(container: ContainerDep) -> dict[str, Any]:
    """Breadth, put/call, implied volatility, news and social tone and insider buying, each
    ranked against its last 30 days; the index is their mean."""
    return await sentiment.market_view(container)


@router.post(
    ANALYZE_PATH,
    response_model=AnalyzeResponse,
    summary="Score your texts: score, label, confidence and cues for each",
    responses={
        422: {
            "model": ErrorBody,
            "description": "No texts, more than 1,000, or a text over 5,000 characters.",
        }
    },
)
async def analyze(body: AnalyzeRequest, principal: CurrentPrincipal) -> dict[str, Any]:
    """Finance-aware scoring (idioms, the Loughran-McDonald lexicon and VADER) of up to 1,000
    headlines or posts; results come in input order."""
    return await sentiment.analyze(body.texts)


@router.get(
    "/api/sentiment/{symbol:path}/news",
    response_model=NewsList,
    summary="A symbol's latest stories, each scored",
    responses=NOT_PROVIDED,
)
async def get_news(symbol: str, container: ContainerDep, limit: Limit = 50) -> dict[str, Any]:
    """The stories of the last 45 days naming the symbol, newest first."""
    return await sentiment.news(container, symbol, limit)


@router.get(
    "/api/sentiment/{symbol:path}/social",
    response_model=SocialList,
    summary="A symbol's latest social posts, each scored",
    responses=NOT_PROVIDED,
)
async def get_social(symbol: str, container: ContainerDep, limit: Limit = 50) -> dict[str, Any]:
    """The posts of the last 10 days naming the symbol (ticker or cashtag), newest first."""
    return await sentiment.social(container, symbol, limit)


@router.get(
    "/api/sentiment/{symbol:path}",
    response_model=SymbolSentiment,
    summary="A symbol's sentiment: news, social, insider and options, and the aggregate",
    responses=NOT_PROVIDED,
)
async def get_symbol(symbol: str, container: ContainerDep) -> dict[str, Any]:
    """Each component with its figures, the weighted aggregate, and the sources behind it.
    Components the source lacks are marked ``unavailable`` and left out of the aggregate."""
    return await sentiment.symbol_view(container, symbol)


@router.get(
    "/api/insider/{symbol:path}",
    response_model=InsiderActivity,
    summary="A stock's insider filings (SEC Form 4) and what they add up to",
    responses=NOT_PROVIDED,
)
async def get_insider(symbol: str, container: ContainerDep, limit: Limit = 50) -> dict[str, Any]:
    """The last year's Form 4 filings, newest first, and a 90-day summary: net buying,
    cluster buys, officers versus directors. Plan sales (Rule 10b5-1) are not opinions."""
    return await sentiment.insider(container, symbol, limit)


@router.get(
    "/api/options/{symbol:path}/chain",
    response_model=OptionChain,
    summary="A symbol's option chain now: quotes, implied volatility and greeks",
    responses={
        **NOT_PROVIDED,
        422: {"model": ErrorBody, "description": "The expiry is not listed (`invalid_expiry`)."},
    },
)
async def get_chain(
    symbol: str,
    container: ContainerDep,
    expiry: Annotated[
        date | None, Query(description="One expiry (YYYY-MM-DD); all listed when omitted.")
    ] = None,
) -> dict[str, Any]:
    """Every listed contract (or one expiry's), priced by Black-Scholes on the volatility
    surface, with bid, ask, volume and open interest."""
    return await sentiment.option_chain(container, symbol, expiry)


@router.get(
    "/api/options/{symbol:path}/flow",
    response_model=SymbolOptionsFlow,
    summary="A symbol's option flow: put/call, IV rank, skew and unusual trades",
    responses=NOT_PROVIDED,
)
async def get_flow(symbol: str, container: ContainerDep, limit: Limit = 50) -> dict[str, Any]:
    """The last 24 hours of option trades: put/call ratios by volume and open interest, IV
    rank and percentile, 25-delta skew, and the unusual trades (sweeps, volume over open
    interest), largest premium first."""
    return await sentiment.option_flow(container, symbol, limit)
