"""Time GET /api/market/history for one year of 1Min bars (one symbol) as JSON, end to end.

Run with ``python benchmarks/bench_market_history.py``. The real app serves the simulator through
httpx's ASGI transport; the first request (building the NYSE calendar and the price path) is
reported separately from the p50 of the warm runs.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from quantumtrade.api.app import create_app
from quantumtrade.core.settings import load_settings
from quantumtrade.domain.clock import FixedClock

NOW = datetime(2025, 7, 1, tzinfo=UTC)
PARAMS = {"timeframe": "1Min", "start": "2024-07-01", "end": "2025-07-01", "limit": 100_000}
RUNS = 7


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            _env_file=None,
            environment="test",
            data_dir=Path(folder),
            database_url=f"sqlite+aiosqlite:///{folder}/qt.db",
            rate_limit_max=100_000,
            market_feed_enabled=False,
        )
        app = create_app(settings, clock=FixedClock(NOW))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            timings, size, bars = [], 0, 0
            for _ in range(RUNS + 1):
                started = time.perf_counter()
                response = await client.get("/api/market/history/AAPL", params=PARAMS)
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                size, bars = len(response.content), len(response.json()["bars"])
    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"bars: {bars}, body: {size / 1e6:.1f} MB")
    print(f"first request: {timings[0]:.0f} ms")
    print(f"p50 of {RUNS} warm requests: {statistics.median(timings[1:]):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
