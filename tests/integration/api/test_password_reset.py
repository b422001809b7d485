"""Password reset: a single-use, expiring token that dies when the password changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from quantumtrade.db.models import NotificationOutbox
from quantumtrade.domain.clock import FixedClock
from support import STRONG_PASSWORD, assert_error, bearer, new_email, register

NEW_PASSWORD = "Copper-walrus-41-meadow"


async def reset_tokens(app: FastAPI, email: str) -> list[dict[str, Any]]:
    async with app.state.container.session_factory() as db:
        rows = await db.scalars(
            sa.select(NotificationOutbox)
            .where(
                NotificationOutbox.recipient == email, NotificationOutbox.kind == "password_reset"
            )
            .order_by(NotificationOutbox.created_at)
        )
        return [row.payload for row in rows]


async def request_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/auth/password-reset/request", json={"email": email})


async def test_reset_token_works_once_and_ends_every_session(make_api: Any) -> None:
    async with make_api() as (app, api):
        user = await register(api)
        email = user["user"]["email"]
        response = await request_reset(api, email.upper())
        assert response.status_code == 202
        [payload] = await reset_tokens(app, email)

        confirm = await api.post(
            "/api/auth/password-reset/confirm",
            json={"token": payload["token"], "new_password": NEW_PASSWORD},
        )
        assert confirm.status_code == 200
        assert_error(await api.get("/api/auth/me", headers=bearer(user["access_token"])), 401)
        login = await api.post("/api/auth/login", json={"email": email, "password": NEW_PASSWORD})
        assert login.status_code == 200

        again = await api.post(
            "/api/auth/password-reset/confirm",
            json={"token": payload["token"], "new_password": "Another-fresh-pass-92"},
        )
        assert_error(again, 400, "invalid_reset_token")


async def test_reset_for_unknown_email_answers_the_same_and_sends_nothing(make_api: Any) -> None:
    async with make_api() as (app, api):
        user = await register(api)
        known = await request_reset(api, user["user"]["email"])
        unknown_email = new_email()
        unknown = await request_reset(api, unknown_email)
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        assert await reset_tokens(app, unknown_email) == []


async def test_reset_token_expires(make_api: Any) -> None:
    clock = FixedClock(datetime.now(UTC))
    async with make_api(clock=clock, password_reset_ttl_seconds=600) as (app, api):
        user = await register(api)
        await request_reset(api, user["user"]["email"])
        [payload] = await reset_tokens(app, user["user"]["email"])
        clock.advance(timedelta(seconds=601))
        response = await api.post(
            "/api/auth/password-reset/confirm",
            json={"token": payload["token"], "new_password": NEW_PASSWORD},
        )
        assert_error(response, 400, "invalid_reset_token")


async def test_reset_token_dies_when_the_password_changes(make_api: Any) -> None:
    async with make_api() as (app, api):
        user = await register(api)
        await request_reset(api, user["user"]["email"])
        [payload] = await reset_tokens(app, user["user"]["email"])
        changed = await api.post(
            "/api/auth/password",
            headers=bearer(user["access_token"]),
            json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert changed.status_code == 200
        response = await api.post(
            "/api/auth/password-reset/confirm",
            json={"token": payload["token"], "new_password": "Another-fresh-pass-92"},
        )
        assert_error(response, 400, "invalid_reset_token")


async def test_reset_confirm_refuses_a_weak_password_and_keeps_the_token(make_api: Any) -> None:
    async with make_api() as (app, api):
        user = await register(api)
        await request_reset(api, user["user"]["email"])
        [payload] = await reset_tokens(app, user["user"]["email"])
        weak = await api.post(
            "/api/auth/password-reset/confirm",
            json={"token": payload["token"], "new_password": "password1"},
        )
        assert_error(weak, 400, "weak_password")
        ok = await api.post(
            "/api/auth/password-reset/confirm",
            json={"token": payload["token"], "new_password": NEW_PASSWORD},
        )
        assert ok.status_code == 200
