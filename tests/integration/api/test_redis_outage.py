"""Redis dies under a running server: requests still succeed, health degrades, then recovers."""

from __future__ import annotations

import asyncio
from typing import Any

import redis

from support import RedisProcess, bearer, register, wait_until


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
        # Bounded only so that a request stuck on the dead Redis fails the test, not hangs it.
        async with asyncio.timeout(30):
            me = await api.get("/api/auth/me", headers=headers)
            assert me.status_code == 200
            login = await api.post(
                "/api/auth/login",
                json={"email": user["user"]["email"], "password": user["password"]},
            )
            assert login.status_code == 200
            down = await api.get("/api/health")
        assert down.status_code == 200
        assert down.json()["status"] == "degraded"
        assert down.json()["components"]["cache"]["status"] == "degraded"

        private_redis.start()

        async def healthy() -> bool:
            return bool((await api.get("/api/health")).json()["status"] == "ok")

        await wait_until(healthy, message="health did not return to ok once Redis was back")
        assert (await api.get("/api/auth/me", headers=headers)).status_code == 200
        keys = list(redis.Redis.from_url(private_redis.url).scan_iter(count=1000))
        assert keys, "the server did not go back to Redis after it returned"
