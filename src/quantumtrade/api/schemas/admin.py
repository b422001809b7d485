"""Response bodies of ``/api/admin/logs`` and ``/api/admin/errors`` (``services.monitoring``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quantumtrade.api.schemas.orders_out import Id, Timestamp

_CONTEXT_EXAMPLE: dict[str, Any] = {
    "method": "GET",
    "path": "/api/portfolios/3fa85f64-5717-4562-b3fc-2c963f66afa6/performance",
    "exception": (
        "Traceback (most recent call last):\n"
        '  File "/app/src/quantumtrade/services/trading/views.py", line 212, in performance\n'
        "    ratio = gains / losses\n"
        "ZeroDivisionError: division by zero\n"
    ),
    "exception_type": "ZeroDivisionError",
    "exception_message": "division by zero",
    "location": "quantumtrade/services/trading/views.py:performance",
    "stack": [
        {"file": "quantumtrade/api/middleware.py", "line": 98, "function": "__call__"},
        {"file": "quantumtrade/services/trading/views.py", "line": 212, "function": "performance"},
    ],
    "fingerprint": "9b1f0c4e7d2a6b35",
}
_LOG_EXAMPLE: dict[str, Any] = {
    "id": "0b5c2b6e-4f0e-4d52-9a44-2f7f1d0f9c11",
    "time": "2026-11-18T16:02:11.482913+00:00",
    "level": "error",
    "logger": "quantumtrade.access",
    "message": "unhandled error",
    "request_id": "5f0c3b1e9a7d4c2b8e6f1a3d5c7b9e0f",
    "fingerprint": "9b1f0c4e7d2a6b35",
    "context": _CONTEXT_EXAMPLE,
}
_GROUP_EXAMPLE: dict[str, Any] = {
    "fingerprint": "9b1f0c4e7d2a6b35",
    "count": 14,
    "first_seen": "2026-11-18T09:31:04.002113+00:00",
    "last_seen": "2026-11-18T16:02:11.482913+00:00",
    "level": "error",
    "logger": "quantumtrade.access",
    "message": "unhandled error",
    "exception_type": "ZeroDivisionError",
    "exception_message": "division by zero",
    "location": "quantumtrade/services/trading/views.py:performance",
    "last_request_id": "5f0c3b1e9a7d4c2b8e6f1a3d5c7b9e0f",
}


class LogEntryOut(BaseModel):
    """One stored log record."""

    model_config = ConfigDict(json_schema_extra={"examples": [_LOG_EXAMPLE]})

    id: Id
    time: Timestamp
    level: str = Field(description="debug, info, warning, error or critical.")
    logger: str
    message: str
    request_id: str | None = Field(description="The request being served, if any.")
    fingerprint: str | None = Field(
        description="Shared by every occurrence of the same failure (see /api/admin/errors)."
    )
    context: dict[str, Any] = Field(
        description=(
            "The record's fields: the request's method and path; for an exception its "
            "traceback text (exception), type, message, frames (stack) and location."
        )
    )


class LogPage(BaseModel):
    """Stored log records, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_LOG_EXAMPLE], "total": 1, "limit": 50, "offset": 0}]
        }
    )

    items: list[LogEntryOut]
    total: int = Field(ge=0, description="Records matching the filters, over every page.")
    limit: int
    offset: int


class ErrorGroupOut(BaseModel):
    """Every occurrence of one failure: how often, since when, and its latest occurrence."""

    model_config = ConfigDict(json_schema_extra={"examples": [_GROUP_EXAMPLE]})

    fingerprint: str
    count: int = Field(ge=1)
    first_seen: Timestamp
    last_seen: Timestamp
    level: str = Field(description="The latest occurrence's level.")
    logger: str
    message: str = Field(description="The latest occurrence's log message.")
    exception_type: str | None = Field(description="Null for an error logged without one.")
    exception_message: str | None
    location: str | None = Field(
        description="file:function of the innermost frame of the server's own code."
    )
    last_request_id: str | None = Field(description="The latest occurrence's request, if any.")


class ErrorGroupsOut(BaseModel):
    """Error and critical records grouped by fingerprint, the most recent first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_GROUP_EXAMPLE], "total": 1, "limit": 50}]}
    )

    items: list[ErrorGroupOut]
    total: int = Field(ge=0, description="Groups in the window, over the ones shown.")
    limit: int
