"""Daily reports through the real app: figures from real fills, formats, regeneration, access.

Expected figures come from the API's own answers (the portfolio's equity and trades), never
from numbers written into the test. The clock is fixed on a Wednesday session and moved past
its close; the scheduler's one round is called directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from quantumtrade.db.models import User
from quantumtrade.domain.clock import FixedClock
from quantumtrade.services.alerts import user_channel
from support import assert_error, bearer, register

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York: open
DAY = "2026-11-18"
AFTER_CLOSE = datetime(2026, 11, 18, 21, 10, tzinfo=UTC)  # 16:10 in New York
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@dataclass
class Desk:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FixedClock
    headers: dict[str, str]
    user_id: str

    async def trade(self, side: str, qty: str, symbol: str, **extra: Any) -> dict[str, Any]:
        body = {"symbol": symbol, "side": side, "qty": qty, "type": "market"}
        body.update(time_in_force="day", **extra)
        response = await self.client.post("/api/orders", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        assert order["status"] == "filled", order
        return order

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers)

    async def portfolio(self) -> dict[str, Any]:
        response = await self.get("/api/portfolios")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()[0]
        return body


@contextlib.asynccontextmanager
async def desk(make_api: Any) -> AsyncIterator[Desk]:
    clock = FixedClock(NOW)
    async with make_api(clock=clock, market_feed_enabled=False, paper_matching_enabled=False) as (
        app,
        client,
    ):
        user = await register(client)
        yield Desk(app, client, clock, bearer(user["access_token"]), user["user"]["id"])


async def trading_day(d: Desk) -> dict[str, Any]:
    """Trade through the session, then step past the close; return the portfolio."""
    await d.trade("buy", "10", "AAPL")
    d.clock.advance(timedelta(minutes=30))
    await d.trade("buy", "3", "MSFT")
    d.clock.advance(timedelta(hours=2))
    await d.trade("sell", "4", "AAPL")
    d.clock.set(AFTER_CLOSE)
    return await d.portfolio()


def section(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [s for s in report["sections"] if s["id"] == name]
    return found


async def test_report_of_a_trading_day_matches_the_portfolios_own_figures(make_api: Any) -> None:
    async with desk(make_api) as d:
        portfolio = await trading_day(d)
        response = await d.get(f"/api/reports/{DAY}", portfolio_id=portfolio["id"])
        assert response.status_code == 200, response.text
        report = response.json()
        fills = (await d.get(f"/api/portfolios/{portfolio['id']}/trades", limit=500)).json()
        listed = (await d.get("/api/reports", portfolio_id=portfolio["id"], **{"from": DAY})).json()
        entries = (await d.get("/api/journal/entries", portfolio_id=portfolio["id"])).json()

    summary = report["summary"]
    # Opened today: the starting deposit is a flow, so the P&L is the equity over it.
    assert Decimal(summary["equity_end"]) == Decimal(portfolio["equity"])
    assert Decimal(summary["net_flow"]) == Decimal(portfolio["starting_cash"])
    assert Decimal(summary["pl"]) == Decimal(portfolio["equity"]) - Decimal(
        portfolio["starting_cash"]
    )
    assert summary["benchmark"] == "SPY" and summary["benchmark_return"] is not None
    assert summary["trades"] == len(fills["items"]) == 3
    trades = section(report, "trades")["data"]
    to_close = [Decimal(item["pl_to_close"]) for item in trades["items"]]
    assert sum(to_close) == Decimal(summary["pl"])  # nothing was held at the previous close
    assert Decimal(trades["best"]["pl_to_close"]) == max(to_close)
    assert Decimal(trades["worst"]["pl_to_close"]) == min(to_close)
    risk = section(report, "risk")["data"]
    assert {u["rule"] for u in risk["usage"]} >= {"max_open_positions"}
    assert risk["orders"] == 3
    kinds = {item["kind"] for item in section(report, "watch")["data"]["items"]}
    assert "no_stop" in kinds  # AAPL and MSFT are held without a stop
    assert [s["id"] for s in report["sections"]] == [
        "performance",
        "trades",
        "mistakes",
        "risk",
        "ai_decisions",
        "watch",
    ]
    assert [item["id"] for item in listed["items"]] == [report["id"]]
    # The journal's rules, on the day's trips: both were opened without a stop.
    mistakes = section(report, "mistakes")["data"]
    assert summary["mistakes"] == mistakes["count"]
    (no_stop,) = [m for m in mistakes["items"] if m["code"] == "no_stop"]
    assert sorted(no_stop["trip_ids"]) == sorted(e["id"] for e in entries["items"])
    assert mistakes["trips_opened"] == len(entries["items"]) == 2


async def test_markdown_and_html_are_rendered_and_regenerate_gives_the_same_content(
    make_api: Any,
) -> None:
    async with desk(make_api) as d:
        portfolio = await trading_day(d)
        pid = portfolio["id"]
        first = (await d.get(f"/api/reports/{DAY}", portfolio_id=pid)).json()
        markdown = await d.get(f"/api/reports/{DAY}", portfolio_id=pid, format="markdown")
        page = await d.get(f"/api/reports/{DAY}", portfolio_id=pid, format="html")
        d.clock.advance(timedelta(hours=3))
        again = await d.client.post(
            f"/api/reports/{DAY}/regenerate", params={"portfolio_id": pid}, headers=d.headers
        )
        stored = (await d.get(f"/api/reports/{DAY}", portfolio_id=pid)).json()

    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith(
        "text/markdown"
    )
    assert markdown.text.startswith("# Daily report") and "## Trades" in markdown.text
    assert first["summary"]["pl"] in markdown.text
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.count("<svg") == 2  # the intraday curve and the P&L per trade
    assert not EXTERNAL.search(html) and "<script" not in html.lower()
    assert "<link" not in html.lower() and "@import" not in html

    assert again.status_code == 200, again.text
    regenerated = again.json()
    assert regenerated["content_hash"] == first["content_hash"]
    assert regenerated["id"] == first["id"]
    assert regenerated["generated_at"] != first["generated_at"]

    def content(report: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in report.items() if k not in ("generated_at",)}

    assert content(regenerated) == content(first) == content(stored)


async def test_dates_without_a_report_are_refused(make_api: Any) -> None:
    async with desk(make_api) as d:
        created = await d.client.post("/api/portfolios", json={"name": "Days"}, headers=d.headers)
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        weekend = await d.get("/api/reports/2026-11-15", portfolio_id=pid)
        holiday = await d.get("/api/reports/2026-11-26", portfolio_id=pid)  # Thanksgiving
        open_session = await d.get(f"/api/reports/{DAY}", portfolio_id=pid)
        before = await d.get("/api/reports/2026-11-17", portfolio_id=pid)
        future = await d.client.post(
            "/api/reports/2026-11-19/regenerate", params={"portfolio_id": pid}, headers=d.headers
        )
        numeric = await d.get("/api/reports/20261118", portfolio_id=pid)

    assert_error(weekend, 422, "not_a_trading_day")
    assert_error(open_session, 404, "report_not_found")  # its session has not closed yet
    assert_error(before, 404, "report_not_found")  # the portfolio did not exist
    assert_error(future, 404, "report_not_found")
    assert_error(numeric, 422)
    # Thanksgiving lies in the future of the clock: not closed yet, so not found.
    assert_error(holiday, 404, "report_not_found")


async def test_another_users_portfolio_answers_404(make_api: Any) -> None:
    async with desk(make_api) as d:
        portfolio = await trading_day(d)
        other = bearer((await register(d.client))["access_token"])
        pid = portfolio["id"]
        read = await d.client.get(
            f"/api/reports/{DAY}", params={"portfolio_id": pid}, headers=other
        )
        rebuilt = await d.client.post(
            f"/api/reports/{DAY}/regenerate", params={"portfolio_id": pid}, headers=other
        )
        listed = await d.client.get("/api/reports", params={"portfolio_id": pid}, headers=other)
        mine = (await d.get("/api/reports", portfolio_id=pid)).json()

    for response in (read, rebuilt, listed):
        assert_error(response, 404, "portfolio_not_found")
    assert mine["total"] == 0  # B's calls built nothing


async def test_scheduler_builds_after_the_close_and_announces_it(make_api: Any) -> None:
    async with desk(make_api) as d:
        portfolio = await trading_day(d)
        pid = uuid.UUID(portfolio["id"])
        scheduler = d.app.state.report_scheduler
        d.clock.set(AFTER_CLOSE - timedelta(hours=1))  # the session is still open
        assert await scheduler.check([pid]) == 0
        d.clock.set(AFTER_CLOSE)
        bus = d.app.state.container.bus
        async with bus.subscribe(user_channel(d.user_id)) as events:
            assert await scheduler.check([pid]) == 1
            message = await asyncio.wait_for(events.__anext__(), 5)
        assert await scheduler.check([pid]) == 0  # stored once: the next round skips it
        listed = (await d.get("/api/reports", portfolio_id=str(pid))).json()

    assert message.data["channel"] == "reports" and message.data["type"] == "report"
    assert message.data["date"] == DAY and message.data["portfolio_id"] == str(pid)
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert item["date"] == DAY and item["id"] == message.data["id"]
    assert item["summary"]["trades"] == 3


async def test_system_report_is_for_admins(make_api: Any) -> None:
    async with desk(make_api) as d:
        await trading_day(d)
        refused = await d.get(f"/api/admin/reports/system/{DAY}")
        refused_daily = await d.get("/api/reports/system/daily", date=DAY)
        async with d.app.state.container.session_factory() as db, db.begin():
            await db.execute(
                sa.update(User).where(User.id == uuid.UUID(d.user_id)).values(role="admin")
            )
        response = await d.get(f"/api/admin/reports/system/{DAY}")
        markdown = await d.get(f"/api/admin/reports/system/{DAY}", format="markdown")
        weekend = await d.get("/api/admin/reports/system/2026-11-15")
        by_query = await d.get("/api/reports/system/daily", date=DAY)
        latest = await d.get("/api/reports/system/daily", format="md")

    assert_error(refused, 403, "admin_required")
    assert_error(refused_daily, 403, "admin_required")
    assert by_query.json() == response.json()  # the same stored report, by either address
    assert latest.text == markdown.text  # the latest closed session is the day
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["kind"] == "system" and report["date"] == DAY
    summary = report["summary"]
    assert summary["trades"] >= 3 and summary["requests"] > 0
    assert [s["id"] for s in report["sections"]] == ["traffic", "activity", "errors"]
    assert "since it started" in section(report, "traffic")["data"]["window"]
    assert markdown.status_code == 200 and "# System report" in markdown.text
    assert_error(weekend, 422, "not_a_trading_day")


async def test_the_daily_address_takes_the_date_as_a_query_and_defaults_to_the_last_close(
    make_api: Any,
) -> None:
    async with desk(make_api) as d:
        portfolio = await trading_day(d)
        pid = portfolio["id"]
        by_path = await d.get(f"/api/reports/{DAY}", portfolio_id=pid, format="markdown")
        by_query = await d.get("/api/reports/daily", portfolio_id=pid, date=DAY, format="md")
        latest = await d.get("/api/reports/daily", portfolio_id=pid)
        html = await d.get("/api/reports/daily", date=DAY, format="html")  # the default portfolio
        weekend = await d.get("/api/reports/daily", portfolio_id=pid, date="2026-11-15")
        stranger = bearer((await register(d.client))["access_token"])
        other = await d.client.get(
            "/api/reports/daily", params={"portfolio_id": pid}, headers=stranger
        )

    assert by_path.status_code == by_query.status_code == 200, by_query.text
    assert by_query.text == by_path.text
    assert latest.status_code == 200 and latest.json()["date"] == DAY
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert_error(weekend, 422, "not_a_trading_day")
    assert_error(other, 404, "portfolio_not_found")
