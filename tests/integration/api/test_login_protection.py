"""Brute-force protection per account and per client IP, and login timing."""

from __future__ import annotations

from typing import Any

import bcrypt
import httpx
import pytest

from quantumtrade.core import security
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


async def test_login_unknown_email_costs_one_bcrypt_check_like_a_wrong_password(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Timing would reveal which e-mails have accounts unless an unknown one pays for the same
    # bcrypt check as a wrong password: count the checks and read their cost instead of a clock.
    rounds = 5  # above bcrypt's minimum, so a cheaper stand-in hash would show
    costs: list[int] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        try:
            costs.append(security.bcrypt_cost(hashed.decode("ascii")))
        except (IndexError, ValueError):
            costs.append(-1)  # not a bcrypt hash: no real check
        return bool(real_checkpw(password, hashed))

    async with make_api(bcrypt_rounds=rounds) as (_app, api):
        user = await register(api)
        monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)

        wrong_password = assert_error(await fail_login(api, user["user"]["email"]), 401)
        assert costs == [rounds]
        unknown_email = assert_error(await fail_login(api, new_email()), 401)
        assert costs == [rounds, rounds]

        for error in (unknown_email, wrong_password):
            error.pop("request_id", None)
        assert unknown_email == wrong_password  # and the answers alike
        assert unknown_email["code"] == "invalid_credentials"
