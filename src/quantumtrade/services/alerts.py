"""Price, percent-change and volume-spike alerts: their CRUD and their live evaluation.

An alert fires exactly once: the evaluator that sees the condition first claims the row with a
conditional UPDATE (``status='active'`` to ``'triggered'``); only the winner of that race
publishes the notice, on the owner's bus channel ``user.<user_id>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quantumtrade.db.models.market import Alert
from quantumtrade.domain.errors import NotFound, Unprocessable
from quantumtrade.infra.bus import Bus
from quantumtrade.services._tasks import stop_if_cancelled

_log = logging.getLogger(__name__)

KINDS = ("price_above", "price_below", "percent_change", "volume_spike")
STATUSES = ("active", "triggered", "disabled")
CHANGED_CHANNEL = "alerts.changed"
_REFRESH_SECONDS = 30.0


def user_channel(user_id: uuid.UUID | str) -> str:
    """Return the bus channel of one user's private events."""
    return f"user.{user_id}"


def _number(raw: dict[str, Any], name: str, low: float, high: float, errors: list[str]) -> float:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(f"{name} must be a number")
        return 0.0
    if not low < value <= high:
        errors.append(f"{name} must be greater than {low:g} and at most {high:g}")
    return float(value)


def parse_condition(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Return the normalised condition of a ``kind`` alert, or raise ``Unprocessable``."""
    errors: list[str] = []
    condition: dict[str, Any]
    if kind in ("price_above", "price_below"):
        condition = {"price": _number(raw, "price", 0, 1e12, errors)}
    elif kind == "percent_change":
        direction = raw.get("direction", "either")
        if direction not in ("up", "down", "either"):
            errors.append("direction must be one of up, down, either")
        condition = {
            "percent": _number(raw, "percent", 0, 1000, errors),
            "window_minutes": _number(raw, "window_minutes", 0, 1440, errors),
            "direction": direction,
        }
    elif kind == "volume_spike":
        lookback = raw.get("lookback_bars", 20)
        if isinstance(lookback, bool) or not isinstance(lookback, int) or not 2 <= lookback <= 500:
            errors.append("lookback_bars must be an integer from 2 to 500")
        condition = {
            "multiplier": _number(raw, "multiplier", 1, 1000, errors),
            "lookback_bars": lookback,
        }
    else:
        raise Unprocessable(f"Unknown alert kind {kind!r}.", code="invalid_alert_kind")
    unknown = sorted(set(raw) - set(condition))
    if unknown:
        errors.append(f"unknown fields for {kind}: {', '.join(unknown)}")
    if errors:
        raise Unprocessable(
            f"Invalid condition for a {kind} alert.", code="invalid_condition", details=errors
        )
    return condition


async def _notify_changed(bus: Bus, alert: Alert) -> None:
    await bus.publish(CHANGED_CHANNEL, {"id": str(alert.id), "symbol": alert.symbol})


async def create_alert(
    db: AsyncSession,
    *,
    bus: Bus,
    user_id: uuid.UUID,
    symbol: str,
    kind: str,
    condition: dict[str, Any],
    message: str | None,
    known_symbols: Sequence[str],
    now: datetime,
) -> Alert:
    """Create an active alert for ``user_id``."""
    symbol = symbol.strip().upper()
    if symbol not in known_symbols:
        raise Unprocessable(f"Unknown symbol {symbol!r}.", code="unknown_symbol")
    alert = Alert(
        id=uuid.uuid4(),
        user_id=user_id,
        symbol=symbol,
        kind=kind,
        condition=parse_condition(kind, condition),
        status="active",
        message=message,
        created_at=now,
    )
    db.add(alert)
    await db.commit()
    await _notify_changed(bus, alert)
    return alert


async def get_alert(db: AsyncSession, *, user_id: uuid.UUID, alert_id: uuid.UUID) -> Alert:
    """Return the caller's alert; someone else's is as absent as a missing one."""
    alert = await db.scalar(sa.select(Alert).where(Alert.id == alert_id, Alert.user_id == user_id))
    if alert is None:
        raise NotFound("Alert not found.", code="alert_not_found")
    return alert


async def list_alerts(
    db: AsyncSession, *, user_id: uuid.UUID, status: str | None, limit: int, offset: int
) -> tuple[list[Alert], int]:
    """Return one page of the caller's alerts, newest first, and the total count."""
    where = [Alert.user_id == user_id]
    if status is not None:
        where.append(Alert.status == status)
    total = await db.scalar(sa.select(sa.func.count()).select_from(Alert).where(*where))
    rows = await db.scalars(
        sa.select(Alert)
        .where(*where)
        .order_by(Alert.created_at.desc(), Alert.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def update_alert(
    db: AsyncSession,
    *,
    bus: Bus,
    user_id: uuid.UUID,
    alert_id: uuid.UUID,
    condition: dict[str, Any] | None,
    message: str | None,
    message_set: bool,
    status: str | None,
) -> Alert:
    """Change an alert's condition, message or status; a new condition re-arms it."""
    alert = await get_alert(db, user_id=user_id, alert_id=alert_id)
    if condition is not None:
        alert.condition = parse_condition(alert.kind, {**alert.condition, **condition})
        status = status or "active"
    if message_set:
        alert.message = message
    if status is not None:
        alert.status = status
        if status == "active":
            alert.triggered_at = None
            alert.delivered_at = None
    await db.commit()
    await _notify_changed(bus, alert)
    return alert


async def delete_alert(
    db: AsyncSession, *, bus: Bus, user_id: uuid.UUID, alert_id: uuid.UUID
) -> None:
    """Delete the caller's alert."""
    alert = await get_alert(db, user_id=user_id, alert_id=alert_id)
    await db.delete(alert)
    await db.commit()
    await _notify_changed(bus, alert)


def alert_view(alert: Alert) -> dict[str, Any]:
    """Return an alert as a JSON-ready dict (the REST body and the pushed notice)."""
    return {
        "id": str(alert.id),
        "symbol": alert.symbol,
        "kind": alert.kind,
        "condition": alert.condition,
        "status": alert.status,
        "message": alert.message,
        "created_at": alert.created_at.isoformat(),
        "triggered_at": alert.triggered_at.isoformat() if alert.triggered_at else None,
        "delivered_at": alert.delivered_at.isoformat() if alert.delivered_at else None,
    }


@dataclass(frozen=True, slots=True)
class _Armed:
    id: uuid.UUID
    user_id: uuid.UUID
    symbol: str
    kind: str
    condition: dict[str, Any]


class AlertEvaluator:
    """Check live market messages against the active alerts, indexed by symbol in memory."""

    def __init__(
        self, *, session_factory: async_sessionmaker[AsyncSession], bus: Bus, clock: Any
    ) -> None:
        self.session_factory = session_factory
        self.bus = bus
        self.clock = clock
        self.by_symbol: dict[str, list[_Armed]] = {}
        self.fired = 0
        self._firing: set[uuid.UUID] = set()
        self._tasks: set[asyncio.Task[bool]] = set()
        self._prices: dict[str, deque[tuple[float, float]]] = {}
        self._volumes: dict[str, deque[float]] = {}
        self._loaded_at = 0.0

    async def refresh(self) -> None:
        """Reload the active alerts from the database."""
        async with self.session_factory() as db:
            rows = await db.scalars(
                sa.select(Alert).where(Alert.status == "active", Alert.symbol.is_not(None))
            )
            index: dict[str, list[_Armed]] = {}
            for row in rows:
                assert row.symbol is not None
                armed = _Armed(row.id, row.user_id, row.symbol, row.kind, dict(row.condition))
                index.setdefault(row.symbol, []).append(armed)
        self.by_symbol = index
        self._loaded_at = time.monotonic()

    async def run(self) -> None:
        """Keep the index fresh: reload on every change notice and every 30 seconds."""
        async with self.bus.subscribe(CHANGED_CHANNEL) as sub:
            while True:
                try:
                    await self.refresh()
                except Exception:
                    _log.exception("loading active alerts failed")
                stop_if_cancelled()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
                # cancellation that stops this loop at shutdown.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_REFRESH_SECONDS):
                        await anext(sub)

    async def on_event(self, message: dict[str, Any]) -> None:
        """Evaluate one market message (as published by the feed) against the armed alerts."""
        symbol = message.get("symbol")
        kind = message.get("type")
        armed = self.by_symbol.get(symbol) if isinstance(symbol, str) else None
        if not armed:
            return
        assert isinstance(symbol, str)
        if kind == "price":
            price = float(message["price"])
            self._remember_price(symbol, price, armed)
            for alert in armed:
                if alert.id not in self._firing and self._price_hit(alert, symbol, price):
                    self._fire(alert, message)
        elif kind == "bar":
            volume = float(message["volume"])
            for alert in armed:
                if (
                    alert.kind == "volume_spike"
                    and alert.id not in self._firing
                    and self._volume_hit(alert, symbol, volume)
                ):
                    self._fire(alert, message)
            self._volumes.setdefault(symbol, deque(maxlen=500)).append(volume)

    def _remember_price(self, symbol: str, price: float, armed: list[_Armed]) -> None:
        windows = [a.condition["window_minutes"] for a in armed if a.kind == "percent_change"]
        if not windows:
            return
        now = time.monotonic()
        samples = self._prices.setdefault(symbol, deque())
        # One sample a second is plenty for minute windows and bounds the memory.
        if not samples or now - samples[-1][0] >= 1.0:
            samples.append((now, price))
        horizon = now - max(windows) * 60 - 1
        while samples and samples[0][0] < horizon:
            samples.popleft()

    def _price_hit(self, alert: _Armed, symbol: str, price: float) -> bool:
        condition = alert.condition
        target = float(condition.get("price", 0.0))
        if alert.kind == "price_above":
            return price >= target
        if alert.kind == "price_below":
            return price <= target
        if alert.kind != "percent_change":
            return False
        samples = self._prices.get(symbol)
        if not samples:
            return False
        since = time.monotonic() - condition["window_minutes"] * 60
        base = next((p for t, p in samples if t >= since), samples[-1][1])
        if base <= 0:
            return False
        change = (price - base) / base * 100
        direction = condition["direction"]
        threshold = float(condition["percent"])
        if direction == "up":
            return change >= threshold
        if direction == "down":
            return -change >= threshold
        return abs(change) >= threshold

    def _volume_hit(self, alert: _Armed, symbol: str, volume: float) -> bool:
        history = self._volumes.get(symbol)
        lookback = int(alert.condition["lookback_bars"])
        if history is None or len(history) < lookback:
            return False
        recent = list(history)[-lookback:]
        average = sum(recent) / lookback
        return bool(average > 0) and volume >= float(alert.condition["multiplier"]) * average

    def _fire(self, alert: _Armed, message: dict[str, Any]) -> None:
        self._firing.add(alert.id)
        task = asyncio.create_task(self.claim_and_publish(alert.id, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the claims in flight."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def claim_and_publish(self, alert_id: uuid.UUID, event: dict[str, Any]) -> bool:
        """Claim the alert; if this call won, publish the notice to its owner."""
        now = self.clock.now()
        try:
            async with self.session_factory() as db:
                result = await db.execute(
                    sa.update(Alert)
                    .where(Alert.id == alert_id, Alert.status == "active")
                    .values(status="triggered", triggered_at=now)
                    .execution_options(synchronize_session=False)
                )
                await db.commit()
                if getattr(result, "rowcount", 0) != 1:
                    return False
                alert = await db.get(Alert, alert_id)
                if alert is None:
                    return False
                self.fired += 1
                await self.bus.publish(
                    user_channel(alert.user_id),
                    {
                        "channel": "alerts",
                        "type": "alert",
                        "alert": alert_view(alert),
                        "event": event,
                    },
                )
                alert.delivered_at = self.clock.now()
                await db.commit()
                return True
        finally:
            for armed in self.by_symbol.values():
                armed[:] = [a for a in armed if a.id != alert_id]
            self._firing.discard(alert_id)
