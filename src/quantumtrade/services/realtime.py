"""Real-time services attached to a running server: the market feed and alert evaluation."""

from __future__ import annotations

from collections.abc import Sequence

from quantumtrade.infra.health import ComponentHealth
from quantumtrade.services.alerts import AlertEvaluator
from quantumtrade.services.container import Container
from quantumtrade.services.market_feed import EventHook, MarketFeed


def attach(container: Container, hooks: Sequence[EventHook] = ()) -> None:
    """Register the real-time background jobs and health checks on ``container``.

    ``hooks`` also see every market event this replica publishes.
    """
    if not container.settings.market_feed_enabled:
        return
    evaluator = AlertEvaluator(
        session_factory=container.session_factory, bus=container.bus, clock=container.clock
    )
    feed = MarketFeed(container, hooks=[evaluator.on_event, *hooks])
    container.add_background_job("market_feed", feed.run)
    container.add_background_job("alert_index", evaluator.run)

    async def feed_health() -> ComponentHealth:
        health = await feed.health()
        armed = sum(len(alerts) for alerts in evaluator.by_symbol.values())
        detail = f"{health.detail}; {armed} active alerts indexed, {evaluator.fired} fired"
        return ComponentHealth(health.status, detail=detail)

    container.register_health_check("market_feed", feed_health)
