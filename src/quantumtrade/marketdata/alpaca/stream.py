"""Live trades, quotes and bars from Alpaca, on top of alpaca-py's stream clients.

alpaca-py already reconnects with exponential backoff and equal jitter, and resubscribes every
registered symbol after a reconnect; that part is used as is. What it lacks is a way out: a
rejected key, a symbol limit or a refused feed only reach its log while it retries forever, and it
offers no async entry point. So this module

* runs ``DataStream._run_forever`` as a task in the caller's event loop,
* replaces ``_auth`` to read the error code Alpaca answers with (alpaca-py keeps only the text),
* intercepts error frames in ``_dispatch``, and
* turns fatal codes into an exception the consumer of :meth:`StreamSession.events` receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from alpaca.data.enums import CryptoFeed, DataFeed
from alpaca.data.live.crypto import CryptoDataStream
from alpaca.data.live.stock import StockDataStream
from alpaca.data.live.websocket import DataStream
from websockets.exceptions import WebSocketException

from quantumtrade.domain.market import Channel, MarketEvent
from quantumtrade.marketdata.alpaca import errors, parsing
from quantumtrade.marketdata.alpaca.config import AlpacaConfig
from quantumtrade.marketdata.alpaca.errors import AlpacaError

log = logging.getLogger(__name__)

# Codes after which retrying cannot help: the key, the plan or the request must change first.
_FATAL = frozenset(
    {
        errors.AUTH_FAILED,
        errors.SYMBOL_LIMIT,
        errors.INSUFFICIENT_SUBSCRIPTION,
        errors.INVALID_SUBSCRIBE_ACTION,
    }
)


class _Reconnect(WebSocketException):
    """Drop this connection and let alpaca-py reconnect after its backoff.

    A ``WebSocketException`` makes alpaca-py log one warning line instead of a traceback.
    """


class _HookedStream(DataStream):
    """The adapter's additions to alpaca-py's ``DataStream`` (see the module docstring)."""

    def attach(self, session: StreamSession, config: AlpacaConfig, label: str) -> None:
        self._session = session
        self._label = label
        self._limit_retries = config.connection_limit_retries
        self._limit_hits = 0
        self._reconnect_min_backoff = config.reconnect_initial_delay
        self._reconnect_max_backoff = config.reconnect_max_delay

    async def _connect(self) -> None:
        try:
            await super()._connect()
        except OSError as exc:
            raise _Reconnect(f"cannot reach {self._endpoint}: {exc}") from exc

    async def _auth(self) -> None:
        ws: Any = self._ws
        await ws.send(parsing.auth_request(self._api_key, self._secret_key))
        frames = parsing.decode(await ws.recv())
        if parsing.is_authenticated(frames):
            self._limit_hits = 0
            return
        for frame in frames:
            error = parsing.control_error(frame)
            if error is not None:
                await self._on_error(error)
                raise _Reconnect(f"authentication refused ({error.code} {error.message})")
        raise _Reconnect(f"unexpected reply to authentication: {frames!r}")

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        error = parsing.control_error(msg)
        if error is not None:
            await self._on_error(error)
            return
        channels = parsing.subscription(msg)
        if channels is not None:
            log.info("alpaca %s stream subscribed: %s", self._label, channels)
            return
        await super()._dispatch(msg)

    async def _on_error(self, error: parsing.ControlError) -> None:
        exc = errors.stream_error(error.code, error.message)
        if error.code in _FATAL:
            await self._give_up(exc)
        elif error.code == errors.CONNECTION_LIMIT:
            self._limit_hits += 1
            if self._limit_hits > self._limit_retries:
                await self._give_up(exc)
            else:
                log.warning(
                    "%s; retrying (%d of %d)", exc.message, self._limit_hits, self._limit_retries
                )
        elif error.code == errors.SLOW_CLIENT:
            log.warning("%s: events arrive faster than they are consumed", exc.message)
        else:
            log.error("alpaca %s stream: %s", self._label, exc.message)

    async def _give_up(self, exc: AlpacaError) -> None:
        log.error("alpaca %s stream stopped: %s", self._label, exc.message)
        self._session.fail(exc)
        await self.stop_ws()


class _StockStream(_HookedStream, StockDataStream):
    pass


class _CryptoStream(_HookedStream, CryptoDataStream):
    pass


class StreamSession:
    """One ``stream()`` call: alpaca-py clients feeding one queue read by one consumer."""

    def __init__(
        self,
        config: AlpacaConfig,
        symbols: Sequence[str],
        channels: Sequence[Channel],
        registry: set[StreamSession] | None = None,
    ) -> None:
        self._config = config
        self._symbols = tuple(symbols)
        self._channels = tuple(channels)
        # The owner's set of running sessions, so it can close them all.
        self._registry = registry if registry is not None else set()
        # None is only a wake-up call: the consumer then looks at _failure and _closed.
        self._queue: asyncio.Queue[MarketEvent | None] = asyncio.Queue(config.stream_queue_size)
        self._failure: BaseException | None = None
        self._closed = False
        self._clients: list[_HookedStream] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def events(self) -> AsyncIterator[MarketEvent]:
        """Yield events until closed; raise the first fatal error a stream reports."""
        self._start()
        self._registry.add(self)
        try:
            while True:
                if self._failure is not None:
                    raise self._failure
                if self._closed:
                    return
                event = await self._queue.get()
                if event is not None:
                    yield event
        finally:
            await self.stop()

    def fail(self, exc: BaseException) -> None:
        if self._failure is None and not self._closed:
            self._failure = exc
            self._wake()

    async def close(self) -> None:
        """End the consumer's iteration and disconnect."""
        self._closed = True
        self._wake()
        await self.stop()

    async def stop(self) -> None:
        """Cancel the stream tasks and close their sockets."""
        self._closed = True
        tasks, self._tasks = self._tasks, []
        clients, self._clients = self._clients, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            # alpaca-py's own stop_ws only takes effect between receives (up to 5 s later);
            # cancelling the task and closing the socket ends it at once.
            with contextlib.suppress(Exception):
                await client.close()
        self._registry.discard(self)

    def _wake(self) -> None:
        # If the queue is full the consumer is not waiting, and it checks the flags next turn.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    def _start(self) -> None:
        stocks = [s for s in self._symbols if not parsing.is_crypto(s)]
        crypto = [s for s in self._symbols if parsing.is_crypto(s)]
        config = self._config
        params = {
            "ping_interval": config.ping_interval,
            "ping_timeout": config.ping_timeout,
            "close_timeout": config.close_timeout,
            "open_timeout": config.open_timeout,
            "max_queue": 1024,
        }
        if stocks:
            stock = _StockStream(
                config.api_key,
                config.secret_key,
                raw_data=True,
                feed=DataFeed(config.feed),
                websocket_params=params,
                url_override=config.stock_stream_endpoint,
                data_timeout=config.data_timeout,
            )
            self._launch(stock, "stock", stocks)
        if crypto:
            coins = _CryptoStream(
                config.api_key,
                config.secret_key,
                raw_data=True,
                feed=CryptoFeed(config.crypto_feed),
                url_override=config.crypto_stream_endpoint,
                websocket_params=params,
                data_timeout=config.data_timeout,
            )
            self._launch(coins, "crypto", crypto)

    def _launch(self, client: _StockStream | _CryptoStream, label: str, symbols: list[str]) -> None:
        client.attach(self, self._config, label)
        for channel in self._channels:
            if channel == "trades":
                client.subscribe_trades(self._on_message, *symbols)
            elif channel == "quotes":
                client.subscribe_quotes(self._on_message, *symbols)
            else:
                client.subscribe_bars(self._on_message, *symbols)
        task = asyncio.create_task(client._run_forever(), name=f"alpaca-{label}-stream")
        task.add_done_callback(self._on_task_done)
        self._clients.append(client)
        self._tasks.append(task)

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._closed:
            return
        # alpaca-py returns on its own only when told to stop; anything else is a surprise
        # the consumer must hear about rather than wait forever.
        cause = task.exception()
        reason = f": {cause}" if cause is not None else ""
        self.fail(AlpacaError(f"Alpaca stream {task.get_name()} ended unexpectedly{reason}"))

    async def _on_message(self, message: Any) -> None:
        try:
            event = parsing.stream_event(message)
        except (KeyError, TypeError, ValueError):
            log.warning("skipping malformed alpaca stream message %r", message, exc_info=True)
            return
        if event is not None:
            await self._queue.put(event)
