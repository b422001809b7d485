"""One JSON error body for every 4xx and 5xx: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import contextlib
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from quantumtrade.domain.errors import AppError
from quantumtrade.infra.logging import get_request_id

log = structlog.get_logger(__name__)

STATUS_BY_KIND = {
    "invalid": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "unprocessable": 422,
    "rate_limited": 429,
    "unavailable": 503,
}

CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "details": details}
    request_id = get_request_id()
    if request_id:
        error["request_id"] = request_id
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The offending input is never echoed back: it may be a password or kilobytes of junk.
    return [
        {"loc": list(error.get("loc", ())), "message": error.get("msg"), "type": error.get("type")}
        for error in exc.errors()
    ]


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(
        STATUS_BY_KIND.get(exc.kind, 400), exc.code, exc.message, exc.details, exc.headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    if any(item["type"] == "json_invalid" for item in details):
        return error_response(400, "malformed_json", "The request body is not valid JSON.", details)
    return error_response(422, "validation_error", "The request is not valid.", details)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = CODE_BY_STATUS.get(status, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    try:
        default_message = HTTPStatus(status).phrase
    except ValueError:
        default_message = "Error"
    message = detail or default_message
    return error_response(status, code, message, None, dict(exc.headers or {}))


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
    return error_response(
        503,
        "database_unavailable",
        "The database is unavailable. Try again shortly.",
        headers={"Retry-After": "5"},
    )


_LOGGED = "_quantumtrade_logged"


def mark_logged(exc: BaseException) -> None:
    """Note that ``exc`` is logged already: one crash is one stored error record, not two."""
    with contextlib.suppress(AttributeError, TypeError):
        setattr(exc, _LOGGED, True)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    if not getattr(exc, _LOGGED, False):
        log.error("unhandled error", method=request.method, path=request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "An internal error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure to the uniform error body; no stack trace leaves the server."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for database_error in (OperationalError, InterfaceError, ConnectionError, TimeoutError):
        app.add_exception_handler(database_error, _database_unavailable)
    app.add_exception_handler(Exception, _unhandled)
