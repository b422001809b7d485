"""The system's daily report, for administrators: traffic, latency, trades, AI, errors.

Requests, error rate, latency percentiles and uptime come from this process's in-memory
metrics, which cover the time since it started (not one day) and, for percentiles, its latest
requests; the report says so. Trades, AI decisions and errors are counted in the database for
the trading day (previous close, exclusive, to this close).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from quantumtrade.db.models import AIDecision, SystemLog, Trade
from quantumtrade.services.container import Container
from quantumtrade.services.reports._days import TradingDay
from quantumtrade.services.reports._sections import Section, section

TOP_ERRORS = 10
ERROR_LEVELS = ("error", "critical")


async def gather(container: Container, session: TradingDay) -> dict[str, Any]:
    """Read what the system report shows."""
    lo, hi = session.previous_close, session.close
    async with container.session_factory() as db:
        trades = (
            await db.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(Trade.portfolio_id))).where(
                    Trade.executed_at > lo, Trade.executed_at <= hi
                )
            )
        ).one()
        actions = dict(
            (
                await db.execute(
                    sa.select(AIDecision.action, sa.func.count())
                    .where(AIDecision.created_at > lo, AIDecision.created_at <= hi)
                    .group_by(AIDecision.action)
                )
            ).all()
        )
        logs = (
            await db.execute(
                sa.select(SystemLog.level, SystemLog.message, SystemLog.context, SystemLog.time)
                .where(
                    SystemLog.time > lo,
                    SystemLog.time <= hi,
                    SystemLog.level.in_(ERROR_LEVELS),
                )
                .order_by(SystemLog.time)
                .limit(20_000)
            )
        ).all()
    groups: dict[str, dict[str, Any]] = {}
    counts: Counter[str] = Counter()
    for level, message, context, moment in logs:
        context = context or {}
        key = context.get("fingerprint") or f"{level}:{message}"
        counts[key] += 1
        groups[key] = {
            "fingerprint": context.get("fingerprint"),
            "level": level,
            "message": message,
            "exception_type": context.get("exception_type"),
            "location": context.get("location"),
            "last_seen": moment.isoformat(),
        }
    top = [
        {**groups[key], "count": count}
        for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ERRORS]
    ]
    return {
        "metrics": container.metrics.snapshot(),
        "measured_at": container.clock.now().isoformat(),
        "trades": int(trades[0]),
        "trading_portfolios": int(trades[1]),
        "ai_decisions": {str(k): int(v) for k, v in sorted(actions.items())},
        "errors": len(logs),
        "top_errors": top,
    }


def traffic(facts: dict[str, Any]) -> Section:
    """Requests, error rate, latency percentiles and uptime of this process."""
    m = facts["metrics"]
    data = {
        "window": (
            f"this process since it started at {m['started_at']} (measured at "
            f"{facts['measured_at']}); percentiles over its last {m['latency_window']} requests"
        ),
        "requests": m["request_count"],
        "server_errors": m["error_count"],
        "client_errors": m["client_error_count"],
        "error_rate": m["error_rate"],
        "p50_ms": m["p50_response_ms"],
        "p95_ms": m["p95_response_ms"],
        "p99_ms": m["p99_response_ms"],
        "uptime_seconds": m["uptime_seconds"],
    }
    return section(
        "traffic",
        "Requests and latency",
        text_=[
            f"Window: {data['window']}.",
            f"{data['requests']} requests, error rate {data['error_rate']:.4%}, "
            f"p50/p95/p99 {data['p50_ms']}/{data['p95_ms']}/{data['p99_ms']} ms, "
            f"up {data['uptime_seconds']:.0f} s.",
        ],
        data=data,
    )


def activity(facts: dict[str, Any]) -> Section:
    """Trades and AI decisions of the day, all users."""
    decisions = facts["ai_decisions"]
    return section(
        "activity",
        "Trades and AI decisions",
        text_=[
            f"{facts['trades']} trade(s) in {facts['trading_portfolios']} portfolio(s); "
            f"{sum(decisions.values())} AI decision(s)."
        ],
        tables=[
            {
                "title": "AI decisions by action",
                "columns": ["action", "count"],
                "rows": [[k, str(v)] for k, v in decisions.items()],
            }
        ],
        data={
            "trades": facts["trades"],
            "trading_portfolios": facts["trading_portfolios"],
            "ai_decisions": decisions,
        },
    )


def errors(facts: dict[str, Any]) -> Section:
    """The day's stored errors, the most frequent first."""
    top = facts["top_errors"]
    return section(
        "errors",
        "Top errors",
        text_=[f"{facts['errors']} error record(s) stored in system_logs during the day."],
        tables=[
            {
                "title": "Errors by fingerprint",
                "columns": ["count", "level", "exception_type", "location", "message"],
                "rows": [
                    [str(e["count"]), e["level"], e["exception_type"], e["location"], e["message"]]
                    for e in top
                ],
            }
        ],
        data={"count": facts["errors"], "top": top},
    )


SYSTEM_SECTIONS: tuple[Callable[[dict[str, Any]], Section], ...] = (traffic, activity, errors)


async def build(container: Container, session: TradingDay) -> dict[str, Any]:
    """Return the system report's body for ``session``."""
    facts = await gather(container, session)
    sections = [build_section(facts) for build_section in SYSTEM_SECTIONS]
    m = facts["metrics"]
    return {
        "kind": "system",
        "title": f"System report, {session.day.isoformat()}",
        "portfolio_id": None,
        "date": session.day.isoformat(),
        "session": session.view(),
        "summary": {
            "requests": m["request_count"],
            "error_rate": m["error_rate"],
            "p50_ms": m["p50_response_ms"],
            "p95_ms": m["p95_response_ms"],
            "p99_ms": m["p99_response_ms"],
            "uptime_seconds": m["uptime_seconds"],
            "trades": facts["trades"],
            "ai_decisions": sum(facts["ai_decisions"].values()),
            "errors": facts["errors"],
        },
        "sections": sections,
    }
