"""Alpaca's error body ``{"code", "message"}`` and the route class that answers with it.

Alpaca's codes are the HTTP status followed by four digits (``40310000`` for insufficient
buying power, ``42210000`` for an invalid order); any extra fields (``buying_power``...) sit
beside them, as Alpaca sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from quantumtrade.api.errors import STATUS_BY_KIND
from quantumtrade.domain.errors import AppError

NOT_AUTHORIZED = (401, 40110000, "request is not authorized")


class AlpacaError(BaseModel):
    """Alpaca's error body: a numeric code and a message (and, at times, more fields)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"code": 40410000, "message": "order not found"}]},
    )

    code: int = Field(examples=[40410000])
    message: str = Field(examples=["order not found"])


def _described(description: str) -> dict[str, Any]:
    return {"model": AlpacaError, "description": description}


ALPACA_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _described("Malformed request"),
    401: _described("Missing, wrong or revoked API key, or a wrong secret"),
    403: _described("Refused: insufficient buying power, a risk limit or a trading rule"),
    404: _described("Not found (or another account's)"),
    413: _described("Body too large"),
    422: _described("Invalid order or parameter"),
    429: _described("Too many requests"),
}


def alpaca_code(status: int) -> int:
    """Return Alpaca's code for an HTTP status (``403`` -> ``40310000``)."""
    return status * 100_000 + 10_000


def alpaca_response(status: int, message: str, **extra: Any) -> JSONResponse:
    body = {"code": alpaca_code(status), "message": message, **extra}
    return JSONResponse(body, status_code=status)


def unauthorized() -> JSONResponse:
    status, code, message = NOT_AUTHORIZED
    return JSONResponse({"code": code, "message": message}, status_code=status)


def from_app_error(exc: AppError) -> JSONResponse:
    status = STATUS_BY_KIND.get(exc.kind, 400)
    if status == 401:
        return unauthorized()
    extra: dict[str, Any] = {}
    if isinstance(exc.details, dict):
        # Alpaca puts an error's figures beside code and message (buying_power, order_id...).
        extra = {k: v for k, v in exc.details.items() if k not in ("code", "message")}
    extra["reason"] = exc.code
    return alpaca_response(status, exc.message, **extra)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


class AlpacaRoute(APIRoute):
    """A route whose refusals use Alpaca's body instead of the app's uniform one."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as exc:
                return from_app_error(exc)
            except RequestValidationError as exc:
                if any(e.get("type") == "json_invalid" for e in exc.errors()):
                    return alpaca_response(400, "request body format is invalid")
                return alpaca_response(422, _validation_message(exc))
            except StarletteHTTPException as exc:
                if exc.status_code == 401:
                    return unauthorized()
                detail = exc.detail if isinstance(exc.detail, str) else "request refused"
                return alpaca_response(exc.status_code, detail)

        return answer
