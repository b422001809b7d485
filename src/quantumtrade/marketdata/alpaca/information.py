"""Alpaca as an :class:`~quantumtrade.marketdata.information.InformationSource`: news only.

Alpaca serves news (REST history and the news stream, :mod:`.news`); it has no social feed,
Form 4 filings or options flow in its data API, so those raise ``InformationUnavailable``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any, NoReturn

from quantumtrade.domain.news import NewsItem, SocialPost
from quantumtrade.marketdata.alpaca.news import WILDCARD, AlpacaNews
from quantumtrade.marketdata.information import InformationUnavailable


class AlpacaInformation:
    """News from Alpaca; nothing else."""

    name = "alpaca"

    def __init__(self, news: AlpacaNews) -> None:
        self.news = news

    def _unavailable(self, kind: str) -> NoReturn:
        raise InformationUnavailable(kind, self.name)

    async def get_news(
        self, symbols: Sequence[str] | None, start: datetime, end: datetime
    ) -> list[NewsItem]:
        stories = await self.news.get_news(symbols, start, end, sort="asc")
        return sorted(stories, key=lambda item: (item.created_at, item.id))

    async def get_social(
        self, symbols: Sequence[str] | None, start: datetime, end: datetime
    ) -> list[SocialPost]:
        self._unavailable("social posts")

    async def get_insider_filings(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        self._unavailable("insider filings")

    async def get_option_chain(self, symbol: str, expiry: date | None) -> Any:
        self._unavailable("options")

    async def get_option_trades(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        self._unavailable("options")

    async def get_atm_iv_history(self, symbol: str, start: date, end: date) -> Any:
        self._unavailable("options")

    def stream_news(self, symbols: Sequence[str] | None) -> AsyncIterator[NewsItem]:
        return self.news.stream_news(list(symbols) if symbols else [WILDCARD])

    async def close(self) -> None:
        await self.news.close()
