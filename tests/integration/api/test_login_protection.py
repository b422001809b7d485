"""Brute-force protection per account and per client IP, and login timing."""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from support import STRONG_PASSWORD, assert_error, new_email, register


async def fail_login(api: httpx.AsyncClient, email: str) -> httpx.Response:
    return await api.post("/api/auth/login", json={"email": email, "password": "Wrong-pass-1234"})


async def test_account_locks_after_repeated_failures_even_with_the_right_password(
    make_api: Any,
) -> None:
    async with make_api(login_max_failures_per_account=3) as (_app, api):
        user = await register(api)
        email = user["user"]["email"]
        for _ in range(3):
            assert_error(await fail_login(api, email), 401, "invalid_credentials")
        locked = await api.post(
            "/api/auth/login", json={"email": email, "password": STRONG_PASSWORD}
        )
        error = assert_error(locked, 429, "too_many_login_attempts")
        assert error["details"]["scope"] == "account"
        assert int(locked.headers["Retry-After"]) > 0


async def test_unknown_account_locks_the_same_way(make_api: Any) -> None:
    async with make_api(login_max_failures_per_account=3) as (_app, api):
        email = new_email()
        for _ in range(3):
            assert_error(await fail_login(api, email), 401, "invalid_credentials")
        assert_error(await fail_login(api, email), 429, "too_many_login_attempts")


async def test_client_ip_is_locked_after_failures_across_accounts(make_api: Any) -> None:
    async with make_api(login_max_failures_per_ip=4, client_ip="203.0.113.9") as (_app, api):
        for _ in range(4):
            assert_error(await fail_login(api, new_email()), 401)
        error = assert_error(await fail_login(api, new_email()), 429, "too_many_login_attempts")
        assert error["details"]["scope"] == "ip"


async def test_unknown_user_takes_as_long_as_a_wrong_password(make_api: Any) -> None:
    # Real bcrypt cost, so the hash dominates and any shortcut for unknown users would show.
    async with make_api(
        bcrypt_rounds=10, login_max_failures_per_account=100, login_max_failures_per_ip=100
    ) as (_app, api):
        user = await register(api)

        async def timed(email: str) -> float:
            started = time.perf_counter()
            await fail_login(api, email)
            return time.perf_counter() - started

        await timed(new_email())  # warm-up: builds the dummy hash once
        known: list[float] = []
        unknown: list[float] = []
        for _ in range(9):  # interleaved, so a busy machine slows both sides alike
            known.append(await timed(user["user"]["email"]))
            unknown.append(await timed(new_email()))
        ratio = statistics.median(unknown) / statistics.median(known)
        # Skipping bcrypt for unknown users would give a ratio near 0.05.
        assert 0.5 < ratio < 2.0, (known, unknown)
