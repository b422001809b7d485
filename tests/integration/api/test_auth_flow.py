"""The account lifecycle over the HTTP API: register, log in, refresh, log out, sessions."""

from __future__ import annotations

import asyncio

import httpx

from support import STRONG_PASSWORD, assert_error, bearer, new_email, register


async def test_register_returns_tokens_and_normalised_email(api: httpx.AsyncClient) -> None:
    email = new_email()
    body = await register(api, email="  " + email.upper() + " ")
    assert body["user"]["email"] == email
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7 * 24 * 3600
    assert body["refresh_expires_in"] == 30 * 24 * 3600
    me = await api.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == email
    assert "password_hash" not in me.json()


async def test_register_existing_email_in_other_case_conflicts(api: httpx.AsyncClient) -> None:
    email = new_email()
    await register(api, email=email)
    response = await api.post(
        "/api/auth/register", json={"email": email.upper(), "password": STRONG_PASSWORD}
    )
    assert_error(response, 409, "email_taken")


async def test_register_weak_or_common_password_is_refused_with_reason(
    api: httpx.AsyncClient,
) -> None:
    for weak in ["password123", "qwertyuiop", "1234567890", "short1!"]:
        response = await api.post(
            "/api/auth/register", json={"email": new_email(), "password": weak}
        )
        error = assert_error(response, 400, "weak_password")
        assert error["details"]["reasons"], weak


async def test_password_containing_the_email_is_refused(api: httpx.AsyncClient) -> None:
    email = new_email()
    local = email.split("@")[0]
    response = await api.post("/api/auth/register", json={"email": email, "password": local + "1"})
    assert_error(response, 400, "weak_password")


async def test_login_with_any_case_of_email_succeeds(api: httpx.AsyncClient) -> None:
    user = await register(api)
    response = await api.post(
        "/api/auth/login",
        json={"email": user["user"]["email"].upper(), "password": STRONG_PASSWORD},
    )
    assert response.status_code == 200
    assert response.json()["session_id"] != user["session_id"]


async def test_unknown_user_and_wrong_password_get_the_same_answer(api: httpx.AsyncClient) -> None:
    user = await register(api)
    wrong = await api.post(
        "/api/auth/login", json={"email": user["user"]["email"], "password": "Wrong-password-77"}
    )
    unknown = await api.post(
        "/api/auth/login", json={"email": new_email(), "password": "Wrong-password-77"}
    )
    wrong_error = assert_error(wrong, 401, "invalid_credentials")
    unknown_error = assert_error(unknown, 401, "invalid_credentials")
    wrong_error.pop("request_id", None)
    unknown_error.pop("request_id", None)
    assert wrong_error == unknown_error


async def test_refresh_rotates_and_old_refresh_token_is_refused(api: httpx.AsyncClient) -> None:
    user = await register(api)
    first = await api.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != user["refresh_token"]
    assert rotated["session_id"] == user["session_id"]
    me = await api.get("/api/auth/me", headers=bearer(rotated["access_token"]))
    assert me.status_code == 200
    replay = await api.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
    assert_error(replay, 401, "refresh_token_reused")


async def test_replayed_refresh_token_revokes_the_whole_family(api: httpx.AsyncClient) -> None:
    user = await register(api)
    rotated = (
        await api.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
    ).json()
    await api.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
    # The legitimate holder's newer tokens die with the family.
    later = await api.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert_error(later, 401, "session_expired")
    me = await api.get("/api/auth/me", headers=bearer(rotated["access_token"]))
    assert_error(me, 401, "session_revoked")


async def test_concurrent_use_of_one_refresh_token_succeeds_once(api: httpx.AsyncClient) -> None:
    user = await register(api)
    responses = await asyncio.gather(
        *(
            api.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in responses).count(200) == 1


async def test_logout_refuses_the_access_token_at_once(api: httpx.AsyncClient) -> None:
    user = await register(api)
    headers = bearer(user["access_token"])
    assert (await api.post("/api/auth/logout", headers=headers)).status_code == 204
    assert_error(await api.get("/api/auth/me", headers=headers), 401, "session_revoked")
    refresh = await api.post("/api/auth/refresh", json={"refresh_token": user["refresh_token"]})
    assert_error(refresh, 401, "session_expired")


async def test_protected_endpoint_without_or_with_forged_token_is_401(
    api: httpx.AsyncClient,
) -> None:
    assert_error(await api.get("/api/auth/me"), 401, "missing_token")
    user = await register(api)
    header, payload, signature = user["access_token"].split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert_error(await api.get("/api/auth/me", headers=bearer(forged)), 401, "invalid_token")
    assert_error(await api.get("/api/auth/me", headers=bearer("not-a-jwt")), 401, "invalid_token")


async def test_sessions_are_listed_and_revocable_by_their_owner(api: httpx.AsyncClient) -> None:
    user = await register(api)
    second = (
        await api.post(
            "/api/auth/login", json={"email": user["user"]["email"], "password": STRONG_PASSWORD}
        )
    ).json()
    listed = await api.get("/api/auth/sessions", headers=bearer(user["access_token"]))
    assert listed.status_code == 200
    sessions = {s["id"]: s for s in listed.json()}
    assert set(sessions) == {user["session_id"], second["session_id"]}
    assert sessions[user["session_id"]]["current"] is True
    assert sessions[second["session_id"]]["current"] is False

    revoked = await api.delete(
        f"/api/auth/sessions/{second['session_id']}", headers=bearer(user["access_token"])
    )
    assert revoked.status_code == 204
    me = await api.get("/api/auth/me", headers=bearer(second["access_token"]))
    assert_error(me, 401, "session_revoked")
    again = await api.delete(
        f"/api/auth/sessions/{second['session_id']}", headers=bearer(user["access_token"])
    )
    assert_error(again, 404, "session_not_found")


async def test_another_users_session_cannot_be_revoked(api: httpx.AsyncClient) -> None:
    alice = await register(api)
    bob = await register(api)
    response = await api.delete(
        f"/api/auth/sessions/{bob['session_id']}", headers=bearer(alice["access_token"])
    )
    assert_error(response, 404, "session_not_found")
    me = await api.get("/api/auth/me", headers=bearer(bob["access_token"]))
    assert me.status_code == 200


async def test_password_change_ends_other_sessions_and_keeps_this_one(
    api: httpx.AsyncClient,
) -> None:
    user = await register(api)
    email = user["user"]["email"]
    other = (
        await api.post("/api/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    ).json()
    new_password = "Granite-otter-58-lantern"
    changed = await api.post(
        "/api/auth/password",
        headers=bearer(user["access_token"]),
        json={"current_password": STRONG_PASSWORD, "new_password": new_password},
    )
    assert changed.status_code == 200
    assert changed.json()["other_sessions_revoked"] == 1
    assert (await api.get("/api/auth/me", headers=bearer(user["access_token"]))).status_code == 200
    assert_error(await api.get("/api/auth/me", headers=bearer(other["access_token"])), 401)
    old = await api.post("/api/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert_error(old, 401, "invalid_credentials")
    new = await api.post("/api/auth/login", json={"email": email, "password": new_password})
    assert new.status_code == 200


async def test_password_change_needs_the_current_password(api: httpx.AsyncClient) -> None:
    user = await register(api)
    response = await api.post(
        "/api/auth/password",
        headers=bearer(user["access_token"]),
        json={"current_password": "Not-the-password-1", "new_password": "Granite-otter-58-lantern"},
    )
    assert_error(response, 400, "invalid_current_password")
