"""AlpacaNews against a local server speaking Alpaca's news protocol (REST and stream)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from websockets.asyncio.client import connect

from alpaca_fake_server import KEY, NEWS_PATH, SECRET, AlpacaFakeServer, NewsRow, make_news
from quantumtrade.domain.news import NewsItem
from quantumtrade.marketdata.alpaca import (
    AlpacaAuthError,
    AlpacaConfig,
    AlpacaConnectionLimitError,
    AlpacaSymbolLimitError,
)
from quantumtrade.marketdata.alpaca.news import AlpacaNews

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
DAY = timedelta(days=1)
STAMP = datetime(2024, 1, 2, 14, 31, 5, 123456, tzinfo=UTC)


@pytest.fixture
async def server() -> AsyncIterator[AlpacaFakeServer]:
    fake = AlpacaFakeServer(auth_timeout=30.0)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def config_for(server: AlpacaFakeServer, **overrides: Any) -> AlpacaConfig:
    settings: dict[str, Any] = {
        "api_key": KEY,
        "secret_key": SECRET,
        "data_url": server.data_url,
        "stream_url": server.stream_url,
        "reconnect_initial_delay": 0.05,
        "reconnect_max_delay": 0.2,
    }
    return AlpacaConfig(**(settings | overrides))


@contextlib.asynccontextmanager
async def alpaca_news(
    server: AlpacaFakeServer, *, max_items: int = 10_000, use_msgpack: bool = True, **overrides: Any
) -> AsyncIterator[AlpacaNews]:
    news = AlpacaNews(config_for(server, **overrides), max_items=max_items, use_msgpack=use_msgpack)
    try:
        yield news
    finally:
        await news.close()


def news_requests(server: AlpacaFakeServer) -> list[dict[str, str]]:
    return [params for path, params in server.rest_requests if path == NEWS_PATH]


def ids(stories: list[NewsItem]) -> list[int]:
    return [int(story.id) for story in stories]


class Reader:
    """Consume a news stream in the background, as a real subscriber would."""

    def __init__(self, events: AsyncIterator[NewsItem]) -> None:
        self.received: list[NewsItem] = []
        self._events = events
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for story in self._events:
            self.received.append(story)

    # The timeouts only turn a hang into a failure: generous, for a busy machine.
    async def until(self, count: int, timeout: float = 30.0) -> list[NewsItem]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                if self._task.done():
                    self._task.result()
                    raise AssertionError(f"stream ended after {self.received}")
                await asyncio.sleep(0.01)
        return self.received

    async def failure(self, timeout: float = 30.0) -> BaseException:
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        assert done, "stream did not fail"
        error = self._task.exception()
        assert error is not None, "stream ended without an error"
        return error

    async def finished(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None:
            await aclose()


@contextlib.asynccontextmanager
async def reading(events: AsyncIterator[NewsItem]) -> AsyncIterator[Reader]:
    reader = Reader(events)
    try:
        yield reader
    finally:
        await reader.close()


def expected_item(row: NewsRow, *, with_content: bool = True) -> NewsItem:
    return NewsItem(
        id=str(row.id),
        headline=row.headline,
        summary=row.summary,
        content=row.content if with_content else "",
        author=row.author,
        source=row.source,
        url=row.url,
        symbols=row.symbols,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# -- REST history -------------------------------------------------------------------------------


async def test_history_follows_page_tokens_newest_first(server: AlpacaFakeServer) -> None:
    server.page_size = 3
    server.news = make_news(T0, 8)
    async with alpaca_news(server) as news:
        stories = await news.get_news(["aapl"], T0, T0 + DAY)

    assert ids(stories) == list(range(1007, 999, -1))
    pages = news_requests(server)
    assert len(pages) == 3
    assert "page_token" not in pages[0]
    tokens = [p["page_token"] for p in pages[1:]]
    assert len(set(tokens)) == 2
    assert {(p["symbols"], p["sort"]) for p in pages} == {("AAPL", "desc")}


async def test_history_ascending_stops_at_the_limit(server: AlpacaFakeServer) -> None:
    server.page_size = 3
    server.news = make_news(T0, 8)
    async with alpaca_news(server) as news:
        stories = await news.get_news(["AAPL"], T0, T0 + DAY, limit=5, sort="asc")

    assert ids(stories) == [1000, 1001, 1002, 1003, 1004]
    assert [s.created_at for s in stories] == sorted(s.created_at for s in stories)
    # The second page asks only for what is still missing.
    assert [p["limit"] for p in news_requests(server)] == ["5", "2"]


async def test_history_without_limit_is_capped_in_pages_of_50(server: AlpacaFakeServer) -> None:
    server.news = make_news(T0, 120, step=timedelta(minutes=1))
    async with alpaca_news(server, max_items=110) as news:
        stories = await news.get_news(["AAPL"], T0, T0 + DAY)

    assert ids(stories) == list(range(1119, 1009, -1))
    # Alpaca refuses pages over 50 (the fake answers 422, which would raise).
    assert [p["limit"] for p in news_requests(server)] == ["50", "50", "10"]


async def test_history_filters_by_symbols_and_half_open_window(server: AlpacaFakeServer) -> None:
    def story(story_id: int, symbols: tuple[str, ...], minute: int) -> NewsRow:
        (row,) = make_news(T0 + timedelta(minutes=minute), 1, symbols, first_id=story_id)
        return row

    end = T0 + timedelta(minutes=10, seconds=1)  # the update time of story 6
    server.news = [
        story(1, ("AAPL",), 0),  # updated exactly at start + 1 s
        story(2, ("MSFT",), 1),
        story(3, ("AAPL", "MSFT"), 2),
        story(4, ("TSLA",), 3),
        story(5, (), 4),
        story(6, ("AAPL",), 10),  # updated exactly at `end`: outside [start, end)
        story(7, ("MSFT",), -5),  # before start
    ]
    async with alpaca_news(server) as news:
        chosen = await news.get_news(["msft", "AAPL"], T0 + timedelta(seconds=1), end, sort="asc")
        everything = await news.get_news(None, T0, end, sort="asc")

    assert ids(chosen) == [1, 2, 3]
    assert ids(everything) == [1, 2, 3, 4, 5]
    assert news_requests(server)[0]["symbols"] == "MSFT,AAPL"
    assert "symbols" not in news_requests(server)[1]


async def test_history_stories_carry_every_field_in_utc(server: AlpacaFakeServer) -> None:
    row = dataclasses.replace(
        make_news(T0, 1, ("AAPL", "MSFT"))[0],
        created_at=STAMP,
        updated_at=STAMP + timedelta(minutes=3),
    )
    server.news = [row, *make_news(T0 + timedelta(hours=1), 1, first_id=2000)]
    server.news.append(dataclasses.replace(row, id=3000, content="", url=None))  # headline only
    async with alpaca_news(server) as news:
        bare = await news.get_news(["AAPL"], T0, T0 + DAY, sort="asc")
        full = await news.get_news(
            ["AAPL"], T0, T0 + DAY, sort="asc", include_content=True, exclude_contentless=True
        )

    assert bare[0] == expected_item(row, with_content=False)
    assert full[0] == expected_item(row)
    assert full[0].created_at.tzinfo == UTC
    assert full[0].content == "<p>body of story 1000</p>"
    assert ids(bare) == [1000, 3000, 2000]
    assert bare[1].url is None
    assert ids(full) == [1000, 2000]


@pytest.mark.parametrize("status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN])
async def test_history_rejects_a_bad_key_clearly(
    server: AlpacaFakeServer, status: HTTPStatus
) -> None:
    server.rest_auth_status = status
    async with alpaca_news(server, secret_key="wrong") as news:
        with pytest.raises(AlpacaAuthError, match=f"Alpaca rejected the API key \\(HTTP {status}"):
            await news.get_news(["AAPL"], T0, T0 + DAY)


async def test_history_checks_arguments_before_asking(server: AlpacaFakeServer) -> None:
    async with alpaca_news(server) as news:
        with pytest.raises(ValueError, match="sort"):
            await news.get_news(["AAPL"], T0, T0 + DAY, sort="newest")
        with pytest.raises(ValueError, match="limit"):
            await news.get_news(["AAPL"], T0, T0 + DAY, limit=0)
        assert await news.get_news(["AAPL"], T0, T0) == []
    assert news_requests(server) == []


# -- stream -------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_msgpack", [True, False], ids=["msgpack", "json"])
async def test_stream_delivers_subscribed_stories(
    server: AlpacaFakeServer, use_msgpack: bool
) -> None:
    first = dataclasses.replace(make_news(T0, 1)[0], created_at=STAMP, updated_at=STAMP)
    other, second = make_news(T0 + timedelta(hours=1), 2, first_id=2000)
    other = dataclasses.replace(other, symbols=("TSLA",))
    async with (
        alpaca_news(server, use_msgpack=use_msgpack) as news,
        reading(news.stream_news(["aapl"])) as reader,
    ):
        await server.wait_subscribed("AAPL", "news")
        for row in (first, other, second):
            await server.push_news(row)
        stories = await reader.until(2)

    assert stories == [expected_item(first), expected_item(second)]
    assert stories[0].created_at == STAMP  # microseconds survive both framings
    assert server.subscribe_messages == [{"action": "subscribe", "news": ["AAPL"]}]
    assert server.wire_formats == {"msgpack" if use_msgpack else "json": 1}


async def test_stream_wildcard_receives_every_story(server: AlpacaFakeServer) -> None:
    tsla, unsymbolized = make_news(T0, 2, ("TSLA",))
    unsymbolized = dataclasses.replace(unsymbolized, symbols=())
    async with alpaca_news(server) as news, reading(news.stream_news(["AAPL", "*"])) as reader:
        await server.wait_subscribed("*", "news")
        await server.push_news(tsla)
        await server.push_news(unsymbolized)
        stories = await reader.until(2)

    assert ids(stories) == [tsla.id, unsymbolized.id]
    assert stories[1].symbols == ()
    assert server.subscribe_messages == [{"action": "subscribe", "news": ["*"]}]


async def test_stream_reconnects_resubscribes_and_skips_repeats(server: AlpacaFakeServer) -> None:
    first, second = make_news(T0, 2, ("MSFT",))
    corrected = dataclasses.replace(
        first, headline="story 1000 (corrected)", updated_at=first.updated_at + timedelta(minutes=1)
    )
    async with (
        alpaca_news(server) as news,
        reading(news.stream_news(["AAPL", "MSFT"])) as reader,
    ):
        await server.wait_subscribed("MSFT", "news")
        await server.push_news(first)
        await reader.until(1)

        assert server.drop_all_connections() == 1
        await server.wait_for(lambda: server.connection_count == 2)
        await server.wait_subscribed("MSFT", "news")
        await server.push_news(first)  # sent again after the reconnect: not a new story
        await server.push_news(corrected)
        await server.push_news(second)
        stories = await reader.until(3)
        assert server.subscriptions(NEWS_PATH) == [{"news": ["AAPL", "MSFT"]}]

    assert [(s.id, s.headline) for s in stories] == [
        ("1000", "story 1000"),
        ("1000", "story 1000 (corrected)"),
        ("1001", "story 1001"),
    ]
    assert server.subscribe_messages == [{"action": "subscribe", "news": ["AAPL", "MSFT"]}] * 2


async def test_stream_rejected_key_fails_without_retrying(server: AlpacaFakeServer) -> None:
    async with (
        alpaca_news(server, secret_key="wrong") as news,
        reading(news.stream_news(["AAPL"])) as reader,
    ):
        error = await reader.failure()

    assert isinstance(error, AlpacaAuthError)
    assert str(error) == "Alpaca rejected the API key (402 auth failed)"
    assert server.connections == {NEWS_PATH: 1}


async def test_stream_symbol_limit_is_fatal(server: AlpacaFakeServer) -> None:
    server.max_symbols = 1
    async with alpaca_news(server) as news, reading(news.stream_news(["AAPL", "MSFT"])) as reader:
        error = await reader.failure()
    assert isinstance(error, AlpacaSymbolLimitError)
    assert server.connections == {NEWS_PATH: 1}


async def test_stream_connection_limit_is_retried_then_reported(server: AlpacaFakeServer) -> None:
    holder = await connect(server.stream_url + NEWS_PATH)
    try:
        await holder.recv()  # connected
        await holder.send(json.dumps({"action": "auth", "key": KEY, "secret": SECRET}))
        assert json.loads(await holder.recv()) == [{"T": "success", "msg": "authenticated"}]
        async with (
            alpaca_news(server, connection_limit_retries=1) as news,
            reading(news.stream_news(["AAPL"])) as reader,
        ):
            error = await reader.failure()
    finally:
        await holder.close()

    assert isinstance(error, AlpacaConnectionLimitError)
    assert server.connections == {NEWS_PATH: 3}  # the holder, the first try, one retry


async def test_close_ends_open_news_streams(server: AlpacaFakeServer) -> None:
    news = AlpacaNews(config_for(server))
    reader = Reader(news.stream_news(["AAPL"]))
    try:
        await server.wait_subscribed("AAPL", "news")
        await news.close()
        await reader.finished()
        await server.wait_for(lambda: server.subscriptions() == [])
    finally:
        await reader.close()
        await news.close()


def test_stream_needs_a_symbol() -> None:
    news = AlpacaNews(AlpacaConfig(api_key=KEY, secret_key=SECRET))
    with pytest.raises(ValueError, match="at least one symbol"):
        news.stream_news([" "])
