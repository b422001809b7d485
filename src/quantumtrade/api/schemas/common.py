"""Shapes shared across the API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

# Input types of path, query and body values. Pydantic's lax mode reads a number as a Unix time
# and accepts UUIDs without hyphens, in braces or as URNs (so a bare 32-digit integer is an
# id); the API takes only what its OpenAPI says: ISO 8601 date-times and canonical UUIDs.
_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _iso_datetime(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and not _looks_numeric(value)):
        return value
    raise PydanticCustomError(
        "datetime_type",
        "Input should be an ISO 8601 date-time string, e.g. 2024-01-31T14:30:00Z",
    )


def _canonical_uuid(value: object) -> object:
    if isinstance(value, uuid.UUID) or (
        isinstance(value, str) and _CANONICAL_UUID.fullmatch(value)
    ):
        return value
    raise PydanticCustomError(
        "uuid_parsing",
        "Input should be a UUID in its canonical form, e.g. 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    )


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
"""A date-time given as ISO 8601 text (a naive one is UTC where the route says so)."""
Uuid = Annotated[uuid.UUID, BeforeValidator(_canonical_uuid)]
"""A UUID given as 8-4-4-4-12 hexadecimal digits."""


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class StrictModel(BaseModel):
    """A request body that refuses unknown fields and strips surrounding whitespace.

    Text with a NUL character is refused anywhere in the body (422): PostgreSQL cannot store
    one in text or JSON, and no field of ours has a use for it.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise PydanticCustomError("nul_character", "Text must not contain NUL characters.")
        return data


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


def refused(description: str) -> dict[int | str, dict[str, Any]]:
    """The 403 of an operation that may refuse a valid request, with the uniform error body."""
    return {403: {"model": ErrorBody, "description": description}}


CSV_EXPORT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
"""The ``format=csv`` variant of a JSON answer."""
