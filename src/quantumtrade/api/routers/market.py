"""``/api/market``: prices, quotes, history, symbols and the market clock.

Public (no login), rate limited like every route. Symbols are case-insensitive; ``BTC/USD`` may
also be written ``BTCUSD`` or ``BTC-USD`` (URL-encode the slash as ``%2F`` in a path).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from quantumtrade.api.deps import ContainerDep
from quantumtrade.api.schemas.common import ERROR_RESPONSES, IsoDateTime
from quantumtrade.api.schemas.market import History, MarketClock, Price, Quotes, Symbols
from quantumtrade.services import market
from quantumtrade.services.market import HistoryPage

router = APIRouter(prefix="/api/market", tags=["market"], responses=ERROR_RESPONSES)


@router.get("/price/{symbol:path}", response_model=Price)
async def get_price(symbol: str, container: ContainerDep) -> dict[str, Any]:
    """Latest trade, best bid/ask and today's change (cached for 5 seconds)."""
    return await market.price(container, symbol)


@router.get("/quotes", response_model=Quotes)
async def get_quotes(
    container: ContainerDep,
    symbols: Annotated[
        str,
        # At least one symbol: something besides commas and spaces.
        Query(description="Comma-separated, at most 100.", max_length=3000, pattern=r"[^,\s]"),
    ],
) -> dict[str, Any]:
    """Prices of several symbols in one call."""
    return {"quotes": await market.quotes(container, symbols.split(","))}


@router.get("/symbols", response_model=Symbols)
async def get_symbols(container: ContainerDep) -> dict[str, Any]:
    """Every symbol the configured sources serve."""
    return {"symbols": await market.symbols(container)}


@router.get("/clock", response_model=MarketClock)
async def get_clock(container: ContainerDep) -> dict[str, Any]:
    """Whether the US equity market is open, and its next open and close."""
    return market.clock(container)


@router.get(
    "/history/{symbol:path}",
    response_model=History,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def get_history(
    symbol: str,
    container: ContainerDep,
    timeframe: Annotated[str, Query(description="1Min, 5Min, 15Min, 1Hour or 1Day.")] = "1Day",
    start: Annotated[IsoDateTime | None, Query(description="Inclusive; naive means UTC.")] = None,
    end: Annotated[IsoDateTime | None, Query(description="Exclusive; default now.")] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=market.MAX_LIMIT, description="1 to 100000; default 1000.")
    ] = None,
    page_token: Annotated[str | None, Query(max_length=200)] = None,
    output: Annotated[Literal["json", "csv"] | None, Query(alias="format")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Bars oldest first, paged; JSON, or CSV with ``format=csv`` or ``Accept: text/csv``."""
    page = await market.history(
        container,
        symbol=symbol,
        timeframe=timeframe,
        start=start,
        end=end,
        limit=limit,
        page_token=page_token,
    )
    wants_csv = output == "csv" or (output is None and "text/csv" in (accept or ""))
    headers = {"X-Next-Page-Token": page.next_page_token} if page.next_page_token else {}
    if wants_csv:
        return Response(_csv(page), media_type="text/csv", headers=headers)
    return Response(_json(page), media_type="application/json", headers=headers)


def _time_strings(index: pd.Index) -> np.ndarray:
    stamps = pd.DatetimeIndex(index).tz_convert("UTC").as_unit("s").tz_localize(None)
    return np.char.add(np.datetime_as_string(stamps.to_numpy(), unit="s"), "Z")


def _json(page: HistoryPage) -> bytes:
    # pandas writes the 100k-row arrays in C; pydantic objects per bar would cost seconds.
    bars = page.bars.reset_index(drop=True)
    bars.insert(0, "time", _time_strings(page.bars.index))
    body = bars.to_json(orient="records", double_precision=10) if len(bars) else "[]"
    head = json.dumps({"symbol": page.symbol, "timeframe": page.timeframe.value})[:-1]
    tail = json.dumps(page.next_page_token)
    return f'{head},"bars":{body},"next_page_token":{tail}}}'.encode()


def _csv(page: HistoryPage) -> bytes:
    bars = page.bars.reset_index(drop=True)
    bars.insert(0, "time", _time_strings(page.bars.index))
    return bars.to_csv(index=False, lineterminator="\n").encode()
