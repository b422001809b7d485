"""One WebSocket client: its subscriptions and a bounded, conflating outbound queue.

Prices and quotes are conflated per symbol while unsent: a newer one replaces the queued one
in place, so a client that falls behind gets the latest value rather than a backlog. Other
messages (bars, private events, replies) queue in order; when the queue is full they are
dropped, counted, and reported to the client once it catches up.

A client that connects with ``?batch=true`` gets every frame as a JSON array of messages: the
writer sends whatever is queued when it wakes (up to ``MAX_BATCH`` messages) in one frame.
An idle connection still gets each message at once, in an array of one; a busy one sends far
fewer frames, which is what bounds a server's fan-out rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from starlette.websockets import WebSocket

from quantumtrade.api.ws import protocol

_log = logging.getLogger(__name__)
_CONTROL_HEADROOM = 32  # replies and errors may exceed the bound by this much, no more
MAX_BATCH = 200  # messages per frame in batch mode

Key = tuple[str, str]  # (message type, symbol)


class Connection:
    """A connected client, as the hub sees it."""

    def __init__(
        self, websocket: WebSocket, *, connection_id: str, queue_size: int, batch: bool = False
    ) -> None:
        self.websocket = websocket
        self.id = connection_id
        self.queue_size = queue_size
        self.batch = batch
        self.user_id: str | None = None
        self.subscriptions: dict[str, set[str]] = {}  # symbol -> market channels
        self.private: set[str] = set()
        self.conflated = 0
        self.dropped = 0
        self.dropped_bars = 0
        self.sent = 0
        now = time.monotonic()
        self.last_received = now
        self.last_pinged = now
        self.progress_at = now  # the writer last woke up or finished a send
        self.full_since: float | None = None
        self.close_request: tuple[int, str] | None = None
        self.done = asyncio.Event()
        self._queue: deque[str | Key] = deque()
        self._latest: dict[Key, str] = {}
        self._wake = asyncio.Event()
        self._reported = (0, 0)

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    def offer_latest(self, kind: str, symbol: str, text: str) -> None:
        """Queue a price or quote, replacing an unsent one for the same symbol."""
        key = (kind, symbol)
        if key in self._latest:
            self._latest[key] = text
            self.conflated += 1
            return
        if len(self._queue) >= self.queue_size:
            self.dropped += 1
            self._mark_full()
            return
        self._latest[key] = text
        self._queue.append(key)
        self._wake.set()

    def offer(self, text: str, *, bar: bool = False, control: bool = False) -> bool:
        """Queue a message in order; return False (and count it) when the queue is full."""
        limit = self.queue_size + (_CONTROL_HEADROOM if control else 0)
        if len(self._queue) >= limit:
            if bar:
                self.dropped_bars += 1
            else:
                self.dropped += 1
            self._mark_full()
            return False
        self._queue.append(text)
        self._wake.set()
        return True

    def reply(self, message: dict[str, object]) -> None:
        """Queue a reply to the client (``subscribed``, ``pong``, ``error``...)."""
        self.offer(protocol.encode(message), control=True)

    def request_close(self, code: int, reason: str) -> None:
        """Ask the endpoint to close this connection with ``code`` and ``reason``."""
        if self.close_request is None:
            self.close_request = (code, reason[:120])
        self.done.set()

    def _mark_full(self) -> None:
        if self.full_since is None:
            self.full_since = time.monotonic()

    async def write_loop(self) -> None:
        """Send queued messages until the client goes away."""
        try:
            while True:
                if not self._queue:
                    self.full_since = None
                    self._report_drops()
                if not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                    self.progress_at = time.monotonic()
                    continue
                if self.batch:
                    texts = [self._next() for _ in range(min(len(self._queue), MAX_BATCH))]
                    text = "[" + ",".join(texts) + "]"
                else:
                    texts = [self._next()]
                    text = texts[0]
                if len(self._queue) < self.queue_size:
                    self.full_since = None
                await self.websocket.send_text(text)
                self.sent += len(texts)
                self.progress_at = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client went away; the endpoint cleans up
            _log.debug("websocket %s send failed: %s", self.id, exc)
        finally:
            self.done.set()

    def _next(self) -> str:
        item = self._queue.popleft()
        return self._latest.pop(item) if isinstance(item, tuple) else item

    def _report_drops(self) -> None:
        reported = (self.dropped, self.dropped_bars)
        if reported != self._reported:
            self._reported = reported
            self.reply(
                protocol.error(
                    "messages_dropped",
                    "The connection fell behind; some messages were not delivered.",
                    {"updates": self.dropped, "bars": self.dropped_bars},
                )
            )

    def stalled_for(self, now: float) -> float:
        """Return how long the client has been too slow: queue full, or a send stuck."""
        stuck = now - self.progress_at if self._queue else 0.0
        full = now - self.full_since if self.full_since is not None else 0.0
        return max(stuck, full)

    async def close(self, wait_seconds: float) -> None:
        """Send the requested close frame, waiting at most ``wait_seconds`` for a stuck client."""
        code, reason = self.close_request or (1000, "")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code, reason), wait_seconds)
