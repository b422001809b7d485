"""Request values and response bodies of ``/api/reports`` and the admins' system report."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from quantumtrade.api.schemas.orders_out import Id, Timestamp

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_type", "Input should be an ISO 8601 date, e.g. 2026-11-18")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date given as YYYY-MM-DD (never a number)."""

ReportFormat = Literal["json", "markdown", "html"]

REPORT_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
        "description": "The report as JSON, or with format=markdown or format=html as text.",
    }
}

_SESSION: dict[str, Any] = {
    "open": "2026-11-18T14:30:00+00:00",
    "close": "2026-11-18T21:00:00+00:00",
    "previous_close": "2026-11-17T21:00:00+00:00",
}
_SUMMARY: dict[str, Any] = {
    "equity_start": "100000",
    "equity_end": "100412.35",
    "net_flow": "0",
    "pl": "412.35",
    "return": 0.0041235,
    "benchmark": "SPY",
    "benchmark_return": 0.0077,
    "excess_return": -0.0035765,
    "trades": 2,
    "ai_decisions": 1,
    "mistakes": 1,
    "watch_items": 3,
}
_SECTION: dict[str, Any] = {
    "id": "trades",
    "title": "Trades",
    "text": ["2 fill(s); realized P&L 12.40."],
    "tables": [
        {
            "title": "Fills",
            "columns": ["time", "symbol", "side", "qty", "price"],
            "rows": [["2026-11-18T15:00:00+00:00", "AAPL", "buy", "10", "80.61"]],
        }
    ],
    "charts": [
        {
            "kind": "bar",
            "title": "P&L to the close per trade",
            "unit": "$",
            "labels": ["buy AAPL"],
            "values": [-6.6],
        }
    ],
    "data": {"count": 1},
}
_REPORT: dict[str, Any] = {
    "id": "0b5c2b6e-4f0e-4d52-9a44-2f7f1d0f9c11",
    "kind": "portfolio",
    "title": "Daily report: Main, 2026-11-18",
    "portfolio_id": "3f1c2a9e-6c1b-4d8e-9a57-0e4b2f6d7c10",
    "date": "2026-11-18",
    "session": _SESSION,
    "summary": _SUMMARY,
    "sections": [_SECTION],
    "generated_at": "2026-11-18T21:05:00+00:00",
    "content_hash": "9f2c" + "0" * 60,
}
_SYSTEM_SUMMARY: dict[str, Any] = {
    "requests": 18234,
    "error_rate": 0.0004,
    "p50_ms": 3.1,
    "p95_ms": 18.4,
    "p99_ms": 61.0,
    "uptime_seconds": 86400.0,
    "trades": 412,
    "ai_decisions": 63,
    "errors": 2,
}


class ReportTable(BaseModel):
    """A table of text cells (null: no value)."""

    title: str | None = None
    columns: list[str]
    rows: list[list[str | None]]


class ReportSection(BaseModel):
    """One section: sentences, tables, charts, and the same figures as data."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SECTION]})

    id: str = Field(
        description=(
            "performance, trades, mistakes, risk, ai_decisions, watch (portfolio reports); "
            "traffic, "
            "activity, errors (system reports)."
        )
    )
    title: str
    text: list[str] = Field(description="Sentences a reader can take in at a glance.")
    tables: list[ReportTable]
    charts: list[dict[str, Any]] = Field(
        description=(
            'Chart specs: {"kind": "line", "title", "unit", "x": [labels], "series": [{"name", '
            '"values"}]} or {"kind": "bar", "title", "unit", "labels", "values"}; the HTML '
            "format draws them as inline SVG."
        )
    )
    data: dict[str, Any] = Field(
        description="The section's figures for programs; money as decimal strings."
    )


class ReportSession(BaseModel):
    """The trading day's session (UTC): the report covers previous_close (exclusive) to close."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SESSION]})

    open: Timestamp
    close: Timestamp
    previous_close: Timestamp


class PortfolioReportSummary(BaseModel):
    """The day's headline figures."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY]})

    equity_start: str | None = Field(description="Equity at the previous close (decimal string).")
    equity_end: str | None = Field(description="Equity at this close (decimal string).")
    net_flow: str | None = Field(description="Deposits during the day, left out of the P&L.")
    pl: str | None = Field(description="equity_end - equity_start - net_flow (decimal string).")
    return_: float | None = Field(
        alias="return", description="pl over (equity_start + net_flow), a fraction."
    )
    benchmark: str
    benchmark_return: float | None = Field(description="The benchmark's close-to-close return.")
    excess_return: float | None
    trades: int = Field(ge=0, description="Fills during the day.")
    ai_decisions: int = Field(ge=0)
    mistakes: int = Field(
        ge=0, description="Journal rules broken by the trades opened during the day."
    )
    watch_items: int = Field(ge=0)


class PortfolioReportOut(BaseModel):
    """A portfolio's daily report."""

    model_config = ConfigDict(json_schema_extra={"examples": [_REPORT]})

    id: Id
    kind: Literal["portfolio"]
    title: str
    portfolio_id: Id
    date: str = Field(description="The trading day (America/New_York), YYYY-MM-DD.")
    session: ReportSession
    summary: PortfolioReportSummary
    sections: list[ReportSection]
    generated_at: Timestamp
    content_hash: str = Field(
        description="SHA-256 of the content (id and generated_at left out): a regenerated "
        "report from the same ledger and market data has the same hash."
    )


class ReportListItem(BaseModel):
    """A stored report, without its sections."""

    id: Id
    portfolio_id: Id
    date: str
    generated_at: Timestamp
    content_hash: str
    summary: PortfolioReportSummary


class ReportPage(BaseModel):
    """Stored reports, the newest day first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            k: _REPORT[k]
                            for k in (
                                "id",
                                "portfolio_id",
                                "date",
                                "generated_at",
                                "content_hash",
                                "summary",
                            )
                        }
                    ],
                    "total": 1,
                    "limit": 50,
                    "offset": 0,
                }
            ]
        }
    )

    items: list[ReportListItem]
    total: int = Field(ge=0)
    limit: int
    offset: int


class SystemReportSummary(BaseModel):
    """The system's day. Requests, error rate, latency and uptime are this process's figures
    since it started (percentiles over its latest requests), as of when the report was built;
    trades, AI decisions and errors are counted in the database for the trading day."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SYSTEM_SUMMARY]})

    requests: int = Field(ge=0, description="Requests this process served since it started.")
    error_rate: float = Field(description="Share of those answered 5xx.")
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    uptime_seconds: float
    trades: int = Field(ge=0, description="Fills in every portfolio during the trading day.")
    ai_decisions: int = Field(ge=0, description="AI decisions made during the trading day.")
    errors: int = Field(ge=0, description="Error records stored during the trading day.")


class SystemReportOut(BaseModel):
    """The system's daily report, for administrators."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_REPORT,
                    "kind": "system",
                    "title": "System report, 2026-11-18",
                    "portfolio_id": None,
                    "summary": _SYSTEM_SUMMARY,
                    "sections": [],
                }
            ]
        }
    )

    id: Id
    kind: Literal["system"]
    title: str
    portfolio_id: None = None
    date: str
    session: ReportSession
    summary: SystemReportSummary
    sections: list[ReportSection]
    generated_at: Timestamp
    content_hash: str
