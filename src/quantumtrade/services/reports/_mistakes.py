"""The report's mistakes: the journal's rules applied to the trades opened during the day.

The rules see the trips of the ``HISTORY`` before the day too, as context (a revenge trade
follows yesterday's loss; overtrading compares the day with the trader's usual day), but a
finding counts here only through the day's own trips, and its evidence is cut down to them.
Rules that judge a whole record rather than a trade (cutting winners and letting losers run)
name the day's trips that belong to it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.db.models import Portfolio
from quantumtrade.domain.journal_review import MistakeRules, ReviewTrip, find_mistakes
from quantumtrade.services import journal_review
from quantumtrade.services.container import Container
from quantumtrade.services.reports._days import TradingDay
from quantumtrade.services.reports._sections import Section, cents, section

HISTORY = timedelta(days=90)
_TICK = timedelta(microseconds=1)


def _today(detail: dict[str, Any], ids: set[str], day: str) -> bool:
    return detail.get("trip_id") in ids or detail.get("day") == day


async def mistakes(
    db: AsyncSession, container: Container, portfolio: Portfolio, session: TradingDay
) -> Section:
    """The mistakes in the trades opened from the previous close to this one."""
    trips = await journal_review.trips(
        db,
        container=container,
        portfolio=portfolio,
        since=session.previous_close - HISTORY,
        until=session.close + _TICK,
    )
    today: dict[str, ReviewTrip] = {
        t.id: t for t in trips if session.previous_close < t.opened_at <= session.close
    }
    ids, day = set(today), session.day.isoformat()
    items: list[dict[str, Any]] = []
    for found in find_mistakes(trips, MistakeRules()):
        involved = [i for i in found.trip_ids if i in ids]
        if not involved:
            continue
        net = sum((today[i].net_pl for i in involved if today[i].status == "closed"), Decimal(0))
        items.append(
            {
                "code": found.code,
                "title": found.title,
                "severity": found.severity,
                "trip_ids": involved,
                "net_pl": cents(net),
                "context": found.message,
                "details": [d for d in found.details if _today(d, ids, day)],
            }
        )
    sentences = (
        [f"{len(items)} rule(s) broken by the {len(today)} trade(s) opened today."]
        if items
        else [f"No rule broken by the {len(today)} trade(s) opened today."]
    )
    return section(
        "mistakes",
        "Mistakes",
        text_=sentences,
        tables=[
            {
                "title": "Rules broken today",
                "columns": ["rule", "severity", "trades", "net P&L (closed)", "in context"],
                "rows": [
                    [i["title"], i["severity"], str(len(i["trip_ids"])), i["net_pl"], i["context"]]
                    for i in items
                ],
            }
        ]
        if items
        else [],
        data={"count": len(items), "trips_opened": len(today), "items": items},
    )
