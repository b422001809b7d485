"""A live server for WebSocket tests: the real app under uvicorn on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from integration.ws.wsclient import LiveServer, ServerFactory
from quantumtrade.api.app import create_app
from support import build_settings, free_port


@pytest.fixture
def live_server(app_database_url: str, app_redis_url: str | None, tmp_path: Path) -> ServerFactory:
    """Return a factory: ``async with live_server(**setting_overrides) as server``."""

    @contextlib.asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[LiveServer]:
        settings = build_settings(
            app_database_url,
            app_redis_url,
            tmp_path,
            **{"market_feed_enabled": False, **overrides},
        )
        app = create_app(settings)
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                yield LiveServer(app, port, http)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 15)

    return factory
