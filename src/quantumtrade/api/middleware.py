"""Pure ASGI middleware: request context, security headers, rate limits, body size, 405s."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quantumtrade.api.errors import error_response, mark_logged
from quantumtrade.infra.logging import (
    bind_http_request,
    bind_request_context,
    clear_request_context,
)
from quantumtrade.infra.metrics import Metrics
from quantumtrade.infra.ratelimit import RateLimiter
from quantumtrade.infra.ratelimit import headers as rate_limit_headers

log = structlog.get_logger("quantumtrade.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# The set helmet.js sends by default.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';"
        "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';"
        "script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Origin-Agent-Cluster": "?1",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-DNS-Prefetch-Control": "off",
    "X-Download-Options": "noopen",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
}
# The interactive docs load their scripts and styles from a CDN.
DOCS_CSP = (
    "default-src 'self';img-src 'self' data: https:;script-src 'self' 'unsafe-inline' https:;"
    "style-src 'self' 'unsafe-inline' https:;object-src 'none';frame-ancestors 'self'"
)
DOCS_PATHS = ("/docs", "/redoc")


def client_ip(scope: Scope, *, trust_proxy: bool) -> str:
    """Return the caller's IP: the first X-Forwarded-For hop only behind a trusted proxy."""
    if trust_proxy:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                first: str = value.decode("latin-1").split(",")[0].strip()
                if first:
                    return first
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RequestContextMiddleware:
    """Give each request an id, log and measure it, and turn a crash into the uniform 500."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        bind_request_context(request_id)
        bind_http_request(scope["method"], str(scope.get("path", "")))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log.error(
                "unhandled error", method=scope["method"], path=scope.get("path"), exc_info=exc
            )
            if response_started:
                mark_logged(exc)  # the server's own error handler sees it next
                raise
            status = 500
            response = error_response(500, "internal_error", "An internal error occurred.")
            await response(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], template, status, duration)
            log.info(
                "request",
                method=scope["method"],
                path=scope.get("path"),
                status=status,
                duration_ms=round(duration * 1000, 2),
            )
            clear_request_context()


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = True) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if not hsts:
            self.headers.pop("Strict-Transport-Security")
        self.raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self.headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = str(scope.get("path", "")).startswith(DOCS_PATHS)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                # What MutableHeaders.setdefault does, one header list scan instead of twelve.
                raw = list(message.get("headers", ()))
                present = {name.lower() for name, _value in raw}
                raw += [pair for pair in self.raw if pair[0] not in present]
                message["headers"] = raw
                if is_docs:
                    MutableHeaders(scope=message)["Content-Security-Policy"] = DOCS_CSP
            await send(message)

        await self.app(scope, receive, send_wrapper)


class RateLimitMiddleware:
    """Answer 429 with ``Retry-After`` past the limit; send ``RateLimit-*`` headers always."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        trust_proxy: bool,
        exempt: Iterable[str] = ("/api/health", "/metrics"),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.trust_proxy = trust_proxy
        self.exempt = tuple(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or path in self.exempt:
            await self.app(scope, receive, send)
            return
        result = await self.limiter.hit(
            scope["method"], path, client_ip(scope, trust_proxy=self.trust_proxy)
        )
        extra = rate_limit_headers(result)
        if not result.allowed:
            response = error_response(
                429,
                "rate_limited",
                f"Too many requests. Try again in {result.retry_after} seconds.",
                {"limit": result.limit, "retry_after_seconds": result.retry_after},
                extra,
            )
            await response(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_wrapper)


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, whether declared or streamed.

    ``larger`` maps exact paths (file uploads) to their own, larger limits.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"].rstrip("/"), self.max_bytes)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            response = error_response(
                413,
                "payload_too_large",
                f"The request body exceeds the limit of {limit} bytes.",
                {"max_bytes": limit},
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(
                        413, f"The request body exceeds the limit of {limit} bytes."
                    )
            return message

        await self.app(scope, limited_receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router matches: ``path`` without the ``root_path`` the app is mounted at."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


class MethodNotAllowedMiddleware:
    """Answer a method a path does not have with 405 and every method of the path in ``Allow``.

    Each method of a path is a route of its own, and the router matches route by route: its 405
    names the methods of the first route with the path only, and a request that a concrete path
    does not take but a template does (``GET /api/backtest/optimize``, read as the backtest
    "optimize") reaches the template. Here a concrete path (no parameters) owns its methods,
    looked up by path before routing; a 405 from a template is given the methods of every route
    whose template matches the path. Runs inside CORS, which answers preflights itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Both built on the first request, once every router is included.
        self._routes: list[tuple[re.Pattern[str], bool, frozenset[str], str]] | None = None
        self._concrete: dict[str, frozenset[str]] | None = None

    def _table(self, scope: Scope) -> list[tuple[re.Pattern[str], bool, frozenset[str], str]]:
        """(path regex, has parameters, methods, template) of every HTTP route of the app."""
        if self._routes is not None:
            return self._routes
        routes: list[Any] = list(scope["app"].router.routes)
        try:  # FastAPI 0.12x+ nests included routers; earlier versions list routes flat
            from fastapi.routing import iter_route_contexts
        except ImportError:  # pragma: no cover - depends on the FastAPI version
            pass
        else:
            routes = list(iter_route_contexts(routes))
        found = []
        for route in routes:
            methods = getattr(route, "methods", None)
            regex = getattr(route, "path_regex", None)
            if methods and regex is not None:
                has_params = bool(getattr(route, "param_convertors", None))
                found.append((regex, has_params, frozenset(methods), str(route.path)))
        self._routes = found
        return found

    def _concrete_methods(self, scope: Scope) -> dict[str, frozenset[str]]:
        if self._concrete is None:
            table: dict[str, frozenset[str]] = {}
            for _regex, has_params, methods, path in self._table(scope):
                if not has_params:
                    table[path] = table.get(path, frozenset()) | methods
            self._concrete = table
        return self._concrete

    def _template_methods(self, scope: Scope) -> set[str]:
        path = _route_path(scope)
        methods: set[str] = set()
        for regex, _has_params, route_methods, _path in self._table(scope):
            if regex.match(path):
                methods |= route_methods
        return methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        methods = self._concrete_methods(scope).get(_route_path(scope))
        if methods is not None:
            if scope["method"] not in methods:
                response = error_response(
                    405,
                    "method_not_allowed",
                    "Method Not Allowed",
                    headers={"Allow": ", ".join(sorted(methods))},
                )
                await response(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allowed = self._template_methods(scope)
                if allowed:
                    MutableHeaders(scope=message)["Allow"] = ", ".join(sorted(allowed))
            await send(message)

        await self.app(scope, receive, send_wrapper)
