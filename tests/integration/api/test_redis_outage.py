"""Redis dies under a running server: requests still succeed, health degrades, then recovers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis

from support import RedisProcess, bearer, register


async def test_server_survives_redis_outage_and_uses_it_again(
    make_api: Any, private_redis: RedisProcess
) -> None:
    async with make_api(redis_url=private_redis.url, redis_retry_seconds=0.2) as (_app, api):
        user = await register(api)
        headers = bearer(user["access_token"])
        health = (await api.get("/api/health")).json()
        assert health["status"] == "ok"
        assert health["components"]["cache"]["backend"] == "redis"
        # Rate-limit counters live in Redis while it is up.
        assert any(k for k in redis.Redis.from_url(private_redis.url).scan_iter(count=1000))

        private_redis.kill()
        started = time.monotonic()
        me = await api.get("/api/auth/me", headers=headers)
        assert me.status_code == 200
        login = await api.post(
            "/api/auth/login", json={"email": user["user"]["email"], "password": user["password"]}
        )
        assert login.status_code == 200
        assert time.monotonic() - started < 5
        down = await api.get("/api/health")
        assert down.status_code == 200
        assert down.json()["status"] == "degraded"
        assert down.json()["components"]["cache"]["status"] == "degraded"

        private_redis.start()
        await asyncio.sleep(0.3)
        for _ in range(50):
            body = (await api.get("/api/health")).json()
            if body["status"] == "ok":
                break
            await asyncio.sleep(0.1)
        assert body["status"] == "ok", body
        assert (await api.get("/api/auth/me", headers=headers)).status_code == 200
        keys = list(redis.Redis.from_url(private_redis.url).scan_iter(count=1000))
        assert keys, "the server did not go back to Redis after it returned"
