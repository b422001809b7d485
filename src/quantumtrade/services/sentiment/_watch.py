"""The live side of sentiment: news pushed as it breaks, and aggregate moves, all stored.

One replica leads (a lease, as the regime watch does). Every ``poll_seconds`` it reads the
stories published since its last look, scores them, stores them in ``sentiment_data`` (source
``news``) and sends a ``news`` message on the market channel of each symbol a story names;
the WebSocket hub passes it to that symbol's ``news`` subscribers. Every ``check_seconds`` it
recomputes each symbol's sentiment, stores the aggregate (source ``aggregate``), the insider
and options summaries (sources ``insider`` and ``options``) and the market's fear-and-greed
index (source ``fear_greed``), and sends a ``sentiment`` message when the label changed or
the score moved by :data:`MOVE` or more.
Social posts of the period are stored too (source ``social``).

Rows get ids derived from the item's id (UUID 5), so a story seen twice, by two replicas or
after a restart, is stored once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from quantumtrade.db.models import SentimentData
from quantumtrade.domain.news import NewsItem, SocialPost
from quantumtrade.marketdata.information import InformationUnavailable
from quantumtrade.ml.sentiment import SentimentResult, score_texts
from quantumtrade.services._tasks import stop_if_cancelled
from quantumtrade.services.container import Container
from quantumtrade.services.market_feed import Lease, create_lease, market_channel
from quantumtrade.services.sentiment import _views

_log = logging.getLogger(__name__)
NAMESPACE = uuid.UUID("6f1d3c52-6a8e-4c55-9d0b-5e2f7c1a9b40")
MOVE = 0.1  # a sentiment message when the aggregate score moves this much
FIRST_LOOK = timedelta(hours=1)  # how far back the first poll reads
INSERT_CHUNK = 500
FIRST_CHECK_SECONDS = 30.0


def row_id(source: str, item_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{source}:{item_id}")


def news_message(item: NewsItem, result: SentimentResult, symbol: str) -> dict[str, Any]:
    """The ``news`` WebSocket message of a story, for one of the symbols it names."""
    return {"type": "news", "symbol": symbol, **_views.news_item(item, result)}


def sentiment_message(view: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """The ``sentiment`` WebSocket message of a symbol's new aggregate."""
    return {
        "type": "sentiment",
        "symbol": view["symbol"],
        "score": view["score"],
        "label": view["label"],
        "previous_score": None if previous is None else previous["score"],
        "previous_label": None if previous is None else previous["label"],
        "components": {name: part.get("score") for name, part in view["components"].items()},
        "as_of": view["as_of"],
    }


async def store(container: Container, rows: Sequence[SentimentData]) -> int:
    """Insert the rows not stored yet; return how many were new."""
    added = 0
    for lo in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[lo : lo + INSERT_CHUNK]
        async with container.session_factory() as db:
            ids = [row.id for row in chunk]
            existing = set(
                await db.scalars(sa.select(SentimentData.id).where(SentimentData.id.in_(ids)))
            )
            fresh = [row for row in chunk if row.id not in existing]
            db.add_all(fresh)
            await db.commit()
            added += len(fresh)
    return added


def _item_rows(
    source: str,
    scored: Sequence[tuple[NewsItem | SocialPost, SentimentResult]],
) -> list[SentimentData]:
    """One row per scored item and symbol it names (one with no symbol if it names none)."""
    rows = []
    for item, result in scored:
        if isinstance(item, NewsItem):
            headline, url = item.headline, item.url
            extra = {"source": item.source}
        else:
            headline, url = item.text[:500], None
            extra = {"author": item.author}
        for symbol in item.symbols or (None,):
            rows.append(
                SentimentData(
                    id=row_id(source, f"{item.id}:{symbol}"),
                    time=item.created_at,
                    symbol=symbol,
                    source=source,
                    score=result.score,
                    magnitude=result.confidence,
                    headline=headline,
                    url=url,
                    payload={"id": item.id, "label": result.label, **extra},
                )
            )
    return rows


def news_rows(items: Sequence[NewsItem], results: Sequence[SentimentResult]) -> list[SentimentData]:
    return _item_rows("news", list(zip(items, results, strict=True)))


def social_rows(
    posts: Sequence[SocialPost], results: Sequence[SentimentResult]
) -> list[SentimentData]:
    return _item_rows("social", list(zip(posts, results, strict=True)))


class SentimentWatch:
    """Poll, score, store and push news; re-check aggregates; while holding the lease."""

    def __init__(
        self,
        container: Container,
        *,
        poll_seconds: float,
        check_seconds: float,
        lease: Lease | None = None,
    ) -> None:
        self.container = container
        self.poll_seconds = poll_seconds
        self.check_seconds = check_seconds
        self.lease = lease or create_lease(container, "sentiment_watch")
        self.since: datetime | None = None
        self.last_views: dict[str, dict[str, Any]] = {}
        self.last_check: float | None = None  # loop time of the last full check
        self.published = 0
        self.last_error: str | None = None

    async def poll(self) -> list[NewsItem]:
        """Score, store and publish the stories and store the posts since the last poll."""
        source = self.container.information
        if source is None:
            return []
        now = self.container.clock.now()
        since = self.since or now - FIRST_LOOK
        if now <= since:
            return []
        items = await source.get_news(None, since, now)
        names = _views.company_names(self.container.market.symbols())
        texts = [_views.news_text(i, names) for i in items]
        results = await asyncio.to_thread(score_texts, texts)
        await store(self.container, news_rows(items, results))
        try:
            posts = await source.get_social(None, since, now)
        except InformationUnavailable:
            posts = []
        if posts:
            texts = [_views.post_text(p, names) for p in posts]
            scored = await asyncio.to_thread(score_texts, texts)
            await store(self.container, social_rows(posts, scored))
        for item, result in zip(items, results, strict=True):
            for symbol in item.symbols:
                await self.container.bus.publish(
                    market_channel(symbol), news_message(item, result, symbol)
                )
                self.published += 1
        self.since = now
        return items

    async def check(self, symbols: list[str] | None = None) -> list[dict[str, Any]]:
        """Recompute each symbol's sentiment; store it, and publish the ones that moved."""
        from quantumtrade.services import sentiment

        wanted = symbols or [info.symbol for info in self.container.market.symbols()]
        moved = []
        rows = []
        for symbol in wanted:
            try:
                await self.container.cache.delete(f"sentiment:symbol:{symbol}")
                view = await sentiment.symbol_view(self.container, symbol)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.exception("sentiment check failed for %s", symbol)
                continue
            rows += _view_rows(view)
            previous = self.last_views.get(symbol)
            self.last_views[symbol] = view
            if (
                previous is None
                or previous["label"] != view["label"]
                or abs(previous["score"] - view["score"]) >= MOVE
            ):
                message = sentiment_message(view, previous)
                await self.container.bus.publish(market_channel(symbol), message)
                moved.append(message)
        if symbols is None:  # a full check also records the market's index
            try:
                market = await sentiment.market_view(self.container)
                if market["index"] is not None:
                    rows.append(_market_row(market))
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                _log.exception("market sentiment check failed")
        await store(self.container, rows)
        return moved

    async def run(self) -> None:
        """Run until cancelled: poll (and check on schedule) while leading."""
        loop = asyncio.get_running_loop()
        # The first full check (every symbol's view and the market index) waits a little: a
        # server that is starting has better things to do.
        self.last_check = (
            loop.time() - self.check_seconds + min(self.check_seconds, FIRST_CHECK_SECONDS)
        )
        try:
            while True:
                if await self.lease.try_acquire():
                    try:
                        await self.poll()
                        if loop.time() - self.last_check >= self.check_seconds:
                            self.last_check = loop.time()
                            await self.check()
                    except Exception as exc:
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        _log.exception("sentiment watch failed")
                stop_if_cancelled()
                await asyncio.sleep(self.poll_seconds)
        finally:
            await self.lease.release()


# Components stored as rows of their own, with their figures: the tone components are
# stored item by item (sources news and social) as the watch polls.
SUMMARY_COMPONENTS = ("insider", "options")


def _view_rows(view: dict[str, Any]) -> list[SentimentData]:
    """The aggregate of a symbol's view, and its insider and options summaries, as rows."""
    as_of = datetime.fromisoformat(view["as_of"])
    rows = [_aggregate_row(view, as_of)]
    for name in SUMMARY_COMPONENTS:
        part = view["components"][name]
        if part.get("score") is None:
            continue
        rows.append(
            SentimentData(
                id=row_id(name, f"{view['symbol']}:{view['as_of']}"),
                time=as_of,
                symbol=view["symbol"],
                source=name,
                score=part["score"],
                magnitude=None,
                headline=None,
                url=None,
                payload={k: v for k, v in part.items() if k not in ("score", "status")},
            )
        )
    return rows


def _aggregate_row(view: dict[str, Any], as_of: datetime) -> SentimentData:
    return SentimentData(
        id=row_id("aggregate", f"{view['symbol']}:{view['as_of']}"),
        time=as_of,
        symbol=view["symbol"],
        source="aggregate",
        score=view["score"],
        magnitude=None,
        headline=None,
        url=None,
        payload={
            "label": view["label"],
            "weights": view["weights"],
            "components": {name: part.get("score") for name, part in view["components"].items()},
        },
    )


def _market_row(view: dict[str, Any]) -> SentimentData:
    """The fear-and-greed index (0 to 100) as a row with no symbol."""
    return SentimentData(
        id=row_id("fear_greed", view["as_of"]),
        time=datetime.fromisoformat(view["as_of"]),
        symbol=None,
        source="fear_greed",
        score=view["index"],
        magnitude=None,
        headline=view["label"],
        url=None,
        payload={"components": view["components"], "unavailable": view["unavailable"]},
    )
