"""Bad input on every auth endpoint: a 4xx with the uniform error body, and nothing written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from quantumtrade.db.models import (
    AuthSession,
    NotificationOutbox,
    PasswordResetToken,
    RefreshToken,
    User,
)
from support import assert_error, bearer, new_email, register

SQL_AND_HTML = [
    "' OR '1'='1' --",
    "admin'; DROP TABLE users; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
]
WRONG_TYPES: list[Any] = [123, 1.5, True, None, [], {"$gt": ""}]
HUGE_PASSWORD = "Aa1!" * 2560  # 10 kB


@dataclass(frozen=True)
class Endpoint:
    path: str
    body: dict[str, str]
    authenticated: bool = False
    password_fields: tuple[str, ...] = ()


ENDPOINTS = [
    Endpoint(
        "/api/auth/register",
        {
            "email": "new@example.com",
            "password": "Opal-fennel-72-kite",
            "full_name": "Ada Lovelace",
        },
        password_fields=("password",),
    ),
    Endpoint(
        "/api/auth/login",
        {"email": "x@example.com", "password": "Opal-fennel-72-kite"},
        password_fields=("password",),
    ),
    Endpoint("/api/auth/refresh", {"refresh_token": "A" * 43}),
    Endpoint("/api/auth/password-reset/request", {"email": "x@example.com"}),
    Endpoint(
        "/api/auth/password-reset/confirm",
        {"token": "A" * 43, "new_password": "Opal-fennel-72-kite"},
        password_fields=("new_password",),
    ),
    Endpoint(
        "/api/auth/password",
        {"current_password": "Opal-fennel-72-kite", "new_password": "Opal-fennel-73-kite"},
        authenticated=True,
        password_fields=("current_password", "new_password"),
    ),
]
IDS = [endpoint.path.removeprefix("/api/auth/") for endpoint in ENDPOINTS]

TABLES = [User, AuthSession, RefreshToken, PasswordResetToken, NotificationOutbox]


async def row_counts(app: FastAPI) -> dict[str, int]:
    async with app.state.container.session_factory() as db:
        return {
            model.__tablename__: int(
                await db.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            )
            for model in TABLES
        }


@dataclass
class Harness:
    app: FastAPI
    api: httpx.AsyncClient
    headers: dict[str, str]

    async def send(
        self, endpoint: Endpoint, *, content: bytes, content_type: str = "application/json"
    ) -> httpx.Response:
        headers = {"Content-Type": content_type}
        if endpoint.authenticated:
            headers.update(self.headers)
        return await self.api.post(endpoint.path, content=content, headers=headers)


@pytest.fixture
async def harness(make_api: Any) -> AsyncIterator[Harness]:
    async with make_api(max_body_bytes=64 * 1024) as (app, api):
        user = await register(api)
        yield Harness(app, api, bearer(user["access_token"]))


async def expect_refused(
    harness: Harness, endpoint: Endpoint, content: bytes, **kw: Any
) -> dict[str, Any]:
    before = await row_counts(harness.app)
    response = await harness.send(endpoint, content=content, **kw)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error = assert_error(response, response.status_code)
    assert await row_counts(harness.app) == before
    return error


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_malformed_json_is_a_400(harness: Harness, endpoint: Endpoint) -> None:
    error = await expect_refused(harness, endpoint, b'{"email": "a@b.c", ')
    assert error["code"] == "malformed_json"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_missing_fields_are_named(harness: Harness, endpoint: Endpoint) -> None:
    error = await expect_refused(harness, endpoint, b"{}")
    assert error["code"] == "validation_error"
    missing = {item["loc"][-1] for item in error["details"] if item["type"] == "missing"}
    required = set(endpoint.body) - {"full_name"}
    assert missing == required


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("wrong", WRONG_TYPES, ids=repr)
async def test_wrong_types_are_refused(harness: Harness, endpoint: Endpoint, wrong: Any) -> None:
    for field in endpoint.body:
        body = {**endpoint.body, field: wrong}
        if field == "full_name" and wrong is None:
            continue  # an absent name is allowed
        error = await expect_refused(harness, endpoint, json.dumps(body).encode())
        assert error["code"] == "validation_error", (field, wrong)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_body_that_is_not_an_object_is_refused(harness: Harness, endpoint: Endpoint) -> None:
    for content in (b"[]", b'"text"', b"42", b"null"):
        await expect_refused(harness, endpoint, content)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_oversized_body_is_a_413(harness: Harness, endpoint: Endpoint) -> None:
    body = {**endpoint.body, "padding": "x" * (100 * 1024)}
    error = await expect_refused(harness, endpoint, json.dumps(body).encode())
    assert error["code"] == "payload_too_large"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_unknown_fields_are_refused(harness: Harness, endpoint: Endpoint) -> None:
    body = {**endpoint.body, "role": "admin"}
    error = await expect_refused(harness, endpoint, json.dumps(body).encode())
    assert error["code"] == "validation_error"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("payload", SQL_AND_HTML)
async def test_sql_and_html_in_strings_are_refused(
    harness: Harness, endpoint: Endpoint, payload: str
) -> None:
    # Passwords are the exception: any character is allowed there (they are only ever hashed),
    # which test_password_with_sql_and_html_characters_round_trips covers.
    for field in set(endpoint.body) - set(endpoint.password_fields):
        body = {**endpoint.body, field: payload}
        await expect_refused(harness, endpoint, json.dumps(body).encode())


async def test_password_with_sql_and_html_characters_round_trips(harness: Harness) -> None:
    email = new_email()
    password = "<b>x</b>' OR '1'='1'; DROP TABLE users; --"
    await register(harness.api, email=email, password=password)
    ok = await harness.api.post("/api/auth/login", json={"email": email, "password": password})
    assert ok.status_code == 200
    near = await harness.api.post(
        "/api/auth/login", json={"email": email, "password": "' OR '1'='1"}
    )
    assert_error(near, 401, "invalid_credentials")


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.password_fields], ids=lambda e: e.path
)
async def test_ten_kilobyte_password_is_refused(harness: Harness, endpoint: Endpoint) -> None:
    for field in endpoint.password_fields:
        body = {**endpoint.body, field: HUGE_PASSWORD}
        error = await expect_refused(harness, endpoint, json.dumps(body).encode())
        assert error["code"] == "validation_error"
        assert HUGE_PASSWORD not in json.dumps(error)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_form_encoded_body_is_refused(harness: Harness, endpoint: Endpoint) -> None:
    await expect_refused(
        harness,
        endpoint,
        b"email=a%40b.c&password=x",
        content_type="application/x-www-form-urlencoded",
    )


async def test_session_id_that_is_not_a_uuid_is_a_422(harness: Harness) -> None:
    response = await harness.api.delete("/api/auth/sessions/1' OR '1'='1", headers=harness.headers)
    assert_error(response, 422, "validation_error")


async def test_bearer_tokens_of_junk_are_401(harness: Harness) -> None:
    for token in ["' OR 1=1 --", "<script>", "a" * 5000, "Bearer", "eyJ.eyJ.sig"]:
        response = await harness.api.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert_error(response, 401)
    basic = await harness.api.get("/api/auth/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_error(basic, 401, "missing_token")


async def test_sql_in_login_email_of_existing_user_does_not_log_in(harness: Harness) -> None:
    email = new_email()
    await register(harness.api, email=email)
    response = await harness.api.post(
        "/api/auth/login", json={"email": f"{email}' --", "password": "anything-at-all"}
    )
    assert_error(response, 422)
