"""The simulated information world behind the :class:`InformationSource` interface.

News (:mod:`.news`), social posts (:mod:`.social`), Form 4 filings (:mod:`.insider`) and options
(:mod:`.options`) are pure functions of the seed and a time range; this adapter cuts each answer
at the market's clock, so a caller sees what was public by now and nothing after, and runs the
work in a worker thread. The news stream yields each story once the clock reaches its
``created_at``, as the price stream does for bars.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from quantumtrade.domain.news import NewsItem, SocialPost
from quantumtrade.marketdata.information import InformationUnavailable
from quantumtrade.marketdata.simulator.source import SimulatedMarket

# How often the news stream looks at the clock for stories it reached.
STREAM_POLL_SECONDS = 1.0


class SimulatedInformation:
    """News, posts, filings and options of a :class:`SimulatedMarket`, up to its clock."""

    name = "simulator"

    def __init__(self, market: SimulatedMarket, *, poll_seconds: float = STREAM_POLL_SECONDS):
        self.market = market
        self._poll_seconds = poll_seconds

    def _now(self) -> datetime:
        return self.market.clock.now()

    def _cut(self, end: datetime) -> datetime:
        return min(end, self._now())

    def _equity(self, symbol: str, kind: str) -> None:
        spec = self.market.universe.spec(symbol)
        if spec.is_crypto:
            raise InformationUnavailable(kind, f"{self.name} (crypto has no {kind})")

    async def get_news(
        self, symbols: Sequence[str] | None, start: datetime, end: datetime
    ) -> list[NewsItem]:
        from quantumtrade.marketdata.simulator.news import news_items

        end = self._cut(end)
        if end <= start:
            return []
        return await asyncio.to_thread(news_items, self.market, symbols, start, end)

    async def get_social(
        self, symbols: Sequence[str] | None, start: datetime, end: datetime
    ) -> list[SocialPost]:
        from quantumtrade.marketdata.simulator.social import social_posts

        end = self._cut(end)
        if end <= start:
            return []
        return await asyncio.to_thread(social_posts, self.market, symbols, start, end)

    async def get_insider_filings(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        from quantumtrade.marketdata.simulator.insider import insider_filings

        self._equity(symbol, "insider filings")
        end = self._cut(end)
        if end <= start:
            return []
        return await asyncio.to_thread(insider_filings, self.market, symbol, start, end)

    async def get_option_chain(self, symbol: str, expiry: date | None) -> Any:
        from quantumtrade.marketdata.simulator.options import option_chain

        self._equity(symbol, "options")
        return await asyncio.to_thread(option_chain, self.market, symbol, self._now(), expiry)

    async def get_option_trades(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        from quantumtrade.marketdata.simulator.options import option_trades

        self._equity(symbol, "options")
        end = self._cut(end)
        if end <= start:
            return []
        return await asyncio.to_thread(option_trades, self.market, symbol, start, end)

    async def get_atm_iv_history(self, symbol: str, start: date, end: date) -> Any:
        from quantumtrade.marketdata.simulator.options import atm_iv_history

        self._equity(symbol, "options")
        # Each value is as of its session's close: today's exists only once the session closed.
        now = self._now()
        today = now.date()
        sessions = self.market.sessions(symbol, today, today)
        closed = len(sessions) and sessions["close"].iloc[-1].to_pydatetime() <= now
        end = min(end, today + timedelta(days=1) if closed else today)
        return await asyncio.to_thread(atm_iv_history, self.market, symbol, start, end)

    async def stream_news(self, symbols: Sequence[str] | None) -> AsyncIterator[NewsItem]:
        """Yield each story as the clock passes its ``created_at``, oldest first."""
        since = self._now()
        while True:
            await self.market.sleep(self._poll_seconds)
            now = self._now()
            if now <= since:
                continue
            for item in await self.get_news(symbols, since, now):
                yield item
            since = now

    async def close(self) -> None:
        """Release nothing."""
