"""Fixed-window rate limiting per client address, with per-endpoint rules.

Counts live in the :class:`~quantumtrade.infra.cache.Cache`, so with Redis every replica shares
them; when Redis is away each replica keeps limiting on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from quantumtrade.core.settings import Settings, parse_rate_rule
from quantumtrade.infra.cache import Cache

Rule = tuple[int, int]  # (requests allowed, window in seconds)

_DEFAULT_SCOPE = "default"


@dataclass(frozen=True)
class RateLimitResult:
    """Outcome of one request: whether it may proceed and what is left in the window."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int | None


def headers(result: RateLimitResult) -> dict[str, str]:
    """Return the IETF draft ``RateLimit-*`` headers, plus ``Retry-After`` when refused."""
    values = {
        "RateLimit-Limit": str(result.limit),
        "RateLimit-Remaining": str(result.remaining),
        "RateLimit-Reset": str(result.reset_seconds),
    }
    if result.retry_after is not None:
        values["Retry-After"] = str(result.retry_after)
    return values


def _check_rule(rule: Rule, where: str) -> Rule:
    limit, window = rule
    if limit < 1 or window < 1:
        raise ValueError(f"{where}: limit and window must be positive, got {rule!r}")
    return int(limit), int(window)


class RateLimiter:
    """Count requests per client and rule; refuse those beyond the rule's limit.

    Rules are keyed ``"METHOD /path"``: an exact path, or a prefix ending in ``*``
    (``"GET /api/market/*"``); ``*`` as the method matches any method. An exact rule beats a
    prefix, a longer prefix beats a shorter one, a named method beats ``*``. Requests matched by a
    rule are counted in that rule's own bucket, all others in the shared default bucket.
    """

    headers = staticmethod(headers)

    def __init__(
        self,
        cache: Cache,
        *,
        default: Rule,
        rules: dict[str, Rule] | None = None,
        key_prefix: str = "ratelimit:",
    ) -> None:
        self._cache = cache
        self._key_prefix = key_prefix
        self.default = _check_rule(default, "default rule")
        self._exact: dict[tuple[str, str], tuple[str, Rule]] = {}
        prefixes: list[tuple[str, str, str, Rule]] = []
        for scope, rule in (rules or {}).items():
            method, path = self._parse_scope(scope)
            checked = _check_rule(rule, scope)
            if path.endswith("*"):
                prefixes.append((method, path[:-1], scope, checked))
            else:
                self._exact[(method, path)] = (scope, checked)
        # Most specific first: longest prefix, then a named method before the wildcard.
        prefixes.sort(key=lambda item: (-len(item[1]), item[0] == "*"))
        self._prefixes = prefixes

    @classmethod
    def from_settings(cls, cache: Cache, settings: Settings) -> RateLimiter:
        """Build the limiter configured by RATE_LIMIT_MAX, _WINDOW_SECONDS and _RULES."""
        rules = {
            scope: parse_rate_rule(text, where=scope)
            for scope, text in settings.rate_limit_rules.items()
        }
        default = (settings.rate_limit_max, settings.rate_limit_window_seconds)
        return cls(cache, default=default, rules=rules)

    def rule_for(self, method: str, path: str) -> Rule:
        """Return the ``(limit, window_seconds)`` applying to a request."""
        return self._match(method, path)[1]

    async def hit(self, method: str, path: str, client: str) -> RateLimitResult:
        """Count one request from ``client`` and say whether it is allowed."""
        scope, (limit, window) = self._match(method, path)
        count, reset = await self._cache.incr_window(f"{self._key_prefix}{scope}:{client}", window)
        # Never advertise a zero reset: a client retrying at once would just be refused again.
        reset_seconds = min(window, max(1, math.ceil(reset)))
        allowed = count <= limit
        return RateLimitResult(
            allowed=allowed,
            limit=limit,
            remaining=max(0, limit - count),
            reset_seconds=reset_seconds,
            retry_after=None if allowed else reset_seconds,
        )

    def _match(self, method: str, path: str) -> tuple[str, Rule]:
        method = method.upper()
        for candidate in (method, "*"):
            exact = self._exact.get((candidate, path))
            if exact is not None:
                return exact
        for rule_method, prefix, scope, rule in self._prefixes:
            if rule_method in (method, "*") and path.startswith(prefix):
                return scope, rule
        return _DEFAULT_SCOPE, self.default

    @staticmethod
    def _parse_scope(scope: str) -> tuple[str, str]:
        parts = scope.split()
        if len(parts) != 2 or not parts[1].startswith("/"):
            raise ValueError(f"rate limit rule key must be 'METHOD /path', got {scope!r}")
        return parts[0].upper(), parts[1]
