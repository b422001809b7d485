"""Risk snapshots land in risk_metrics; limits 80 % used or broken raise one alert a day."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from integration.api.conftest import AppFactory
from quantumtrade.db.models import Portfolio, RiskMetric
from quantumtrade.domain.clock import FixedClock
from support import bearer, register

NOW = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)  # a Wednesday, 11:00 in New York


async def test_snapshot_and_limit_alerts(make_api: AppFactory) -> None:
    clock = FixedClock(NOW)
    async with make_api(clock=clock, market_feed_enabled=False, paper_matching_enabled=False) as (
        app,
        client,
    ):
        user = await register(client)
        headers = bearer(user["access_token"])
        bought = await client.post(
            "/api/orders", json={"symbol": "AAPL", "side": "buy", "qty": "100"}, headers=headers
        )
        assert bought.status_code == 201, bought.text
        portfolio_id = bought.json()["portfolio_id"]
        value = float(bought.json()["filled_avg_price"]) * 100  # about $8,160
        limits = {"max_position_value": round(value / 0.85, 2), "max_open_positions": 1}
        response = await client.post(
            f"/api/risk/limits/{portfolio_id}", json=limits, headers=headers
        )
        assert response.status_code == 200

        monitor = app.state.risk_monitor
        async with app.state.container.session_factory() as db:
            portfolio = await db.get(Portfolio, uuid.UUID(portfolio_id))
            assert portfolio is not None
            row = await monitor.snapshot(db, portfolio, kind="scheduled")
        assert row.var_95 is not None and row.var_99 is not None and row.cvar_95 is not None
        assert 0 < row.var_95 <= row.var_99
        assert row.cvar_95 >= row.var_95
        assert row.gross_exposure is not None and abs(float(row.gross_exposure) - value) < 5

        alerts = (await client.get("/api/alerts?status=triggered", headers=headers)).json()
        risk = [a for a in alerts["items"] if a["kind"] == "risk_limit"]
        by_rule = {(a["condition"]["rule"], a["condition"]["level"]): a for a in risk}
        # 85 % of the position value limit: a warning; one open position of one: a breach.
        assert set(by_rule) == {("max_position_value", "warning"), ("max_open_positions", "breach")}
        warning = by_rule[("max_position_value", "warning")]
        assert warning["symbol"] == "AAPL"
        assert 0.8 <= warning["condition"]["used"] < 1
        assert "max_position_value" in warning["message"]

        # The same day: no repeat.
        clock.set(NOW + timedelta(minutes=15))
        assert await monitor.sweep() >= 1
        again = (await client.get("/api/alerts?status=triggered", headers=headers)).json()
        assert len([a for a in again["items"] if a["kind"] == "risk_limit"]) == 2

        async with app.state.container.session_factory() as db:
            rows = list(
                await db.scalars(
                    sa.select(RiskMetric)
                    .where(RiskMetric.portfolio_id == portfolio.id)
                    .order_by(RiskMetric.time)
                )
            )
        assert [r.time for r in rows] == [NOW, NOW + timedelta(minutes=15)]
        usage = rows[-1].details["usage"]
        assert {u["rule"] for u in usage} == {"max_position_value", "max_open_positions"}
        json.dumps(rows[-1].details, allow_nan=False)
