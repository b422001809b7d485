"""``/api/reports``: each portfolio's daily report; ``/api/admin/reports``: the system's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from quantumtrade.api.deps import (
    ContainerDep,
    CurrentAdmin,
    CurrentPrincipal,
    DeskDep,
    OffsetQuery,
    SessionDep,
)
from quantumtrade.api.schemas.common import ERROR_RESPONSES, Uuid, refused
from quantumtrade.api.schemas.reports import (
    REPORT_FORMATS,
    IsoDate,
    PortfolioReportOut,
    ReportFormat,
    ReportPage,
    SystemReportOut,
)
from quantumtrade.services import reports

router = APIRouter(prefix="/api/reports", tags=["reports"], responses=ERROR_RESPONSES)
admin_router = APIRouter(
    prefix="/api/admin/reports",
    tags=["admin"],
    responses={**ERROR_RESPONSES, **refused("The account is not an administrator")},
)

PortfolioQuery = Annotated[
    Uuid | None, Query(description="The portfolio; your first one when omitted.")
]
DayPath = Annotated[
    IsoDate,
    Path(
        description=(
            "A trading day of the exchange (America/New_York), YYYY-MM-DD; a weekend or "
            "holiday answers 422 not_a_trading_day."
        )
    ),
]
FormatQuery = Annotated[
    ReportFormat, Query(alias="format", description="json, markdown, or html (one page, SVG).")
]


DailyFormatQuery = Annotated[
    Literal["json", "md", "markdown", "html"],
    Query(alias="format", description="json, md (or markdown), or html (one page, SVG)."),
]
DateQuery = Annotated[
    IsoDate | None,
    Query(
        alias="date",
        description=(
            "A trading day, YYYY-MM-DD; the latest session closed by now when omitted. A weekend "
            "or holiday answers 422 not_a_trading_day."
        ),
    ),
]


def _answer(report: dict[str, Any], fmt: str) -> Any:
    fmt = "markdown" if fmt == "md" else fmt
    if fmt == "json":
        return report
    body, media_type = reports.render(report, fmt)
    return Response(body, media_type=media_type)


@router.get("", response_model=ReportPage, summary="Your stored daily reports, newest first")
async def list_reports(
    db: SessionDep,
    principal: CurrentPrincipal,
    portfolio_id: Annotated[
        Uuid | None, Query(description="One portfolio's reports; all of yours when omitted.")
    ] = None,
    since: Annotated[
        IsoDate | None, Query(alias="from", description="From this day on, YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        IsoDate | None, Query(alias="to", description="Up to this day, YYYY-MM-DD.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=reports.MAX_PAGE)] = 50,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    items, total = await reports.list_reports(
        db,
        user_id=principal.user.id,
        portfolio_id=portfolio_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/daily",
    response_model=PortfolioReportOut,
    responses=REPORT_FORMATS,
    summary="A portfolio's daily report by date (the latest closed session by default)",
)
async def get_daily(
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    portfolio_id: PortfolioQuery = None,
    day: DateQuery = None,
    fmt: DailyFormatQuery = "json",
) -> Any:
    """``GET /api/reports/{date}`` with the date as a query parameter, which may be left out."""
    report = await reports.get_report(
        db,
        desk=desk,
        user_id=principal.user.id,
        portfolio_id=portfolio_id,
        day=reports.report_day(desk.container, day),
    )
    return _answer(report, fmt)


@router.get(
    "/system/daily",
    response_model=SystemReportOut,
    responses={**REPORT_FORMATS, **refused("The account is not an administrator")},
    summary="The system's daily report by date (administrators)",
)
async def get_system_daily(
    container: ContainerDep,
    _admin: CurrentAdmin,
    day: DateQuery = None,
    fmt: DailyFormatQuery = "json",
) -> Any:
    """``GET /api/admin/reports/system/{date}`` with the date as a query parameter."""
    report = await reports.system_report(container, day=reports.report_day(container, day))
    return _answer(report, fmt)


@router.get(
    "/{day}",
    response_model=PortfolioReportOut,
    responses=REPORT_FORMATS,
    summary="A portfolio's daily report: JSON, Markdown or HTML",
)
async def get_report(
    day: DayPath,
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    portfolio_id: PortfolioQuery = None,
    fmt: FormatQuery = "json",
) -> Any:
    """The day's P&L and equity against SPY, the trades with the best and the worst, the risk
    limits used, your AI decisions and their outcomes, and tomorrow's watch items. A past day
    without a stored report is built now (and stored); a day whose session has not closed, or
    before the portfolio existed, answers 404 ``report_not_found``."""
    report = await reports.get_report(
        db, desk=desk, user_id=principal.user.id, portfolio_id=portfolio_id, day=day
    )
    return _answer(report, fmt)


@router.post(
    "/{day}/regenerate",
    response_model=PortfolioReportOut,
    summary="Rebuild a day's report from the ledger and market data, replacing the stored one",
)
async def regenerate(
    day: DayPath,
    db: SessionDep,
    principal: CurrentPrincipal,
    desk: DeskDep,
    portfolio_id: PortfolioQuery = None,
) -> dict[str, Any]:
    """The same ledger and market data give the same content (see ``content_hash``); AI
    outcomes recorded since the first build are the one thing that may differ."""
    return await reports.regenerate(
        db, desk=desk, user_id=principal.user.id, portfolio_id=portfolio_id, day=day
    )


@admin_router.get(
    "/system/{day}",
    response_model=SystemReportOut,
    responses=REPORT_FORMATS,
    summary="The system's daily report: traffic, latency, trades, AI decisions, errors",
)
async def system_report(
    day: DayPath, container: ContainerDep, _admin: CurrentAdmin, fmt: FormatQuery = "json"
) -> Any:
    """Requests, error rate, latency percentiles and uptime are this process's in-memory
    figures since it started; trades, AI decisions and the top errors are the trading day's."""
    report = await reports.system_report(container, day=day)
    return _answer(report, fmt)
