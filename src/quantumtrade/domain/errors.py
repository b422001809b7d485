"""Errors that carry a machine-readable code and a sentence a user understands.

Every layer raises these; the API maps each kind to one HTTP status and the uniform error body
``{"error": {"code": ..., "message": ..., "details": ...}}``.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of every expected failure. Subclasses fix the kind; ``code`` names the case."""

    kind = "invalid"
    default_code = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details
        self.headers = headers or {}


class InvalidInput(AppError):
    kind = "invalid"
    default_code = "invalid_request"


class Unauthenticated(AppError):
    kind = "unauthenticated"
    default_code = "unauthenticated"


class Forbidden(AppError):
    kind = "forbidden"
    default_code = "forbidden"


class NotFound(AppError):
    kind = "not_found"
    default_code = "not_found"


class Conflict(AppError):
    kind = "conflict"
    default_code = "conflict"


class PayloadTooLarge(AppError):
    kind = "too_large"
    default_code = "payload_too_large"


class Unprocessable(AppError):
    kind = "unprocessable"
    default_code = "unprocessable"


class TooManyRequests(AppError):
    kind = "rate_limited"
    default_code = "rate_limited"


class Unavailable(AppError):
    kind = "unavailable"
    default_code = "service_unavailable"
