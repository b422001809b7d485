"""Errors the Alpaca adapter raises, one class per failure a caller can act on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

from alpaca.common.exceptions import APIError

from quantumtrade.domain.errors import Unavailable

_T = TypeVar("_T")


class AlpacaError(Unavailable):
    """Alpaca could not serve the request."""

    default_code = "alpaca_unavailable"


class AlpacaAuthError(AlpacaError):
    """Alpaca rejected the configured API key."""

    default_code = "alpaca_auth_failed"


class AlpacaSymbolLimitError(AlpacaError):
    """The subscription asks for more symbols than the data plan allows."""

    default_code = "alpaca_symbol_limit"


class AlpacaConnectionLimitError(AlpacaError):
    """Another session already holds the stream connections the account may open."""

    default_code = "alpaca_connection_limit"


class AlpacaSubscriptionError(AlpacaError):
    """The data plan does not cover the feed or channel asked for."""

    default_code = "alpaca_insufficient_subscription"


# Alpaca's documented stream error codes.
AUTH_FAILED = 402
AUTH_TIMEOUT = 404
SYMBOL_LIMIT = 405
CONNECTION_LIMIT = 406
SLOW_CLIENT = 407
INSUFFICIENT_SUBSCRIPTION = 409
INVALID_SUBSCRIBE_ACTION = 410

_STREAM_ERRORS: dict[int, tuple[type[AlpacaError], str]] = {
    AUTH_FAILED: (AlpacaAuthError, "Alpaca rejected the API key"),
    AUTH_TIMEOUT: (AlpacaError, "Alpaca closed the stream before authentication finished"),
    SYMBOL_LIMIT: (
        AlpacaSymbolLimitError,
        "Alpaca refused the subscription: more symbols than the data plan allows",
    ),
    CONNECTION_LIMIT: (
        AlpacaConnectionLimitError,
        "Alpaca refused the stream: another session already uses this feed",
    ),
    SLOW_CLIENT: (AlpacaError, "Alpaca reports the stream consumer is too slow"),
    INSUFFICIENT_SUBSCRIPTION: (
        AlpacaSubscriptionError,
        "Alpaca refused the subscription: the data plan does not include this feed",
    ),
    INVALID_SUBSCRIBE_ACTION: (
        AlpacaSubscriptionError,
        "Alpaca refused the subscription: this endpoint does not offer that channel",
    ),
}


def stream_error(code: int, text: str) -> AlpacaError:
    """Return the exception for an error frame ``{"T": "error", "code": code, "msg": text}``."""
    kind, summary = _STREAM_ERRORS.get(code, (AlpacaError, "Alpaca stream error"))
    return kind(f"{summary} ({code} {text})", details={"code": code, "msg": text})


def rest_error(exc: APIError, what: str = "market data") -> AlpacaError:
    """Translate an alpaca-py REST failure into the error a caller can act on."""
    status = exc.status_code
    detail = _error_text(str(exc))
    if status in (401, 403):
        return AlpacaAuthError(f"Alpaca rejected the API key (HTTP {status} {detail})")
    if status == 429:
        return AlpacaError(
            f"Alpaca rate limit reached (HTTP 429 {detail})", code="alpaca_rate_limited"
        )
    return AlpacaError(f"Alpaca {what} request failed (HTTP {status} {detail})")


async def call_rest(request: Callable[[], _T], *, what: str, url: str) -> _T:
    """Run a blocking alpaca-py call in a thread; translate its failures."""
    try:
        return await asyncio.to_thread(request)
    except APIError as exc:
        raise rest_error(exc, what) from exc
    except OSError as exc:  # requests' connection errors are OSErrors
        raise AlpacaError(f"cannot reach Alpaca {what} at {url}: {exc}") from exc


def _error_text(body: str) -> str:
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if isinstance(parsed, dict):
        return str(parsed.get("message") or parsed)
    return str(parsed)
