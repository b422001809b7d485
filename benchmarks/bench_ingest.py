"""Measure bulk ingestion into PostgreSQL: bars per second through ``upsert_bars`` (COPY).

Run with ``python benchmarks/bench_ingest.py [admin_url]`` (default
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres). A fresh database is created, migrated,
loaded with a year of simulated 1Min bars per symbol, then dropped. Timed: a first load (inserts),
a repeat of the same bars (conflicts whose rows are unchanged) and the same bars with a changed
close and high (conflicts that rewrite every row).
"""

from __future__ import annotations

import asyncio
import os
import platform
import secrets
import sys
import time
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.engine import make_url

from quantumtrade.db.engine import create_engine
from quantumtrade.db.migrate import upgrade
from quantumtrade.db.repositories import upsert_bars
from quantumtrade.domain.clock import FixedClock
from quantumtrade.domain.market import Timeframe
from quantumtrade.marketdata.simulator import SimulatedMarket

ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SYMBOLS = ("AAPL", "MSFT", "SPY", "JPM")
START, END = datetime(2024, 7, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)


async def main(admin_url: str) -> None:
    market = SimulatedMarket(seed=42, clock=FixedClock(END))
    frames = {s: market.bars(s, Timeframe.MIN_1, START, END) for s in SYMBOLS}
    total = sum(len(f) for f in frames.values())
    name = f"qt_bench_ingest_{secrets.token_hex(3)}"
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        engine = create_engine(url)
        try:
            await upgrade(engine)
            changed = {
                s: f.assign(close=f["close"] + 0.01, high=f["high"] + 0.01)
                for s, f in frames.items()
            }
            for label, batches in (("insert", frames), ("repeat", frames), ("change", changed)):
                started = time.perf_counter()
                for symbol, frame in batches.items():
                    await upsert_bars(engine, symbol, Timeframe.MIN_1, frame, source="bench")
                seconds = time.perf_counter() - started
                print(f"{label}: {total} bars in {seconds:.2f} s = {total / seconds:,.0f} bars/s")
        finally:
            await engine.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else ADMIN_URL))
