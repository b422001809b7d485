"""A new user's path over real HTTP against the server started by the README command."""

from __future__ import annotations

import signal

import httpx

from support import STRONG_PASSWORD, bearer, new_email


def test_new_user_path_over_real_http(server: object) -> None:
    base = server.base_url  # type: ignore[attr-defined]
    with httpx.Client(base_url=base, timeout=30) as http:
        email = new_email()
        registered = http.post(
            "/api/auth/register", json={"email": email, "password": STRONG_PASSWORD}
        )
        assert registered.status_code == 201, registered.text

        login = http.post("/api/auth/login", json={"email": email, "password": STRONG_PASSWORD})
        assert login.status_code == 200, login.text
        tokens = login.json()

        me = http.get("/api/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200 and me.json()["email"] == email

        refreshed = http.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        new_tokens = refreshed.json()
        replay = http.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "refresh_token_reused"

        # The replay revoked the family, so log in again for the logout step.
        login = http.post("/api/auth/login", json={"email": email, "password": STRONG_PASSWORD})
        access = login.json()["access_token"]
        assert http.post("/api/auth/logout", headers=bearer(access)).status_code == 204
        after = http.get("/api/auth/me", headers=bearer(access))
        assert after.status_code == 401
        assert after.json()["error"]["code"] == "session_revoked"
        assert (
            http.get("/api/auth/me", headers=bearer(new_tokens["access_token"])).status_code == 401
        )

        health = http.get("/api/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        docs = http.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert http.get("/openapi.json").json()["paths"]["/api/auth/login"]


def test_server_stops_cleanly_on_sigterm(server: object) -> None:
    process = server.process  # type: ignore[attr-defined]
    process.send_signal(signal.SIGTERM)
    # Uvicorn finishes the graceful shutdown, then re-raises the signal it caught.
    assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    log = server.log()  # type: ignore[attr-defined]
    assert "Application shutdown complete" in log, log
