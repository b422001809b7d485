"""Shapes shared across the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A request body that refuses unknown fields and strips surrounding whitespace."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None
    request_id: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Message(BaseModel):
    message: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Bad request",
        401: "Not authenticated",
        404: "Not found",
        409: "Conflict",
        413: "Body too large",
        422: "Validation error",
        429: "Too many requests",
    }.items()
}
