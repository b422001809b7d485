"""RateLimiter on the memory cache: rule matching, counting, headers."""

from __future__ import annotations

import pytest

from quantumtrade.core.settings import Settings
from quantumtrade.infra.cache import MemoryCache
from quantumtrade.infra.ratelimit import RateLimiter, RateLimitResult, headers

RULES = {
    "POST /api/auth/login": (5, 900),
    "GET /api/market/*": (300, 60),
    "GET /api/market/quotes/*": (600, 60),
    "* /api/admin/*": (10, 60),
    "DELETE /api/admin/*": (2, 60),
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(MemoryCache(clock=clock), default=(100, 900), rules=RULES)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/auth/login", (5, 900)),
        ("post", "/api/auth/login", (5, 900)),
        ("GET", "/api/auth/login", (100, 900)),
        ("POST", "/api/auth/login/extra", (100, 900)),
        ("GET", "/api/market/bars", (300, 60)),
        ("GET", "/api/market/quotes/AAPL", (600, 60)),
        ("POST", "/api/market/bars", (100, 900)),
        ("GET", "/api/admin/users", (10, 60)),
        ("DELETE", "/api/admin/users", (2, 60)),
        ("GET", "/api/portfolios", (100, 900)),
    ],
)
def test_rule_for_picks_most_specific(
    limiter: RateLimiter, method: str, path: str, expected: tuple[int, int]
) -> None:
    assert limiter.rule_for(method, path) == expected


@pytest.mark.parametrize(
    "rules",
    [{"POST /x": (0, 60)}, {"POST /x": (5, 0)}, {"/x": (5, 60)}, {"POST x": (5, 60)}],
)
def test_invalid_rules_are_refused(rules: dict[str, tuple[int, int]]) -> None:
    with pytest.raises(ValueError):
        RateLimiter(MemoryCache(), default=(100, 900), rules=rules)


def test_invalid_default_is_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(MemoryCache(), default=(0, 900))


async def test_hundred_and_first_hit_is_refused(limiter: RateLimiter, clock: FakeClock) -> None:
    for number in range(1, 101):
        result = await limiter.hit("GET", "/api/portfolios", "10.0.0.1")
        assert result.allowed
        assert result.remaining == 100 - number
    clock.now += 100
    refused = await limiter.hit("GET", "/api/portfolios", "10.0.0.1")
    assert refused == RateLimitResult(
        allowed=False, limit=100, remaining=0, reset_seconds=800, retry_after=800
    )
    assert refused.retry_after is not None and refused.retry_after > 0


async def test_window_reset_allows_again(limiter: RateLimiter, clock: FakeClock) -> None:
    for _ in range(5):
        assert (await limiter.hit("POST", "/api/auth/login", "1.2.3.4")).allowed
    assert not (await limiter.hit("POST", "/api/auth/login", "1.2.3.4")).allowed
    clock.now += 900
    result = await limiter.hit("POST", "/api/auth/login", "1.2.3.4")
    assert result.allowed
    assert result.remaining == 4


async def test_buckets_are_per_client(limiter: RateLimiter) -> None:
    for _ in range(5):
        await limiter.hit("POST", "/api/auth/login", "1.1.1.1")
    assert not (await limiter.hit("POST", "/api/auth/login", "1.1.1.1")).allowed
    assert (await limiter.hit("POST", "/api/auth/login", "2.2.2.2")).allowed


async def test_rule_buckets_are_separate_from_default(limiter: RateLimiter) -> None:
    for _ in range(5):
        await limiter.hit("POST", "/api/auth/login", "1.1.1.1")
    default = await limiter.hit("GET", "/api/portfolios", "1.1.1.1")
    assert (default.allowed, default.remaining) == (True, 99)
    # Requests under one prefix rule share that rule's bucket.
    await limiter.hit("GET", "/api/market/bars", "1.1.1.1")
    assert (await limiter.hit("GET", "/api/market/news", "1.1.1.1")).remaining == 298


def test_headers_follow_the_draft_standard() -> None:
    allowed = RateLimitResult(True, 100, 42, 60, None)
    assert headers(allowed) == {
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": "42",
        "RateLimit-Reset": "60",
    }
    refused = RateLimitResult(False, 100, 0, 60, 60)
    assert RateLimiter.headers(refused)["Retry-After"] == "60"


async def test_from_settings() -> None:
    settings = Settings(
        _env_file=None,
        rate_limit_max=3,
        rate_limit_window_seconds=60,
        rate_limit_rules={"POST /api/auth/login": "1/900"},
    )
    limiter = RateLimiter.from_settings(MemoryCache(), settings)
    assert limiter.rule_for("GET", "/x") == (3, 60)
    assert limiter.rule_for("POST", "/api/auth/login") == (1, 900)
    assert (await limiter.hit("POST", "/api/auth/login", "c")).allowed
    assert not (await limiter.hit("POST", "/api/auth/login", "c")).allowed
